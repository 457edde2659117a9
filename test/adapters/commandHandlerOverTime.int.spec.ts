/**
 * The command handler over a long run and beside other processes: snapshots that hold the state
 * only (so their size does not grow with traffic or id length), command ids remembered across a
 * cold load on stores with and without an index of event ids, batches split to the store's
 * maximum append size, a command too large for any append failing alone, reads that catch up
 * with other processes' writes, and two processes contending for one tenant losing nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { appendSize } from '../../adapters/eventStores/appendSize.js';
import { CommandHandler, CommandTooLarge, type CommandOutcome } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { callParkStream } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { EventStore, RecordedEvent } from '../../domain/eventStore.js';
import { TENANT, at, bob, parkCommand, retrieveCommand, retriever, setPolicyCommand } from '../support/callParkFixtures.js';

const immediately = async (): Promise<void> => undefined;
const handlerOn = (store: EventStore, options: Partial<ConstructorParameters<typeof CommandHandler>[0]> = {}) => new CommandHandler({ store, sleep: immediately, ...options });

const streamEvents = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(callParkStream(TENANT))) events.push(event);
  return events;
};

const allowPark = (change = {}) => setPolicyCommand('Global', { allowCallPark: true, orbitReuseQuarantineSeconds: 0, ...change }, -100);
const longId = (n: number): string => `${String(n).padStart(6, '0')}-${'x'.repeat(249)}`;

/** The store without its index of event ids, as EventStoreDB is. */
const withoutIdIndex = (store: InMemoryEventStore): EventStore => ({
  appendToStream: (...args) => store.appendToStream(...args),
  readStream: (...args) => store.readStream(...args),
  subscribeToAll: (...args) => store.subscribeToAll(...args),
  headPosition: () => store.headPosition(),
  maxAppendSize: store.maxAppendSize,
  writeSnapshot: (...args) => store.writeSnapshot(...args),
  readSnapshot: (...args) => store.readSnapshot(...args),
  close: () => store.close(),
});

/** A park and the retrieval of its orbit, one call after another, with 256-character command ids, a second apart. */
const drive = async (handler: CommandHandler, count: number, from = 0): Promise<{ commands: CallParkCommand[]; outcomes: CommandOutcome[] }> => {
  const commands: CallParkCommand[] = [];
  const outcomes: CommandOutcome[] = [];
  let orbit = '10';
  for (let n = from; n < from + count; n++) {
    const command =
      n % 2 === 0
        ? parkCommand({ commandId: longId(n), sessionId: `s-${n}`, callId: `c-${n}`, seconds: n })
        : retrieveCommand(orbit, retriever(bob), n, { commandId: longId(n) });
    const outcome = await handler.handle(command);
    if (outcome.events[0]?.type === 'Parked') orbit = outcome.events[0].orbitCode;
    commands.push(command);
    outcomes.push(outcome);
  }
  return { commands, outcomes };
};

describe('the command handler over a long run', () => {
  it('keeps a snapshot of the state only: no command id in it, and no larger after five times the commands (once every orbit has been used)', async () => {
    const store = new InMemoryEventStore();
    const handler = handlerOn(store, { snapshotEvery: 16 });
    await handler.handle(allowPark());
    await drive(handler, 400);
    const early = JSON.stringify((await store.readSnapshot(callParkStream(TENANT)))!.data);
    await drive(handler, 1_600, 400);
    const late = JSON.stringify((await store.readSnapshot(callParkStream(TENANT)))!.data);
    expect(late).not.toContain('x'.repeat(249));
    expect(late.length).toBeLessThanOrEqual(early.length + 100);
  });

  for (const [kind, open] of [
    ['a store that finds events by id', (store: InMemoryEventStore): EventStore => store],
    ['a store without an index of ids (read back to the window’s start)', withoutIdIndex],
  ] as const) {
    it(`answers a command repeated after a cold load from a snapshot with its first outcome, on ${kind}`, async () => {
      const memory = new InMemoryEventStore();
      const store = open(memory);
      const writer = handlerOn(store, { snapshotEvery: 8 });
      await writer.handle(allowPark());
      const { commands, outcomes: firsts } = await drive(writer, 60);
      const refused = retrieveCommand('77', retriever(bob), 61);
      const refusal = await writer.handle(refused);
      const recorded = (await streamEvents(store)).length;
      expect((await store.readSnapshot(callParkStream(TENANT)))!.revision).toBeGreaterThan(40);

      for (const [i, command] of [...commands.entries()].filter(([i]) => i % 7 === 0)) {
        const again = await handlerOn(store, { snapshotEvery: 8 }).handle({ ...command, at: at(100) });
        expect(again).toMatchObject({ duplicate: true, kind: firsts[i]!.kind, events: firsts[i]!.events });
      }
      expect(await handlerOn(store, { snapshotEvery: 8 }).handleBatch(TENANT, [refused, commands[2]!])).toMatchObject([
        { duplicate: true, kind: 'rejected', rejection: refusal.rejection },
        { duplicate: true, kind: firsts[2]!.kind, events: firsts[2]!.events },
      ]);
      expect(await streamEvents(store)).toHaveLength(recorded);
      // Past the window, a new command is decided as new.
      const later = await handlerOn(store, { snapshotEvery: 8, idempotencyWindowMillis: 1_000 }).handle(parkCommand({ sessionId: 's-new', callId: 'c-new', seconds: 200 }));
      expect(later).toMatchObject({ duplicate: false, kind: 'accepted' });
    });
  }
});

