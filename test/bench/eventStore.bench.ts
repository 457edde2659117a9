/**
 * The SQLite event store against raw better-sqlite3 on the same schema and pragmas:
 * - single-event appends from one appender, against a raw insert loop (one transaction a row);
 * - single-event appends from 32 concurrent appenders (group commit), in appends a second;
 * - a catch-up subscription over 1,000,000 stored events, against a raw read of the same rows.
 * Appends are measured at `synchronous = FULL` (the store's default) and at NORMAL.
 *
 * The machines are shared and their disks' sync latency drifts within a run, so the samples of
 * the cases of a suite are taken in turns (round-robin, the order rotating every round) rather
 * than one case after the other: drift then lands on every case alike.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openConnection, type Synchronous } from '../../adapters/eventStores/sqlite/connection.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import type { ExpectedRevision } from '../../domain/eventStore.js';
import { throughput, type BenchSuite } from './harness.js';

const busyTimeoutMs = 5_000;
const data = { orbit: 42, caller: 'sip:alice@example.test', parkedBy: 'bob' };

const temporaryDirectory = async (): Promise<{ readonly file: (name: string) => string; readonly remove: () => Promise<void> }> => {
  const directory = await mkdtemp(join(tmpdir(), 'callpark-bench-'));
  return { file: (name) => join(directory, name), remove: () => rm(directory, { recursive: true, force: true }) };
};

interface Measured {
  /** Run `count` operations. */
  readonly operation: (count: number) => void | Promise<void>;
  readonly batch: number;
}

/** One throughput figure per sample for each case, the samples taken in turns. */
const inTurns = async (cases: readonly Measured[], { samples, warmup = 1 }: { samples: number; warmup?: number }): Promise<number[][]> => {
  const figures = cases.map((): number[] => []);
  for (let round = 0; round < warmup + samples; round++) {
    for (let turn = 0; turn < cases.length; turn++) {
      const index = (round + turn) % cases.length;
      const { operation, batch } = cases[index]!;
      const [figure] = await throughput(operation, { batch, samples: 1, warmup: 0 });
      if (round >= warmup) figures[index]!.push(figure!);
    }
  }
  return figures;
};

