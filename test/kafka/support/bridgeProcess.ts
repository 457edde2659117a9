/**
 * The Kafka bridge in a process of its own, on SQLite files, for the tests that kill it and the
 * benchmark that measures it from outside. Its settings come as JSON in CALLPARK_TEST_BRIDGE; it
 * reports its progress on stdout, one JSON line every 50 ms, and stops cleanly on SIGTERM. The
 * tests start it through Vite's module runner (bridgeProcesses.ts), from the sources; the
 * benchmark runs its compiled form.
 */
import { join } from 'node:path';
import { CommandHandler } from '../../../adapters/commands/commandHandler.js';
import type { KafkaConfig } from '../../../adapters/config/config.js';
import { startKafkaBridge } from '../../../adapters/kafka/bridge.js';
import type { BridgeLogger } from '../../../adapters/kafka/bridgeLogger.js';
import type { PublisherTuning } from '../../../adapters/kafka/supervisedPublisher.js';
import type { SignalingConsumerTuning } from '../../../adapters/kafka/signalingConsumer.js';
import type { TopicLayout } from '../../../adapters/kafka/topics.js';
import { SqliteEventStore } from '../../../adapters/eventStores/sqlite/sqliteEventStore.js';
import type { PolicySettingsChange } from '../../../domain/parkPolicy.js';
import { SqliteReadStore } from '../../../projections/sqliteReadStore.js';

export interface BridgeProcessSettings {
  readonly kafka: KafkaConfig;
  /** The folder of events.db and read.db. */
  readonly folder: string;
  readonly consumer?: Partial<SignalingConsumerTuning>;
  readonly publisher?: Partial<PublisherTuning>;
  readonly topics?: Partial<TopicLayout>;
  /** The event store's durability (`normal`). */
  readonly synchronous?: 'full' | 'normal';
  /** Tenants to allow call park in before starting (as an administrator would), with these settings. */
  readonly enablePark?: { readonly tenants: readonly string[]; readonly settings?: PolicySettingsChange };
}

export interface BridgeProcessReport {
  readonly joined: boolean;
  readonly handled: number;
  readonly duplicates: number;
  readonly published: number;
}

const settings = JSON.parse(process.env.CALLPARK_TEST_BRIDGE ?? '{}') as BridgeProcessSettings;

const errorsOnly: BridgeLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (context, message) => process.stderr.write(`[bridge ${process.pid}] ${message ?? ''} ${JSON.stringify(context)}\n`),
};

const store = new SqliteEventStore(join(settings.folder, 'events.db'), { synchronous: settings.synchronous ?? 'normal' });
const readStore = await SqliteReadStore.open(join(settings.folder, 'read.db'));
const handler = new CommandHandler({ store });
for (const tenantId of settings.enablePark?.tenants ?? []) {
  await handler.handle({ type: 'SetPolicy', commandId: `enable-park-${tenantId}`, at: Date.now(), tenantId, policy: 'Global', settings: { allowCallPark: true, ...settings.enablePark?.settings } });
}
const bridge = startKafkaBridge({
  kafka: settings.kafka,
  handler,
  store,
  readStore,
  clock: Date.now,
  logger: errorsOnly,
  ...(settings.consumer ? { consumer: settings.consumer } : {}),
  ...(settings.publisher ? { publisher: settings.publisher } : {}),
  ...(settings.topics ? { topics: settings.topics } : {}),
});

const report = (): void => {
  const { consumer, publisher } = bridge.status();
  const line: BridgeProcessReport = { joined: consumer.joined, handled: consumer.handled, duplicates: consumer.duplicates, published: publisher.published };
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const reporting = setInterval(report, 50);

process.once('SIGTERM', () => {
  clearInterval(reporting);
  void bridge
    .stop()
    .then(() => readStore.close())
    .then(() => store.close())
    .finally(() => process.exit(0));
});

await bridge.started();
report();