describe('the command handler and the store’s maximum append size', () => {
  /** The store, noting the size of every append. */
  const measured = (maxAppendSize: number) => {
    const store = new InMemoryEventStore(Date.now, { maxAppendSize });
    const sizes: number[] = [];
    const original = store.appendToStream.bind(store);
    store.appendToStream = (streamName, events, options) => {
      sizes.push(appendSize(events));
      return original(streamName, events, options);
    };
    return { store, sizes };
  };

  it('splits a batch into appends that each fit the limit, and answers each command as one by one', async () => {
    const limit = 32 * 1024;
    const { store, sizes } = measured(limit);
    const alone = new InMemoryEventStore();
    const commands = [allowPark({ pickupRangeStart: 100, pickupRangeEnd: 2999 }), ...Array.from({ length: 600 }, (_, i) => parkCommand({ sessionId: `s-${i}`, callId: `c-${i}`, seconds: i }))];
    const outcomes = await handlerOn(store).handleBatch(TENANT, commands);
    const one = handlerOn(alone);
    const expected: CommandOutcome[] = [];
    for (const command of commands) expected.push(await one.handle(command));

    const withoutPosition = ({ position: _position, ...rest }: CommandOutcome) => rest;
    expect(outcomes.map(withoutPosition)).toEqual(expected.map(withoutPosition));
    expect(outcomes.every((outcome) => outcome.kind === 'accepted')).toBe(true);
    expect(sizes.length).toBeGreaterThan(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(limit);
    expect((await streamEvents(store)).map((event) => event.id)).toEqual((await streamEvents(alone)).map((event) => event.id));
  });

  it('fails a command whose events alone are over the limit with CommandTooLarge, recording nothing, and goes on with the next', async () => {
    const store = new InMemoryEventStore(Date.now, { maxAppendSize: 100_000 });
    const handler = handlerOn(store);
    await handler.handle(allowPark());
    (store as { maxAppendSize: number }).maxAppendSize = 200;
    const failure = await handler.handle(parkCommand()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CommandTooLarge);
    expect(failure).toMatchObject({ retryable: false, maxAppendSize: 200 });
    expect(await streamEvents(store)).toHaveLength(1);
    (store as { maxAppendSize: number }).maxAppendSize = 100_000;
    expect(await handler.handle(parkCommand({ callId: 'c-2', sessionId: 's-2' }))).toMatchObject({ kind: 'accepted', events: [{ orbit: 10 }] });
  });
});

describe('the command handler beside other processes', () => {
  it('answers a query with what another process wrote since it last looked', async () => {
    const store = new InMemoryEventStore();
    const [a, b] = [handlerOn(store), handlerOn(store)];
    await a.handle(allowPark({ parkTimeoutSeconds: 300 }));
    expect(await a.query(TENANT, (state) => state.policies.get('Global')?.settings.parkTimeoutSeconds)).toBe(300);
    await b.handle(setPolicyCommand('Global', { parkTimeoutSeconds: 90 }, 1));
    await b.handle(parkCommand({ seconds: 2 }));
    const [timeout, parked] = await a.query(TENANT, (state) => [state.policies.get('Global')?.settings.parkTimeoutSeconds, state.sessions.size]);
    expect(timeout).toBe(90);
    expect(parked).toBe(1);
  });

  it('two processes writing one tenant of one SQLite file at once lose no command to contention', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'callpark-contention-'));
    const [first, second] = [new SqliteEventStore(join(directory, 'events.db')), new SqliteEventStore(join(directory, 'events.db'))];
    onTestFinished(async () => {
      await first.close();
      await second.close();
      await rm(directory, { recursive: true, force: true });
    });
    const [a, b] = [new CommandHandler({ store: first }), new CommandHandler({ store: second })];
    await a.handle(allowPark({ pickupRangeStart: 100, pickupRangeEnd: 999 }));
    const parks = (who: string) => Array.from({ length: 150 }, (_, i) => parkCommand({ sessionId: `${who}-s-${i}`, callId: `${who}-c-${i}`, seconds: i }));
    const sent = [...parks('a').map((command) => a.handle(command)), ...parks('b').map((command) => b.handle(command))];
    // Each process also hands some over one at a time, as HTTP requests arrive.
    const settled = await Promise.allSettled(sent);
    const failed = settled.filter((outcome) => outcome.status === 'rejected');
    expect(failed).toEqual([]);
    const orbits = settled.map((outcome) => (outcome as PromiseFulfilledResult<CommandOutcome>).value.events[0] as { orbit: number });
    expect(new Set(orbits.map((event) => event.orbit)).size).toBe(300);
    expect(await streamEvents(first)).toHaveLength(301);
  }, 60_000);
});
