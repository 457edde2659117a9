/**
 * The Kafka bridge end to end, against a real broker: signaling records in, stored events, and
 * directives out for the media tier, through the same command handler as HTTP.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../adapters/config/config.js';
import { startKafkaBridge, type KafkaBridge } from '../../adapters/kafka/bridge.js';
import { silentLogger } from '../../adapters/kafka/bridgeLogger.js';
import { directiveHeader } from '../../adapters/kafka/directiveRecord.js';
import { Metrics } from '../../adapters/observability/metrics.js';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import type { Directive } from '../../domain/directives.js';
import {
  alice,
  bob,
  enablePark,
  eventsPerCommand,
  eventually,
  kafkaBrokers,
  openKafkaFixture,
  openStores,
  requireKafka,
  signal,
  tenantEvents,
  uniqueKafkaConfig,
  uniqueTenant,
  type DirectiveReader,
  type KafkaFixture,
  type SignalingRecord,
  type Stores,
} from './support/kafkaTestKit.js';

const available = await requireKafka();

type DirectiveOf<T extends Directive['type']> = Extract<Directive, { type: T }>;

describe.skipIf(!available)('the Kafka bridge, end to end', () => {
  const tenant = uniqueTenant('contoso');
  let config: KafkaConfig;
  let stores: Stores;
  let bridge: KafkaBridge;
  let client: KafkaFixture;
  let reader: DirectiveReader;
  /** The bridge's clock runs ahead of the wall clock by this much once the test moves time on. */
  let skewMs = 0;
  const produced: SignalingRecord[] = [];

  const send = async (...messages: SignalingRecord[]): Promise<void> => {
    produced.push(...messages);
    await client.signal(messages);
  };

  const directive = async <T extends Directive['type']>(callId: string, type: T, index = 0): Promise<DirectiveOf<T>> => {
    const matching = (): DirectiveOf<T>[] => reader.about(callId).map((message) => message.directive).filter((found): found is DirectiveOf<T> => found.type === type);
    await eventually(`${type} #${index + 1} about ${callId}`, () => matching().length > index);
    return matching()[index]!;
  };

  beforeAll(async () => {
    const brokers = kafkaBrokers()!;
    config = uniqueKafkaConfig(brokers, 'bridge');
    stores = await openStores();
    await enablePark(stores.handler, tenant);
    bridge = startKafkaBridge({
      kafka: config,
      handler: stores.handler,
      store: stores.store,
      readStore: stores.readStore,
      clock: () => Date.now() + skewMs,
      logger: silentLogger,
      metrics: new Metrics(),
      topics: { signalingPartitions: 3, directivesPartitions: 3 },
    });
    await bridge.started();
    client = await openKafkaFixture(config);
    reader = await client.directives();
    await eventually('the bridge to be ready', () => bridge.ready());
  });

  afterAll(async () => {
    await client?.close();
    await bridge?.stop();
    await stores?.close();
  });

  it('parks a call and connects whoever retrieves it: hold-caller, then connect-caller and release-orbit', async () => {
    const park = signal.park(tenant, 'call-park-retrieve');
    await send(park);
    const hold = await directive('call-park-retrieve', 'hold-caller');
    expect(hold).toMatchObject({ tenantId: tenant, musicOnHold: true, orbitCode: '10' });

    const retrieve = signal.retrieve(tenant, 'bob-dialog-1', hold.orbitCode, bob);
    await send(retrieve);
    const connect = await directive('call-park-retrieve', 'connect-caller');
    expect(connect).toMatchObject({ to: bob, via: 'orbit', retrieverCallId: 'bob-dialog-1', sessionId: hold.sessionId });
    await directive('call-park-retrieve', 'release-orbit');
    expect(reader.typesAbout('call-park-retrieve')).toEqual(['hold-caller', 'connect-caller', 'release-orbit']);

    // Each directive names the event it came from, and the signaling message behind that event.
    const events = await tenantEvents(stores.store, tenant);
    const parked = events.find((event) => event.type === 'Parked' && (event.metadata as { commandId: string }).commandId === park.eventId)!;
    const [published] = reader.received.filter(({ message }) => message.eventId === parked.id);
    expect(published).toMatchObject({ key: 'call-park-retrieve', message: { directiveId: `${parked.id}:0`, eventType: 'Parked', commandId: park.eventId } });
    expect(String(published!.headers[directiveHeader.directiveId])).toBe(`${parked.id}:0`);
    expect(String(published!.headers[directiveHeader.commandId])).toBe(park.eventId);
  });

  it('rings the parker back when nobody retrieves the call, and connects the parker who answers', async () => {
    await send(signal.park(tenant, 'call-ring-back'));
    const hold = await directive('call-ring-back', 'hold-caller');
    const parked = (await tenantEvents(stores.store, tenant)).find((event) => event.type === 'Parked' && (event.data as { callId: string }).callId === 'call-ring-back')!;
    const dueAt = Date.parse((parked.data as { ringBackDueAt: string }).ringBackDueAt);

    // The ring-back scheduler's part: the park timeout has passed.
    skewMs = dueAt - Date.now() + 1_000;
    await stores.handler.handle({ type: 'RingBackDue', commandId: `timer-${hold.sessionId}-1`, at: dueAt, tenantId: tenant, callId: 'call-ring-back', sessionId: hold.sessionId, attempt: 1 });
    const ring = await directive('call-ring-back', 'ring-parker');
    expect(ring).toMatchObject({ parker: alice, attempt: 1, sessionId: hold.sessionId });

    await send(signal.answered(tenant, 'call-ring-back'));
    const connect = await directive('call-ring-back', 'connect-caller');
    expect(connect).toMatchObject({ to: alice, via: 'ring-back' });
    await directive('call-ring-back', 'release-orbit');
    // The answered attempt stops ringing (the parker's other endpoints) before the caller is connected.
    expect(await directive('call-ring-back', 'stop-ringing')).toMatchObject({ attempt: 1, sessionId: hold.sessionId });
    expect(reader.typesAbout('call-ring-back')).toEqual(['hold-caller', 'ring-parker', 'stop-ringing', 'connect-caller', 'release-orbit']);
  });

  it('sends the call to its fallback when the parker declines the last ring back (486)', async () => {
    await send(signal.park(tenant, 'call-fallback'));
    const hold = await directive('call-fallback', 'hold-caller');
    const dueAt = Date.now() + skewMs + 300_000;
    skewMs = dueAt - Date.now() + 1_000;
    await stores.handler.handle({ type: 'RingBackDue', commandId: `timer-${hold.sessionId}-1`, at: dueAt, tenantId: tenant, callId: 'call-fallback', sessionId: hold.sessionId, attempt: 1 });
    await directive('call-fallback', 'ring-parker');
    await send(signal.failed(tenant, 'call-fallback', 486));
    expect(await directive('call-fallback', 'send-to-fallback')).toMatchObject({ fallback: 'voicemail', parker: alice });
    await directive('call-fallback', 'release-orbit');
  });

  it('releases the orbit when the caller hangs up while parked', async () => {
    await send(signal.park(tenant, 'call-hang-up'));
    await directive('call-hang-up', 'hold-caller');
    await send(signal.ended(tenant, 'call-hang-up'));
    await directive('call-hang-up', 'release-orbit');
    expect(reader.typesAbout('call-hang-up')).toEqual(['hold-caller', 'release-orbit']);
  });

  it('publishes a refusal as a directive: a domain rejection is an outcome, not a dead letter', async () => {
    await send({ ...signal.park(tenant, 'call-video'), media: 'video' } as SignalingRecord);
    expect(await directive('call-video', 'refuse-park')).toMatchObject({ reason: 'media-not-parkable' });
    await send(signal.retrieve(tenant, 'carol-dialog', '55'));
    expect(await directive('carol-dialog', 'refuse-retrieval')).toMatchObject({ reason: 'no-call-on-orbit', orbitCode: '55' });
    expect(bridge.status().consumer.deadLettered).toBe(0);
  });

  it('gives a message delivered twice one effect: one event, one directive', async () => {
    const park = signal.park(tenant, 'call-twice');
    const before = bridge.status().consumer.duplicates;
    await send(park, park);
    await directive('call-twice', 'hold-caller');
    await eventually('the second delivery to be handled', () => bridge.status().consumer.duplicates > before);
    expect((await eventsPerCommand(stores.store, [tenant])).get(park.eventId)).toBe(1);
    // The call's next directive comes after any the second delivery could have caused (one key, one partition, in order).
    await send(signal.ended(tenant, 'call-twice'));
    await directive('call-twice', 'release-orbit');
    expect(reader.typesAbout('call-twice')).toEqual(['hold-caller', 'release-orbit']);
  });

  it('changes nothing when another consumer group reads the whole topic again (a reset, or a lost commit)', async () => {
    const headBefore = await stores.store.headPosition();
    const directivesBefore = reader.received.length;
    const again = startKafkaBridge({
      kafka: { ...config, groupId: `${config.groupId}-again`, clientId: `${config.clientId}-again` },
      handler: new CommandHandler({ store: stores.store }),
      store: stores.store,
      readStore: stores.readStore,
      clock: () => Date.now() + skewMs,
      logger: silentLogger,
    });
    try {
      await again.started();
      await eventually('every signaling record to be read again', () => again.status().consumer.handled >= produced.length);
      // Every record here recorded something (an event or a refusal's audit record), so each one is a duplicate now.
      expect(again.status().consumer).toMatchObject({ handled: produced.length, duplicates: produced.length, deadLettered: 0 });
      await eventually("the second bridge's publisher to follow the log to its head", () => isDeepStrictEqual(again.status().publisher.checkpoint, headBefore));
    } finally {
      await again.stop();
    }
    expect(await stores.store.headPosition()).toEqual(headBefore);
    expect(again.status().publisher.published).toBe(0);
    expect(reader.received.length).toBe(directivesBefore);
  });
});
