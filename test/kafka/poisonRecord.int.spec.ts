/**
 * One record must never stop a signaling partition. A park.requested with 12,000 unknown fields
 * (about 314 KB) has 12,000 decode issues: its dead letter must still fit the broker's maximum
 * message size (headers capped), and so must the dead letter of a record whose bytes alone fill
 * it (a prefix, its length and SHA-256 instead). The records behind them are handled as usual.
 * And a partition that cannot advance makes the bridge not ready, naming the partition and why,
 * until it advances again.
 */
import { createHash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import { silentLogger } from '../../adapters/kafka/bridgeLogger.js';
import { readDeadLetter } from '../../adapters/kafka/deadLetter.js';
import { Metrics } from '../../adapters/observability/metrics.js';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import {
  enablePark,
  eventually,
  kafkaBrokers,
  openKafkaFixture,
  openStores,
  requireKafka,
  signal,
  tenantEvents,
  uniqueKafkaConfig,
  uniqueTenant,
  withAppendHook,
  type Stores,
} from './support/kafkaTestKit.js';

const available = await requireKafka();

/** The broker's default maximum size of a record batch (message.max.bytes). */
const BROKER_MAX_MESSAGE_BYTES = 1_048_588;

/** A park.requested carrying `count` fields the codec does not know. */
const parkWithUnknownFields = (tenant: string, callId: string, count: number): Buffer => {
  const park: Record<string, unknown> = { ...signal.park(tenant, callId) };
  for (let field = 0; field < count; field++) park[`x-unknown-field-${String(field).padStart(5, '0')}`] = 'abcd';
  return Buffer.from(JSON.stringify(park));
};

/** A record batch of one uncompressed record, as the broker measures it (an upper bound). */
const batchBytes = (message: KafkaMessage): number => {
  let bytes = 61 + 21 + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += 10 + Buffer.byteLength(name) + (Buffer.isBuffer(value) ? value.length : Buffer.byteLength(String(value)));
  return bytes;
};

describe.skipIf(!available)('a record whose dead letter would be too big', () => {
  const tenant = uniqueTenant('poison');
  const metrics = new Metrics();
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'poison-record');
    stores = await openStores();
    await enablePark(stores.handler, tenant);
    bridge = startKafkaBridge({
      kafka: config,
      handler: stores.handler,
      store: stores.store,
      readStore: stores.readStore,
      clock: Date.now,
      logger: silentLogger,
      metrics,
      // One partition: every record below is behind the poison.
      topics: { signalingPartitions: 1, directivesPartitions: 1 },
    });
    await bridge.started();
  });

  afterAll(async () => {
    await bridge?.stop();
    await stores?.close();
  });

  it('is dead-lettered within the maximum message size, and the partition flows on', { timeout: 120_000 }, async () => {
    const client = await openKafkaFixture(config);
    try {
      const manyIssues = parkWithUnknownFields(tenant, 'call-many-issues', 12_000);
      expect(manyIssues.length).toBeGreaterThan(300_000);
      // Bytes that alone fill a record batch: whatever the headers, the copy cannot carry them all.
      const huge = Buffer.alloc(BROKER_MAX_MESSAGE_BYTES - 600, 'x');
      await client.send([{ key: 'call-many-issues', value: manyIssues, headers: { 'trace-id': 'poison-1' } }]);
      await client.send([{ key: 'call-huge', value: huge }]);
      const parks = Array.from({ length: 40 }, (_, call) => signal.park(tenant, `call-behind-${call}`));
      await client.signal(parks);

      await eventually('every park behind the poison to be recorded', async () => (await tenantEvents(stores.store, tenant)).filter((event) => event.type === 'Parked').length === parks.length, 60_000, 100);

      const deadLetters = (await client.deadLetters({ maxBytesPerPartition: 4 * BROKER_MAX_MESSAGE_BYTES })).received;
      await eventually('two dead letters', () => deadLetters.length >= 2);
      expect(deadLetters).toHaveLength(2);
      for (const record of deadLetters) expect(batchBytes(record)).toBeLessThan(BROKER_MAX_MESSAGE_BYTES);

      // The copy of the 314 KB record: its bytes as they came; the issues counted, the first few carried.
      const [first, second] = deadLetters as [KafkaMessage, KafkaMessage];
      const many = readDeadLetter(first.headers)!;
      expect(Buffer.compare(first.value!, manyIssues)).toBe(0);
      expect(many.reason).toBe('invalid-message');
      expect(many.issueCount).toBe(12_000);
      expect(many.issues.length).toBeGreaterThan(0);
      expect(many.issues.length).toBeLessThan(20);
      expect(many.issues[0]!.message).toContain('unknown field "x-unknown-field-00000"');
      expect(many.error).toContain('11,99');
      expect(many.originalHeaders).toEqual({ 'trace-id': 'poison-1' });
      expect(many.truncated).toBeUndefined();

      // The copy of the record that fills a batch alone: a prefix, with its length and SHA-256.
      const letter = readDeadLetter(second.headers)!;
      expect(letter.reason).toBe('invalid-json');
      expect(letter.source).toMatchObject({ topic: config.signalingTopic, partition: 0 });
      expect(letter.truncated).toEqual({ length: huge.length, sha256: createHash('sha256').update(huge).digest('hex') });
      expect(second.value!.length).toBeGreaterThan(0);
      expect(second.value!.length).toBeLessThan(huge.length);
      expect(Buffer.compare(second.value!, huge.subarray(0, second.value!.length))).toBe(0);

      expect(await bridge.ready()).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!available)('a signaling partition that cannot advance', () => {
  const tenant = uniqueTenant('stalled');
  const metrics = new Metrics();
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;
  let failing = true;

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'stalled-partition');
    stores = await openStores();
    await enablePark(stores.handler, tenant);
    // The store refuses this tenant's appends until the test lets it through.
    const store = withAppendHook(stores.store, () => {
      if (failing) throw new Error('disk I/O error (injected)');
    });
    bridge = startKafkaBridge({
      kafka: config,
      handler: new CommandHandler({ store }),
      store: stores.store,
      readStore: stores.readStore,
      clock: Date.now,
      logger: silentLogger,
      metrics,
      topics: { signalingPartitions: 1, directivesPartitions: 1 },
      consumer: { retryDelayMs: 20 },
    });
    await bridge.started();
  });

  afterAll(async () => {
    await bridge?.stop();
    await stores?.close();
  });

  it('makes the bridge not ready, naming the partition and why, until it advances', async () => {
    const client = await openKafkaFixture(config);
    try {
      await eventually('the bridge to be ready', () => bridge.ready());
      await client.signal([signal.park(tenant, 'call-stuck')]);

      await eventually('the bridge to say the partition is stuck', async () => !(await bridge.ready()));
      const health = await bridge.health();
      expect(health.ok).toBe(false);
      expect(health.detail).toContain(`${config.signalingTopic}/0`);
      expect(health.detail).toContain('disk I/O error (injected)');
      expect(bridge.status().consumer.stalled).toEqual([expect.objectContaining({ partition: 0, offset: '0' })]);
      expect(await metrics.render()).toMatch(/callpark_kafka_partition_stalls_total 1\b/);
      expect(await metrics.render()).toMatch(/callpark_kafka_stalled_partitions 1\b/);

      failing = false;
      await eventually('the park to be recorded', async () => (await tenantEvents(stores.store, tenant)).some((event) => event.type === 'Parked'));
      await eventually('the bridge to be ready again', () => bridge.ready());
      expect(bridge.status().consumer.stalled).toEqual([]);
      expect(await metrics.render()).toMatch(/callpark_kafka_stalled_partitions 0\b/);
    } finally {
      await client.close();
    }
  });
});
