/**
 * Orbit state on Kafka against a real broker: the topic is created log-compacted, each change of
 * an orbit is published once per event in order, and a consumer that reads the topic from the
 * start, knowing nothing else, rebuilds every orbit's state now. A restart publishes nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import { silentLogger } from '../../adapters/kafka/bridgeLogger.js';
import type { OrbitStateRecord } from '../../adapters/kafka/orbitStatePublisher.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { alice, enablePark, eventually, kafkaBrokers, openStores, readTopic, requireKafka, testKafka, uniqueKafkaConfig, uniqueTenant, type Stores } from './support/kafkaTestKit.js';

const available = await requireKafka();

interface Received {
  readonly key: string;
  readonly record: OrbitStateRecord;
}

/** Every record of the topic, read from the start by a group of its own. */
const readOrbitStates = async (kafka: Kafka, topic: string, until: (received: readonly Received[]) => boolean): Promise<Received[]> => {
  const reading = await readTopic(kafka, topic, (message): Received => ({ key: message.key!.toString(), record: JSON.parse(message.value!.toString()) as OrbitStateRecord }));
  try {
    await eventually('the orbit state records', () => until(reading.received));
  } finally {
    await reading.stop();
  }
  return reading.received;
};

/** What a phone system knows from the topic alone: the last record of each key. */
const statesOf = (received: readonly Received[]): Map<string, OrbitStateRecord['orbit']> => new Map(received.map(({ key, record }) => [key, record.orbit]));

describe.skipIf(!available)('orbit state on a compacted Kafka topic', () => {
  const tenant = uniqueTenant('contoso');
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;
  let kafka: Kafka;
  let now = Date.now();
  const start = () =>
    startKafkaBridge({ kafka: config, handler: stores.handler, store: stores.store, readStore: stores.readStore, clock: () => now, logger: silentLogger, topics: { orbitStatePartitions: 3 } });
  const handle = async (command: CallParkCommand) => {
    const outcome = await stores.handler.handle(command);
    if (outcome.kind !== 'accepted') throw new Error(`${command.type}: ${outcome.kind} ${outcome.rejection?.reason ?? ''}`);
    return outcome.events[0]!;
  };
  const park = (callId: string) =>
    handle({ type: 'ParkCall', commandId: randomUUID(), at: ++now, tenantId: tenant, sessionId: `session-${callId}`, callId, parker: alice, media: 'audio', random: 0 });

  beforeAll(async () => {
    config = { ...uniqueKafkaConfig(kafkaBrokers()!, 'orbits'), orbitStateTopic: `test.orbits-${randomUUID()}.orbit-state` };
    stores = await openStores();
    await enablePark(stores.handler, tenant, { maxRingBackAttempts: 2 });
    kafka = testKafka(config.brokers);
    bridge = start();
    await bridge.started();
  });

  afterAll(async () => {
    await bridge?.stop();
    await stores?.close();
  });

  it('creates the topic log-compacted', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: config.orbitStateTopic!, configNames: ['cleanup.policy'] }] });
      expect(described.resources[0]!.configEntries.find((entry) => entry.configName === 'cleanup.policy')?.configValue).toBe('compact');
      const metadata = await admin.fetchTopicMetadata({ topics: [config.orbitStateTopic!] });
      expect(metadata.topics[0]!.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('a consumer of the topic alone knows every orbit: busy with session, parker, since and ringing back; free once released', async () => {
    const first = await park('call-a');
    const second = await park('call-b');
    const third = await park('call-c');
    await handle({ type: 'RingParkerNow', commandId: randomUUID(), at: ++now, tenantId: tenant, sessionId: 'session-call-b', supervisor: 'sam@contoso.com' });
    await handle({ type: 'RetrieveCall', commandId: randomUUID(), at: ++now, tenantId: tenant, orbit: '10', retriever: { ...alice, federated: false } });
    await handle({ type: 'SendToFallbackNow', commandId: randomUUID(), at: ++now, tenantId: tenant, sessionId: 'session-call-c', supervisor: 'sam@contoso.com' });

    const received = await readOrbitStates(kafka, config.orbitStateTopic!, (records) => records.length >= 6);
    const states = statesOf(received.filter(({ record }) => record.orbit.tenantId === tenant));
    const key = (orbit: number) => JSON.stringify([tenant, 'Global', orbit]);
    expect(states.get(key(10))).toMatchObject({ state: 'free', sessionId: 'session-call-a' });
    expect(states.get(key(11))).toMatchObject({
      state: 'busy',
      sessionId: 'session-call-b',
      callId: 'call-b',
      parker: alice,
      since: new Date(second.at).toISOString(),
      ringingBack: true,
      attempt: 1,
    });
    expect(states.get(key(12))).toMatchObject({ state: 'free', sessionId: 'session-call-c' });
    expect([first.type, third.type]).toEqual(['Parked', 'Parked']);

    // One record per changing event, each with its own change id, in log order per orbit.
    expect(received.map(({ record }) => record.changeId)).toHaveLength(new Set(received.map(({ record }) => record.changeId)).size);
    expect(received.filter(({ key: k }) => k === key(11)).map(({ record }) => [record.eventType, record.orbit.state])).toEqual([
      ['Parked', 'busy'],
      ['RingBackStarted', 'busy'],
    ]);
    expect(received.filter(({ key: k }) => k === key(12)).map(({ record }) => record.eventType)).toEqual(['Parked', 'Expired']);
  });

  it('after a restart publishes only what is new, and a ring back still knows since when the orbit has been busy', async () => {
    await bridge.stop();
    await handle({ type: 'RingBackFailed', commandId: randomUUID(), at: ++now, tenantId: tenant, callId: 'call-b', cause: 'busy' });
    bridge = start();
    await bridge.started();
    const received = await readOrbitStates(kafka, config.orbitStateTopic!, (records) => records.length >= 7);
    await eventually('the publisher to catch up', () => bridge.status().orbitState?.published === 1);
    expect(received).toHaveLength(7);
    // Records of one orbit share a partition: in order, the newest last.
    const ofCallB = received.filter(({ record }) => record.orbit.sessionId === 'session-call-b').map(({ record }) => record);
    expect(ofCallB.map((record) => record.eventType)).toEqual(['Parked', 'RingBackStarted', 'RingBackUnanswered']);
    expect(ofCallB[2]).toMatchObject({ orbit: { state: 'busy', ringingBack: false, attempt: 1 } });
    expect(ofCallB.map((record) => (record.orbit.state === 'busy' ? record.orbit.since : undefined))).toEqual(Array(3).fill(ofCallB[0]!.orbit.state === 'busy' ? ofCallB[0]!.orbit.since : 'busy'));
  });
});
