/**
 * SQLite and PostgreSQL give identical answers to the same queries: the same history projected
 * into both, then every read the service makes (occupancy, session searches with each filter and
 * page size, refusals, each session's timeline), every table row for row, and every example
 * query of docs/reporting.md, compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHistoryProjection } from '../../projections/auditHistory.js';
import { allSessions, readSession, searchRefusals, searchSessions, type SessionSearch } from '../../projections/auditQueries.js';
import { occupancyProjection } from '../../projections/occupancy.js';
import { readOccupancy, readPolicyOccupancy } from '../../projections/occupancyQueries.js';
import type { ReadStore } from '../../projections/readStore.js';
import { readSideProjections } from '../../projections/readSide.js';
import { dumpTables, ReadSideBuild } from './readSideBehaviour.js';
import { documentedQueries, recordDocsHistory } from './readSideDocs.js';
import { TENANTS } from './readSideHistory.js';
import { decodeLog, foldSessions, readLog, type LoggedEvent } from './readSideOracle.js';
import { postgresAvailable, postgresFactory, sqliteFactory, type ReadStoreFactory } from './readStores.js';

const available = await postgresAvailable();

describe.skipIf(!available)('SQLite and PostgreSQL, the same history projected into each', () => {
  let factories: ReadStoreFactory[];
  let sqlite: ReadSideBuild;
  let postgres: ReadSideBuild;
  let log: LoggedEvent[];

  beforeAll(async () => {
    factories = [await sqliteFactory(), await postgresFactory()];
    const [sqliteStore, postgresStore] = (await Promise.all(factories.map((factory) => factory.open()))) as [ReadStore, ReadStore];
    const recorder = await recordDocsHistory();
    sqlite = new ReadSideBuild(recorder.store, sqliteStore, '');
    postgres = new ReadSideBuild(recorder.store, postgresStore, '', { maxBatchSize: 37 });
    await sqlite.runToHead();
    await postgres.runToHead();
    log = decodeLog(await readLog(recorder.store));
  });
  afterAll(async () => {
    for (const factory of factories ?? []) await factory.cleanup();
  });

  /** What both answer to `read`, which must be the same. */
  const both = async <T>(read: (build: ReadSideBuild) => Promise<T>): Promise<T> => {
    const [fromSqlite, fromPostgres] = [await read(sqlite), await read(postgres)];
    expect(fromPostgres).toEqual(fromSqlite);
    return fromSqlite;
  };

  it('hold the same rows in every table', async () => {
    for (const projection of readSideProjections) await both((build) => dumpTables(build.readStore, projection, ''));
  });

  it('answer the same occupancy', async () => {
    for (const tenantId of TENANTS) {
      const policies = await both((build) => readOccupancy(build.source(occupancyProjection), tenantId));
      expect(policies.length).toBeGreaterThan(0);
      for (const policy of policies) await both((build) => readPolicyOccupancy(build.source(occupancyProjection), tenantId, policy.policy));
    }
  });

  it('answer every search the same, page by page, and every session the same', async () => {
    const first = log[0]!.event.at;
    const searches: Omit<SessionSearch, 'tenantId'>[] = [
      {},
      { user: 'alice@example.test' },
      { user: 'bob@example.test', outcome: 'retrieved' },
      { orbit: '10' },
      { orbit: '*1000' },
      { orbit: '1001', policy: 'Sales' },
      { outcome: 'expired' },
      { outcome: 'active' },
      { call: 'call-1' },
      { from: first + 3_600_000, to: first + 4 * 3_600_000 },
    ];
    for (const tenantId of TENANTS) {
      for (const search of searches) {
        for (const limit of [1, 7, 1000]) {
          let cursor: string | undefined;
          do {
            const page = await both((build) => searchSessions(build.source(auditHistoryProjection), { tenantId, ...search, limit, ...(cursor ? { cursor } : {}) }));
            cursor = page.nextCursor;
          } while (cursor !== undefined);
        }
        await both(async (build) => {
          const all = [];
          for await (const session of allSessions(build.source(auditHistoryProjection), { tenantId, ...search })) all.push(session);
          return all;
        });
      }
      for (const reason of [undefined, 'no-call-on-orbit', 'federated-user'] as const) {
        await both((build) => searchRefusals(build.source(auditHistoryProjection), { tenantId, limit: 5, ...(reason ? { reason } : {}) }));
      }
    }
    const sessions = [...foldSessions(log).values()];
    expect(sessions.length).toBeGreaterThan(20);
    for (const { view } of sessions) await both((build) => readSession(build.source(auditHistoryProjection), view.tenantId, view.sessionId));
  });

  it('answer every example query of docs/reporting.md the same', async () => {
    const queries = await documentedQueries();
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const sql of queries) {
      const rows = await both((build) => build.readStore.query(sql));
      expect(rows.length, sql).toBeGreaterThan(0);
    }
  });
});
