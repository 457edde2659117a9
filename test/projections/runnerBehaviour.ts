/**
 * What the projection runner does, said once and checked against each read store:
 * runner.sqlite.int.spec.ts and runner.postgres.int.spec.ts run these same tests.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import type { EventStore, RecordedEvent } from '../../domain/eventStore.js';
import { readCheckpoint } from '../../projections/checkpoints.js';
import { ForeignReadStore } from '../../projections/logFollowed.js';
import { projectionReadiness } from '../../projections/readiness.js';
import { tablesOf, type Projection } from '../../projections/projection.js';
import type { ReadStore } from '../../projections/readStore.js';
import { buildShadow, rebuild } from '../../projections/rebuild.js';
import { ProjectionRunner, type AppliedBatch, type RunnerOptions } from '../../projections/runner.js';
import { countingProjection, fold, readCounts } from './countingProjection.js';
import { crashingAfterCommit, withTransactions, type ReadStoreFactory } from './readStores.js';

export interface HistoryEvent {
  readonly stream: number;
  readonly type: number;
}

const streamName = (n: number): string => `orbit-${n}`;
const typeName = (n: number): string => ['Parked', 'Retrieved', 'RingBackStarted', 'Expired'][n % 4]!;

export const append = async (eventStore: EventStore, history: readonly HistoryEvent[]): Promise<void> => {
  for (const { stream, type } of history) {
    await eventStore.appendToStream(streamName(stream), [{ id: randomUUID(), type: typeName(type), data: { stream, type } }]);
  }
};

export const history = (length: number, streams = 7): HistoryEvent[] => Array.from({ length }, (_, i) => ({ stream: (i * 5 + (i >> 3)) % streams, type: i % 3 }));

/** Every event of the log, in order. */
export const readAll = async (eventStore: EventStore): Promise<RecordedEvent[]> => {
  const head = await eventStore.headPosition();
  const events: RecordedEvent[] = [];
  if (head === undefined) return events;
  const subscription = eventStore.subscribeToAll();
  for await (const event of subscription) {
    events.push(event);
    if (event.position.commit >= head.commit) break;
  }
  await subscription.close();
  return events;
};

/** Start a runner and wait until it has applied the log as it is now. */
const runToHead = async (runner: ProjectionRunner): Promise<void> => {
  await runner.start();
  await runner.catchUp();
};

/** Start a runner, wait until it reaches the head or stops, and leave it stopped. */
const runUntilHeadOrFailure = async (runner: ProjectionRunner): Promise<void> => {
  await runner.start();
  await runner.catchUp().catch(() => undefined);
  await runner.stop();
};

const quick: RunnerOptions = { maxBatchSize: 5, retry: { attempts: 0, delayMs: 1 } };

