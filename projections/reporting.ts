/**
 * Reporting tables, per tenant, policy and hour (DOMAIN.md, "Views"), for a reporting job to read
 * with plain SQL; their schema and example queries are in docs/reporting.md.
 *
 * - `report_hourly`: per tenant, policy and UTC hour: parks, retrievals by orbit and by ring
 *   back, expiries, abandons, refusals, ring backs started / unanswered / interrupted, the sum of
 *   the times to retrieve, and the peak number of calls parked at once.
 * - `report_refusals`: per tenant, policy, hour, attempt (`park` or `retrieval`) and reason.
 * - `report_retrievals`: one row per retrieval with how long the call waited, so p50, p90 and
 *   p99 of the time to retrieve are exact (nearest rank) over any period a query chooses.
 * - `report_active` and `report_open_sessions`: the projection's own working state (calls parked
 *   now per policy, and the phase of each open session), which the counts above are derived
 *   from. A reporting job has no need to read them.
 *
 * Each event counts in the hour of its own instant. The peak of an hour is the most calls the
 * policy held at once at any event of that hour (calls carried over from earlier hours count).
 */
import type { CallParkEvent } from '../domain/events.js';
import { callParkEventsOf, decodeEvents, hourLabel, hourOf, refusalEventTypes, sessionEventTypes, type ProjectedEvent } from './callParkEvents.js';
import type { Projection, Tables } from './projection.js';
import { insertRows, RowCache, type TableShape } from './tableRows.js';

export interface ReportHourlyRow {
  [column: string]: string | number | null;
  tenant_id: string;
  policy: string;
  hour_start: number;
  hour: string;
  parks: number;
  retrievals_by_orbit: number;
  retrievals_by_ring_back: number;
  expiries: number;
  abandons: number;
  park_refusals: number;
  retrieval_refusals: number;
  ring_backs_started: number;
  /** Ring backs that ended with nobody answering: those parked again, and those whose call then expired. */
  ring_backs_unanswered: number;
  /** Ring backs cut short: the call was retrieved by its orbit, or the caller hung up, while it rang. */
  ring_backs_interrupted: number;
  retrieval_ms_total: number;
  peak_concurrent_parks: number;
}

export interface ReportRefusalRow {
  [column: string]: string | number | null;
  tenant_id: string;
  policy: string;
  hour_start: number;
  hour: string;
  attempt: 'park' | 'retrieval';
  reason: string;
  refusals: number;
}

export interface ReportRetrievalRow {
  [column: string]: string | number | null;
  tenant_id: string;
  stream_revision: number;
  policy: string;
  hour_start: number;
  hour: string;
  via: 'orbit' | 'ring-back';
  duration_ms: number;
}

export interface ReportActiveRow {
  [column: string]: string | number | null;
  tenant_id: string;
  policy: string;
  active: number;
}

export interface ReportOpenSessionRow {
  [column: string]: string | number | null;
  tenant_id: string;
  session_id: string;
  policy: string;
  phase: 'parked' | 'ringing-back';
}

export const reportingTables = ['report_hourly', 'report_refusals', 'report_retrievals', 'report_active', 'report_open_sessions'] as const;

const counters = [
  'parks',
  'retrievals_by_orbit',
  'retrievals_by_ring_back',
  'expiries',
  'abandons',
  'park_refusals',
  'retrieval_refusals',
  'ring_backs_started',
  'ring_backs_unanswered',
  'ring_backs_interrupted',
  'retrieval_ms_total',
  'peak_concurrent_parks',
] as const;

export const hourlyShape = (t: Tables): TableShape<ReportHourlyRow> => ({
  table: t('report_hourly'),
  key: ['tenant_id', 'policy', 'hour_start'],
  columns: ['tenant_id', 'policy', 'hour_start', 'hour', ...counters],
});
export const refusalCountShape = (t: Tables): TableShape<ReportRefusalRow> => ({
  table: t('report_refusals'),
  key: ['tenant_id', 'policy', 'hour_start', 'attempt', 'reason'],
  columns: ['tenant_id', 'policy', 'hour_start', 'hour', 'attempt', 'reason', 'refusals'],
});
export const retrievalShape = (t: Tables): TableShape<ReportRetrievalRow> => ({
  table: t('report_retrievals'),
  key: ['tenant_id', 'stream_revision'],
  columns: ['tenant_id', 'stream_revision', 'policy', 'hour_start', 'hour', 'via', 'duration_ms'],
});
export const activeShape = (t: Tables): TableShape<ReportActiveRow> => ({ table: t('report_active'), key: ['tenant_id', 'policy'], columns: ['tenant_id', 'policy', 'active'] });
export const openSessionShape = (t: Tables): TableShape<ReportOpenSessionRow> => ({
  table: t('report_open_sessions'),
  key: ['tenant_id', 'session_id'],
  columns: ['tenant_id', 'session_id', 'policy', 'phase'],
});

