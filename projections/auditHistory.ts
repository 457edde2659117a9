/**
 * The audit history (DOMAIN.md, "Views"): every park session as a timeline, and every refused
 * attempt with its reason.
 *
 * - `audit_sessions`: one row per park session, its facts and how it ended: outcome `active`,
 *   `retrieved`, `retrieved-by-ring-back`, `expired` or `abandoned`; who parked it and who got it;
 *   when it was parked and ended; the time to retrieve.
 * - `audit_timeline`: one row per event of a session, keyed by the event's revision in its
 *   tenant's stream, with its type, instant and details (JSON), as `domain/sessionTimeline.ts`
 *   writes a timeline entry.
 * - `audit_refusals`: one row per ParkRejected and RetrievalRejected, keyed the same way: who,
 *   from which endpoint, which orbit or call, the stable reason and the sentence the person was
 *   told. A refusal belongs to no session.
 */
import type { CallParkEvent, ParkRejected, RetrievalRejected } from '../domain/events.js';
import { sentenceFor } from '../domain/rejection.js';
import { timelineEntry } from '../domain/sessionTimeline.js';
import type { EventMetadata } from '../domain/storedForm/storedEvent.js';
import { callParkEventsOf, decodeEvents, refusalEventTypes, sessionEventTypes } from './callParkEvents.js';
import type { Projection, Tables } from './projection.js';
import { insertRows, RowCache, type TableShape } from './tableRows.js';

export const sessionOutcomes = ['active', 'retrieved', 'retrieved-by-ring-back', 'expired', 'abandoned'] as const;
export type SessionOutcome = (typeof sessionOutcomes)[number];

export interface AuditSessionRow {
  [column: string]: string | number | null;
  tenant_id: string;
  session_id: string;
  /** The revision of its Parked event in the tenant's stream: the tie-breaker of every order. */
  parked_revision: number;
  call_id: string;
  policy: string;
  orbit: number;
  orbit_code: string;
  caller: string | null;
  parker_user_id: string;
  parker_endpoint: string;
  parked_at: number;
  outcome: SessionOutcome;
  /** While active: `parked` or `ringing-back`; null once ended. */
  phase: string | null;
  /** Ring backs started. */
  ring_back_attempts: number;
  /** While active: when the next ring back is due (parked) or goes unanswered (ringing back). */
  due_at: number | null;
  retriever_user_id: string | null;
  retriever_endpoint: string | null;
  ended_at: number | null;
  /** Retrieved (either way): from the park to the retrieval, in ms. */
  time_to_retrieve_ms: number | null;
  /** Expired: where the call went. */
  fallback: string | null;
}

export interface AuditTimelineRow {
  [column: string]: string | number | null;
  tenant_id: string;
  stream_revision: number;
  session_id: string;
  type: string;
  at: number;
  details: string;
}

export interface AuditRefusalRow {
  [column: string]: string | number | null;
  tenant_id: string;
  stream_revision: number;
  type: 'ParkRejected' | 'RetrievalRejected';
  at: number;
  reason: string;
  message: string;
  policy: string | null;
  user_id: string;
  endpoint: string;
  /** RetrievalRejected: whether the retriever was of another organisation (0/1); null for a park. */
  federated: number | null;
  /** ParkRejected: the call; RetrievalRejected: the retriever's own call, when known. */
  call_id: string | null;
  /** ParkRejected: the orbit asked for (directed park); RetrievalRejected: the code dialed. */
  orbit_code: string | null;
  /** ParkRejected: the call's media. */
  media: string | null;
}

export const auditTables = ['audit_sessions', 'audit_timeline', 'audit_refusals'] as const;

export const sessionColumns = [
  'tenant_id',
  'session_id',
  'parked_revision',
  'call_id',
  'policy',
  'orbit',
  'orbit_code',
  'caller',
  'parker_user_id',
  'parker_endpoint',
  'parked_at',
  'outcome',
  'phase',
  'ring_back_attempts',
  'due_at',
  'retriever_user_id',
  'retriever_endpoint',
  'ended_at',
  'time_to_retrieve_ms',
  'fallback',
] as const;
export const timelineColumns = ['tenant_id', 'stream_revision', 'session_id', 'type', 'at', 'details'] as const;
export const refusalColumns = ['tenant_id', 'stream_revision', 'type', 'at', 'reason', 'message', 'policy', 'user_id', 'endpoint', 'federated', 'call_id', 'orbit_code', 'media'] as const;

