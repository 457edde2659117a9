/**
 * What the read side's tables should say after a log, folded plainly from the events, with no
 * SQL and none of the projections' code: occupancy by the decider's own `evolve` and
 * `occupancyOf`, sessions by the domain's `sessionView`, refusals and reports by a straight walk
 * over the events.
 */
import * as E from 'fp-ts/lib/Either.js';
import { evolve, initialState, type CallParkState } from '../../domain/callParkState.js';
import type { EventStore, RecordedEvent } from '../../domain/eventStore.js';
import type { CallParkEvent } from '../../domain/events.js';
import { occupancyOf, type PolicyOccupancy } from '../../domain/occupancy.js';
import { sentenceFor } from '../../domain/rejection.js';
import { sessionView, type SessionView } from '../../domain/sessionTimeline.js';
import { fromStoredForm, type EventMetadata } from '../../domain/storedForm/storedEvent.js';
import type { SessionOutcome } from '../../projections/auditHistory.js';
import type { Refusal, SessionSummary } from '../../projections/auditQueries.js';
import type { ReportActiveRow, ReportHourlyRow, ReportOpenSessionRow, ReportRefusalRow, ReportRetrievalRow } from '../../projections/reporting.js';

export interface LoggedEvent {
  readonly event: CallParkEvent;
  readonly metadata: EventMetadata;
  readonly revision: number;
}

/** Every event of the log, in order. */
export const readLog = async (store: EventStore): Promise<RecordedEvent[]> => {
  const head = await store.headPosition();
  const events: RecordedEvent[] = [];
  if (head === undefined) return events;
  const subscription = store.subscribeToAll();
  for await (const event of subscription) {
    events.push(event);
    if (event.position.commit >= head.commit) break;
  }
  await subscription.close();
  return events;
};

export const decodeLog = (recorded: readonly RecordedEvent[]): LoggedEvent[] =>
  recorded
    .filter((event) => event.streamName.startsWith('callpark-tenant-'))
    .map((event) => {
      const decoded = fromStoredForm(event.type, event.data, event.metadata);
      if (E.isLeft(decoded)) throw decoded.left;
      return { ...decoded.right, revision: event.revision };
    });

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const tenantsOf = (log: readonly LoggedEvent[]): string[] => [...new Set(log.map(({ event }) => event.tenantId))].sort(compareText);

/** Each tenant's policies' occupancy, by the decider's own fold. */
export const foldOccupancy = (log: readonly LoggedEvent[]): Map<string, PolicyOccupancy[]> => {
  const states = new Map<string, CallParkState>();
  for (const { event } of log) states.set(event.tenantId, evolve(states.get(event.tenantId) ?? initialState(), event));
  return new Map(
    [...states].map(([tenantId, state]) => [tenantId, [...state.policies.keys()].sort(compareText).map((policy) => occupancyOf(state, policy)!)]),
  );
};

export interface FoldedSession {
  readonly view: SessionView;
  readonly parkedRevision: number;
}

/** Each session's view, by the domain's own `sessionView` over the events that name it. */
export const foldSessions = (log: readonly LoggedEvent[]): Map<string, FoldedSession> => {
  const events = new Map<string, { events: CallParkEvent[]; parkedRevision: number }>();
  for (const { event, revision } of log) {
    if (!('sessionId' in event)) continue;
    const key = `${event.tenantId}/${event.sessionId}`;
    const entry = events.get(key) ?? { events: [], parkedRevision: revision };
    entry.events.push(event);
    events.set(key, entry);
  }
  const sessions = new Map<string, FoldedSession>();
  for (const [key, entry] of events) {
    const view = sessionView(entry.events);
    if (view) sessions.set(key, { view, parkedRevision: entry.parkedRevision });
  }
  return sessions;
};

const outcomeOf = (view: SessionView): SessionOutcome => {
  switch (view.status) {
    case 'parked':
    case 'ringing-back':
      return 'active';
    case 'retrieved':
      return view.via === 'ring-back' ? 'retrieved-by-ring-back' : 'retrieved';
    default:
      return view.status;
  }
};

