/**
 * The projection runner's throughput into each read store, next to raw batched inserts of the
 * same rows into the same kind of table, in the same database, in the same run. The runner's
 * work on top of the inserts (reading the log through a subscription, collecting batches, the
 * checkpoint's compare-and-set in every transaction) should cost at most half the speed.
 *
 * The projection writes one row per event (a call history), so the baseline can insert exactly
 * the rows the runner writes: 500 rows a statement, one statement a transaction, in both.
 *
 * The runner reads its log from the SQLite event store, as the service's read side does: a data
 * file written by the service's SqliteEventStore before the measures, opened again to be read.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import type { EventStore, RecordedEvent } from '../../domain/eventStore.js';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import type { Projection, Tables } from '../../projections/projection.js';
import { values, type ReadStore, type SqlValue } from '../../projections/readStore.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import { postgresTestUrl, requireService } from '../support/services.js';
import type { BenchSuite, CaseResult, SuiteResult } from './harness.js';

const EVENTS = 100_000;
const STREAMS = 2_000;
const BATCH = 500;
const WARMUP = 1;
const TYPES = ['Parked', 'RingBackStarted', 'Retrieved', 'Expired'];

const createTable = (table: string): string =>
  `CREATE TABLE ${table} (position BIGINT PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL, type TEXT NOT NULL, recorded_at BIGINT NOT NULL)`;

const insertRows = (table: string, rows: number): string => `INSERT INTO ${table} (position, stream, revision, type, recorded_at) VALUES ${values(rows, 5)}`;

const rowOf = (event: RecordedEvent): SqlValue[] => [event.position.commit, event.streamName, event.revision, event.type, event.recordedAt];

/** The parameters of a multi-row INSERT, in a plain loop: Array.prototype.flat and flatMap cost microseconds a row in V8. */
const parametersOf = <T>(items: readonly T[], row: (item: T, out: SqlValue[]) => void): SqlValue[] => {
  const out: SqlValue[] = [];
  for (const item of items) row(item, out);
  return out;
};
const pushEvent = (event: RecordedEvent, out: SqlValue[]): void => void out.push(event.position.commit, event.streamName, event.revision, event.type, event.recordedAt);
const pushRow = (row: SqlValue[], out: SqlValue[]): void => void out.push(...row);

const historyProjection = (name: string, mode: 'batch' | 'event' = 'batch'): Projection => {
  const base = {
    name,
    version: 1,
    tables: ['call_history'],
    migrations: (t: Tables) => [{ id: 1, name: 'create call_history', sql: [createTable(t('call_history'))] }],
  };
  if (mode === 'event') {
    return { ...base, apply: async (event, tx, t) => void (await tx.execute(insertRows(t('call_history'), 1), rowOf(event))) };
  }
  return { ...base, handle: async (events, tx, t) => void (await tx.execute(insertRows(t('call_history'), events.length), parametersOf(events, pushEvent))) };
};

/**
 * The log the runner reads, written into `folder` by the SQLite event store and opened again, and
 * the same rows for the baseline. Each round appends one event to every stream, all at once (the
 * store commits them in a few group commits).
 */
const prepareLog = async (folder: string): Promise<{ eventStore: SqliteEventStore; rows: SqlValue[][] }> => {
  const file = join(folder, 'events.db');
  const writer = new SqliteEventStore(file, { synchronous: 'normal' });
  for (let round = 0; round * STREAMS < EVENTS; round++) {
    const type = TYPES[round % TYPES.length]!;
    await Promise.all(
      Array.from({ length: Math.min(STREAMS, EVENTS - round * STREAMS) }, (_, stream) =>
        writer.appendToStream(`orbit-${stream}`, [{ id: randomUUID(), type, data: { n: round * STREAMS + stream } }]),
      ),
    );
  }
  await writer.close();
  const eventStore = new SqliteEventStore(file, { synchronous: 'full' });
  const rows: SqlValue[][] = [];
  const subscription = eventStore.subscribeToAll();
  for await (const event of subscription) {
    rows.push(rowOf(event));
    if (rows.length === EVENTS) break;
  }
  await subscription.close();
  return { eventStore, rows };
};

const eventsPerSecond = async (work: () => Promise<void>): Promise<number> => {
  const started = process.hrtime.bigint();
  await work();
  return EVENTS / (Number(process.hrtime.bigint() - started) / 1e9);
};

const runnerCase = (eventStore: EventStore, readStore: ReadStore, mode: 'batch' | 'event') => {
  let run = 0;
  return async (): Promise<number> => {
    run++;
    const prefix = `${mode === 'batch' ? 'r' : 'a'}${run}_`;
    const runner = new ProjectionRunner({ eventStore, readStore }, historyProjection(`history_${mode}`), { tablePrefix: prefix, maxBatchSize: BATCH });
    const figure = await eventsPerSecond(async () => {
      await runner.start();
      await runner.catchUp();
      await runner.stop();
    });
    await readStore.execute(`DROP TABLE ${prefix}call_history`);
    return figure;
  };
};

/** Samples of each case, taken in turns so that a slow spell of the machine falls on all of them. */
const measure = async (samples: number, cases: readonly { name: string; sample: () => Promise<number> }[]): Promise<Map<string, number[]>> => {
  const figures = new Map(cases.map((item) => [item.name, [] as number[]]));
  for (let i = 0; i < WARMUP + samples; i++) {
    for (const item of cases) {
      const figure = await item.sample();
      if (i >= WARMUP) figures.get(item.name)!.push(figure);
    }
  }
  return figures;
};

