/**
 * Reading the audit history: search park sessions and refused attempts, a page at a time, and
 * one session with its timeline.
 *
 * Pages are keyset pages, newest first: sessions by (parked_at, parked_revision), refusals by
 * (at, stream_revision), both descending. Both keys are integers, so the order is the same in
 * SQLite and PostgreSQL whatever the collation, and a page never skips or repeats a row when new
 * sessions arrive while someone pages. The cursor is opaque to callers (base64url JSON).
 */
import type { Party } from '../domain/commands.js';
import type { Endpoint } from '../domain/endpoint.js';
import type { EventType } from '../domain/events.js';
import { parseOrbitCode } from '../domain/orbit.js';
import type { SessionStatus, SessionView, TimelineEntry } from '../domain/sessionTimeline.js';
import { auditHistoryProjection, sessionColumns, type AuditRefusalRow, type AuditSessionRow, type SessionOutcome } from './auditHistory.js';
import type { ReadSource } from './occupancyQueries.js';
import { tablesOf } from './projection.js';
import type { SqlExecutor, SqlValue } from './readStore.js';

export const liveAudit = (db: SqlExecutor): ReadSource => ({ db, tables: tablesOf(auditHistoryProjection) });

export const MAX_PAGE_SIZE = 1_000;
export const DEFAULT_PAGE_SIZE = 50;

export interface SessionSearch {
  readonly tenantId: string;
  /** The user, as parker or as retriever. */
  readonly user?: string;
  /** An orbit code as people dial it (`42`, `*3012`; the prefix may be left off). */
  readonly orbit?: string;
  readonly call?: string;
  readonly policy?: string;
  readonly outcome?: SessionOutcome;
  /** Sessions parked at or after this instant (ms since the epoch)… */
  readonly from?: number;
  /** …and before this one. */
  readonly to?: number;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface RefusalSearch {
  readonly tenantId: string;
  readonly user?: string;
  /** The orbit code asked for or dialed, as written. */
  readonly orbit?: string;
  readonly call?: string;
  readonly reason?: string;
  readonly type?: 'ParkRejected' | 'RetrievalRejected';
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface SessionSummary {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly callId: string;
  readonly policy: string;
  readonly orbit: number;
  readonly orbitCode: string;
  readonly caller?: string;
  readonly parker: Party;
  readonly retriever?: Party;
  readonly outcome: SessionOutcome;
  readonly status: SessionStatus;
  readonly parkedAt: number;
  readonly endedAt?: number;
  readonly timeToRetrieveMs?: number;
  readonly ringBackAttempts: number;
  readonly dueAt?: number;
  readonly fallback?: string;
}

export interface Refusal {
  readonly tenantId: string;
  readonly type: 'ParkRejected' | 'RetrievalRejected';
  readonly at: number;
  readonly reason: string;
  readonly message: string;
  readonly policy?: string;
  readonly user: Party;
  readonly federated?: boolean;
  readonly callId?: string;
  readonly orbitCode?: string;
  readonly media?: string;
  /** Its revision in the tenant's stream: identifies it. */
  readonly revision: number;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass it back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export class InvalidCursor extends Error {
  override readonly name = 'InvalidCursor';
}

const encodeCursor = (key: readonly [number, number]): string => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

export const decodeCursor = (cursor: string): [number, number] => {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 2 && key.every((part) => Number.isSafeInteger(part))) return [key[0] as number, key[1] as number];
  } catch {
    // Not JSON: told below.
  }
  throw new InvalidCursor('The cursor is not one this service gave out: start again without it.');
};

export const pageSize = (limit: number | undefined): number => Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(limit ?? DEFAULT_PAGE_SIZE)));

/** WHERE conditions and their parameters, numbered as they are added. */
class Conditions {
  readonly clauses: string[] = [];
  readonly params: SqlValue[] = [];

  param(value: SqlValue): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(clause: (param: (value: SqlValue) => string) => string): void {
    this.clauses.push(clause((value) => this.param(value)));
  }

  get sql(): string {
    return this.clauses.join(' AND ');
  }
}

export const statusOf = (row: Pick<AuditSessionRow, 'outcome' | 'phase'>): SessionStatus => {
  switch (row.outcome) {
    case 'active':
      return row.phase === 'ringing-back' ? 'ringing-back' : 'parked';
    case 'retrieved':
    case 'retrieved-by-ring-back':
      return 'retrieved';
    case 'expired':
    case 'abandoned':
      return row.outcome;
    default: {
      const unknown: never = row.outcome;
      return unknown;
    }
  }
};