export const sessionShape = (t: Tables): TableShape<AuditSessionRow> => ({ table: t('audit_sessions'), key: ['tenant_id', 'session_id'], columns: sessionColumns });
export const timelineShape = (t: Tables): TableShape<AuditTimelineRow> => ({ table: t('audit_timeline'), key: ['tenant_id', 'stream_revision'], columns: timelineColumns });
export const refusalShape = (t: Tables): TableShape<AuditRefusalRow> => ({ table: t('audit_refusals'), key: ['tenant_id', 'stream_revision'], columns: refusalColumns });

const migrations = (t: Tables) => {
  const sessions = t('audit_sessions');
  const timeline = t('audit_timeline');
  const refusals = t('audit_refusals');
  return [
    {
      id: 1,
      name: 'create audit_sessions, audit_timeline and audit_refusals',
      sql: [
        `CREATE TABLE ${sessions} (
          tenant_id TEXT NOT NULL,
          session_id TEXT NOT NULL,
          parked_revision BIGINT NOT NULL,
          call_id TEXT NOT NULL,
          policy TEXT NOT NULL,
          orbit INTEGER NOT NULL,
          orbit_code TEXT NOT NULL,
          caller TEXT,
          parker_user_id TEXT NOT NULL,
          parker_endpoint TEXT NOT NULL,
          parked_at BIGINT NOT NULL,
          outcome TEXT NOT NULL,
          phase TEXT,
          ring_back_attempts INTEGER NOT NULL,
          due_at BIGINT,
          retriever_user_id TEXT,
          retriever_endpoint TEXT,
          ended_at BIGINT,
          time_to_retrieve_ms BIGINT,
          fallback TEXT,
          PRIMARY KEY (tenant_id, session_id)
        )`,
        `CREATE INDEX ${sessions}_by_parked ON ${sessions} (tenant_id, parked_at, parked_revision)`,
        `CREATE INDEX ${sessions}_by_parker ON ${sessions} (tenant_id, parker_user_id, parked_at)`,
        `CREATE INDEX ${sessions}_by_retriever ON ${sessions} (tenant_id, retriever_user_id, parked_at)`,
        `CREATE INDEX ${sessions}_by_call ON ${sessions} (tenant_id, call_id)`,
        `CREATE INDEX ${sessions}_by_orbit ON ${sessions} (tenant_id, orbit, parked_at)`,
        `CREATE INDEX ${sessions}_by_outcome ON ${sessions} (tenant_id, outcome, parked_at)`,
        `CREATE TABLE ${timeline} (
          tenant_id TEXT NOT NULL,
          stream_revision BIGINT NOT NULL,
          session_id TEXT NOT NULL,
          type TEXT NOT NULL,
          at BIGINT NOT NULL,
          details TEXT NOT NULL,
          PRIMARY KEY (tenant_id, stream_revision)
        )`,
        `CREATE INDEX ${timeline}_by_session ON ${timeline} (tenant_id, session_id, stream_revision)`,
        `CREATE TABLE ${refusals} (
          tenant_id TEXT NOT NULL,
          stream_revision BIGINT NOT NULL,
          type TEXT NOT NULL,
          at BIGINT NOT NULL,
          reason TEXT NOT NULL,
          message TEXT NOT NULL,
          policy TEXT,
          user_id TEXT NOT NULL,
          endpoint TEXT NOT NULL,
          federated INTEGER,
          call_id TEXT,
          orbit_code TEXT,
          media TEXT,
          PRIMARY KEY (tenant_id, stream_revision)
        )`,
        `CREATE INDEX ${refusals}_by_at ON ${refusals} (tenant_id, at, stream_revision)`,
        `CREATE INDEX ${refusals}_by_user ON ${refusals} (tenant_id, user_id, at)`,
      ],
    },
  ];
};

