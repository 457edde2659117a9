/**
 * Ring-back timers: every pending timer of call park, derived from the events alone (I7), so a
 * restart loses none and one that came due while the service was down is still in the table.
 *
 * One row per active park session, holding the one timer it waits for:
 * - after `Parked`: the ring back is due (attempt 1) at `ringBackDueAt`;
 * - after `RingBackStarted`: that attempt goes unanswered at `unansweredAt`;
 * - after `RingBackUnanswered`: the next ring back (attempt + 1) is due at `nextRingBackDueAt`;
 * - after `Retrieved`, `Expired` or `Abandoned`: none, and the row is gone.
 *
 * Each row also keeps the log position of the event that set it, so a reader can ask for the
 * rows that changed since it last looked (`changedTimers`) as well as those coming due
 * (`timersDueBetween`): the ring-back scheduler (adapters/scheduler/) does both.
 */
import * as E from 'fp-ts/lib/Either.js';
import { callParkStreamPrefix } from '../domain/callPark.js';
import type { RecordedEvent } from '../domain/eventStore.js';
import type { CallParkEvent } from '../domain/events.js';
import { fromStoredForm } from '../domain/storedForm/storedEvent.js';
import { tablesOf, type Projection, type Tables } from './projection.js';
import type { RunnerOptions } from './runner.js';
import { toBigInt, values, type Migration, type SqlExecutor, type SqlValue } from './readStore.js';

export type TimerKind = 'ring-back-due' | 'ring-back-unanswered';

export interface RingBackTimer {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly callId: string;
  readonly kind: TimerKind;
  /** The ring back the timer is about: the one to start (`ring-back-due`) or the one ringing (`ring-back-unanswered`). */
  readonly attempt: number;
  readonly dueAt: number;
  /** The commit position of the event that set this timer. */
  readonly position: bigint;
}

/** What one event does to its session's timer: sets it, or ends it. */
export type TimerEffect =
  | { readonly effect: 'set'; readonly timer: Omit<RingBackTimer, 'position'> }
  | { readonly effect: 'clear'; readonly tenantId: string; readonly sessionId: string };

const TABLE = 'ring_back_timers';

