/**
 * The PostgreSQL event store (DATABASE_URL_TEST, `synchronous_commit` on, the server's default):
 *
 * 1. Appends through the real command handler, 32 concurrent handlings (32 tenants, one command
 *    after another each, parks and retrievals), against raw `pg` inserting the same rows (the
 *    events those commands wrote, read back) into the same table by 32 connections, each command's
 *    rows in one transaction of its own: events a second, the samples taken in turns.
 * 2. Park + retrieve over HTTP (the HTTP benchmark's load generator), one service instance on
 *    the PostgreSQL event store against the same on SQLite (synchronous FULL), in the same run.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { PostgresEventStore } from '../../adapters/eventStores/postgres/postgresEventStore.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { postgresTestUrl } from '../support/services.js';
import { ADMIN_TOKEN, SIGNALING_TOKEN, api, removeDir, startServiceProcess, tempDataDir } from '../support/serviceProcess.js';
import { percentile, summarize, type BenchSuite, type CaseResult } from './harness.js';
import { lifecycles } from './http/lifecycles.js';
import { asFastAsPossible, atFixedRate, type ClosedLoopRun, type OpenLoopRun } from './http/loadGenerator.js';

const TENANTS = 16;
const CONNECTIONS = 32;
/** The open-loop rate of the latency figure: one both stores keep up with on this machine. */
const LATENCY_RATE = 100;

const HANDLINGS = 32;
const COMMANDS_PER_HANDLING = Number(process.env['BENCH_PG_COMMANDS'] ?? 120);
const SAMPLES = 3;
const alice = { userId: 'alice@bench', endpoint: 'teams-desktop' } as const;
const bob = { userId: 'bob@bench', endpoint: 'teams-desktop', federated: false } as const;

const withClient = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: postgresTestUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

const dropSchema = (schema: string): Promise<unknown> => withClient((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));

