/**
 * The read side on its own thread (adapters/readSide/): the read-side projections follow the
 * SQLite log on the thread's own connections, and the main thread sees their batches, their
 * status and their lag, and reads their tables.
 *
 * The thread runs the compiled module (dist/adapters/readSide/readSideWorker.js): `npm test`
 * builds it; after editing it, run `npx tsc -b` before `npx vitest run`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { ReadSideThread } from '../../adapters/readSide/readSideThread.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import type { RecordedEvent } from '../../domain/eventStore.js';
import { occupancyProjection } from '../../projections/occupancy.js';
import { liveOccupancy, readOccupancy } from '../../projections/occupancyQueries.js';
import { readSideProjections } from '../../projections/readSide.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import { TENANT, at, nextId, parkCommand, retrieveCommand, bob, retriever } from '../support/callParkFixtures.js';
import { removeDir, tempDataDir } from '../support/serviceProcess.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const embedded = async () => {
  const dataDir = await tempDataDir();
  const eventStore = new SqliteEventStore(join(dataDir, 'events.sqlite'));
  const handler = new CommandHandler({ store: eventStore });
  cleanups.push(async () => {
    await eventStore.close();
    await removeDir(dataDir);
  });
  const stores = { dataDir, eventStore: { kind: 'sqlite', synchronous: 'full' }, readStore: { kind: 'sqlite' } } as const;
  return { dataDir, eventStore, handler, stores };
};

describe('the read side on its own thread', () => {
  it('projects what the main thread records, tells it each batch with its events, and stops cleanly', async () => {
    const { dataDir, eventStore, handler, stores } = await embedded();
    const thread = await ReadSideThread.start(stores, readSideProjections);
    cleanups.push(() => thread.stop());
    eventStore.onCommitted(() => thread.wake());
    const occupancy = thread.runners.find((runner) => runner.projection === occupancyProjection)!;
    const seen: RecordedEvent[] = [];
    occupancy.onApplied((batch) => seen.push(...batch.events));

    await handler.handle({ type: 'SetPolicy', commandId: nextId('admin'), at: at(-100), tenantId: TENANT, policy: 'Global', settings: { allowCallPark: true } });
    const parked = await handler.handle(parkCommand());
    await occupancy.waitFor(parked.position!);

    const readStore = await SqliteReadStore.open(join(dataDir, 'read.sqlite'));
    cleanups.push(() => readStore.close());
    const [global] = await readOccupancy(liveOccupancy(readStore), TENANT);
    expect(global?.orbits.filter((orbit) => orbit.status !== 'free').map((orbit) => orbit.callId)).toEqual(['call-1']);
    expect(seen.map((event) => event.type)).toEqual(['PolicySettingsChanged', 'Parked']);
    expect(occupancy.status()).toMatchObject({ state: 'running', checkpoint: parked.position });

    const retrieved = await handler.handle(retrieveCommand('10', retriever(bob)));
    for (const runner of thread.runners) await runner.waitFor(retrieved.position!);
    for (const runner of thread.runners) expect(await runner.lag()).toMatchObject({ events: 0 });
    const [after] = await readOccupancy(liveOccupancy(readStore), TENANT);
    expect(after?.orbits.every((orbit) => orbit.status === 'free')).toBe(true);

    await thread.stop();
    expect(thread.runners.map((runner) => runner.status().state)).toEqual(readSideProjections.map(() => 'stopped'));
    await expect(occupancy.lag()).rejects.toThrow(/not running/);
  });

  it('refuses to start, saying why, when its stores cannot be opened', async () => {
    const { dataDir } = await embedded();
    const stores = { dataDir, eventStore: { kind: 'sqlite', synchronous: 'full' }, readStore: { kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/nothing' } } as const;

    await expect(ReadSideThread.start(stores, readSideProjections)).rejects.toThrow(/The read side could not start: .*(ECONNREFUSED|connect)/);
  });
});