/** The timer an event leaves its session waiting for; undefined for events that do not touch one. */
export const timerEffectOf = (event: CallParkEvent): TimerEffect | undefined => {
  switch (event.type) {
    case 'Parked':
      return { effect: 'set', timer: { ...sessionOf(event), kind: 'ring-back-due', attempt: 1, dueAt: event.ringBackDueAt } };
    case 'RingBackStarted':
      return { effect: 'set', timer: { ...sessionOf(event), kind: 'ring-back-unanswered', attempt: event.attempt, dueAt: event.unansweredAt } };
    case 'RingBackUnanswered':
      return { effect: 'set', timer: { ...sessionOf(event), kind: 'ring-back-due', attempt: event.attempt + 1, dueAt: event.nextRingBackDueAt } };
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned':
      return { effect: 'clear', tenantId: event.tenantId, sessionId: event.sessionId };
    case 'ParkRejected':
    case 'RetrievalRejected':
    case 'PolicyCreated':
    case 'PolicySettingsChanged':
    case 'PolicyRemoved':
    case 'PolicyGranted':
    case 'EndpointCapabilitiesSet':
    case 'EndpointCapabilitiesReset':
      return undefined;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};

const sessionOf = (event: { tenantId: string; sessionId: string; callId: string }) => ({ tenantId: event.tenantId, sessionId: event.sessionId, callId: event.callId });

/** Read a stored event of a call park stream back, or say which one cannot be read. */
export const decodeRecorded = (recorded: RecordedEvent): CallParkEvent => {
  const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
  if (E.isLeft(decoded)) throw new Error(`Event ${recorded.revision} of ${recorded.streamName} cannot be read: ${decoded.left.message}`);
  return decoded.right.event;
};

const migrations = (t: Tables): readonly Migration[] => [
  {
    id: 1,
    name: `create ${TABLE}`,
    sql: [
      `CREATE TABLE ${t(TABLE)} (
        tenant_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        due_at BIGINT NOT NULL,
        event_position BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, session_id)
      )`,
      `CREATE INDEX ${t(TABLE)}_by_due_at ON ${t(TABLE)} (due_at)`,
      `CREATE INDEX ${t(TABLE)}_by_event_position ON ${t(TABLE)} (event_position)`,
    ],
  },
];

/** Rows a statement takes at a time: 7 parameters each, well under both dialects' limits. */
const CHUNK = 500;

const chunks = <T>(items: readonly T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const upsert = async (tx: SqlExecutor, table: string, timers: readonly RingBackTimer[]): Promise<void> => {
  for (const rows of chunks(timers)) {
    await tx.execute(
      `INSERT INTO ${table} (tenant_id, session_id, call_id, kind, attempt, due_at, event_position) VALUES ${values(rows.length, 7)}
       ON CONFLICT (tenant_id, session_id) DO UPDATE SET call_id = excluded.call_id, kind = excluded.kind, attempt = excluded.attempt,
         due_at = excluded.due_at, event_position = excluded.event_position`,
      rows.flatMap((timer): SqlValue[] => [timer.tenantId, timer.sessionId, timer.callId, timer.kind, timer.attempt, timer.dueAt, timer.position]),
    );
  }
};

const clear = async (tx: SqlExecutor, table: string, sessions: readonly { tenantId: string; sessionId: string }[]): Promise<void> => {
  const byTenant = new Map<string, string[]>();
  for (const { tenantId, sessionId } of sessions) byTenant.set(tenantId, [...(byTenant.get(tenantId) ?? []), sessionId]);
  for (const [tenantId, sessionIds] of byTenant) {
    for (const ids of chunks(sessionIds)) {
      const placeholders = ids.map((_, i) => `$${i + 2}`).join(', ');
      await tx.execute(`DELETE FROM ${table} WHERE tenant_id = $1 AND session_id IN (${placeholders})`, [tenantId, ...ids]);
    }
  }
};

export const ringBackTimersProjection: Projection = {
  name: 'ring_back_timers',
  version: 1,
  tables: [TABLE],
  migrations,
  filter: { streamNamePrefixes: [callParkStreamPrefix], eventTypePrefixes: ['Parked', 'RingBack', 'Retrieved', 'Expired', 'Abandoned'] },
  handle: async (events, tx, t) => {
    // Only the last effect on each session in the batch matters: one statement per kind of change.
    const last = new Map<string, RingBackTimer | { tenantId: string; sessionId: string }>();
    for (const recorded of events) {
      const effect = timerEffectOf(decodeRecorded(recorded));
      if (effect === undefined) continue;
      const session = effect.effect === 'set' ? effect.timer : effect;
      const key = `${session.tenantId}\u0000${session.sessionId}`;
      last.delete(key);
      last.set(key, effect.effect === 'set' ? { ...effect.timer, position: recorded.position.commit } : { tenantId: effect.tenantId, sessionId: effect.sessionId });
    }
    const set: RingBackTimer[] = [];
    const cleared: { tenantId: string; sessionId: string }[] = [];
    for (const change of last.values()) {
      if ('kind' in change) set.push(change);
      else cleared.push(change);
    }
    await upsert(tx, t(TABLE), set);
    await clear(tx, t(TABLE), cleared);
  },
};

/**
 * How the service runs this projection: a batch waits up to 100 ms for more events before it is
 * committed, so that a busy log's events go in a few read-store transactions rather than one per
 * group commit of the event store (a transaction's BEGIN and COMMIT cost about as much as its
 * rows). A timer is due seconds after the event that sets it, so 100 ms of delay in the table
 * costs no ring back its time.
 */
export const ringBackTimersRunnerOptions: RunnerOptions = { lingerMs: 100 };

/** The live table's name. */
const live = tablesOf(ringBackTimersProjection)(TABLE);

interface TimerRow {
  tenant_id: string;
  session_id: string;
  call_id: string;
  kind: string;
  attempt: number;
  due_at: unknown;
  event_position: unknown;
  [column: string]: unknown;
}

const COLUMNS = 'tenant_id, session_id, call_id, kind, attempt, due_at, event_position';

const timerOf = (row: TimerRow): RingBackTimer => {
  if (row.kind !== 'ring-back-due' && row.kind !== 'ring-back-unanswered') throw new Error(`A ring-back timer of unknown kind "${row.kind}" (session ${row.session_id}).`);
  return {
    tenantId: row.tenant_id,
    sessionId: row.session_id,
    callId: row.call_id,
    // The constant, not the row's own copy of the text: a scheduler may hold 100,000 of these.
    kind: row.kind === 'ring-back-due' ? 'ring-back-due' : 'ring-back-unanswered',
    attempt: Number(row.attempt),
    dueAt: Number(toBigInt(row.due_at)),
    position: toBigInt(row.event_position),
  };
};

/**
 * Up to `limit` timers due after `after` (all of them from the start when undefined) and at or
 * before `until`, earliest first. Timers due at the same instant come in no particular order:
 * page with `timersDueAt` for the instant a full page ends on.
 */
export const timersDueBetween = async (db: SqlExecutor, after: number | undefined, until: number, limit: number): Promise<RingBackTimer[]> => {
  const rows =
    after === undefined
      ? await db.query<TimerRow>(`SELECT ${COLUMNS} FROM ${live} WHERE due_at <= $1 ORDER BY due_at LIMIT $2`, [until, limit])
      : await db.query<TimerRow>(`SELECT ${COLUMNS} FROM ${live} WHERE due_at > $1 AND due_at <= $2 ORDER BY due_at LIMIT $3`, [after, until, limit]);
  return rows.map(timerOf);
};

/** Every timer due exactly at `dueAt`. */
export const timersDueAt = async (db: SqlExecutor, dueAt: number): Promise<RingBackTimer[]> =>
  (await db.query<TimerRow>(`SELECT ${COLUMNS} FROM ${live} WHERE due_at = $1`, [dueAt])).map(timerOf);

/**
 * The timers set at or after log position `since` and due at or before `until`, in log order.
 * At, not after: events appended together may share a commit position.
 */
export const changedTimers = async (db: SqlExecutor, since: bigint, until: number): Promise<RingBackTimer[]> =>
  (await db.query<TimerRow>(`SELECT ${COLUMNS} FROM ${live} WHERE event_position >= $1 AND due_at <= $2 ORDER BY event_position`, [since, until])).map(timerOf);