/** The baseline: the same rows inserted by a plain loop, each in its own (autocommit) transaction. */
const rawInsertLoop = (db: Database.Database): Measured['operation'] => {
  const insert = db.prepare<[string, number, string, string, string, string, number]>(
    'INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  let revision = 0;
  return (count) => {
    for (let i = 0; i < count; i++) insert.run('orbit-raw', revision++, randomUUID(), 'CallParked', JSON.stringify(data), JSON.stringify({}), Date.now());
  };
};

/** `appenders` concurrent loops of awaited single-event appends, each on a stream of its own, with exact expected revisions. */
const concurrentAppends = (store: SqliteEventStore, appenders: number): Measured['operation'] => {
  let round = 0;
  return async (count) => {
    round++;
    await Promise.all(
      Array.from({ length: appenders }, async (_, k) => {
        let expectedRevision: ExpectedRevision = 'no_stream';
        for (let i = k; i < count; i += appenders) {
          const answer = await store.appendToStream(`orbit-${appenders}-${round}-${k}`, [{ id: randomUUID(), type: 'CallParked', data }], { expectedRevision });
          expectedRevision = answer.nextExpectedRevision;
        }
      }),
    );
  };
};

const appendSuite = (synchronous: Synchronous, singleBatch: number): BenchSuite => ({
  name: `sqlite appends (synchronous=${synchronous})`,
  async run() {
    const directory = await temporaryDirectory();
    const raw = openConnection(directory.file('raw.db'), { synchronous, busyTimeoutMs });
    const store = new SqliteEventStore(directory.file('events.db'), { synchronous });
    try {
      const [baseline, single, concurrent] = await inTurns(
        [
          { operation: rawInsertLoop(raw), batch: singleBatch },
          { operation: concurrentAppends(store, 1), batch: singleBatch },
          { operation: concurrentAppends(store, 32), batch: 32 * 150 },
        ],
        { samples: 7 },
      );
      return {
        suite: `sqlite appends (synchronous=${synchronous})`,
        cases: [
          { name: 'raw better-sqlite3 insert loop, a transaction a row', unit: 'appends/s', baseline: true, samples: baseline! },
          { name: '1 appender, single-event appends', unit: 'appends/s', samples: single!, target: { of: 'ratio', atLeast: 0.7 } },
          { name: '32 concurrent appenders, single-event appends', unit: 'appends/s', samples: concurrent!, target: { of: 'median', atLeast: 10_000 } },
        ],
        notes: [`WAL, synchronous=${synchronous}; an append is acknowledged once its transaction has committed; samples taken in turns.`],
      };
    } finally {
      raw.close();
      await store.close();
      await directory.remove();
    }
  },
});

const storedEvents = 1_000_000n;
const streams = 1_000n;

/**
 * Fill the log with `storedEvents` events over `streams` streams (round-robin), generated by
 * SQLite itself. The ids are UUID-shaped and ascending, which keeps the fill fast; reading the
 * log in position order does not depend on them.
 */
const fillLog = (path: string): void => {
  const db = openConnection(path, { synchronous: 'normal', busyTimeoutMs });
  db.pragma('cache_size = -262144');
  db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1)
     INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at)
     SELECT 'orbit-' || (i % :streams), i / :streams, printf('00000000-0000-4000-8000-%012x', i), iif(i % 2 = 0, 'CallParked', 'CallRetrieved'),
            json_object('orbit', 42, 'caller', 'sip:alice@example.test', 'parkedBy', 'bob', 'n', i), '{}', :recordedAt
     FROM n`,
  ).run({ count: storedEvents, streams, recordedAt: BigInt(Date.now()) });
  db.close();
};

const catchUpSuite: BenchSuite = {
  name: 'sqlite catch-up subscription',
  async run() {
    const directory = await temporaryDirectory();
    const path = directory.file('events.db');
    const filling = process.hrtime.bigint();
    fillLog(path);
    const fillSeconds = Number(process.hrtime.bigint() - filling) / 1e9;
    const raw = openConnection(path, { synchronous: 'full', busyTimeoutMs });
    const store = new SqliteEventStore(path);
    try {
      const everything = raw.prepare('SELECT position, stream_name, revision, event_id, type, data, metadata, recorded_at FROM events ORDER BY position').raw().safeIntegers();
      const rawRead = (): void => {
        for (const row of everything.iterate() as IterableIterator<unknown[]>) {
          JSON.parse(row[5] as string);
          JSON.parse(row[6] as string);
        }
      };
      const catchUp = (streamNamePrefixes: string[] | undefined, expected: number) => async (): Promise<void> => {
        const subscription = store.subscribeToAll({ filter: streamNamePrefixes === undefined ? undefined : { streamNamePrefixes } });
        let seen = 0;
        for await (const _ of subscription) if (++seen === expected) break;
        await subscription.close();
      };
      const batch = Number(storedEvents);
      const [baseline, subscribed, filtered] = await inTurns(
        [
          { operation: rawRead, batch },
          { operation: catchUp(undefined, batch), batch },
          // `orbit-999` is one stream in 1,000 and holds the last event of the log: the whole log is scanned.
          { operation: catchUp([`orbit-${streams - 1n}`], Number(storedEvents / streams)), batch },
        ],
        { samples: 3, warmup: 0 },
      );
      return {
        suite: 'sqlite catch-up subscription over 1,000,000 events',
        cases: [
          { name: 'raw better-sqlite3 read + JSON.parse of every row', unit: 'events/s', baseline: true, samples: baseline! },
          { name: 'subscribeToAll from the start, for await', unit: 'events/s', samples: subscribed!, target: { of: 'median', atLeast: 100_000 } },
          { name: 'subscribeToAll, filter matching 1 stream in 1,000', unit: 'events scanned/s', samples: filtered! },
        ],
        notes: [`1,000,000 events over ${streams} streams, generated by SQLite in ${fillSeconds.toFixed(1)} s; samples taken in turns.`],
      };
    } finally {
      raw.close();
      await store.close();
      await directory.remove();
    }
  },
};

export default [appendSuite('full', 300), appendSuite('normal', 5_000), catchUpSuite];