const notes = (dialect: string, samples: number): string[] => [
  `${EVENTS.toLocaleString('en-US')} events over ${STREAMS.toLocaleString('en-US')} streams, read from the SQLite event store's file; one row per event; ${BATCH} rows a transaction in every case.`,
  `baseline: the same rows, precomputed, inserted through the ${dialect} driver directly, ${BATCH} to a multi-row INSERT, one INSERT a transaction.`,
  `each sample builds a fresh table (its creation is timed); ${samples} samples after ${WARMUP} warm-up, cases taken in turns.`,
];

const sqliteSuite: BenchSuite = {
  name: 'projection runner → SQLite',
  async run(): Promise<SuiteResult> {
    const folder = await mkdtemp(join(tmpdir(), 'callpark-bench-projections-'));
    const { eventStore, rows } = await prepareLog(folder);
    const readStore = await SqliteReadStore.open(join(folder, 'read.db'));
    const raw = new Database(join(folder, 'read.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    try {
      let run = 0;
      const baseline = async (): Promise<number> => {
        const table = `b${++run}_call_history`;
        const figure = await eventsPerSecond(async () => {
          raw.exec(createTable(table));
          const full = raw.prepare(insertRows(table, BATCH).replace(/\$\d+/g, '?'));
          const insert = raw.transaction((batch: SqlValue[][]) => {
            const statement = batch.length === BATCH ? full : raw.prepare(insertRows(table, batch.length).replace(/\$\d+/g, '?'));
            statement.run(parametersOf(batch, pushRow));
          });
          for (let i = 0; i < rows.length; i += BATCH) insert.immediate(rows.slice(i, i + BATCH));
        });
        raw.exec(`DROP TABLE ${table}`);
        return figure;
      };
      const figures = await measure(5, [
        { name: 'raw batched INSERT', sample: baseline },
        { name: 'runner, handle(batch)', sample: runnerCase(eventStore, readStore, 'batch') },
        { name: 'runner, apply(event)', sample: runnerCase(eventStore, readStore, 'event') },
      ]);
      const cases: CaseResult[] = [
        { name: 'raw batched INSERT', unit: 'events/s', samples: figures.get('raw batched INSERT')!, baseline: true },
        { name: 'runner, handle(batch)', unit: 'events/s', samples: figures.get('runner, handle(batch)')!, target: { of: 'ratio', atLeast: 0.5 } },
        { name: 'runner, apply(event)', unit: 'events/s', samples: figures.get('runner, apply(event)')! },
      ];
      return {
        suite: this.name,
        cases,
        notes: [...notes('better-sqlite3', 5), 'apply(event): one single-row INSERT per event, for comparison; no target.'],
      };
    } finally {
      raw.close();
      await readStore.close();
      await eventStore.close();
      await rm(folder, { recursive: true, force: true });
    }
  },
};

const postgresSuite: BenchSuite = {
  name: 'projection runner → PostgreSQL',
  async run(): Promise<SuiteResult> {
    const probe = async (): Promise<boolean> => {
      const client = new pg.Client({ connectionString: postgresTestUrl(), connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    if (!(await requireService('PostgreSQL', probe, 'pg_ctlcluster 15 main start (or set DATABASE_URL_TEST)'))) {
      return { suite: this.name, cases: [], notes: ['skipped: PostgreSQL is not available.'] };
    }
    const schema = `bench_projections_${randomBytes(4).toString('hex')}`;
    const folder = await mkdtemp(join(tmpdir(), 'callpark-bench-projections-'));
    const { eventStore, rows } = await prepareLog(folder);
    const readStore = await PostgresReadStore.open({ connectionString: postgresTestUrl(), schema, max: 2 });
    const raw = new pg.Client({ connectionString: postgresTestUrl(), options: `-c search_path=${schema}` });
    await raw.connect();
    try {
      let run = 0;
      const baseline = async (): Promise<number> => {
        const table = `b${++run}_call_history`;
        const figure = await eventsPerSecond(async () => {
          await raw.query(createTable(table));
          for (let i = 0; i < rows.length; i += BATCH) {
            const batch = rows.slice(i, i + BATCH);
            await raw.query('BEGIN');
            await raw.query(insertRows(table, batch.length), parametersOf(batch, pushRow));
            await raw.query('COMMIT');
          }
        });
        await raw.query(`DROP TABLE ${table}`);
        return figure;
      };
      const figures = await measure(3, [
        { name: 'raw batched INSERT', sample: baseline },
        { name: 'runner, handle(batch)', sample: runnerCase(eventStore, readStore, 'batch') },
      ]);
      return {
        suite: this.name,
        cases: [
          { name: 'raw batched INSERT', unit: 'events/s', samples: figures.get('raw batched INSERT')!, baseline: true },
          { name: 'runner, handle(batch)', unit: 'events/s', samples: figures.get('runner, handle(batch)')!, target: { of: 'ratio', atLeast: 0.5 } },
        ],
        notes: [...notes('pg', 3), `a schema of its own (${schema}), dropped after the run; apply(event) is left out here (one round trip per event).`],
      };
    } finally {
      await raw.end();
      await readStore.dropSchema();
      await readStore.close();
      await eventStore.close();
      await rm(folder, { recursive: true, force: true });
    }
  },
};

export default [sqliteSuite, postgresSuite];