const party = (userId: string, endpoint: string): Party => ({ userId, endpoint: endpoint as Endpoint });

export const sessionSummary = (row: AuditSessionRow): SessionSummary => ({
  tenantId: row.tenant_id,
  sessionId: row.session_id,
  callId: row.call_id,
  policy: row.policy,
  orbit: row.orbit,
  orbitCode: row.orbit_code,
  ...(row.caller === null ? {} : { caller: row.caller }),
  parker: party(row.parker_user_id, row.parker_endpoint),
  ...(row.retriever_user_id === null ? {} : { retriever: party(row.retriever_user_id, row.retriever_endpoint ?? '') }),
  outcome: row.outcome,
  status: statusOf(row),
  parkedAt: row.parked_at,
  ...(row.ended_at === null ? {} : { endedAt: row.ended_at }),
  ...(row.time_to_retrieve_ms === null ? {} : { timeToRetrieveMs: row.time_to_retrieve_ms }),
  ringBackAttempts: row.ring_back_attempts,
  ...(row.due_at === null ? {} : { dueAt: row.due_at }),
  ...(row.fallback === null ? {} : { fallback: row.fallback }),
});

const sessionConditions = (search: SessionSearch): Conditions => {
  const where = new Conditions();
  where.add((p) => `tenant_id = ${p(search.tenantId)}`);
  if (search.user !== undefined) {
    where.add((p) => {
      const user = p(search.user!);
      return `(parker_user_id = ${user} OR retriever_user_id = ${user})`;
    });
  }
  if (search.orbit !== undefined) {
    const orbit = parseOrbitCode(search.orbit);
    // By the code as dialed, or by its digits when the prefix was left off.
    where.add((p) => `(orbit_code = ${p(search.orbit!.trim())} OR orbit = ${p(orbit ?? -1)})`);
  }
  if (search.call !== undefined) where.add((p) => `call_id = ${p(search.call!)}`);
  if (search.policy !== undefined) where.add((p) => `policy = ${p(search.policy!)}`);
  if (search.outcome !== undefined) where.add((p) => `outcome = ${p(search.outcome!)}`);
  if (search.from !== undefined) where.add((p) => `parked_at >= ${p(search.from!)}`);
  if (search.to !== undefined) where.add((p) => `parked_at < ${p(search.to!)}`);
  return where;
};

/** Sessions matching the search, newest first, a page at a time. */
export const searchSessions = async ({ db, tables: t }: ReadSource, search: SessionSearch): Promise<Page<SessionSummary>> => {
  const limit = pageSize(search.limit);
  const where = sessionConditions(search);
  if (search.cursor !== undefined) {
    const [parkedAt, revision] = decodeCursor(search.cursor);
    where.add((p) => {
      const at = p(parkedAt);
      return `(parked_at < ${at} OR (parked_at = ${at} AND parked_revision < ${p(revision)}))`;
    });
  }
  const rows = await db.query<AuditSessionRow>(
    `SELECT ${sessionColumns.join(', ')} FROM ${t('audit_sessions')} WHERE ${where.sql} ORDER BY parked_at DESC, parked_revision DESC LIMIT ${where.param(limit + 1)}`,
    where.params,
  );
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(sessionSummary), ...(rows.length > limit && last ? { nextCursor: encodeCursor([last.parked_at, last.parked_revision]) } : {}) };
};

