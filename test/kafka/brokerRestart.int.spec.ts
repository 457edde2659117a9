/**
 * The broker restarted (`kafka.sh restart`) in the middle of a stream of signaling: the bridge
 * reconnects, rejoins and carries on; nothing is lost and nothing is done twice. The broker is
 * one of this test's own (support/privateBroker.ts), so the other suites keep theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import type { BridgeLogger } from '../../adapters/kafka/bridgeLogger.js';
import { requireService } from '../support/services.js';
import { javaAnswers, startPrivateBroker, type PrivateBroker } from './support/privateBroker.js';
import {
  enablePark,
  eventsPerCommand,
  eventually,
  expectedDirectiveIds,
  openKafkaFixture,
  openStores,
  parkThenHangUp,
  uniqueKafkaConfig,
  uniqueTenant,
  type KafkaFixture,
  type Stores,
} from './support/kafkaTestKit.js';

const available = await requireService('Java (to run a Kafka broker of this test’s own)', javaAnswers, 'install a JDK 17+ (the broker comes from infra/kafka/kafka.sh)');

/** Warnings and errors kept, to show when the test fails. */
const notes: string[] = [];
const keepWarnings: BridgeLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (context, message) => void notes.push(`${new Date().toISOString()} WARN ${message ?? ''} ${JSON.stringify(context)}`),
  error: (context, message) => void notes.push(`${new Date().toISOString()} ERROR ${message ?? ''} ${JSON.stringify(context)}`),
};

const TENANTS = 6;
const CALLS = 150;
const EVERY_MS = 25;

describe.skipIf(!available)('the broker restarted in the middle of a stream', () => {
  const tenants = Array.from({ length: TENANTS }, (_, n) => uniqueTenant(`restart${n}`));
  let broker: PrivateBroker;
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;
  let client: KafkaFixture | undefined;

  beforeAll(async () => {
    broker = await startPrivateBroker();
    config = uniqueKafkaConfig(broker.brokers, 'restart');
    stores = await openStores();
    for (const tenant of tenants) await enablePark(stores.handler, tenant);
    bridge = startKafkaBridge({
      kafka: config,
      handler: stores.handler,
      store: stores.store,
      readStore: stores.readStore,
      clock: Date.now,
      logger: keepWarnings,
      topics: { signalingPartitions: 3, directivesPartitions: 3 },
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    });
    await bridge.started();
  }, 240_000);

  afterAll(async () => {
    await client?.close();
    await bridge?.stop();
    await stores?.close();
    await broker?.destroy();
  }, 120_000);

  it('loses nothing and doubles nothing', { timeout: 360_000 }, async () => {
    const kafka = (client = await openKafkaFixture(config));

    // Each call parked, then hung up a little later: a steady stream, one record every EVERY_MS.
    const stream = parkThenHangUp(tenants, CALLS);

    let sent = 0;
    let resent = 0;
    const producing = (async () => {
      for (const message of stream) {
        for (;;) {
          try {
            await kafka.signal([message]);
            break;
          } catch {
            // The broker is away: the same record again (Kafka may then hold it twice, which the bridge must absorb).
            resent++;
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
        sent++;
        await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
      }
    })();

    await eventually('a third of the stream to be handled', () => bridge.status().consumer.handled >= stream.length / 3, 60_000);
    const handledBefore = bridge.status().consumer.handled;
    await broker.restart();
    await producing;
    expect(sent).toBe(stream.length);

    const commandIds = stream.map((message) => message.eventId);
    try {
      await eventually(
        'every signaling record to be stored',
        async () => {
          const counts = await eventsPerCommand(stores.store, tenants);
          return commandIds.every((id) => counts.has(id));
        },
        120_000,
        250,
      );
    } catch (error) {
      console.error(`bridge: ${JSON.stringify(bridge.status())}\n${notes.slice(-60).join('\n')}`);
      throw error;
    }
    expect(bridge.status().consumer.handled).toBeGreaterThan(handledBefore);

    // No loss, no double effect: one event per signaling record.
    const counts = await eventsPerCommand(stores.store, tenants);
    expect(commandIds.filter((id) => counts.get(id) !== 1)).toEqual([]);

    // Every stored event's directives reached the directives topic.
    const expected = await expectedDirectiveIds(stores.store, tenants);
    expect(expected.size).toBe(2 * CALLS);
    const reader = await kafka.directives();
    await eventually('every directive to be published', () => reader.directiveIds().size >= expected.size, 120_000, 250);
    expect(reader.directiveIds()).toEqual(expected);
    await eventually('the bridge to be ready again', () => bridge.ready(), 60_000);
    console.info(`[broker restart] ${stream.length} records (${resent} sent again), consumer ${JSON.stringify(bridge.status().consumer)}, publisher restarts ${bridge.status().publisher.restarts}`);
  });
});
