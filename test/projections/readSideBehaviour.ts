/**
 * What the read side's projections do, said once and checked against each read store:
 * readSide.sqlite.int.spec.ts and readSide.postgres.int.spec.ts run these same tests over random
 * histories recorded by the real decider.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../domain/eventStore.js';
import { allSessions, readSession, searchRefusals, searchSessions, type Refusal, type SessionSearch, type SessionSummary } from '../../projections/auditQueries.js';
import { auditHistoryProjection } from '../../projections/auditHistory.js';
import { occupancyProjection } from '../../projections/occupancy.js';
import { readOccupancy, type ReadSource } from '../../projections/occupancyQueries.js';
import { tablesOf, type Projection } from '../../projections/projection.js';
import type { ReadStore, SqlExecutor } from '../../projections/readStore.js';
import { readSideProjections } from '../../projections/readSide.js';
import { buildShadow, rebuild } from '../../projections/rebuild.js';
import { reportingProjection } from '../../projections/reporting.js';
import { ProjectionRunner, type RunnerOptions } from '../../projections/runner.js';
import { historyArbitrary, recordHistory, TENANTS, type TimedStep } from './readSideHistory.js';
import { decodeLog, foldOccupancy, foldRefusals, foldReports, foldSessions, readLog, sessionSummaries, sortedRows, summaryOf, type LoggedEvent } from './readSideOracle.js';
import { withTransactions, type ReadStoreFactory } from './readStores.js';

/** The three projections' tables under one prefix: one build of the read side. */
export class ReadSideBuild {
  readonly runners: ProjectionRunner[];

  constructor(
    readonly eventStore: EventStore,
    readonly readStore: ReadStore,
    readonly prefix: string,
    options: RunnerOptions = {},
  ) {
    this.runners = readSideProjections.map((projection) => new ProjectionRunner({ eventStore, readStore }, projection, { ...options, tablePrefix: prefix }));
  }

  source(projection: Projection, db: SqlExecutor = this.readStore): ReadSource {
    return { db, tables: tablesOf(projection, this.prefix) };
  }

  async start(): Promise<void> {
    for (const runner of this.runners) await runner.start();
  }

  async catchUp(): Promise<void> {
    for (const runner of this.runners) await runner.catchUp();
  }

  async stop(): Promise<void> {
    for (const runner of this.runners) await runner.stop();
  }

  async runToHead(): Promise<void> {
    await this.start();
    await this.catchUp();
    await this.stop();
  }
}

/** Every row of every table of a projection's build, in a stable order. */
export const dumpTables = async (db: SqlExecutor, projection: Projection, prefix: string): Promise<Record<string, unknown[]>> => {
  const t = tablesOf(projection, prefix);
  const dump: Record<string, unknown[]> = {};
  for (const base of projection.tables) dump[base] = sortedRows(await db.query(`SELECT * FROM ${t(base)}`));
  return dump;
};

/** Page through a search with `limit`, collecting every item. */
const everyPage = async <T>(page: (cursor: string | undefined) => Promise<{ items: readonly T[]; nextCursor?: string }>): Promise<T[]> => {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.nextCursor;
  } while (cursor !== undefined);
  return items;
};

export const matchesSearch = (session: SessionSummary, search: Omit<SessionSearch, 'tenantId'>): boolean =>
  (search.user === undefined || session.parker.userId === search.user || session.retriever?.userId === search.user) &&
  (search.orbit === undefined || session.orbitCode === search.orbit || String(session.orbit) === search.orbit) &&
  (search.call === undefined || session.callId === search.call) &&
  (search.outcome === undefined || session.outcome === search.outcome) &&
  (search.from === undefined || session.parkedAt >= search.from) &&
  (search.to === undefined || session.parkedAt < search.to);