/** Every session matching the search (paging through them), newest first: for the CSV export. */
export async function* allSessions(source: ReadSource, search: Omit<SessionSearch, 'limit' | 'cursor'>): AsyncGenerator<SessionSummary> {
  let cursor: string | undefined;
  do {
    const page = await searchSessions(source, { ...search, limit: MAX_PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

const refusal = (row: AuditRefusalRow): Refusal => ({
  tenantId: row.tenant_id,
  type: row.type,
  at: row.at,
  reason: row.reason,
  message: row.message,
  ...(row.policy === null ? {} : { policy: row.policy }),
  user: party(row.user_id, row.endpoint),
  ...(row.federated === null ? {} : { federated: row.federated === 1 }),
  ...(row.call_id === null ? {} : { callId: row.call_id }),
  ...(row.orbit_code === null ? {} : { orbitCode: row.orbit_code }),
  ...(row.media === null ? {} : { media: row.media }),
  revision: row.stream_revision,
});

/** Refused attempts matching the search, newest first, a page at a time. */
export const searchRefusals = async ({ db, tables: t }: ReadSource, search: RefusalSearch): Promise<Page<Refusal>> => {
  const limit = pageSize(search.limit);
  const where = new Conditions();
  where.add((p) => `tenant_id = ${p(search.tenantId)}`);
  if (search.user !== undefined) where.add((p) => `user_id = ${p(search.user!)}`);
  if (search.orbit !== undefined) where.add((p) => `orbit_code = ${p(search.orbit!.trim())}`);
  if (search.call !== undefined) where.add((p) => `call_id = ${p(search.call!)}`);
  if (search.reason !== undefined) where.add((p) => `reason = ${p(search.reason!)}`);
  if (search.type !== undefined) where.add((p) => `type = ${p(search.type!)}`);
  if (search.from !== undefined) where.add((p) => `at >= ${p(search.from!)}`);
  if (search.to !== undefined) where.add((p) => `at < ${p(search.to!)}`);
  if (search.cursor !== undefined) {
    const [at, revision] = decodeCursor(search.cursor);
    where.add((p) => {
      const instant = p(at);
      return `(at < ${instant} OR (at = ${instant} AND stream_revision < ${p(revision)}))`;
    });
  }
  const rows = await db.query<AuditRefusalRow>(
    `SELECT tenant_id, stream_revision, type, at, reason, message, policy, user_id, endpoint, federated, call_id, orbit_code, media
     FROM ${t('audit_refusals')} WHERE ${where.sql} ORDER BY at DESC, stream_revision DESC LIMIT ${where.param(limit + 1)}`,
    where.params,
  );
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(refusal), ...(rows.length > limit && last ? { nextCursor: encodeCursor([last.at, last.stream_revision]) } : {}) };
};

type SessionWithEntry = AuditSessionRow & { entry_type: string; entry_at: number; entry_details: string };

/**
 * One session with its timeline, in the shape `domain/sessionTimeline.ts` folds it (what the
 * HTTP API's `SessionReads` port answers); undefined when the tenant has no such session. One
 * statement, so the facts and the timeline are of the same committed state.
 */
export const readSession = async ({ db, tables: t }: ReadSource, tenantId: string, sessionId: string): Promise<SessionView | undefined> => {
  const rows = await db.query<SessionWithEntry>(
    `SELECT ${sessionColumns.map((column) => `s.${column}`).join(', ')}, e.type AS entry_type, e.at AS entry_at, e.details AS entry_details
     FROM ${t('audit_sessions')} s JOIN ${t('audit_timeline')} e ON e.tenant_id = s.tenant_id AND e.session_id = s.session_id
     WHERE s.tenant_id = $1 AND s.session_id = $2 ORDER BY e.stream_revision`,
    [tenantId, sessionId],
  );
  const [row] = rows;
  if (row === undefined) return undefined;
  const timeline: TimelineEntry[] = rows.map((entry) => ({
    type: entry.entry_type as EventType,
    at: entry.entry_at,
    details: JSON.parse(entry.entry_details) as Record<string, unknown>,
  }));
  const status = statusOf(row);
  return {
    tenantId: row.tenant_id,
    sessionId: row.session_id,
    callId: row.call_id,
    policy: row.policy,
    orbit: row.orbit,
    orbitCode: row.orbit_code,
    parker: party(row.parker_user_id, row.parker_endpoint),
    ...(row.caller === null ? {} : { caller: row.caller }),
    parkedAt: row.parked_at,
    status,
    attempts: row.ring_back_attempts,
    ...(row.due_at === null ? {} : { dueAt: row.due_at }),
    ...(row.ended_at === null ? {} : { endedAt: row.ended_at }),
    ...(row.retriever_user_id === null ? {} : { retrievedBy: party(row.retriever_user_id, row.retriever_endpoint ?? ''), via: row.outcome === 'retrieved-by-ring-back' ? 'ring-back' : 'orbit' }),
    ...(row.fallback === null ? {} : { fallback: row.fallback }),
    timeline,
  };
};

/** The HTTP API's `SessionReads` port (adapters/http/dependencies.ts), answered from the audit history. */
export const auditSessionReads = (source: ReadSource): { session(tenantId: string, sessionId: string): Promise<SessionView | undefined> } => ({
  session: (tenantId, sessionId) => readSession(source, tenantId, sessionId),
});
