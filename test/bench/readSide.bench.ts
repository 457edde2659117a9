/**
 * The read side's benchmarks.
 *
 * 1. Rebuild: each read-side projection rebuilt from a log of `READ_SIDE_EVENTS` events (1,000,000
 *    by default; `READ_SIDE_PG_EVENTS`, 1,000,000 by default too, into PostgreSQL), in events a second,
 *    next to the baseline of the same run: the very rows the rebuild wrote, replayed as raw
 *    batched statements (the same multi-row INSERTs, upserts and DELETEs, in the same
 *    transactions) into fresh tables of the same schema, with nothing else to do: no log to read,
 *    no events to decode, no fold, no rows to load, no checkpoint. The ratio is what the
 *    projection's own work costs on top of its writes (target: at least 0.5).
 *    The log is decided by the real decider (readSide/workload.ts) and written by the SQLite
 *    event store to a file, which the rebuilds read as the service's read side does (the store's
 *    catch-up read alone is measured in eventStore.bench.ts). Each figure is READ_SIDE_SAMPLES
 *    (3) samples, rebuild and replay in turns.
 * 2. Live: the time from an append (the command handler's answer) to a Server-Sent Events client
 *    receiving the change, under a steady park-and-retrieve load, with the embedded stores
 *    (SQLite event store at synchronous=full, SQLite read store); p50 and p99 (target p99 < 100 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import type { EventStore } from '../../domain/eventStore.js';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import { migrationScope, tablesOf, type Projection } from '../../projections/projection.js';
import type { ReadStore, SqlExecutor, SqlValue } from '../../projections/readStore.js';
import { readSideProjections } from '../../projections/readSide.js';
import { rebuild } from '../../projections/rebuild.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import { CONTOSO, tokens } from '../http/httpFixtures.js';
import { startReadSideService } from '../projections/readSideService.js';
import { connectSse } from '../projections/sseClient.js';
import { postgresTestUrl, requireService, tcpAnswers } from '../support/services.js';
import { percentile, type BenchSuite } from './harness.js';
import { writeWorkload } from './readSide/workload.js';

const SQLITE_EVENTS = Number(process.env.READ_SIDE_EVENTS ?? 1_000_000);
const POSTGRES_EVENTS = Number(process.env.READ_SIDE_PG_EVENTS ?? 1_000_000);
const SAMPLES = Number(process.env.READ_SIDE_SAMPLES ?? 3);

interface Statement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

/** The same store, recording every write its transactions make to tables whose names start with `prefix`. */
const recording = (store: ReadStore, prefix: string, transactions: Statement[][]): ReadStore => {
  const mentions = new RegExp(`\\b${prefix}`);
  return {
    dialect: store.dialect,
    query: (sql, params) => store.query(sql, params),
    execute: (sql, params) => store.execute(sql, params),
    migrate: (migrations, scope) => store.migrate(migrations, scope),
    close: () => store.close(),
    transaction: (fn) =>
      store.transaction(async (tx) => {
        const writes: Statement[] = [];
        const result = await fn({
          query: (sql, params) => tx.query(sql, params),
          execute: (sql, params) => {
            // The projection's row writes; not its migrations, nor the swap, nor the checkpoint.
            if (mentions.test(sql) && /^\s*(INSERT|UPDATE|DELETE)\b/i.test(sql)) writes.push({ sql, params: params ?? [] });
            return tx.execute(sql, params);
          },
        } satisfies SqlExecutor);
        if (writes.length > 0) transactions.push(writes);
        return result;
      }),
  };
};

const seconds = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;

/**
 * Rebuild one projection from `eventStore`, then replay its writes raw; both as events a second,
 * SAMPLES of each in turns. Each rebuild has a prefix of its own (its index names keep it) and is
 * swapped in; each replay goes to fresh tables, dropped after it.
 */