/** What the projections answer equals the plain fold of the log. */
export const expectFoldedAnswers = async (build: ReadSideBuild, log: readonly LoggedEvent[], pageLimit = 3): Promise<void> => {
  const occupancy = foldOccupancy(log);
  for (const tenantId of TENANTS) expect(await readOccupancy(build.source(occupancyProjection), tenantId)).toEqual(occupancy.get(tenantId) ?? []);

  const sessions = foldSessions(log);
  const audit = build.source(auditHistoryProjection);
  for (const tenantId of TENANTS) {
    const listed = await everyPage((cursor) => searchSessions(audit, { tenantId, limit: pageLimit, ...(cursor ? { cursor } : {}) }));
    expect(listed).toEqual(sessionSummaries(sessions, tenantId));
    const refusals = await everyPage<Refusal>((cursor) => searchRefusals(audit, { tenantId, limit: pageLimit, ...(cursor ? { cursor } : {}) }));
    expect(refusals).toEqual(foldRefusals(log, tenantId));
  }
  for (const { view } of sessions.values()) expect(await readSession(audit, view.tenantId, view.sessionId)).toEqual(view);
  expect(await readSession(audit, TENANTS[0], 'no-such-session')).toBeUndefined();

  const reports = foldReports(log);
  const dumped = await dumpTables(build.readStore, reportingProjection, build.prefix);
  expect(dumped).toEqual({
    report_hourly: sortedRows(reports.hourly),
    report_refusals: sortedRows(reports.refusals),
    report_retrievals: sortedRows(reports.retrievals),
    report_active: sortedRows(reports.active),
    report_open_sessions: sortedRows(reports.open),
  });
};

