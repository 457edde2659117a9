/**
 * docs/reporting.md keeps its promises on SQLite: every example query runs as written, and the
 * figures it gives are the ones a plain fold of the log gives. (readSide.dialects.int.spec.ts
 * runs the same queries on PostgreSQL and compares the two.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadStore } from '../../projections/readStore.js';
import { ReadSideBuild } from './readSideBehaviour.js';
import { documentedQueries, recordDocsHistory } from './readSideDocs.js';
import { decodeLog, foldReports, readLog, type LoggedEvent } from './readSideOracle.js';
import { sqliteFactory, type ReadStoreFactory } from './readStores.js';

const DAY = { from: '2026-11-22T00:00Z', to: '2026-11-23T00:00Z' };

/** Nearest-rank percentile. */
const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
};

describe('the example queries of docs/reporting.md, on SQLite', () => {
  let stores: ReadStoreFactory;
  let readStore: ReadStore;
  let log: LoggedEvent[];
  let queries: string[];

  beforeAll(async () => {
    stores = await sqliteFactory();
    readStore = await stores.open();
    const recorder = await recordDocsHistory();
    await new ReadSideBuild(recorder.store, readStore, '').runToHead();
    log = decodeLog(await readLog(recorder.store));
    queries = await documentedQueries();
  });
  afterAll(async () => {
    await stores.cleanup();
  });

  it('has a dozen queries, each of which runs and finds something', async () => {
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const sql of queries) expect((await readStore.query(sql)).length, sql).toBeGreaterThan(0);
  });

  it("gives the day's totals and peaks a plain fold of the log gives", async () => {
    const sql = queries.find((query) => query.includes('average_time_to_retrieve_ms'))!;
    const rows = await readStore.query(sql);
    const hours = foldReports(log).hourly.filter((row) => row.tenant_id === 'contoso' && row.hour >= DAY.from && row.hour < DAY.to);
    const policies = [...new Set(hours.map((row) => row.policy))].sort();
    const sum = (policy: string, pick: (row: (typeof hours)[number]) => number) => hours.filter((row) => row.policy === policy).reduce((total, row) => total + pick(row), 0);
    expect(rows).toEqual(
      policies.map((policy) => {
        const retrieved = sum(policy, (row) => row.retrievals_by_orbit + row.retrievals_by_ring_back);
        const answeredOrNot = sum(policy, (row) => row.retrievals_by_ring_back + row.ring_backs_unanswered);
        return {
          policy,
          parks: sum(policy, (row) => row.parks),
          retrieved_by_orbit: sum(policy, (row) => row.retrievals_by_orbit),
          retrieved_by_ring_back: sum(policy, (row) => row.retrievals_by_ring_back),
          expired: sum(policy, (row) => row.expiries),
          abandoned: sum(policy, (row) => row.abandons),
          peak_concurrent_parks: Math.max(...hours.filter((row) => row.policy === policy).map((row) => row.peak_concurrent_parks)),
          average_time_to_retrieve_ms: retrieved === 0 ? null : Math.trunc(sum(policy, (row) => row.retrieval_ms_total) / retrieved),
          ring_back_answer_rate_percent: answeredOrNot === 0 ? null : Math.trunc((sum(policy, (row) => row.retrievals_by_ring_back) * 100) / answeredOrNot),
        };
      }),
    );
    expect(rows.some((row) => Number(row.parks) > 0)).toBe(true);
  });

  it('gives the exact nearest-rank percentiles of the time to retrieve', async () => {
    const sql = queries.find((query) => query.includes('rank_in_hour'))!;
    const rows = await readStore.query<{ hour: string; policy: string; retrievals: number; p50_ms: number; p90_ms: number; p99_ms: number }>(sql);
    const retrievals = foldReports(log).retrievals.filter((row) => row.tenant_id === 'contoso');
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) {
      const durations = retrievals.filter((retrieval) => retrieval.policy === row.policy && retrieval.hour === row.hour).map((retrieval) => retrieval.duration_ms);
      expect(row).toEqual({ hour: row.hour, policy: row.policy, retrievals: durations.length, p50_ms: percentile(durations, 50), p90_ms: percentile(durations, 90), p99_ms: percentile(durations, 99) });
    }
    expect(rows.reduce((total, row) => total + row.retrievals, 0)).toBe(retrievals.length);
  });

  it("shows call-1's timeline, and the refusals by reason", async () => {
    const timeline = await readStore.query(queries.find((query) => query.includes("call_id = 'call-1'"))!);
    expect(timeline.map((row) => row.type)).toEqual(['Parked', 'Retrieved']);
    const byReason = await readStore.query<{ attempt: string; reason: string; refusals: number }>(queries.find((query) => query.includes('FROM report_refusals'))!);
    const refused = log.filter(({ event }) => event.tenantId === 'contoso' && (event.type === 'ParkRejected' || event.type === 'RetrievalRejected'));
    expect(byReason.reduce((total, row) => total + row.refusals, 0)).toBe(refused.length);
  });
});