const rebuildAgainstRaw = async (readStore: ReadStore, eventStore: EventStore, projection: Projection, events: number): Promise<{ rebuild: number[]; raw: number[]; statements: number; rows: string }> => {
  const rebuilds: number[] = [];
  const raws: number[] = [];
  let statements = 0;
  for (let sample = 0; sample < SAMPLES; sample++) {
    const prefix = `rb${sample}_${projection.name}_`;
    const transactions: Statement[][] = [];
    let started = process.hrtime.bigint();
    await rebuild({ eventStore, readStore: recording(readStore, prefix, transactions) }, projection, { prefix, runner: { maxBatchSize: 500 } });
    rebuilds.push(events / seconds(started));

    const rawPrefix = `raw${sample}_${projection.name}_`;
    await readStore.migrate(projection.migrations(tablesOf(projection, rawPrefix)), migrationScope(projection, rawPrefix));
    const retarget = new RegExp(`\\b${prefix}`, 'g');
    const replay = transactions.map((writes) => writes.map(({ sql, params }) => ({ sql: sql.replace(retarget, rawPrefix), params })));
    started = process.hrtime.bigint();
    for (const writes of replay) {
      await readStore.transaction(async (tx) => {
        for (const { sql, params } of writes) await tx.execute(sql, params);
      });
    }
    raws.push(events / seconds(started));
    statements = replay.reduce((total, writes) => total + writes.length, 0);
    for (const base of projection.tables) await readStore.execute(`DROP TABLE ${tablesOf(projection, rawPrefix)(base)}`);
  }

  const live = tablesOf(projection);
  const counts: string[] = [];
  for (const base of projection.tables) {
    const [row] = await readStore.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${live(base)}`);
    counts.push(`${base} ${row?.n ?? 0}`);
  }
  return { rebuild: rebuilds, raw: raws, statements, rows: counts.join(', ') };
};

interface Log {
  readonly store: SqliteEventStore;
  readonly events: number;
}

let workload: Promise<Log> | undefined;
let workloadSize = 0;
/**
 * One log for every rebuild suite of the run (deciding a million events takes a while): written
 * by the SQLite event store to a file of its own, then opened again for the rebuilds to read, as
 * the service's read side reads it. The file goes when the process exits.
 */
const log = (events: number): Promise<Log> => {
  if (workload === undefined || workloadSize !== events) {
    workloadSize = events;
    workload = (async () => {
      const folder = mkdtempSync(join(tmpdir(), 'callpark-read-side-log-'));
      process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
      const file = join(folder, 'events.sqlite');
      const writer = new SqliteEventStore(file, { synchronous: 'normal' });
      const summary = await writeWorkload(writer, events);
      await writer.close();
      return { store: new SqliteEventStore(file), events: summary.events };
    })();
  }
  return workload;
};

const rebuildSuite = (dialect: 'sqlite' | 'postgres', projection: Projection): BenchSuite => {
  const suite = `${projection.name} rebuild into ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`;
  return {
    name: suite,
    async run() {
      const events = dialect === 'sqlite' ? SQLITE_EVENTS : POSTGRES_EVENTS;
      if (dialect === 'postgres') {
        const up = await requireService('PostgreSQL', () => tcpAnswers('127.0.0.1', 5432), 'pg_ctlcluster 15 main start');
        if (!up) return { suite, cases: [], notes: ['PostgreSQL is not running: skipped.'] };
      }
      const { store, events: decided } = await log(events);
      const folder = await mkdtemp(join(tmpdir(), 'callpark-read-side-bench-'));
      const schema = `bench_read_side_${randomBytes(4).toString('hex')}`;
      const readStore: ReadStore =
        dialect === 'sqlite' ? await SqliteReadStore.open(join(folder, 'read.sqlite')) : await PostgresReadStore.open({ connectionString: postgresTestUrl(), schema, max: 2 });
      try {
        const result = await rebuildAgainstRaw(readStore, store, projection, decided);
        const notes = [
          `${decided.toLocaleString('en-US')} events decided by the real decider (20 tenants; parks, retrievals by orbit and by ring back, unanswered ring backs, expiries, abandons, refused retrievals), read from the SQLite event store's file; batches of 500; ${SAMPLES} samples of each, in turns.`,
          `${result.statements.toLocaleString('en-US')} write statements replayed; tables after the rebuild: ${result.rows}.`,
        ];
        if (dialect === 'postgres' && POSTGRES_EVENTS !== SQLITE_EVENTS) {
          notes.push(`PostgreSQL is measured on ${POSTGRES_EVENTS.toLocaleString('en-US')} events (READ_SIDE_PG_EVENTS), SQLite on ${SQLITE_EVENTS.toLocaleString('en-US')} (READ_SIDE_EVENTS).`);
        }
        return {
          suite,
          cases: [
            { name: 'its writes replayed raw', unit: 'events/s', samples: result.raw, baseline: true },
            { name: 'rebuild', unit: 'events/s', samples: result.rebuild, target: { of: 'ratio', atLeast: 0.5 } },
          ],
          notes,
        };
      } finally {
        if (readStore instanceof PostgresReadStore) await readStore.dropSchema();
        await readStore.close();
        await rm(folder, { recursive: true, force: true });
      }
    },
  };
};