const refusalRow = (event: ParkRejected | RetrievalRejected, metadata: EventMetadata, revision: number): AuditRefusalRow => {
  const common = {
    tenant_id: event.tenantId,
    stream_revision: revision,
    at: event.at,
    reason: event.reason,
    // The sentence the person was told, as the command recorded it.
    message: metadata.rejectionMessage ?? sentenceFor(event.reason),
    policy: event.policy ?? null,
  };
  return event.type === 'ParkRejected'
    ? { ...common, type: event.type, user_id: event.parker.userId, endpoint: event.parker.endpoint, federated: null, call_id: event.callId, orbit_code: event.orbitCode ?? null, media: event.media }
    : {
        ...common,
        type: event.type,
        user_id: event.retriever.userId,
        endpoint: event.retriever.endpoint,
        federated: event.retriever.federated ? 1 : 0,
        call_id: event.retrieverCallId ?? null,
        orbit_code: event.orbitCode,
        media: null,
      };
};

const ended = (row: AuditSessionRow, at: number): AuditSessionRow => ({ ...row, phase: null, due_at: null, ended_at: at });

/** The session row after one of its events; undefined for an event of no session. */
const sessionAfter = (row: AuditSessionRow | undefined, event: CallParkEvent, revision: number): AuditSessionRow | undefined => {
  switch (event.type) {
    case 'Parked':
      return {
        tenant_id: event.tenantId,
        session_id: event.sessionId,
        parked_revision: revision,
        call_id: event.callId,
        policy: event.policy,
        orbit: event.orbit,
        orbit_code: event.orbitCode,
        caller: event.caller ?? null,
        parker_user_id: event.parker.userId,
        parker_endpoint: event.parker.endpoint,
        parked_at: event.at,
        outcome: 'active',
        phase: 'parked',
        ring_back_attempts: 0,
        due_at: event.ringBackDueAt,
        retriever_user_id: null,
        retriever_endpoint: null,
        ended_at: null,
        time_to_retrieve_ms: null,
        fallback: null,
      };
    case 'RingBackStarted':
      return row && { ...row, phase: 'ringing-back', ring_back_attempts: event.attempt, due_at: event.unansweredAt };
    case 'RingBackUnanswered':
      return row && { ...row, phase: 'parked', due_at: event.nextRingBackDueAt };
    case 'Retrieved':
      return (
        row && {
          ...ended(row, event.at),
          outcome: event.via === 'ring-back' ? 'retrieved-by-ring-back' : 'retrieved',
          retriever_user_id: event.retriever.userId,
          retriever_endpoint: event.retriever.endpoint,
          time_to_retrieve_ms: event.at - event.parkedAt,
        }
      );
    case 'Expired':
      return row && { ...ended(row, event.at), outcome: 'expired', ring_back_attempts: event.attempts, fallback: event.fallback };
    case 'Abandoned':
      return row && { ...ended(row, event.at), outcome: 'abandoned' };
    default:
      return undefined;
  }
};

const isSessionEvent = (event: CallParkEvent): event is Extract<CallParkEvent, { sessionId: string }> => 'sessionId' in event;

/** The name of the rows the projection keeps in its BatchMemory. */
const auditSessionRows = {};

export const auditHistoryProjection: Projection = {
  name: 'audit_history',
  version: 1,
  tables: auditTables,
  migrations,
  filter: callParkEventsOf([...sessionEventTypes, ...refusalEventTypes]),
  handle: async (recorded, tx, t, memory) => {
    const events = decodeEvents(recorded);
    const sessions = memory.keep(auditSessionRows, () => new RowCache(sessionShape(t)));
    for (const { event } of events) if (isSessionEvent(event) && event.type !== 'Parked') sessions.want([event.tenantId, event.sessionId]);
    await sessions.load(tx);

    const timeline: AuditTimelineRow[] = [];
    const refusals: AuditRefusalRow[] = [];
    for (const { event, metadata, revision } of events) {
      if (event.type === 'ParkRejected' || event.type === 'RetrievalRejected') {
        refusals.push(refusalRow(event, metadata, revision));
        continue;
      }
      if (!isSessionEvent(event)) continue;
      const before = event.type === 'Parked' ? undefined : sessions.get([event.tenantId, event.sessionId]);
      const after = sessionAfter(before, event, revision);
      // An event of a session whose park is not in the log has no session to join.
      if (after === undefined) continue;
      sessions.put(after);
      const entry = timelineEntry(event);
      timeline.push({ tenant_id: event.tenantId, stream_revision: revision, session_id: event.sessionId, type: entry.type, at: entry.at, details: JSON.stringify(entry.details) });
    }
    await sessions.flush(tx);
    sessions.trim();
    await insertRows(tx, timelineShape(t), timeline);
    await insertRows(tx, refusalShape(t), refusals);
  },
};
