/**
 * Signaling that cannot be read goes to the dead-letter topic as it came, with why and from
 * where; it never reaches the domain, and the records behind it (the same call's included) are
 * handled as usual.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import { silentLogger } from '../../adapters/kafka/bridgeLogger.js';
import { readDeadLetter } from '../../adapters/kafka/deadLetter.js';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { Metrics } from '../../adapters/observability/metrics.js';
import { AppendTooLarge, type EventStore } from '../../domain/eventStore.js';
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
  type Stores,
} from './support/kafkaTestKit.js';

const available = await requireKafka();

describe.skipIf(!available)('dead letters', () => {
  const tenant = uniqueTenant('fabrikam');
  const metrics = new Metrics();
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'dead-letter');
    stores = await openStores();
    await enablePark(stores.handler, tenant);
    bridge = startKafkaBridge({ kafka: config, handler: stores.handler, store: stores.store, readStore: stores.readStore, clock: Date.now, logger: silentLogger, metrics });
    await bridge.started();
  });

  afterAll(async () => {
    await bridge?.stop();
    await stores?.close();
  });

  it('forwards each unreadable record with its bytes, its reason and path, and where it came from; the stream flows on', async () => {
    const client = await openKafkaFixture(config);
    try {
      const reader = await client.directives();
      const wrongEndpoint = { ...signal.park(tenant, 'call-poison'), parker: { userId: 'alice@fabrikam.com', endpoint: 'fax-machine' } };
      const poison: { value: Buffer | null; reason: string; path: string; headers?: Record<string, string> }[] = [
        { value: Buffer.from('{"type": "park.requested", "eventId": '), reason: 'invalid-json', path: '$' },
        { value: Buffer.from(JSON.stringify(wrongEndpoint)), reason: 'invalid-message', path: '$.parker.endpoint', headers: { 'trace-id': 'b7ad6b7169203331' } },
        { value: Buffer.from(JSON.stringify({ ...signal.ended(tenant, 'call-poison'), type: 'call.transferred' })), reason: 'unknown-type', path: '$.type' },
        { value: null, reason: 'empty', path: '$' },
        { value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), reason: 'invalid-json', path: '$' },
      ];
      const good = signal.park(tenant, 'call-poison');
      const [sent] = await client.send([
        ...poison.map(({ value, headers }) => ({ key: 'call-poison', value, ...(headers ? { headers } : {}) })),
        { key: 'call-poison', value: JSON.stringify(good) },
      ]);

      // The call behind the poison is parked all the same.
      await eventually('the good record behind the poison to be handled', () => reader.typesAbout('call-poison').includes('hold-caller'));
      const events = await tenantEvents(stores.store, tenant);
      expect(events.map((event) => (event.metadata as { commandId: string }).commandId)).toContain(good.eventId);
      expect(events.filter((event) => event.type === 'Parked')).toHaveLength(1);

      const deadLetters = (await client.deadLetters()).received;
      await eventually('five dead letters', () => deadLetters.length >= poison.length);
      expect(deadLetters).toHaveLength(poison.length);

      poison.forEach((expected, index) => {
        const record = deadLetters[index]!;
        const letter = readDeadLetter(record.headers)!;
        expect(record.key?.toString()).toBe('call-poison');
        if (expected.value === null) expect(record.value === null || record.value.length === 0).toBe(true);
        else expect(Buffer.compare(record.value!, expected.value)).toBe(0);
        expect(letter.reason).toBe(expected.reason);
        expect(letter.issues.map((issue) => issue.path)).toContain(expected.path);
        expect(letter.error).toContain(`${expected.path}: `);
        expect(letter.source).toMatchObject({ topic: config.signalingTopic, partition: sent!.partition, offset: String(BigInt(sent!.baseOffset!) + BigInt(index)) });
        expect(letter.consumerGroup).toBe(config.groupId);
        expect(letter.originalHeaders).toEqual(expected.headers ?? {});
      });
      expect(readDeadLetter(deadLetters[1]!.headers)!.error).toMatch(/\$\.parker\.endpoint: expected one of teams-desktop/);

      expect(bridge.status().consumer.deadLettered).toBe(poison.length);
      const exposition = await metrics.render();
      expect(exposition).toContain('callpark_kafka_dead_letters_total{reason="invalid-json"} 2');
      expect(exposition).toContain('callpark_kafka_dead_letters_total{reason="unknown-type"} 1');
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!available)('dead letters: commands the store can never take', () => {
  const tenant = uniqueTenant('northwind');
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;
  const unrecordable = signal.park(tenant, 'call-too-large');

  beforeAll(async () => {
    config = uniqueKafkaConfig(kafkaBrokers()!, 'dead-letter-store');
    stores = await openStores();
    const inner = stores.store;
    // The store refuses any append that carries this one command's events, as it would one over its size.
    const refusing: EventStore = {
      appendToStream: (streamName, events, options) =>
        events.some((event) => (event.metadata as { commandId?: string } | undefined)?.commandId === unrecordable.eventId)
          ? Promise.reject(new AppendTooLarge(streamName, 2_000_000, inner.maxAppendSize))
          : inner.appendToStream(streamName, events, options),
      readStream: (...args) => inner.readStream(...args),
      subscribeToAll: (...args) => inner.subscribeToAll(...args),
      headPosition: () => inner.headPosition(),
      maxAppendSize: inner.maxAppendSize,
      writeSnapshot: (...args) => inner.writeSnapshot(...args),
      readSnapshot: (...args) => inner.readSnapshot(...args),
      findEvent: inner.findEvent,
      close: () => inner.close(),
    };
    const handler = new CommandHandler({ store: refusing });
    await enablePark(handler, tenant);
    bridge = startKafkaBridge({ kafka: config, handler, store: stores.store, readStore: stores.readStore, clock: Date.now, logger: silentLogger });
    await bridge.started();
  });

  afterAll(async () => {
    await bridge?.stop();
    await stores?.close();
  });

  it('sends a command refused for a reason no retry changes to the dead-letter topic with the reason, and records the rest of its lane', async () => {
    const client = await openKafkaFixture(config);
    try {
      const reader = await client.directives();
      const [before, after] = [signal.park(tenant, 'call-before'), signal.park(tenant, 'call-after')];
      // One key, so one partition and one lane: the refused command sits between two good ones.
      await client.send([before, unrecordable, after].map((message) => ({ key: tenant, value: JSON.stringify(message) })));
      await eventually('the record behind the refused one to be handled', () => reader.typesAbout('call-after').includes('hold-caller'));
      expect(reader.typesAbout('call-before')).toContain('hold-caller');
      const parked = (await tenantEvents(stores.store, tenant)).filter((event) => event.type === 'Parked').map((event) => (event.data as { callId: string }).callId);
      expect(parked.sort()).toEqual(['call-after', 'call-before']);

      const deadLetters = (await client.deadLetters()).received;
      await eventually('the dead letter', () => deadLetters.length >= 1);
      const letter = readDeadLetter(deadLetters[0]!.headers)!;
      expect(letter.reason).toBe('unrecordable');
      expect(letter.error).toMatch(/maximum append size/);
      expect(JSON.parse(deadLetters[0]!.value!.toString())).toMatchObject({ eventId: unrecordable.eventId });
    } finally {
      await client.close();
    }
  });
});