const liveSuite: BenchSuite = {
  name: 'read side live: append to Server-Sent Event',
  async run() {
    const suite = 'read side live: append to Server-Sent Event';
    const folder = await mkdtemp(join(tmpdir(), 'callpark-read-side-live-'));
    const eventStore = new SqliteEventStore(join(folder, 'events.sqlite'));
    const readStore = await SqliteReadStore.open(join(folder, 'read.sqlite'));
    const service = await startReadSideService({ readStore, eventStore, listen: true });
    const rounds = 3;
    const perSecond = 200;
    const secondsEach = 5;
    const clients = 3;
    const p50s: number[] = [];
    const p99s: number[] = [];
    const maxes: number[] = [];
    let received = 0;
    try {
      await service.handler.handle({
        type: 'SetPolicy',
        commandId: randomUUID(),
        at: Date.now(),
        tenantId: CONTOSO,
        policy: 'Global',
        settings: { allowCallPark: true, pickupRangeStart: 1000, pickupRangeEnd: 9999, parkTimeoutSeconds: 1800, orbitReuseQuarantineSeconds: 0 },
      });
      const streams = await Promise.all(Array.from({ length: clients }, () => connectSse(`${service.url}/v1/tenants/${CONTOSO}/occupancy/stream?access_token=${tokens.supervisor}`)));
      for (const stream of streams) await stream.next('snapshot');
      for (let round = 0; round < rounds; round++) {
        const appended = new Map<string, number>();
        const latencies: number[] = [];
        const listen = (message: { event: string; data: string; receivedAt: number }): void => {
          if (message.event !== 'change') return;
          const change = JSON.parse(message.data) as { kind: string; orbit: { sessionId?: string } | number; sessionId?: string };
          const key = change.kind === 'parked' ? `p:${(change.orbit as { sessionId: string }).sessionId}` : `f:${change.sessionId}`;
          const at = appended.get(key);
          if (at !== undefined) latencies.push(message.receivedAt - at);
        };
        for (const stream of streams) stream.onMessage(listen);
        const parked: { orbit: string; sessionId: string }[] = [];
        const interval = 1000 / perSecond;
        const start = performance.now();
        for (let i = 0; i < perSecond * secondsEach; i++) {
          const wait = start + i * interval - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          const retrieving = i % 2 === 1 && parked.length > 0;
          if (retrieving) {
            const call = parked.shift()!;
            const outcome = await service.handler.handle({
              type: 'RetrieveCall',
              commandId: randomUUID(),
              at: Date.now(),
              tenantId: CONTOSO,
              orbit: call.orbit,
              retriever: { userId: 'bob@contoso.com', endpoint: 'teams-desktop', federated: false },
            });
            if (outcome.kind === 'accepted') appended.set(`f:${call.sessionId}`, performance.now());
          } else {
            const sessionId = randomUUID();
            const outcome = await service.handler.handle({
              type: 'ParkCall',
              commandId: randomUUID(),
              at: Date.now(),
              tenantId: CONTOSO,
              sessionId,
              callId: randomUUID(),
              parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' },
              media: 'audio',
              random: 0,
            });
            const event = outcome.events[0];
            if (event?.type === 'Parked') {
              appended.set(`p:${sessionId}`, performance.now());
              parked.push({ orbit: event.orbitCode, sessionId });
            }
          }
        }
        await service.catchUp();
        await new Promise((resolve) => setTimeout(resolve, 200));
        received += latencies.length;
        p50s.push(percentile(latencies, 50));
        p99s.push(percentile(latencies, 99));
        maxes.push(Math.max(...latencies));
        const expected = appended.size * clients;
        if (latencies.length !== expected) throw new Error(`Round ${round}: ${latencies.length} changes received, ${expected} expected.`);
      }
      for (const stream of streams) stream.close();
    } finally {
      await service.stop();
      await eventStore.close();
      await readStore.close();
      await rm(folder, { recursive: true, force: true });
    }
    return {
      suite,
      cases: [
        { name: 'append → SSE client p50', unit: 'ms', samples: p50s },
        { name: 'append → SSE client p99', unit: 'ms', samples: p99s, target: { of: 'median', atMost: 100 } },
        { name: 'append → SSE client max', unit: 'ms', samples: maxes },
      ],
      notes: [
        `${rounds} rounds of ${secondsEach} s at ${perSecond} commands a second (parks and retrievals alternating), ${clients} SSE clients over HTTP on loopback, ${received.toLocaleString('en-US')} changes received in all; each sample is one round's percentile.`,
        'Measured from the command handler answering (the append committed, synchronous=full) to the client parsing the event, in one process.',
      ],
    };
  },
};

export default [
  ...readSideProjections.map((projection) => rebuildSuite('sqlite', projection)),
  ...readSideProjections.map((projection) => rebuildSuite('postgres', projection)),
  liveSuite,
] satisfies BenchSuite[];
