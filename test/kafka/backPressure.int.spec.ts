/**
 * Back-pressure: while the store is slow the bridge pauses the signaling partitions, and resumes
 * them when the pause is over; every record is still handled exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import { silentLogger } from '../../adapters/kafka/bridgeLogger.js';
import type { EventStore } from '../../domain/eventStore.js';
import {
  enablePark,
  eventsPerCommand,
  eventually,
  kafkaBrokers,
  openKafkaFixture,
  openStores,
  requireKafka,
  signal,
  uniqueKafkaConfig,
  uniqueTenant,
  withAppendHook,
  type SignalingRecord,
  type Stores,
} from './support/kafkaTestKit.js';

const available = await requireKafka();

/** The store, with every append taking `delay.ms` longer. */
const slowed = (store: EventStore, delay: { ms: number }): EventStore =>
  withAppendHook(store, async () => {
    if (delay.ms > 0) await new Promise((resolve) => setTimeout(resolve, delay.ms));
  });

describe.skipIf(!available)('back-pressure', () => {
  const tenants = Array.from({ length: 8 }, (_, n) => uniqueTenant(`slow${n}`));
  const delay = { ms: 0 };
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'back-pressure');
    stores = await openStores();
    for (const tenant of tenants) await enablePark(stores.handler, tenant);
    const store = slowed(stores.store, delay);
    bridge = startKafkaBridge({
      kafka: config,
      handler: new CommandHandler({ store }),
      store,
      readStore: stores.readStore,
      clock: Date.now,
      logger: silentLogger,
      topics: { signalingPartitions: 3, directivesPartitions: 3 },
      consumer: { slowMillis: 60, pauseMillis: 300, maxInFlight: 8 },
    });
    await bridge.started();
  });

  afterAll(async () => {
    await bridge?.stop();
    await stores?.close();
  });

  it('pauses the partitions while the store is slow, resumes them, and handles every record once', async () => {
    const client = await openKafkaFixture(config);
    try {
      delay.ms = 150;
      const slowStream: SignalingRecord[] = Array.from({ length: 48 }, (_, n) => signal.park(tenants[n % tenants.length]!, `slow-call-${n}`));
      await client.signal(slowStream);
      await eventually('a partition to be paused', () => bridge.status().consumer.pauses > 0, 30_000, 20);

      await eventually('the slow stream to be stored', async () => {
        const counts = await eventsPerCommand(stores.store, tenants);
        return slowStream.every((message) => counts.has(message.eventId));
      }, 60_000, 100);

      delay.ms = 0;
      const fastStream = slowStream.map((message) => signal.ended(message.tenantId, message.callId));
      await client.signal(fastStream);
      await eventually('the fast stream to be stored', async () => {
        const counts = await eventsPerCommand(stores.store, tenants);
        return fastStream.every((message) => counts.has(message.eventId));
      }, 60_000, 100);
      await eventually('every partition to be resumed', () => bridge.status().consumer.paused.length === 0, 10_000);

      const counts = await eventsPerCommand(stores.store, tenants);
      expect([...slowStream, ...fastStream].filter((message) => counts.get(message.eventId) !== 1)).toEqual([]);
      expect(bridge.status().consumer.pauses).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });
});