const migrations = (t: Tables) => [
  {
    id: 1,
    name: 'create the reporting tables',
    sql: [
      `CREATE TABLE ${t('report_hourly')} (
        tenant_id TEXT NOT NULL,
        policy TEXT NOT NULL,
        hour_start BIGINT NOT NULL,
        hour TEXT NOT NULL,
        ${counters.map((counter) => `${counter} BIGINT NOT NULL`).join(',\n        ')},
        PRIMARY KEY (tenant_id, policy, hour_start)
      )`,
      `CREATE INDEX ${t('report_hourly')}_by_hour ON ${t('report_hourly')} (hour_start)`,
      `CREATE TABLE ${t('report_refusals')} (
        tenant_id TEXT NOT NULL,
        policy TEXT NOT NULL,
        hour_start BIGINT NOT NULL,
        hour TEXT NOT NULL,
        attempt TEXT NOT NULL,
        reason TEXT NOT NULL,
        refusals BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, policy, hour_start, attempt, reason)
      )`,
      `CREATE TABLE ${t('report_retrievals')} (
        tenant_id TEXT NOT NULL,
        stream_revision BIGINT NOT NULL,
        policy TEXT NOT NULL,
        hour_start BIGINT NOT NULL,
        hour TEXT NOT NULL,
        via TEXT NOT NULL,
        duration_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, stream_revision)
      )`,
      `CREATE INDEX ${t('report_retrievals')}_by_hour ON ${t('report_retrievals')} (tenant_id, policy, hour_start, duration_ms)`,
      `CREATE TABLE ${t('report_active')} (
        tenant_id TEXT NOT NULL,
        policy TEXT NOT NULL,
        active BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, policy)
      )`,
      `CREATE TABLE ${t('report_open_sessions')} (
        tenant_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        policy TEXT NOT NULL,
        phase TEXT NOT NULL,
        PRIMARY KEY (tenant_id, session_id)
      )`,
    ],
  },
];

/** The policy an event is reported under: refusals may name none (`''`). */
const policyOf = (event: CallParkEvent): string | undefined => {
  switch (event.type) {
    case 'Parked':
    case 'RingBackStarted':
    case 'RingBackUnanswered':
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned':
      return event.policy;
    case 'ParkRejected':
    case 'RetrievalRejected':
      return event.policy ?? '';
    default:
      return undefined;
  }
};

const emptyHour = (tenantId: string, policy: string, hourStart: number): ReportHourlyRow => ({
  tenant_id: tenantId,
  policy,
  hour_start: hourStart,
  hour: hourLabel(hourStart),
  parks: 0,
  retrievals_by_orbit: 0,
  retrievals_by_ring_back: 0,
  expiries: 0,
  abandons: 0,
  park_refusals: 0,
  retrieval_refusals: 0,
  ring_backs_started: 0,
  ring_backs_unanswered: 0,
  ring_backs_interrupted: 0,
  retrieval_ms_total: 0,
  peak_concurrent_parks: 0,
});

interface Working {
  readonly hourly: RowCache<ReportHourlyRow>;
  readonly refusals: RowCache<ReportRefusalRow>;
  readonly active: RowCache<ReportActiveRow>;
  readonly open: RowCache<ReportOpenSessionRow>;
  readonly retrievals: ReportRetrievalRow[];
}

const touch = (event: CallParkEvent, working: Working): void => {
  const policy = policyOf(event);
  if (policy === undefined) return;
  const hourStart = hourOf(event.at);
  working.hourly.want([event.tenantId, policy, hourStart]);
  working.active.want([event.tenantId, policy]);
  if (event.type === 'ParkRejected' || event.type === 'RetrievalRejected') {
    working.refusals.want([event.tenantId, policy, hourStart, event.type === 'ParkRejected' ? 'park' : 'retrieval', event.reason]);
  } else if (event.type !== 'Parked' && 'sessionId' in event) {
    working.open.want([event.tenantId, event.sessionId]);
  }
};