export const describeReadSide = (label: string, factory: () => Promise<ReadStoreFactory>, { propertyRuns }: { propertyRuns: number }): void => {
  describe(`the read side's projections into ${label}`, () => {
    let stores: ReadStoreFactory;
    let readStore: ReadStore;
    let builds = 0;
    const nextPrefix = (): string => `rs${++builds}_`;

    beforeAll(async () => {
      stores = await factory();
      readStore = await stores.open();
    });
    afterAll(async () => {
      await stores?.cleanup();
    });

    const recorded = async (steps: readonly TimedStep[]): Promise<{ store: EventStore; log: LoggedEvent[] }> => {
      const recorder = await recordHistory(steps);
      return { store: recorder.store, log: decodeLog(await readLog(recorder.store)) };
    };

    it('answer what a plain fold of the same events answers (random histories, random batch sizes)', async () => {
      await fc.assert(
        fc.asyncProperty(historyArbitrary(), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), async (steps, maxBatchSize, pageLimit) => {
          const { store, log } = await recorded(steps);
          const build = new ReadSideBuild(store, readStore, nextPrefix(), { maxBatchSize });
          await build.runToHead();
          await expectFoldedAnswers(build, log, pageLimit);
        }),
        { numRuns: propertyRuns },
      );
    });

    it('search sessions by user, orbit, call, outcome and time range as a filter of the fold would', async () => {
      await fc.assert(
        fc.asyncProperty(
          historyArbitrary(40),
          fc.record(
            {
              user: fc.constantFrom('alice@example.test', 'bob@example.test', 'carol@example.test'),
              orbit: fc.constantFrom('10', '11', '*1000', '1001', '99'),
              outcome: fc.constantFrom('active' as const, 'retrieved' as const, 'retrieved-by-ring-back' as const, 'expired' as const, 'abandoned' as const),
              window: fc.tuple(fc.integer({ min: 0, max: 7_200 }), fc.integer({ min: 60, max: 7_200 })),
            },
            { requiredKeys: [] },
          ),
          async (steps, filter) => {
            const { store, log } = await recorded(steps);
            const build = new ReadSideBuild(store, readStore, nextPrefix());
            await build.runToHead();
            const first = log[0]!.event.at;
            const search = {
              ...(filter.user === undefined ? {} : { user: filter.user }),
              ...(filter.orbit === undefined ? {} : { orbit: filter.orbit }),
              ...(filter.outcome === undefined ? {} : { outcome: filter.outcome }),
              ...(filter.window === undefined ? {} : { from: first + filter.window[0] * 1000, to: first + (filter.window[0] + filter.window[1]) * 1000 }),
            };
            const sessions = foldSessions(log);
            for (const tenantId of TENANTS) {
              const found = await everyPage((cursor) => searchSessions(build.source(auditHistoryProjection), { tenantId, ...search, limit: 4, ...(cursor ? { cursor } : {}) }));
              expect(found).toEqual(sessionSummaries(sessions, tenantId).filter((session) => matchesSearch(session, search)));
              const exported: SessionSummary[] = [];
              for await (const session of allSessions(build.source(auditHistoryProjection), { tenantId, ...search })) exported.push(session);
              expect(exported).toEqual(found);
            }
          },
        ),
        { numRuns: Math.max(5, Math.floor(propertyRuns / 2)) },
      );
    });

    it('resume where they stopped: stopped in the middle, or failing inside a batch, they end as the fold says', async () => {
      await fc.assert(
        fc.asyncProperty(historyArbitrary(), fc.integer({ min: 1, max: 15 }), fc.integer({ min: 1, max: 6 }), async (steps, maxBatchSize, failAt) => {
          const { store, log } = await recorded(steps);
          const prefix = nextPrefix();

          // A first run stops after its first batch, wherever in the log that is.
          const first = new ReadSideBuild(store, readStore, prefix, { maxBatchSize });
          for (const runner of first.runners) {
            const once = new Promise<void>((resolve) => runner.onApplied(() => resolve()));
            await runner.start();
            await once;
            await runner.stop();
          }

          // A second run fails inside its `failAt`-th transaction (rolled back), then carries on.
          let transactions = 0;
          const failing = withTransactions(readStore, (fn) =>
            readStore.transaction(async (tx) => {
              const result = await fn(tx);
              if (++transactions === failAt) throw new Error('the process died before its commit');
              return result;
            }),
          );
          const second = new ReadSideBuild(store, failing, prefix, { maxBatchSize, retry: { attempts: 3, delayMs: 1 } });
          await second.runToHead();
          for (const runner of second.runners) expect(runner.status().state).toBe('stopped');
          await expectFoldedAnswers(new ReadSideBuild(store, readStore, prefix), log);
        }),
        { numRuns: Math.max(5, Math.floor(propertyRuns / 2)) },
      );
    });

    it('rebuild into tables identical to the live ones', async () => {
      await fc.assert(
        fc.asyncProperty(historyArbitrary(), fc.integer({ min: 1, max: 30 }), async (steps, maxBatchSize) => {
          const { store, log } = await recorded(steps);
          const live = new ReadSideBuild(store, readStore, nextPrefix(), { maxBatchSize });
          await live.runToHead();
          for (const projection of readSideProjections) {
            // The shadow of a prefixed build: a build whose "live" tables are the prefixed ones.
            const prefixed = { ...projection, name: `${projection.name}_${live.prefix}` };
            const shadow = await buildShadow({ eventStore: store, readStore }, prefixed, { prefix: `${live.prefix}sh_`, runner: { maxBatchSize: 500 } });
            expect(await dumpTables(readStore, projection, shadow.prefix)).toEqual(await dumpTables(readStore, projection, live.prefix));
            await shadow.discard();
          }
          await expectFoldedAnswers(live, log);
        }),
        { numRuns: Math.max(3, Math.floor(propertyRuns / 4)) },
      );
    });

    it('are rebuilt and swapped in while their live runners run, which carry on from the rebuilt tables', async () => {
      const fresh = await stores.fresh();
      const db = await fresh.open();
      const [firstPart, secondPart] = fc.sample(historyArbitrary(40), { numRuns: 2, seed: 42 }) as [TimedStep[], TimedStep[]];
      const recorder = await recordHistory(firstPart);
      const live = new ReadSideBuild(recorder.store, db, '', { maxBatchSize: 7 });
      await live.start();
      await live.catchUp();
      const before = await Promise.all(readSideProjections.map((projection) => dumpTables(db, projection, '')));
      for (const projection of readSideProjections) {
        await rebuild({ eventStore: recorder.store, readStore: db }, projection, { prefix: `rb_${projection.name}_` });
      }
      expect(await Promise.all(readSideProjections.map((projection) => dumpTables(db, projection, '')))).toEqual(before);
      await recorder.record(secondPart);
      await live.catchUp();
      await live.stop();
      for (const runner of live.runners) expect(runner.status().state).toBe('stopped');
      await expectFoldedAnswers(live, decodeLog(await readLog(recorder.store)));
    });

    it('follow the live log: what a listener is told after a commit is already readable', async () => {
      const { InMemoryEventStore } = await import('../../adapters/eventStores/inMemory/inMemoryEventStore.js');
      const store = new InMemoryEventStore();
      const build = new ReadSideBuild(store, readStore, nextPrefix());
      await build.start();
      const occupancyRunner = build.runners[0]!;
      const told: number[] = [];
      occupancyRunner.onApplied((batch) => told.push(batch.events.length));
      const recorder = await recordHistory([{ step: { kind: 'park', tenant: 0, user: 0, endpoint: 0, media: 'audio', directed: null, reuseCall: null }, after: 1 }], store);
      await build.catchUp();
      expect(told.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      const [global] = await readOccupancy(build.source(occupancyProjection), TENANTS[0]);
      expect(global).toMatchObject({ policy: 'Global', occupied: 1, free: 3, total: 4 });
      await build.stop();
      const log = decodeLog(await readLog(recorder.store));
      await expectFoldedAnswers(build, log);
      expect([...foldSessions(log).values()].map(summaryOf)).toHaveLength(1);
    });
  });
};
