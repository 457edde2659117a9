/**
 * The command handler's batch entry (`handleBatch`): several commands of one tenant decided in
 * order and recorded by one append, each answered as `handle` would have answered it.
 */
import { describe, expect, it } from 'vitest';
import { CommandHandler, type CommandOutcome } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { callParkStream } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { EventStore, RecordedEvent } from '../../domain/eventStore.js';
import { TENANT, bob, hangUpCommand, parkCommand, retrieveCommand, retriever, ringBackDueCommand, setPolicyCommand } from '../support/callParkFixtures.js';

const immediately = async (): Promise<void> => undefined;
const handlerOn = (store: EventStore) => new CommandHandler({ store, sleep: immediately });
const allowPark = (change = {}) => setPolicyCommand('Global', { allowCallPark: true, ...change }, -100);

const streamEvents = async (store: EventStore, tenantId = TENANT): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(callParkStream(tenantId))) events.push(event);
  return events;
};

/** The store, counting its appends. */
const counting = (store: EventStore): EventStore & { appends: number } => {
  const counted = {
    appends: 0,
    appendToStream: (...args: Parameters<EventStore['appendToStream']>) => {
      counted.appends++;
      return store.appendToStream(...args);
    },
    readStream: (...args: Parameters<EventStore['readStream']>) => store.readStream(...args),
    subscribeToAll: (...args: Parameters<EventStore['subscribeToAll']>) => store.subscribeToAll(...args),
    headPosition: () => store.headPosition(),
    maxAppendSize: store.maxAppendSize,
    writeSnapshot: (...args: Parameters<EventStore['writeSnapshot']>) => store.writeSnapshot(...args),
    readSnapshot: (...args: Parameters<EventStore['readSnapshot']>) => store.readSnapshot(...args),
    ...(store.findEvent ? { findEvent: store.findEvent } : {}),
    close: () => store.close(),
  };
  return counted;
};

const withoutPosition = ({ position: _position, ...rest }: CommandOutcome) => rest;

/** Parks and hang-ups of several calls, with a refusal (an orbit nobody holds) in between. */
const mixedCommands = (): CallParkCommand[] => [
  parkCommand({ callId: 'call-1', sessionId: 'session-1', seconds: 1 }),
  parkCommand({ callId: 'call-2', sessionId: 'session-2', seconds: 2, parker: bob }),
  retrieveCommand('99', retriever(bob), 3),
  retrieveCommand('10', retriever(bob), 4),
  hangUpCommand(5, 'call-2'),
  ringBackDueCommand(300, 1, 'session-2', 'call-2'),
];