/** The hour's row as the batch has it, or a new one. Rows are the batch's own: changed in place, then put. */
const hourRow = (working: Working, tenantId: string, policy: string, hourStart: number): ReportHourlyRow =>
  working.hourly.get([tenantId, policy, hourStart]) ?? emptyHour(tenantId, policy, hourStart);

const apply = ({ event, revision }: ProjectedEvent, working: Working): void => {
  const policy = policyOf(event);
  if (policy === undefined) return;
  const { tenantId } = event;
  const hourStart = hourOf(event.at);
  const activeBefore = working.active.get([tenantId, policy])?.active ?? 0;
  let activeAfter = activeBefore;
  let hour: ReportHourlyRow;

  switch (event.type) {
    case 'Parked':
      working.open.put({ tenant_id: tenantId, session_id: event.sessionId, policy, phase: 'parked' });
      activeAfter++;
      hour = hourRow(working, tenantId, policy, hourStart);
      hour.parks++;
      break;
    case 'RingBackStarted':
    case 'RingBackUnanswered': {
      const open = working.open.get([tenantId, event.sessionId]);
      if (open === undefined) return;
      open.phase = event.type === 'RingBackStarted' ? 'ringing-back' : 'parked';
      working.open.put(open);
      hour = hourRow(working, tenantId, policy, hourStart);
      if (event.type === 'RingBackStarted') hour.ring_backs_started++;
      else hour.ring_backs_unanswered++;
      break;
    }
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned': {
      const open = working.open.get([tenantId, event.sessionId]);
      if (open === undefined) return;
      working.open.remove([tenantId, event.sessionId]);
      activeAfter--;
      const ringing = open.phase === 'ringing-back';
      hour = hourRow(working, tenantId, policy, hourStart);
      if (event.type === 'Retrieved') {
        const duration = event.at - event.parkedAt;
        if (event.via === 'ring-back') hour.retrievals_by_ring_back++;
        else hour.retrievals_by_orbit++;
        hour.retrieval_ms_total += duration;
        if (ringing && event.via === 'orbit') hour.ring_backs_interrupted++;
        working.retrievals.push({ tenant_id: tenantId, stream_revision: revision, policy, hour_start: hourStart, hour: hour.hour, via: event.via, duration_ms: duration });
      } else if (event.type === 'Expired') {
        hour.expiries++;
        if (ringing) hour.ring_backs_unanswered++;
      } else {
        hour.abandons++;
        if (ringing) hour.ring_backs_interrupted++;
      }
      break;
    }
    case 'ParkRejected':
    case 'RetrievalRejected': {
      const attempt = event.type === 'ParkRejected' ? 'park' : 'retrieval';
      hour = hourRow(working, tenantId, policy, hourStart);
      if (attempt === 'park') hour.park_refusals++;
      else hour.retrieval_refusals++;
      const key = [tenantId, policy, hourStart, attempt, event.reason];
      const row = working.refusals.get(key) ?? { tenant_id: tenantId, policy, hour_start: hourStart, hour: hour.hour, attempt, reason: event.reason, refusals: 0 };
      row.refusals++;
      working.refusals.put(row);
      break;
    }
    default:
      return;
  }

  if (activeAfter !== activeBefore) working.active.put({ tenant_id: tenantId, policy, active: activeAfter });
  hour.peak_concurrent_parks = Math.max(hour.peak_concurrent_parks, activeBefore, activeAfter);
  working.hourly.put(hour);
};

/** The name of the rows the projection keeps in its BatchMemory. */
const reportingRows = {};

const caches = (working: Working) => [working.hourly, working.refusals, working.active, working.open];

export const reportingProjection: Projection = {
  name: 'reporting',
  version: 1,
  tables: reportingTables,
  migrations,
  filter: callParkEventsOf([...sessionEventTypes, ...refusalEventTypes]),
  handle: async (recorded, tx, t, memory) => {
    const events = decodeEvents(recorded);
    const working: Working = {
      ...memory.keep(reportingRows, () => ({
        hourly: new RowCache(hourlyShape(t)),
        refusals: new RowCache(refusalCountShape(t)),
        active: new RowCache(activeShape(t)),
        open: new RowCache(openSessionShape(t)),
      })),
      retrievals: [],
    };
    for (const { event } of events) touch(event, working);
    for (const cache of caches(working)) await cache.load(tx);
    for (const event of events) apply(event, working);
    for (const cache of caches(working)) await cache.flush(tx);
    for (const cache of caches(working)) cache.trim();
    await insertRows(tx, retrievalShape(t), working.retrievals);
  },
};