export const summaryOf = ({ view }: FoldedSession): SessionSummary => {
  const outcome = outcomeOf(view);
  return {
    tenantId: view.tenantId,
    sessionId: view.sessionId,
    callId: view.callId,
    policy: view.policy,
    orbit: view.orbit,
    orbitCode: view.orbitCode,
    ...(view.caller === undefined ? {} : { caller: view.caller }),
    parker: view.parker,
    ...(view.retrievedBy === undefined ? {} : { retriever: view.retrievedBy }),
    outcome,
    status: view.status,
    parkedAt: view.parkedAt,
    ...(view.endedAt === undefined ? {} : { endedAt: view.endedAt }),
    ...(view.status === 'retrieved' && view.endedAt !== undefined ? { timeToRetrieveMs: view.endedAt - view.parkedAt } : {}),
    ringBackAttempts: view.attempts,
    ...(view.dueAt === undefined ? {} : { dueAt: view.dueAt }),
    ...(view.fallback === undefined ? {} : { fallback: view.fallback }),
  };
};

/** A tenant's sessions as summaries, newest first (by park instant, then by the park's revision). */
export const sessionSummaries = (sessions: ReadonlyMap<string, FoldedSession>, tenantId: string): SessionSummary[] =>
  [...sessions.values()]
    .filter(({ view }) => view.tenantId === tenantId)
    .sort((a, b) => b.view.parkedAt - a.view.parkedAt || b.parkedRevision - a.parkedRevision)
    .map(summaryOf);

/** A tenant's refused attempts, newest first. */
export const foldRefusals = (log: readonly LoggedEvent[], tenantId: string): Refusal[] =>
  log
    .flatMap(({ event, metadata, revision }): Refusal[] => {
      if (event.tenantId !== tenantId) return [];
      const told = { message: metadata.rejectionMessage ?? sentenceFor(event.type === 'ParkRejected' || event.type === 'RetrievalRejected' ? event.reason : 'call-not-parked') };
      if (event.type === 'ParkRejected') {
        return [
          {
            tenantId,
            type: event.type,
            at: event.at,
            reason: event.reason,
            ...told,
            ...(event.policy === undefined ? {} : { policy: event.policy }),
            user: event.parker,
            callId: event.callId,
            ...(event.orbitCode === undefined ? {} : { orbitCode: event.orbitCode }),
            media: event.media,
            revision,
          },
        ];
      }
      if (event.type === 'RetrievalRejected') {
        return [
          {
            tenantId,
            type: event.type,
            at: event.at,
            reason: event.reason,
            ...told,
            ...(event.policy === undefined ? {} : { policy: event.policy }),
            user: { userId: event.retriever.userId, endpoint: event.retriever.endpoint },
            federated: event.retriever.federated,
            ...(event.retrieverCallId === undefined ? {} : { callId: event.retrieverCallId }),
            orbitCode: event.orbitCode,
            revision,
          },
        ];
      }
      return [];
    })
    .sort((a, b) => b.at - a.at || b.revision - a.revision);

export interface Reports {
  readonly hourly: ReportHourlyRow[];
  readonly refusals: ReportRefusalRow[];
  readonly retrievals: ReportRetrievalRow[];
  readonly active: ReportActiveRow[];
  readonly open: ReportOpenSessionRow[];
}

const HOUR = 3_600_000;
const label = (hourStart: number): string => `${new Date(hourStart).toISOString().slice(0, 13)}:00Z`;