describe('a batch of commands of one tenant', () => {
  it('records exactly what the commands would record one by one, with one append', async () => {
    const oneByOne = new InMemoryEventStore();
    const batched = counting(new InMemoryEventStore());
    const commands = mixedCommands();
    const single = handlerOn(oneByOne);
    const batch = handlerOn(batched);
    const policy = allowPark();
    await single.handle(policy);
    await batch.handle(policy);
    const expected: CommandOutcome[] = [];
    for (const command of commands) expected.push(await single.handle(command));
    const appendsBefore = batched.appends;

    const outcomes = await batch.handleBatch(TENANT, commands);

    expect(batched.appends - appendsBefore).toBe(1);
    expect(outcomes.map(withoutPosition)).toEqual(expected.map(withoutPosition));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['accepted', 'accepted', 'rejected', 'accepted', 'accepted', 'no-op']);
    const strip = (event: RecordedEvent) => ({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });
    expect((await streamEvents(batched)).map(strip)).toEqual((await streamEvents(oneByOne)).map(strip));
    // Each recorded outcome names a position at or after its own events: the batch's last.
    const head = await batched.headPosition();
    expect(outcomes.filter((outcome) => outcome.events.length > 0).every((outcome) => outcome.position?.commit === head?.commit)).toBe(true);
  });

  it('answers a command repeated within the batch with its first outcome, recording it once', async () => {
    const store = new InMemoryEventStore();
    const handler = handlerOn(store);
    await handler.handle(allowPark());
    const park = parkCommand({ callId: 'call-1', seconds: 1 });
    const otherPark = parkCommand({ callId: 'call-2', sessionId: 'session-2', seconds: 2 });
    const [first, other, again] = await handler.handleBatch(TENANT, [park, otherPark, { ...park, random: 0.7 }]);
    expect(first).toMatchObject({ kind: 'accepted', duplicate: false });
    expect(other).toMatchObject({ kind: 'accepted', duplicate: false });
    expect(again).toMatchObject({ kind: 'accepted', duplicate: true, events: first!.events });
    const parked = (await streamEvents(store)).filter((event) => event.type === 'Parked');
    expect(parked.map((event) => (event.metadata as { commandId: string }).commandId)).toEqual([park.commandId, otherPark.commandId]);
  });

  it('answers a command recorded before the batch (a redelivery) as a duplicate, and decides the rest', async () => {
    const store = new InMemoryEventStore();
    await handlerOn(store).handle(allowPark());
    const park = parkCommand({ callId: 'call-1', seconds: 1 });
    const first = await handlerOn(store).handle(park);
    // A new handler, as after a restart: the command id comes from the log.
    const [redelivered, hangUp] = await handlerOn(store).handleBatch(TENANT, [park, hangUpCommand(5, 'call-1')]);
    expect(redelivered).toMatchObject({ duplicate: true, kind: 'accepted', events: first.events });
    expect(hangUp).toMatchObject({ duplicate: false, kind: 'accepted' });
    expect((await streamEvents(store)).map((event) => event.type)).toEqual(['PolicySettingsChanged', 'Parked', 'Abandoned']);
  });

  it('decides the whole batch again when another writer got in first, never giving one orbit twice', async () => {
    const store = new InMemoryEventStore();
    const first = handlerOn(store);
    const second = handlerOn(store);
    await first.handle(allowPark({ pickupRangeStart: 10, pickupRangeEnd: 12 }));
    // The first handler holds the tenant in memory; the second then takes an orbit behind its back.
    await first.handle(ringBackDueCommand(1));
    await second.handle(parkCommand({ callId: 'other', sessionId: 'other-session', seconds: 2 }));
    const parks = ['a', 'b', 'c'].map((call, n) => parkCommand({ callId: call, sessionId: `session-${call}`, seconds: 3 + n, parker: { ...bob, userId: `${call}@contoso.com` } }));
    const outcomes = await first.handleBatch(TENANT, parks);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['accepted', 'accepted', 'rejected']);
    expect(outcomes[2]!.rejection?.reason).toBe('no-free-orbit');
    expect(outcomes[0]!.attempts).toBeGreaterThan(1);
    const orbits = (await streamEvents(store)).flatMap((event) => (event.type === 'Parked' ? [(event.data as { orbit: number }).orbit] : []));
    expect(orbits.sort()).toEqual([10, 11, 12]);
  });

  it('reads what another writer wrote before answering a batch that records nothing', async () => {
    const store = new InMemoryEventStore();
    const first = handlerOn(store);
    const second = handlerOn(store);
    await first.handle(allowPark());
    await first.handle(ringBackDueCommand(1));
    await second.handle(parkCommand({ callId: 'call-1', sessionId: 'session-1', seconds: 2 }));
    // The first handler's memory has no parked call; the log has one whose ring back is due.
    const [due] = await first.handleBatch(TENANT, [ringBackDueCommand(400, 1, 'session-1', 'call-1')]);
    expect(due).toMatchObject({ kind: 'accepted' });
    expect(due!.events.map((event) => event.type)).toEqual(['RingBackStarted']);
  });

  it('refuses a command of another tenant, and answers an empty batch with nothing', async () => {
    const handler = handlerOn(new InMemoryEventStore());
    await expect(handler.handleBatch('fabrikam', [parkCommand()])).rejects.toThrow(/not fabrikam/);
    await expect(handler.handleBatch(TENANT, [])).resolves.toEqual([]);
  });

  it('lets a failed append fail the whole batch, and the next one reads the log again', async () => {
    const store = new InMemoryEventStore();
    const failing = { fail: false };
    const flaky: EventStore = {
      ...counting(store),
      appendToStream: (...args) => (failing.fail ? Promise.reject(new Error('disk full')) : store.appendToStream(...args)),
    };
    const handler = handlerOn(flaky);
    await handler.handle(allowPark());
    const batch = [parkCommand({ callId: 'call-1', seconds: 1 }), hangUpCommand(2, 'call-1')];
    failing.fail = true;
    await expect(handler.handleBatch(TENANT, batch)).rejects.toThrow('disk full');
    failing.fail = false;
    const outcomes = await handler.handleBatch(TENANT, batch);
    expect(outcomes.map((outcome) => [outcome.kind, outcome.duplicate])).toEqual([
      ['accepted', false],
      ['accepted', false],
    ]);
    expect((await streamEvents(store)).map((event) => event.type)).toEqual(['PolicySettingsChanged', 'Parked', 'Abandoned']);
  });
});