export const describeRunner = (label: string, factory: () => Promise<ReadStoreFactory>, { propertyRuns }: { propertyRuns: number }): void => {
  describe(`the projection runner into ${label}`, () => {
    let stores: ReadStoreFactory;
    let readStore: ReadStore;

    beforeAll(async () => {
      stores = await factory();
      readStore = await stores.open();
    });
    afterAll(async () => {
      await stores?.cleanup();
    });

    /** A fresh projection (its own checkpoint and tables) for each test, in the shared database. */
    let counter = 0;
    const fresh = (options: Parameters<typeof countingProjection>[0] = {}): { projection: Projection; options: RunnerOptions } => {
      counter++;
      const prefix = `t${counter}_`;
      return { projection: countingProjection({ name: `counting_${counter}`, ...options }), options: { tablePrefix: prefix } };
    };
    const tablesFor = (projection: Projection, options: RunnerOptions) => tablesOf(projection, options.tablePrefix);

    for (const mode of ['batch', 'event'] as const) {
      it(`applies every event once, in order (${mode} by ${mode})`, async () => {
        const eventStore = new InMemoryEventStore();
        await append(eventStore, history(137));
        const { projection, options } = fresh({ mode });
        const runner = new ProjectionRunner({ eventStore, readStore }, projection, { ...options, maxBatchSize: 10 });
        const batches: AppliedBatch[] = [];
        runner.onApplied((batch) => batches.push(batch));
        await runToHead(runner);
        await runner.stop();

        const events = await readAll(eventStore);
        expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(events));
        expect(batches.flatMap((batch) => batch.events.map((event) => event.id))).toEqual(events.map((event) => event.id));
        expect(batches.every((batch) => batch.events.length <= 10)).toBe(true);
        expect(runner.status()).toMatchObject({ state: 'stopped', appliedEvents: 137, checkpoint: events.at(-1)!.position });
        expect(await runner.lag()).toMatchObject({ events: 0, ms: 0 });
        expect((await readCheckpoint(readStore, runner.build))?.position).toEqual(events.at(-1)!.position);
      });
    }

    it('follows live events and tells its listeners after each commit', async () => {
      const eventStore = new InMemoryEventStore();
      const { projection, options } = fresh();
      const runner = new ProjectionRunner({ eventStore, readStore }, projection, options);
      await runner.start();
      const told = new Promise<AppliedBatch>((resolve) => runner.onApplied(resolve));
      await append(eventStore, [{ stream: 1, type: 0 }]);
      const batch = await told;
      expect(batch.events.map((event) => event.streamName)).toEqual(['orbit-1']);
      // Told after the commit: what the listener is told is already readable.
      expect((await readCounts(readStore, tablesFor(projection, options))).streams).toEqual([{ stream: 'orbit-1', events: 1, last_revision: 0, last_type: 'Parked' }]);
      await append(eventStore, history(20));
      await runner.catchUp();
      expect(await runner.lag()).toMatchObject({ events: 0 });
      await runner.stop();
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(await readAll(eventStore)));
    });

    it('reports its lag behind the head', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(30));
      const { projection, options } = fresh();
      const runner = new ProjectionRunner({ eventStore, readStore }, projection, { ...options, maxBatchSize: 10 });
      expect(await runner.lag()).toMatchObject({ events: 30, checkpoint: undefined });
      let lagAfterFirst: number | undefined;
      const first = new Promise<void>((resolve) =>
        runner.onApplied(() => {
          if (lagAfterFirst === undefined) void runner.lag().then((lag) => ((lagAfterFirst = lag.events), resolve()));
        }),
      );
      await runToHead(runner);
      await first;
      await runner.stop();
      expect(lagAfterFirst).toBeLessThan(30);
      expect(await runner.lag()).toMatchObject({ events: 0, ms: 0 });
    });

    it('counts its lag in ms from the oldest event it has read and not yet committed', async () => {
      let storeTime = 1_000;
      const eventStore = new InMemoryEventStore(() => storeTime);
      await append(eventStore, history(3));
      storeTime = 2_000;
      await append(eventStore, history(3));
      const { projection, options } = fresh();
      let open = (): void => undefined;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let reached = (): void => undefined;
      const atGate = new Promise<void>((resolve) => (reached = resolve));
      const held = withTransactions(readStore, async (fn) => {
        reached();
        await gate;
        return readStore.transaction(fn);
      });
      const runner = new ProjectionRunner({ eventStore, readStore: held }, projection, { ...options, maxBatchSize: 4, clock: () => 5_000 });
      await runner.start();
      await atGate;
      // The first batch (recorded at 1,000 and 2,000) is read, not committed: behind since 1,000.
      expect(await runner.lag()).toMatchObject({ events: 6, ms: 4_000 });
      open();
      await runner.catchUp();
      await runner.stop();
      expect(await runner.lag()).toMatchObject({ events: 0, ms: 0 });
    });

    it('skips, but moves past, the events its filter leaves out', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(40));
      const { projection: unfiltered, options } = fresh();
      const projection = { ...unfiltered, filter: { streamNamePrefixes: ['orbit-2', 'orbit-3'] } } as Projection;
      const runner = new ProjectionRunner({ eventStore, readStore }, projection, options);
      await runToHead(runner);
      await runner.stop();
      const events = (await readAll(eventStore)).filter((event) => ['orbit-2', 'orbit-3'].includes(event.streamName));
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(events));
      expect(runner.status().checkpoint).toEqual(await eventStore.headPosition());
    });

    it('restarted in the middle, resumes where it stopped with the same result', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(100));
      const { projection, options } = fresh();
      const first = new ProjectionRunner({ eventStore, readStore }, projection, { ...options, maxBatchSize: 7 });
      const stopped = new Promise<void>((resolve) =>
        first.onApplied((batch) => {
          if (batch.checkpoint.commit >= 40n) void first.stop().then(resolve);
        }),
      );
      await first.start();
      await stopped;
      const checkpoint = first.status().checkpoint!;
      expect(checkpoint.commit).toBeLessThan(99n);
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold((await readAll(eventStore)).slice(0, Number(checkpoint.commit) + 1)));

      await append(eventStore, history(25, 11));
      const second = new ProjectionRunner({ eventStore, readStore }, projection, options);
      const seen: string[] = [];
      second.onApplied((batch) => seen.push(...batch.events.map((event) => event.id)));
      await runToHead(second);
      await second.stop();
      const events = await readAll(eventStore);
      expect(seen).toEqual(events.slice(Number(checkpoint.commit) + 1).map((event) => event.id));
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(events));
    });

    for (const where of ['before', 'after'] as const) {
      it(`loses and doubles nothing when a batch fails inside its transaction, ${where} the projection's writes`, async () => {
        const eventStore = new InMemoryEventStore();
        await append(eventStore, history(60));
        let batches = 0;
        const fail = (): void => {
          if (++batches === 3) throw new Error(`failed ${where} the writes`);
        };
        const { projection, options } = fresh({ faults: where === 'before' ? { beforeWrite: fail } : { afterWrite: fail } });
        const crashed = new ProjectionRunner({ eventStore, readStore }, projection, { ...options, ...quick });
        await runUntilHeadOrFailure(crashed);
        expect(crashed.status()).toMatchObject({ state: 'failed', lastError: `failed ${where} the writes`, committedBatches: 2 });
        // The failed batch left nothing: the tables are exactly the first two batches.
        const events = await readAll(eventStore);
        expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(events.slice(0, 10)));

        const restarted = new ProjectionRunner({ eventStore, readStore }, projection, { ...options, ...quick });
        await runToHead(restarted);
        await restarted.stop();
        expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(events));
      });
    }

    it('loses and doubles nothing when it dies right after a commit', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(60));
      let transactions = 0;
      const { projection, options } = fresh({ mode: 'event' });
      const crashing = crashingAfterCommit(readStore, () => ++transactions === 4);
      const crashed = new ProjectionRunner({ eventStore, readStore: crashing }, projection, { ...options, ...quick });
      await runUntilHeadOrFailure(crashed);
      expect(crashed.status()).toMatchObject({ state: 'failed', lastError: 'crashed after the commit' });
      const events = await readAll(eventStore);
      // The batch was committed, even though the runner never heard so.
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(events.slice(0, 20)));

      const restarted = new ProjectionRunner({ eventStore, readStore }, projection, { ...options, ...quick });
      await runToHead(restarted);
      await restarted.stop();
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(events));
    });

    it('recovers by itself from a failure it may retry, reloading its checkpoint', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(50));
      let transactions = 0;
      const { projection, options } = fresh({ mode: 'event' });
      const crashing = crashingAfterCommit(readStore, () => ++transactions % 3 === 0);
      const runner = new ProjectionRunner({ eventStore, readStore: crashing }, projection, { ...options, maxBatchSize: 4, retry: { attempts: 3, delayMs: 1 } });
      await runToHead(runner);
      await runner.stop();
      expect(runner.status().retries).toBeGreaterThan(0);
      expect(runner.status().state).toBe('stopped');
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(await readAll(eventStore)));
    });

    it('applies each event exactly once when two runners of the same projection run at once', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(80));
      // Each runner talks to the database through its own connection, as two processes would.
      const otherReadStore = await stores.open();
      const { projection, options } = fresh({ mode: 'event' });
      const runners = [readStore, otherReadStore].map(
        (store) => new ProjectionRunner({ eventStore, readStore: store }, projection, { ...options, maxBatchSize: 3, retry: { attempts: 0, delayMs: 1 } }),
      );
      await Promise.all(runners.map((runner) => runner.start()));
      await append(eventStore, history(70, 13));
      await Promise.all(runners.map((runner) => runner.catchUp()));
      await Promise.all(runners.map((runner) => runner.stop()));

      // The `apply` form fails on an event applied twice; neither runner failed.
      expect(runners.map((runner) => runner.status().state)).toEqual(['stopped', 'stopped']);
      const applied = runners.reduce((sum, runner) => sum + runner.status().appliedEvents, 0);
      expect(applied).toBe(150);
      // They did meet: batches were refused by the compare-and-set.
      expect(runners.reduce((sum, runner) => sum + runner.status().conflicts, 0)).toBeGreaterThan(0);
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(await readAll(eventStore)));
    });

    it('with onConflict "stop", stops when another runner moved the checkpoint first', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(10));
      const { projection, options } = fresh();
      let open = (): void => undefined;
      const gate = new Promise<void>((resolve) => (open = resolve));
      // This runner loads the checkpoint, reads its first batch, and is held at its transaction…
      const held = withTransactions(readStore, async (fn) => {
        await gate;
        return readStore.transaction(fn);
      });
      const late = new ProjectionRunner({ eventStore, readStore: held }, projection, { ...options, onConflict: 'stop' });
      await late.start();
      // …while another one applies everything.
      const early = new ProjectionRunner({ eventStore, readStore }, projection, options);
      await runToHead(early);
      await early.stop();
      open();
      await expect(late.catchUp()).rejects.toThrow(/stopped: Another runner moved the checkpoint/);
      expect(late.status()).toMatchObject({ state: 'stopped', conflicts: 1, appliedEvents: 0 });
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(await readAll(eventStore)));
    });

    it('refuses to start on tables of another version', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(5));
      const { projection, options } = fresh();
      const v1 = new ProjectionRunner({ eventStore, readStore }, projection, options);
      await runToHead(v1);
      await v1.stop();
      const v2 = new ProjectionRunner({ eventStore, readStore }, { ...projection, version: 2 } as Projection, options);
      await expect(v2.start()).rejects.toThrow(/version 1.*version 2: rebuild them/);
    });

    it('rebuilds into shadow tables identical to the live ones, then swaps them in while the live runner keeps going', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(120));
      // The live tables have no prefix: a database of their own.
      const readStore = await (await stores.fresh()).open();
      const projection = countingProjection({ name: `rebuilt_${++counter}` });
      const live = tablesOf(projection);
      const runner = new ProjectionRunner({ eventStore, readStore }, projection, { maxBatchSize: 16 });
      await runToHead(runner);

      const shadow = await buildShadow({ eventStore, readStore }, projection, { prefix: `rb${counter}_`, runner: { maxBatchSize: 50 } });
      expect(shadow.checkpoint).toEqual(await eventStore.headPosition());
      expect(await readCounts(readStore, shadow.tables)).toEqual(await readCounts(readStore, live));

      await shadow.swap();
      expect(await readCounts(readStore, live)).toEqual(fold(await readAll(eventStore)));
      await expect(readStore.query(`SELECT COUNT(*) AS n FROM ${shadow.tables('stream_counts')}`)).rejects.toThrow();
      expect(await readCheckpoint(readStore, `${projection.name}@${shadow.prefix}`)).toBeUndefined();

      // The live runner carries on into the swapped-in tables.
      await append(eventStore, history(30, 9));
      await runner.catchUp();
      await runner.stop();
      expect(await readCounts(readStore, live)).toEqual(fold(await readAll(eventStore)));

      // A second rebuild of the same tables: the index names of the first one are no obstacle.
      await rebuild({ eventStore, readStore }, projection, { prefix: `rb${counter}b_` });
      expect(await readCounts(readStore, live)).toEqual(fold(await readAll(eventStore)));
    });

    it('a rebuild at a new version supersedes the live runner of the old one', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(40));
      const readStore = await (await stores.fresh()).open();
      const v1 = countingProjection({ name: `versioned_${++counter}`, version: 1 });
      const v2 = countingProjection({ name: v1.name, version: 2 });
      const old = new ProjectionRunner({ eventStore, readStore }, v1, { maxBatchSize: 8 });
      await runToHead(old);
      await rebuild({ eventStore, readStore }, v2, { prefix: `rb${counter}_` });
      await append(eventStore, history(5));
      await expect(old.catchUp()).rejects.toThrow(/superseded/);
      expect(old.status().state).toBe('superseded');
      const current = new ProjectionRunner({ eventStore, readStore }, v2);
      await runToHead(current);
      await current.stop();
      expect(await readCounts(readStore, tablesOf(v2))).toEqual(fold(await readAll(eventStore)));
    });

    it('refuses to start on tables built from another log, saying what to do; a rebuild from this log makes them its own', async () => {
      const readStore = await (await stores.fresh()).open();
      const projection = countingProjection({ name: `followed_${++counter}` });
      const first = new InMemoryEventStore();
      await append(first, history(20));
      const old = new ProjectionRunner({ eventStore: first, readStore }, projection);
      await runToHead(old);
      await old.stop();

      // A new log, shorter or longer, with the same read store: its checkpoint is not this log's.
      let followed = first;
      for (const length of [3, 40]) {
        const other = new InMemoryEventStore();
        await append(other, history(length, 5));
        const refused = new ProjectionRunner({ eventStore: other, readStore }, projection);
        const failure = refused.start();
        await expect(failure).rejects.toThrow(ForeignReadStore);
        await expect(failure).rejects.toThrow(`npx callpark projections rebuild ${projection.name}`);
        await expect(failure).rejects.toThrow(/follow another event log/);
        expect(refused.status().state).toBe('idle');
        expect(await readCounts(readStore, tablesOf(projection))).toEqual(fold(await readAll(followed)));

        await rebuild({ eventStore: other, readStore }, projection, { prefix: `rb${counter}l${length}_` });
        const rebuilt = new ProjectionRunner({ eventStore: other, readStore }, projection);
        await runToHead(rebuilt);
        await append(other, history(4, 3));
        await rebuilt.catchUp();
        await rebuilt.stop();
        expect(await readCounts(readStore, tablesOf(projection))).toEqual(fold(await readAll(other)));
        expect((await readCheckpoint(readStore, projection.name))?.logId).toBe(await other.logIdentity());
        // And the log it followed before is now the other one.
        await expect(new ProjectionRunner({ eventStore: followed, readStore }, projection).start()).rejects.toThrow(ForeignReadStore);
        followed = other;
      }
    });

    it('refuses to start on a checkpoint past the end of the log (an older backup of the same event store)', async () => {
      const folder = await mkdtemp(join(tmpdir(), 'callpark-log-'));
      const file = join(folder, 'events.sqlite');
      try {
        const readStore = await (await stores.fresh()).open();
        const projection = countingProjection({ name: `behind_${++counter}` });
        let eventStore = new SqliteEventStore(file);
        await append(eventStore, history(5));
        await eventStore.close();
        await copyFile(file, join(folder, 'backup.sqlite'));
        eventStore = new SqliteEventStore(file);
        await append(eventStore, history(15, 4));
        const runner = new ProjectionRunner({ eventStore, readStore }, projection);
        await runToHead(runner);
        await runner.stop();
        await eventStore.close();

        // The backup is restored: the same log, five events long; the read store is at the twentieth.
        await copyFile(join(folder, 'backup.sqlite'), file);
        eventStore = new SqliteEventStore(file);
        try {
          const failure = new ProjectionRunner({ eventStore, readStore }, projection).start();
          await expect(failure).rejects.toThrow(ForeignReadStore);
          await expect(failure).rejects.toThrow(/position 20, past the end of the event log \(which ends at position 5\)/);
          await expect(failure).rejects.toThrow(`npx callpark projections rebuild ${projection.name}`);
        } finally {
          await eventStore.close();
        }
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });

    it('is not ready while its checkpoint is past the end of its log (moved there by a runner on a longer copy of the log)', async () => {
      const folder = await mkdtemp(join(tmpdir(), 'callpark-log-'));
      const logs: SqliteEventStore[] = [];
      try {
        const readStore = await (await stores.fresh()).open();
        const projection = countingProjection({ name: `copied_${++counter}` });
        const before = new SqliteEventStore(join(folder, 'events.sqlite'));
        await append(before, history(5));
        await before.close();
        await copyFile(join(folder, 'events.sqlite'), join(folder, 'copy.sqlite'));
        const original = new SqliteEventStore(join(folder, 'events.sqlite'));
        logs.push(original);
        const copy = new SqliteEventStore(join(folder, 'copy.sqlite'));
        logs.push(copy);
        await append(copy, history(10, 3));

        const onOriginal = new ProjectionRunner({ eventStore: original, readStore }, projection);
        await runToHead(onOriginal);
        expect((await projectionReadiness([onOriginal], 100)).ready).toBe(true);
        const onCopy = new ProjectionRunner({ eventStore: copy, readStore }, projection);
        await runToHead(onCopy);
        await onCopy.stop();

        // The next event of the original finds the checkpoint moved on, at 15: past its end, at 6.
        await append(original, history(1));
        await onOriginal.waitFor((await original.headPosition())!);
        const readiness = await projectionReadiness([onOriginal], 100);
        await onOriginal.stop();
        expect(readiness.ready).toBe(false);
        expect(readiness.checks[`projection:${projection.name}`]?.detail).toMatch(/position 15\) is past the end of the event log \(position 6\)/);
      } finally {
        await Promise.all(logs.map((store) => store.close()));
        await rm(folder, { recursive: true, force: true });
      }
    });

    it('takes a checkpoint that does not name its log (written before checkpoints did) as this log’s, when it is not past the end', async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(12));
      const { projection, options } = fresh();
      const first = new ProjectionRunner({ eventStore, readStore }, projection, options);
      await runToHead(first);
      await first.stop();
      await readStore.execute('UPDATE projection_checkpoints SET log_id = NULL WHERE name = $1', [first.build]);
      expect((await readCheckpoint(readStore, first.build))?.logId).toBeUndefined();

      const second = new ProjectionRunner({ eventStore, readStore }, projection, options);
      await append(eventStore, history(3));
      await runToHead(second);
      await second.stop();
      expect((await readCheckpoint(readStore, first.build))?.logId).toBe(await eventStore.logIdentity());
      expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(await readAll(eventStore)));
    });

    it('whatever the history and wherever it crashes, ends with the tables of a plain fold', async () => {
      const phases = ['beforeWrite', 'afterWrite', 'afterCommit'] as const;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ stream: fc.nat(6), type: fc.nat(3) }), { maxLength: 60 }),
          fc.array(fc.record({ batch: fc.nat(15), phase: fc.constantFrom(...phases) }), { maxLength: 4 }),
          fc.integer({ min: 1, max: 12 }),
          fc.constantFrom('batch' as const, 'event' as const),
          fc.nat(60),
          async (events, crashes, maxBatchSize, mode, liveFrom) => {
            const eventStore = new InMemoryEventStore();
            await append(eventStore, events.slice(0, liveFrom));
            let handled = 0;
            let committed = 0;
            const pending = new Set(crashes.map((crash) => `${crash.phase}:${crash.batch}`));
            const fault = (phase: string, count: number): void => {
              if (pending.delete(`${phase}:${count}`)) throw new Error(`crash ${phase} ${count}`);
            };
            const { projection, options } = fresh({
              mode,
              faults: { beforeWrite: () => fault('beforeWrite', handled), afterWrite: () => fault('afterWrite', handled++) },
            });
            const crashing = crashingAfterCommit(readStore, () => pending.delete(`afterCommit:${committed++}`));
            let restarts = 0;
            for (;;) {
              const runner = new ProjectionRunner({ eventStore, readStore: crashing }, projection, { ...options, maxBatchSize, retry: { attempts: 0, delayMs: 1 } });
              await runner.start();
              if (restarts === 0) await append(eventStore, events.slice(liveFrom));
              await runner.catchUp().catch(() => undefined);
              await runner.stop();
              if (runner.status().state !== 'failed') break;
              restarts++;
              expect(restarts).toBeLessThanOrEqual(crashes.length);
            }
            expect(await readCounts(readStore, tablesFor(projection, options))).toEqual(fold(await readAll(eventStore)));
          },
        ),
        { numRuns: propertyRuns },
      );
    });
  });
};