/** The reporting tables, by walking the log once. */
export const foldReports = (log: readonly LoggedEvent[]): Reports => {
  const hourly = new Map<string, ReportHourlyRow>();
  const refusals = new Map<string, ReportRefusalRow>();
  const retrievals: ReportRetrievalRow[] = [];
  const active = new Map<string, ReportActiveRow>();
  const open = new Map<string, ReportOpenSessionRow>();

  for (const { event, revision } of log) {
    const hourStart = Math.floor(event.at / HOUR) * HOUR;
    let policy: string;
    if (event.type === 'ParkRejected' || event.type === 'RetrievalRejected') policy = event.policy ?? '';
    else if ('sessionId' in event) policy = event.policy;
    else continue;

    const sessionKey = 'sessionId' in event ? `${event.tenantId}/${event.sessionId}` : '';
    const activeKey = `${event.tenantId}/${policy}`;
    const session = open.get(sessionKey);
    if ('sessionId' in event && event.type !== 'Parked' && session === undefined) continue;

    const before = active.get(activeKey)?.active ?? 0;
    const hourKey = `${event.tenantId}/${policy}/${hourStart}`;
    const row =
      hourly.get(hourKey) ??
      ({
        tenant_id: event.tenantId,
        policy,
        hour_start: hourStart,
        hour: label(hourStart),
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
      } satisfies ReportHourlyRow);
    hourly.set(hourKey, row);
    let after = before;

    if (event.type === 'Parked') {
      open.set(sessionKey, { tenant_id: event.tenantId, session_id: event.sessionId, policy, phase: 'parked' });
      after = before + 1;
      row.parks++;
    } else if (event.type === 'RingBackStarted') {
      session!.phase = 'ringing-back';
      row.ring_backs_started++;
    } else if (event.type === 'RingBackUnanswered') {
      session!.phase = 'parked';
      row.ring_backs_unanswered++;
    } else if (event.type === 'Retrieved' || event.type === 'Expired' || event.type === 'Abandoned') {
      const wasRinging = session!.phase === 'ringing-back';
      open.delete(sessionKey);
      after = before - 1;
      if (event.type === 'Retrieved') {
        if (event.via === 'ring-back') row.retrievals_by_ring_back++;
        else row.retrievals_by_orbit++;
        if (wasRinging && event.via === 'orbit') row.ring_backs_interrupted++;
        row.retrieval_ms_total += event.at - event.parkedAt;
        retrievals.push({ tenant_id: event.tenantId, stream_revision: revision, policy, hour_start: hourStart, hour: label(hourStart), via: event.via, duration_ms: event.at - event.parkedAt });
      } else if (event.type === 'Expired') {
        row.expiries++;
        if (wasRinging) row.ring_backs_unanswered++;
      } else {
        row.abandons++;
        if (wasRinging) row.ring_backs_interrupted++;
      }
    } else if (event.type === 'ParkRejected' || event.type === 'RetrievalRejected') {
      const attempt = event.type === 'ParkRejected' ? 'park' : 'retrieval';
      if (attempt === 'park') row.park_refusals++;
      else row.retrieval_refusals++;
      const refusalKey = `${hourKey}/${attempt}/${event.reason}`;
      const counted = refusals.get(refusalKey) ?? { tenant_id: event.tenantId, policy, hour_start: hourStart, hour: label(hourStart), attempt, reason: event.reason, refusals: 0 };
      counted.refusals++;
      refusals.set(refusalKey, counted);
    }
    if (after !== before) active.set(activeKey, { tenant_id: event.tenantId, policy, active: after });
    row.peak_concurrent_parks = Math.max(row.peak_concurrent_parks, before, after);
  }
  return { hourly: [...hourly.values()], refusals: [...refusals.values()], retrievals, active: [...active.values()], open: [...open.values()] };
};

const canonical = (row: unknown): string =>
  JSON.stringify(row, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compareText(a, b)))
      : value,
  );

/** Rows in a stable order (by their JSON, keys sorted), to compare tables whatever order a database returns them in. */
export const sortedRows = <T>(rows: readonly T[]): T[] =>
  rows
    .map((row) => ({ row, key: canonical(row) }))
    .sort((a, b) => compareText(a.key, b.key))
    .map(({ row }) => row);
