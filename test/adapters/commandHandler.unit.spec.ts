import { describe, expect, it } from 'vitest';
import { CommandHandler, type CommandOutcome } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { callParkStream, decide } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../domain/eventStore.js';
import { TENANT, alice, at, bob, parkCommand, retrieveCommand, retriever, ringBackDueCommand, setPolicyCommand } from '../support/callParkFixtures.js';

const immediately = async (): Promise<void> => undefined;
const handlerOn = (store: EventStore, options: Partial<ConstructorParameters<typeof CommandHandler>[0]> = {}) =>
  new CommandHandler({ store, sleep: immediately, ...options });

const streamEvents = async (store: EventStore, tenantId = TENANT): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(callParkStream(tenantId))) events.push(event);
  return events;
};

const allowPark = (change = {}) => setPolicyCommand('Global', { allowCallPark: true, ...change }, -100);

describe('the command handler', () => {
  it('records what the decider decides, and the next command sees it', async () => {
    const store = new InMemoryEventStore();
    const handler = handlerOn(store);
    await handler.handle(allowPark());
    const parked = await handler.handle(parkCommand());
    expect(parked.kind).toBe('accepted');
    expect(parked.events[0]).toMatchObject({ type: 'Parked', orbit: 10 });
    const retrieved = await handler.handle(retrieveCommand('10', retriever(bob)));
    expect(retrieved.events[0]).toMatchObject({ type: 'Retrieved', retriever: { userId: bob.userId } });
    expect((await streamEvents(store)).map((event) => event.type)).toEqual(['PolicySettingsChanged', 'Parked', 'Retrieved']);
  });

  it('answers a repeated command id with the first outcome and records nothing new (I6)', async () => {
    const store = new InMemoryEventStore();
    const handler = handlerOn(store);
    await handler.handle(allowPark());
    const park = parkCommand();
    const first = await handler.handle(park);
    const again = await handler.handle({ ...park, at: at(5), random: 0.9 });
    expect(again.duplicate).toBe(true);
    expect(again.kind).toBe('accepted');
    expect(again.events).toEqual(first.events);
    expect(await streamEvents(store)).toHaveLength(2);
  });

  it('answers a repeated refused command with the same refusal', async () => {
    const store = new InMemoryEventStore();
    const handler = handlerOn(store);
    const park = parkCommand();
    const first = await handler.handle(park);
    expect(first.rejection?.reason).toBe('call-park-not-allowed');
    await handler.handle(allowPark());
    const again = await handler.handle(park);
    expect(again).toMatchObject({ kind: 'rejected', duplicate: true, rejection: first.rejection });
    expect((await streamEvents(store)).map((event) => event.type)).toEqual(['ParkRejected', 'PolicySettingsChanged']);
  });

  it('remembers command ids across a restart (a new handler over the same log)', async () => {
    const store = new InMemoryEventStore();
    await handlerOn(store).handle(allowPark());
    const park = parkCommand();
    const first = await handlerOn(store).handle(park);
    const afterRestart = await handlerOn(store).handle(park);
    expect(afterRestart).toMatchObject({ duplicate: true, events: first.events });
    expect(await streamEvents(store)).toHaveLength(2);
  });

  it('answers a command id older than its window from the log: its events are still stored under the same ids', async () => {
    const store = new InMemoryEventStore();
    const handler = handlerOn(store, { idempotencyWindowMillis: 60_000 });
    await handler.handle(allowPark());
    const park = parkCommand({ seconds: 0 });
    const first = await handler.handle(park);
    await handler.handle(retrieveCommand('10', retriever(bob), 120));
    const before = await streamEvents(store);

    // Forgotten by the window (measured in the tenant's own time), the park is decided again; the
    // store finds its event ids taken by the first park and answers as to a retry.
    const late = await handler.handle({ ...park, at: at(121) });

    expect(late).toMatchObject({ duplicate: true, kind: 'accepted', events: first.events });
    expect(await streamEvents(store)).toHaveLength(before.length);
    // The handler's state is the log's: the call is not parked, so a new park of it is.
    const again = await handler.handle(parkCommand({ seconds: 122 }));
    expect(again).toMatchObject({ duplicate: false, kind: 'accepted' });
  });

  it('takes the commands that arrive while the tenant is busy together: one append for them, each answered as alone', async () => {
    const appends: string[][] = [];
    const store = new (class extends InMemoryEventStore {
      override appendToStream(...args: Parameters<InMemoryEventStore['appendToStream']>) {
        if (args[0] === callParkStream(TENANT)) appends.push(args[1].map((event) => event.type));
        return super.appendToStream(...args);
      }
    })();
    const handler = handlerOn(store, { snapshotEvery: 0 });
    await handler.handle(allowPark({ pickupRangeStart: 10, pickupRangeEnd: 12 }));
    appends.length = 0;

    const parks = Array.from({ length: 5 }, (_, i) => parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: i }));
    const outcomes = await Promise.all([...parks, parks[1]!].map((command) => handler.handle(command)));

    // Those that found the tenant busy waited and went as one batch (a repeat among them): two appends at most, in order.
    expect(appends.flat()).toEqual(['Parked', 'Parked', 'Parked', 'ParkRejected', 'ParkRejected']);
    expect(appends.length).toBeLessThanOrEqual(2);
    expect(outcomes.map((outcome) => outcome.events.map((event) => (event.type === 'Parked' ? event.orbit : event.type)))).toEqual([[10], [11], [12], ['ParkRejected'], ['ParkRejected'], [11]]);
    expect(outcomes.map((outcome) => outcome.duplicate)).toEqual([false, false, false, false, false, true]);
    expect(outcomes[3]?.rejection?.reason).toBe('no-free-orbit');
  });

  it('records nothing for a no-op', async () => {
    const store = new InMemoryEventStore();
    const handler = handlerOn(store);
    await handler.handle(allowPark());
    const outcome = await handler.handle(ringBackDueCommand(300));
    expect(outcome).toMatchObject({ kind: 'no-op', events: [] });
    expect(await streamEvents(store)).toHaveLength(1);
  });

  describe('two service processes on one store, with nothing but optimistic concurrency', () => {
    it('never issue one orbit twice (I1) and park every call while orbits last', async () => {
      const store = new InMemoryEventStore();
      // Real jittered back-off: it is what breaks the tie between two writers that keep colliding.
      const first = new CommandHandler({ store });
      const second = new CommandHandler({ store });
      await first.handle(allowPark({ pickupRangeStart: 10, pickupRangeEnd: 29 }));
      const parks = Array.from({ length: 30 }, (_, i): CallParkCommand => parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: i }));
      // In rounds of one park each, so that both decide on the same state every time and race to append.
      const outcomes: CommandOutcome[] = [];
      for (let i = 0; i < parks.length; i += 2) outcomes.push(...(await Promise.all([first.handle(parks[i]!), second.handle(parks[i + 1]!)])));
      const orbits = outcomes.flatMap((outcome) => outcome.events.flatMap((event) => (event.type === 'Parked' ? [event.orbit] : [])));
      expect(orbits).toHaveLength(20);
      expect(new Set(orbits).size).toBe(20);
      expect(outcomes.filter((outcome) => outcome.rejection?.reason === 'no-free-orbit')).toHaveLength(10);
      expect(outcomes.some((outcome) => outcome.attempts > 1)).toBe(true);
    });

    it('let exactly one of a retrieval and a ring-back timer win the same call (I2)', async () => {
      const store = new InMemoryEventStore();
      const first = handlerOn(store);
      const second = handlerOn(store);
      await first.handle(allowPark());
      await first.handle(parkCommand());
      await second.handle(ringBackDueCommand(300));
      // Retrieval and ring-back answer race from two processes.
      const [retrieved, answered] = await Promise.all([
        first.handle(retrieveCommand('10', retriever(bob), 301)),
        second.handle({ type: 'RingBackAnswered', commandId: 'answer-1', at: at(301), tenantId: TENANT, callId: 'call-1' }),
      ]);
      const endings = (await streamEvents(store)).filter((event) => event.type === 'Retrieved');
      expect(endings).toHaveLength(1);
      const losers = [retrieved, answered].filter((outcome) => outcome.kind === 'rejected');
      expect(losers).toHaveLength(1);
      expect(['no-call-on-orbit', 'call-not-parked']).toContain(losers[0]!.rejection?.reason);
    });

    it('read what the other wrote before answering no-op: a timer is not lost to a stale cache', async () => {
      const store = new InMemoryEventStore();
      const first = handlerOn(store);
      const second = handlerOn(store);
      await first.handle(allowPark({ maxRingBackAttempts: 2 }));
      await first.handle(parkCommand());
      await second.handle(ringBackDueCommand(300));
      // The first process still holds the call as parked; the ring back it did not write is over.
      const unanswered = await first.handle({ type: 'RingBackFailed', commandId: 'timer-unanswered-1', at: at(330), tenantId: TENANT, callId: 'call-1', cause: 'no-answer', sessionId: 'session-1', attempt: 1 });
      expect(unanswered.kind).toBe('accepted');
      expect(unanswered.events.map((event) => event.type)).toEqual(['RingBackUnanswered']);
    });

    it('fire a timer once even when both processes fire it', async () => {
      const store = new InMemoryEventStore();
      const first = handlerOn(store);
      const second = handlerOn(store);
      await first.handle(allowPark());
      await first.handle(parkCommand());
      await second.handle({ ...retrieveCommand('99', retriever(alice)), commandId: 'warm-up' });
      const timer = ringBackDueCommand(300);
      await Promise.all([first.handle(timer), second.handle({ ...timer, commandId: 'timer-from-the-other-process' })]);
      expect((await streamEvents(store)).filter((event) => event.type === 'RingBackStarted')).toHaveLength(1);
    });
  });

  describe('history', () => {
    class CountingStore extends InMemoryEventStore {
      reads: { stream: string; options: ReadStreamOptions; events: number }[] = [];
      /** Every snapshot write the handler started: it does not wait for them, a test does. */
      readonly snapshotWrites: Promise<unknown>[] = [];
      override writeSnapshot(...args: Parameters<InMemoryEventStore['writeSnapshot']>) {
        const written = super.writeSnapshot(...args);
        this.snapshotWrites.push(written);
        return written;
      }
      override async *readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
        const read = { stream: streamName, options, events: 0 };
        this.reads.push(read);
        for await (const event of super.readStream(streamName, options)) {
          read.events++;
          yield event;
        }
      }
    }

    it('a cold handler reads the latest snapshot and only the events after it', async () => {
      const store = new CountingStore();
      const writer = handlerOn(store, { snapshotEvery: 50 });
      await writer.handle(allowPark({ orbitReuseQuarantineSeconds: 0 }));
      for (let i = 0; i < 120; i++) {
        await writer.handle(parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: i * 2 }));
        await writer.handle(retrieveCommand('10', retriever(bob), i * 2 + 1));
      }
      await Promise.all(store.snapshotWrites);
      store.reads = [];
      const cold = handlerOn(store, { snapshotEvery: 50 });
      const outcome = await cold.handle(parkCommand({ sessionId: 's-last', callId: 'c-last', seconds: 1000 }));
      expect(outcome.kind).toBe('accepted');
      const tenantReads = store.reads.filter((read) => read.stream === callParkStream(TENANT));
      expect(tenantReads[0]!.options.fromRevision).toBeGreaterThan(150);
      // At most one interval and a half: the tenant's own spread (up to half again) included.
      expect(tenantReads.reduce((sum, read) => sum + read.events, 0)).toBeLessThan(75);
    });

    it('spaces a tenant’s snapshots at least one event per call it holds parked', async () => {
      const revisions: number[] = [];
      const writes: Promise<unknown>[] = [];
      const store = new (class extends InMemoryEventStore {
        override writeSnapshot(...args: Parameters<InMemoryEventStore['writeSnapshot']>) {
          revisions.push(args[1].revision);
          const written = super.writeSnapshot(...args);
          writes.push(written);
          return written;
        }
      })();
      const writer = handlerOn(store, { snapshotEvery: 10 });
      await writer.handle(allowPark({ pickupRangeStart: 100, pickupRangeEnd: 999, orbitReuseQuarantineSeconds: 0 }));
      const held: string[] = [];
      const park = async (i: number): Promise<void> => {
        const { events } = await writer.handle(parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: i }));
        held.push((events[0] as { orbitCode: string }).orbitCode);
      };
      for (let i = 0; i < 60; i++) await park(i);
      await park(60);
      let heldFrom = -1;
      for await (const last of store.readStream(callParkStream(TENANT), { direction: 'backwards', maxCount: 1 })) heldFrom = last.revision;
      // Sixty calls held from here on: each retrieval is followed by a park.
      for (let i = 61; i < 400; i++) {
        await writer.handle(retrieveCommand(held.shift()!, retriever(bob), i));
        await park(i);
      }
      await Promise.all(writes);

      const whileHeld = revisions.filter((revision) => revision > heldFrom).sort((a, b) => a - b);
      const gaps = whileHeld.slice(1).map((revision, i) => revision - whileHeld[i]!);

      expect(whileHeld.length).toBeGreaterThanOrEqual(3);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(60);
    });

    it('answers a command repeated after a cold load from a snapshot with its first outcome, read back from the log', async () => {
      const store = new CountingStore();
      const writer = handlerOn(store, { snapshotEvery: 5 });
      await writer.handle(allowPark({ orbitReuseQuarantineSeconds: 0 }));
      const first = parkCommand({ sessionId: 's-first', callId: 'c-first', seconds: 1 });
      const answered = await writer.handle(first);
      const refused = retrieveCommand('77', retriever(bob), 2);
      const refusal = await writer.handle(refused);
      for (let i = 0; i < 12; i++) await writer.handle(parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: 3 + i }));
      expect(store.snapshotWrites.length).toBeGreaterThan(0);
      await Promise.all(store.snapshotWrites);
      const cold = handlerOn(store, { snapshotEvery: 5 });
      const again = await cold.handle(first);
      expect(again).toMatchObject({ duplicate: true, kind: 'accepted', events: answered.events });
      expect(await cold.handle(refused)).toMatchObject({ duplicate: true, kind: 'rejected', rejection: refusal.rejection, events: refusal.events });
      expect(await streamEvents(store)).toHaveLength(15);
    });

    it('answers every repeated command after a cold load: outcome in a full snapshot, in a later snapshot, or in the events after them', async () => {
      const store = new CountingStore();
      const options = { snapshotEvery: 4 };
      const writer = handlerOn(store, options);
      await writer.handle(allowPark({ orbitReuseQuarantineSeconds: 0 }));
      const commands: CallParkCommand[] = [];
      for (let i = 0; i < 20; i++) {
        commands.push(parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: i * 3 }));
        commands.push(i % 4 === 3 ? retrieveCommand('77', retriever(bob), i * 3 + 1) : retrieveCommand(String(10 + (i % 3)), retriever(bob), i * 3 + 1));
      }
      const firsts = [];
      for (const command of commands) firsts.push(await writer.handle(command));
      await Promise.all(store.snapshotWrites);
      const recorded = (await streamEvents(store)).length;
      store.reads = [];
      for (const [i, command] of commands.entries()) {
        const again = await handlerOn(store, options).handle({ ...command, at: at(500) });
        const first = firsts[i]!;
        expect(again).toMatchObject({ duplicate: true, kind: first.kind, events: first.events, position: first.position });
        expect(again.rejection).toEqual(first.rejection);
      }
      // The cold handlers loaded from snapshots, never from the start of the stream.
      const tenantReads = store.reads.filter((read) => read.stream === callParkStream(TENANT) && read.options.direction === undefined && read.options.maxCount === undefined);
      expect(tenantReads.length).toBeGreaterThanOrEqual(commands.length);
      expect(tenantReads.filter((read) => (read.options.fromRevision ?? 0) < 20)).toEqual([]);
      expect(await streamEvents(store)).toHaveLength(recorded);
    });

    it('goes on when the store refuses its snapshots: a cold load folds the log and still knows every command', async () => {
      class NoSnapshots extends InMemoryEventStore {
        override async writeSnapshot(): Promise<void> {
          throw new Error('the store refused it');
        }
      }
      const store = new NoSnapshots();
      const errors: unknown[] = [];
      let refused!: () => void;
      const firstRefusal = new Promise<void>((resolve) => (refused = resolve));
      const writer = handlerOn(store, {
        snapshotEvery: 3,
        onSnapshotError: (error) => {
          errors.push(error);
          refused();
        },
      });
      await writer.handle(allowPark());
      const park = parkCommand({ sessionId: 's-first', callId: 'c-first', seconds: 1 });
      const first = await writer.handle(park);
      for (let i = 0; i < 10; i++) await writer.handle(parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: 2 + i }));
      await firstRefusal;
      expect(errors[0]).toMatchObject({ message: 'the store refused it' });
      expect(await store.readSnapshot(callParkStream(TENANT))).toBeUndefined();
      const again = await handlerOn(store).handle(park);
      expect(again).toMatchObject({ duplicate: true, events: first.events });
    });

    it('a handler loaded from a snapshot decides as one that folded the whole log', async () => {
      const store = new CountingStore();
      const writer = handlerOn(store, { snapshotEvery: 7 });
      await writer.handle(allowPark({ pickupRangeStart: 10, pickupRangeEnd: 14, orbitReuseQuarantineSeconds: 30 }));
      for (let i = 0; i < 20; i++) {
        await writer.handle(parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: i * 10 }));
        if (i % 3 !== 2) await writer.handle(retrieveCommand(String(10 + (i % 5)), retriever(bob), i * 10 + 5));
      }
      expect(store.snapshotWrites.length).toBeGreaterThan(0);
      await Promise.all(store.snapshotWrites);
      const fromSnapshot = handlerOn(store, { snapshotEvery: 7 });
      const fromScratch = handlerOn(store, { snapshotEvery: 0 });
      const next = parkCommand({ sessionId: 's-next', callId: 'c-next', seconds: 500 });
      const [a, b] = [await fromSnapshot.query(TENANT, (state) => state), await fromScratch.query(TENANT, (state) => state)];
      expect(a.sessions.size).toBeGreaterThan(0);
      expect(a).toEqual(b);
      expect(decide(next, a)).toEqual(decide(next, b));
    });
  });
});
