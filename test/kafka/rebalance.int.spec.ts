/**
 * Two instances of the service on one group and one store, as in production: a second one joins
 * in the middle of a stream (the partitions are shared out again), then the first one leaves
 * (they all move to the second). Nothing is lost, nothing is done twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import { silentLogger } from '../../adapters/kafka/bridgeLogger.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import {
  enablePark,
  eventsPerCommand,
  eventually,
  expectedDirectiveIds,
  kafkaBrokers,
  openKafkaFixture,
  openStores,
  parkThenHangUp,
  requireKafka,
  uniqueKafkaConfig,
  uniqueTenant,
  type KafkaFixture,
  type Stores,
} from './support/kafkaTestKit.js';

const available = await requireKafka();

const TENANTS = 6;
const CALLS = 150;

describe.skipIf(!available)('a rebalance in the middle of a stream', () => {
  const tenants = Array.from({ length: TENANTS }, (_, n) => uniqueTenant(`rebalance${n}`));
  let config: KafkaConfig;
  let first: Stores;
  let second: { store: SqliteEventStore; readStore: SqliteReadStore } | undefined;
  const bridges: KafkaBridge[] = [];
  let client: KafkaFixture | undefined;

  const bridgeOn = (store: SqliteEventStore, readStore: SqliteReadStore, name: string): KafkaBridge => {
    const bridge = startKafkaBridge({
      kafka: { ...config, clientId: `${config.clientId}-${name}` },
      handler: new CommandHandler({ store }),
      store,
      readStore,
      clock: Date.now,
      logger: silentLogger,
      topics: { signalingPartitions: 6, directivesPartitions: 3 },
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    });
    bridges.push(bridge);
    return bridge;
  };

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'rebalance');
    first = await openStores();
    for (const tenant of tenants) await enablePark(first.handler, tenant);
  });

  afterAll(async () => {
    await client?.close();
    for (const bridge of bridges) await bridge.stop();
    await second?.readStore.close();
    await second?.store.close();
    await first?.close();
  });

  it('loses nothing and doubles nothing when the partitions move between instances', async () => {
    const a = bridgeOn(first.store, first.readStore, 'a');
    await a.started();
    const kafka = (client = await openKafkaFixture(config));

    const stream = parkThenHangUp(tenants, CALLS);
    const producing = (async () => {
      for (const message of stream) {
        await kafka.signal([message]);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();

    // A second instance joins: the group shares the partitions out again.
    await eventually('a third of the stream to be handled', () => a.status().consumer.handled >= stream.length / 3, 60_000);
    second = { store: new SqliteEventStore(first.eventStorePath, { synchronous: 'normal' }), readStore: await SqliteReadStore.open(first.readStorePath) };
    const b = bridgeOn(second.store, second.readStore, 'b');
    await b.started();
    await eventually('both instances to hold partitions', () => a.status().consumer.assigned.length > 0 && b.status().consumer.assigned.length > 0 && a.status().consumer.assigned.length + b.status().consumer.assigned.length === 6, 60_000);

    // The first one leaves: everything moves to the second.
    await eventually('two thirds of the stream to be handled', () => a.status().consumer.handled + b.status().consumer.handled >= (2 * stream.length) / 3, 60_000);
    await a.stop();
    await producing;

    const commandIds = stream.map((message) => message.eventId);
    await eventually(
      'every signaling record to be stored',
      async () => {
        const counts = await eventsPerCommand(first.store, tenants);
        return commandIds.every((id) => counts.has(id));
      },
      60_000,
      250,
    );
    const counts = await eventsPerCommand(first.store, tenants);
    expect(commandIds.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(b.status().consumer.assigned).toHaveLength(6);

    const expected = await expectedDirectiveIds(first.store, tenants);
    const reader = await kafka.directives();
    await eventually('every directive to be published', () => reader.directiveIds().size >= expected.size, 60_000, 250);
    expect(reader.directiveIds()).toEqual(expected);
  });
});
