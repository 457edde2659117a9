/**
 * A media tier may compress its record batches with any codec Kafka supports. Records written by
 * Apache Kafka's own Java producer in gzip, snappy, lz4 and zstd batches are each read, decided
 * and recorded; a record of such a batch that cannot be read is dead-lettered as it came; and
 * the bridge stays ready. A batch that cannot be decompressed (here: it would decompress beyond
 * the bound) is dead-lettered, and stops no partition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import { silentLogger } from '../../adapters/kafka/bridgeLogger.js';
import { registerCompressionCodecs } from '../../adapters/kafka/compressionCodecs.js';
import { readDeadLetter } from '../../adapters/kafka/deadLetter.js';
import { Metrics } from '../../adapters/observability/metrics.js';
import { produceWithJava, requireKafkaTools, type KafkaCodec } from './support/javaProducer.js';
import { enablePark, eventually, kafkaBrokers, openKafkaFixture, openStores, requireKafka, signal, tenantEvents, uniqueKafkaConfig, uniqueTenant, type Stores } from './support/kafkaTestKit.js';

const available = (await requireKafka()) && (await requireKafkaTools());

const CODECS: readonly KafkaCodec[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const CALLS_PER_CODEC = 12;

describe.skipIf(!available)('compressed signaling from a Java producer', () => {
  const tenant = uniqueTenant('compressed');
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'compression');
    stores = await openStores();
    await enablePark(stores.handler, tenant);
    bridge = startKafkaBridge({
      kafka: config,
      handler: stores.handler,
      store: stores.store,
      readStore: stores.readStore,
      clock: Date.now,
      logger: silentLogger,
      metrics: new Metrics(),
      topics: { signalingPartitions: 3, directivesPartitions: 1 },
    });
    await bridge.started();
  });

  afterAll(async () => {
    await bridge?.stop();
    await stores?.close();
  });

  it('records the parks of gzip, snappy, lz4 and zstd batches alike, and dead-letters what cannot be read', { timeout: 180_000 }, async () => {
    const parks = new Map(CODECS.map((codec) => [codec, Array.from({ length: CALLS_PER_CODEC }, (_, call) => signal.park(tenant, `call-${codec}-${call}`))]));
    const poison = '{"type":"park.requested","eventId":';
    for (const codec of CODECS) {
      const records = parks.get(codec)!.map((park) => ({ key: park.callId, value: JSON.stringify(park) }));
      // A record that cannot be read, in the middle of the lz4 batch.
      if (codec === 'lz4') records.splice(CALLS_PER_CODEC / 2, 0, { key: 'call-lz4-poison', value: poison });
      await produceWithJava(config.brokers.join(','), config.signalingTopic, codec, records);
    }

    const parkedCalls = async (): Promise<Set<string>> => new Set((await tenantEvents(stores.store, tenant)).filter((event) => event.type === 'Parked').map((event) => (event.data as { callId: string }).callId));
    await eventually('every park of every codec to be recorded', async () => (await parkedCalls()).size === CODECS.length * CALLS_PER_CODEC, 60_000, 100);
    const parked = await parkedCalls();
    for (const codec of CODECS) expect(parks.get(codec)!.filter((park) => !parked.has(park.callId))).toEqual([]);

    const client = await openKafkaFixture(config);
    const deadLetters = (await client.deadLetters()).received;
    try {
      await eventually('the dead letter of the lz4 batch', () => deadLetters.length >= 1);
    } finally {
      await client.close();
    }
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]!.key?.toString()).toBe('call-lz4-poison');
    expect(deadLetters[0]!.value?.toString()).toBe(poison);
    expect(readDeadLetter(deadLetters[0]!.headers)!.reason).toBe('invalid-json');

    expect(await bridge.health()).toEqual({ ok: true });
    expect(bridge.status().consumer).toMatchObject({ crashes: 0, deadLettered: 1, stalled: [] });
  });
});

describe.skipIf(!available)('a compressed batch that cannot be decompressed', () => {
  const tenant = uniqueTenant('bloated');
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'decompression');
    stores = await openStores();
    await enablePark(stores.handler, tenant);
    bridge = startKafkaBridge({
      kafka: config,
      handler: stores.handler,
      store: stores.store,
      readStore: stores.readStore,
      clock: Date.now,
      logger: silentLogger,
      metrics: new Metrics(),
      topics: { signalingPartitions: 3, directivesPartitions: 1 },
      maxDecompressedBytes: 1024 * 1024,
    });
    await bridge.started();
  });

  afterAll(async () => {
    registerCompressionCodecs({ maxDecompressedBytes: 64 * 1024 * 1024 });
    await bridge?.stop();
    await stores?.close();
  });

  it('dead-letters its records, with its compressed bytes and why, and stops no partition', { timeout: 180_000 }, async () => {
    await eventually('the bridge to be ready', () => bridge.ready());
    // 1.5 MB that lz4 makes a few kilobytes of: more than the bridge may decompress. One call, so one batch of two records.
    const bloated = { ...signal.park(tenant, 'call-bloated'), padding: 'a'.repeat(1_500_000) };
    const ended = signal.ended(tenant, 'call-bloated');
    await produceWithJava(config.brokers.join(','), config.signalingTopic, 'lz4', [bloated, ended].map((message) => ({ key: message.callId, value: JSON.stringify(message) })), ['max.request.size=4000000', 'batch.size=4000000']);
    const parks = Array.from({ length: 12 }, (_, call) => signal.park(tenant, `call-healthy-${call}`));
    await produceWithJava(config.brokers.join(','), config.signalingTopic, 'lz4', parks.map((park) => ({ key: park.callId, value: JSON.stringify(park) })));

    const parked = async (): Promise<number> => (await tenantEvents(stores.store, tenant)).filter((event) => event.type === 'Parked').length;
    await eventually('every park of every partition to be recorded', async () => (await parked()) === parks.length, 60_000, 100);

    const client = await openKafkaFixture(config);
    const deadLetters = (await client.deadLetters()).received;
    try {
      await eventually('the dead letters of the batch', () => deadLetters.length >= 2);
    } finally {
      await client.close();
    }
    expect(deadLetters).toHaveLength(2);
    const [first, second] = deadLetters.map((record) => ({ record, letter: readDeadLetter(record.headers)! }));
    for (const { letter } of [first!, second!]) {
      expect(letter.reason).toBe('unreadable-batch');
      expect(letter.error).toMatch(/a lz4 record batch cannot be decompressed: .*KAFKA_MAX_DECOMPRESSED_BYTES/);
    }
    expect(BigInt(second!.letter.source.offset) - BigInt(first!.letter.source.offset)).toBe(1n);
    // The first carries the batch's compressed records: an LZ4 frame.
    expect(first!.record.value!.readUInt32LE(0)).toBe(0x184d2204);
    expect(first!.record.value!.length).toBeLessThan(100_000);

    expect(await bridge.health()).toEqual({ ok: true });
    expect(bridge.status().consumer).toMatchObject({ deadLettered: 2, failuresInARow: 0, crashes: 0 });
  });
});