/** One sample of the handler case: a fresh schema, 32 tenants, each handling its commands one after another. Answers events/s and the schema. */
const handlerSample = async (): Promise<{ readonly rate: number; readonly schema: string; readonly events: number }> => {
  const schema = `bench_pg_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const store = await PostgresEventStore.open({ connectionString: postgresTestUrl(), schema });
  const handler = new CommandHandler({ store });
  const at = Date.now();
  try {
    const tenants = Array.from({ length: HANDLINGS }, (_, n) => `bench-${n}`);
    await Promise.all(
      tenants.map((tenantId) =>
        handler.handle({ type: 'SetPolicy', commandId: `policy-${tenantId}`, at, tenantId, policy: 'Global', settings: { allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 999, orbitReuseQuarantineSeconds: 0 } }),
      ),
    );
    const before = (await store.headPosition())?.commit ?? 0n;
    const started = process.hrtime.bigint();
    await Promise.all(
      tenants.map(async (tenantId) => {
        let orbit: string | undefined;
        for (let n = 0; n < COMMANDS_PER_HANDLING; n++) {
          const command: CallParkCommand =
            orbit === undefined
              ? { type: 'ParkCall', commandId: `${tenantId}-${n}`, at: at + n, tenantId, sessionId: `s-${n}`, callId: `c-${n}`, parker: alice, media: 'audio', random: 0 }
              : { type: 'RetrieveCall', commandId: `${tenantId}-${n}`, at: at + n, tenantId, orbit, retriever: bob };
          const outcome = await handler.handle(command);
          const parked = outcome.events[0];
          orbit = parked?.type === 'Parked' ? parked.orbitCode : undefined;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const events = Number(((await store.headPosition())?.commit ?? 0n) - before);
    return { rate: events / seconds, schema, events };
  } finally {
    await store.close();
  }
};

interface Row {
  readonly stream_name: string;
  readonly revision: string;
  readonly event_id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: string;
  readonly group_key: string;
}

/** The rows the handler wrote in `schema` after its policies, grouped as they were appended (one command's events of one stream share a recorded_at and a command id). */
const rowsOf = (schema: string): Promise<Row[][]> =>
  withClient(async (client) => {
    const { rows } = await client.query<Row>(
      `SELECT stream_name, revision::text, event_id, type, data::text, metadata::text, recorded_at::text, stream_name || ':' || (metadata->>'commandId') AS group_key
       FROM ${schema}.events WHERE type <> 'PolicySettingsChanged' ORDER BY position`,
    );
    const groups = new Map<string, Row[]>();
    for (const row of rows) groups.set(row.group_key, [...(groups.get(row.group_key) ?? []), row]);
    return [...groups.values()];
  });

/** The baseline sample: the same rows, each command's in a transaction, by 32 connections at once (each a tenant's stream, in order). */
const rawSample = async (groups: readonly Row[][]): Promise<number> => {
  const schema = `bench_raw_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const setup = await PostgresEventStore.open({ connectionString: postgresTestUrl(), schema });
  await setup.close();
  const byStream = new Map<string, Row[][]>();
  for (const group of groups) byStream.set(group[0]!.stream_name, [...(byStream.get(group[0]!.stream_name) ?? []), group]);
  const clients = await Promise.all(
    [...byStream.keys()].map(async () => {
      const client = new pg.Client({ connectionString: postgresTestUrl(), options: `-c search_path=${schema} -c synchronous_commit=on` });
      await client.connect();
      return client;
    }),
  );
  let position = 0;
  try {
    const started = process.hrtime.bigint();
    await Promise.all(
      [...byStream.values()].map(async (streamGroups, index) => {
        const client = clients[index]!;
        for (const group of streamGroups) {
          await client.query('BEGIN');
          for (const row of group) {
            await client.query('INSERT INTO events (position, stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
              ++position,
              row.stream_name,
              row.revision,
              row.event_id,
              row.type,
              row.data,
              row.metadata,
              row.recorded_at,
            ]);
          }
          await client.query('COMMIT');
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return groups.reduce((total, group) => total + group.length, 0) / seconds;
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    await dropSchema(schema);
  }
};

const appendsSuite: BenchSuite = {
  name: 'postgres-appends',
  async run() {
    const handlerRates: number[] = [];
    const rawRates: number[] = [];
    let events = 0;
    // A warm-up round, then the samples in turns (the baseline on the rows of the handler's sample just before).
    for (let round = 0; round <= SAMPLES; round++) {
      const sample = await handlerSample();
      try {
        const groups = await rowsOf(sample.schema);
        const raw = await rawSample(groups);
        if (round === 0) continue;
        handlerRates.push(sample.rate);
        rawRates.push(raw);
        events = sample.events;
      } finally {
        await dropSchema(sample.schema);
      }
    }
    const cases: CaseResult[] = [
      { name: 'raw pg: 32 connections, each command’s rows in a transaction, events/s', unit: 'events/s', samples: rawRates, baseline: true },
      { name: 'command handler on the PostgreSQL store, 32 concurrent handlings, events/s', unit: 'events/s', samples: handlerRates, target: { of: 'ratio', atLeast: 0.6 } },
    ];
    return {
      suite: 'PostgreSQL event store appends (synchronous_commit on)',
      cases,
      notes: [`${HANDLINGS} tenants × ${COMMANDS_PER_HANDLING} commands a sample (parks and retrievals), ${events} events a sample; the baseline inserts the same rows`],
    };
  },
};

/** A service process on a fresh data folder (and a fresh schema when on PostgreSQL), its tenants configured. */
const startInstance = async (environment: Record<string, string>): Promise<{ readonly url: string; stop(): Promise<void> }> => {
  const dataDir = await tempDataDir();
  const tokens = [`admin@*=${ADMIN_TOKEN}`, `signaling@*=${SIGNALING_TOKEN}`].join(',');
  const service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: tokens, LOG_LEVEL: 'warn', ...environment });
  for (let tenant = 0; tenant < TENANTS; tenant++) {
    await api(service.url, ADMIN_TOKEN).patch(`/v1/tenants/tenant-${tenant}/policies/Global`, { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 9999, orbitReuseQuarantineSeconds: 0 });
  }
  return {
    url: service.url,
    stop: async () => {
      await service.stop();
      await removeDir(dataDir);
    },
  };
};

const httpSuite: BenchSuite = {
  name: 'postgres-http',
  async run() {
    const schema = `bench_http_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const sqlite = await startInstance({});
    const postgres = await startInstance({ EVENTSTORE_CONNECTION_STRING: postgresTestUrl(), EVENTSTORE_POSTGRES_SCHEMA: schema });
    try {
      const workload = () => lifecycles({ token: SIGNALING_TOKEN, tenants: TENANTS });
      await asFastAsPossible(sqlite.url, workload(), { connections: CONNECTIONS, seconds: 2 });
      await asFastAsPossible(postgres.url, workload(), { connections: CONNECTIONS, seconds: 2 });
      const sqliteRuns: ClosedLoopRun[] = [];
      const postgresRuns: ClosedLoopRun[] = [];
      const sqliteLatency: OpenLoopRun[] = [];
      const postgresLatency: OpenLoopRun[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        sqliteRuns.push(await asFastAsPossible(sqlite.url, workload(), { connections: CONNECTIONS, seconds: 6 }));
        postgresRuns.push(await asFastAsPossible(postgres.url, workload(), { connections: CONNECTIONS, seconds: 6 }));
        sqliteLatency.push(await atFixedRate(sqlite.url, workload(), { rate: LATENCY_RATE, seconds: 5 }));
        postgresLatency.push(await atFixedRate(postgres.url, workload(), { rate: LATENCY_RATE, seconds: 5 }));
      }
      const failures = (runs: readonly { failures: number }[]): number => runs.reduce((sum, run) => sum + run.failures, 0);
      const p99 = (runs: readonly OpenLoopRun[]): number[] => runs.map((run) => percentile(Array.from(run.latencies), 99));
      return {
        suite: 'HTTP park and retrieve, one instance: PostgreSQL event store against SQLite',
        cases: [
          { name: 'SQLite event store (synchronous FULL), requests/s', unit: 'req/s', samples: sqliteRuns.map((run) => run.requestsPerSecond), baseline: true },
          { name: 'PostgreSQL event store, requests/s', unit: 'req/s', samples: postgresRuns.map((run) => run.requestsPerSecond) },
        ],
        notes: [
          `read stores on SQLite in both; failures: SQLite ${failures([...sqliteRuns, ...sqliteLatency])}, PostgreSQL ${failures([...postgresRuns, ...postgresLatency])}`,
          `p99 latency at ${LATENCY_RATE} req/s, open loop, median of the samples: SQLite ${summarize(p99(sqliteLatency)).median} ms, PostgreSQL ${summarize(p99(postgresLatency)).median} ms`,
        ],
      };
    } finally {
      await sqlite.stop();
      await postgres.stop();
      await dropSchema(schema);
    }
  },
};

export default [appendsSuite, httpSuite];
