/**
 * What the chaos test finds at the end, from the stores themselves: the log (every acknowledged
 * command exactly once; no orbit held by two live sessions; every ring back due fired once, and
 * how late), the directives topic (every event's directives, duplicates only with the same id)
 * and the read store (every projection equal to a fresh fold of the log).
 */
import type { CallParkEvent } from '../../domain/events.js';
import { directivesFor } from '../../domain/directives.js';
import type { EventStore } from '../../domain/eventStore.js';
import { directiveIdFor } from '../../adapters/kafka/directiveRecord.js';
import { tablesOf, type Projection } from '../../projections/projection.js';
import type { ReadStore } from '../../projections/readStore.js';
import { buildShadow } from '../../projections/rebuild.js';
import { decodeLog, readLog } from '../projections/readSideOracle.js';
import type { Acknowledged } from './traffic.js';

export interface LogFigures {
  readonly events: number;
  readonly acknowledged: number;
  /** Acknowledged commands whose events are in the log once (those answered `no-op` count when absent). */
  readonly exactlyOnce: number;
  readonly missing: readonly string[];
  readonly doubled: readonly string[];
  /** Parks onto an orbit another live session of the tenant held. */
  readonly orbitConflicts: number;
  readonly sessions: number;
  readonly sessionsOpen: number;
  readonly timersDue: number;
  readonly timersFired: number;
  /** Timers owed by a session that never ended: they never fired. */
  readonly timersMissed: readonly string[];
  /** Timers that had not fired 5 s after they were due when someone else ended the session (a retrieval, a hang-up). */
  readonly timersOvertaken: number;
  readonly timersDoubled: readonly string[];
  /** Lateness of every fired timer (the event's `at` minus the due time), ms, sorted. */
  readonly lateness: readonly number[];
  /** The timers that fired more than 5 s late, with their due and firing times. */
  readonly late: readonly { readonly timer: string; readonly dueAt: number; readonly at: number }[];
  /** Every fired timer with its due and firing times, in due order. */
  readonly firings: readonly { readonly timer: string; readonly dueAt: number; readonly at: number }[];
}

const percentile = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
export const latenessSummary = (sorted: readonly number[]) => ({ p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0, over5s: sorted.filter((ms) => ms > 5_000).length });

/** A shard of the ring-back scheduler without a live holder: from the SIGKILL of the instance that held it until another instance held it. */
export interface Downtime {
  readonly shard: number;
  readonly from: number;
  readonly to: number;
}

/**
 * The lateness of the fired timers (ms, sorted) but those due while their tenant's shard was down
 * (`downtimes`): the figure "excluding the instance's own downtime".
 */
export const latenessOutsideDowntime = (
  firings: LogFigures['firings'],
  downtimes: readonly Downtime[],
  shardOfTenant: (tenantId: string) => number,
): number[] =>
  firings
    .filter(({ timer, dueAt }) => {
      const shard = shardOfTenant(timer.slice(0, timer.indexOf('/')));
      return !downtimes.some((down) => down.shard === shard && dueAt >= down.from && dueAt <= down.to);
    })
    .map(({ dueAt, at }) => Math.max(0, at - dueAt))
    .sort((a, b) => a - b);

type Logged = { event: CallParkEvent; commandId: string; eventId: string };

export const readTheLog = async (store: EventStore): Promise<Logged[]> => {
  const recorded = (await readLog(store)).filter((event) => event.streamName.startsWith('callpark-tenant-'));
  const decoded = decodeLog(recorded);
  return decoded.map(({ event, metadata }, index) => ({ event, commandId: metadata.commandId, eventId: recorded[index]!.id }));
};

const ENDINGS = new Set(['Retrieved', 'Expired', 'Abandoned']);

export const judgeLog = (log: readonly Logged[], acknowledged: readonly Acknowledged[]): LogFigures => {
  // Commands: each acknowledged one recorded by one decision (no two events of one type for one session).
  const byCommand = new Map<string, string[]>();
  for (const { event, commandId } of log) {
    const key = `${event.type}:${'sessionId' in event ? event.sessionId : event.tenantId}`;
    byCommand.set(commandId, [...(byCommand.get(commandId) ?? []), key]);
  }
  const missing: string[] = [];
  const doubled: string[] = [];
  let exactlyOnce = 0;
  for (const { commandId, outcome } of acknowledged) {
    const keys = byCommand.get(commandId);
    if (keys === undefined) {
      if (outcome === 'no-op') exactlyOnce++;
      else missing.push(commandId);
    } else if (new Set(keys).size !== keys.length) doubled.push(commandId);
    else exactlyOnce++;
  }

  // Orbits, in log order: a park takes a free orbit; an ending frees it.
  const held = new Map<string, string>();
  let orbitConflicts = 0;
  // Timers: what each session is owed, and what fired.
  const due = new Map<string, { dueAt: number; sessionKey: string }>();
  const fired = new Map<string, number[]>();
  const endedAt = new Map<string, number>();
  const sessions = new Set<string>();
  const ended = new Set<string>();
  for (const { event, commandId } of log) {
    if (!('sessionId' in event)) continue;
    const sessionKey = `${event.tenantId}/${event.sessionId}`;
    const orbitKey = `${event.tenantId}/${event.orbit}`;
    switch (event.type) {
      case 'Parked':
        sessions.add(sessionKey);
        if (held.has(orbitKey)) orbitConflicts++;
        held.set(orbitKey, sessionKey);
        due.set(`${event.tenantId}/ring-back-due:${event.sessionId}:1`, { dueAt: event.ringBackDueAt, sessionKey });
        break;
      case 'RingBackStarted':
        due.set(`${event.tenantId}/ring-back-unanswered:${event.sessionId}:${event.attempt}`, { dueAt: event.unansweredAt, sessionKey });
        break;
      case 'RingBackUnanswered':
        due.set(`${event.tenantId}/ring-back-due:${event.sessionId}:${event.attempt + 1}`, { dueAt: event.nextRingBackDueAt, sessionKey });
        break;
      default:
        break;
    }
    if (ENDINGS.has(event.type)) {
      if (held.get(orbitKey) === sessionKey) held.delete(orbitKey);
      ended.add(sessionKey);
      if (!commandId.startsWith('ring-back-')) endedAt.set(sessionKey, event.at);
    }
    if (commandId.startsWith('ring-back-')) fired.set(`${event.tenantId}/${commandId}`, [...(fired.get(`${event.tenantId}/${commandId}`) ?? []), event.at]);
  }
  const timersMissed: string[] = [];
  const timersDoubled: string[] = [];
  const lateness: number[] = [];
  const late: { timer: string; dueAt: number; at: number }[] = [];
  const firings: { timer: string; dueAt: number; at: number }[] = [];
  let timersDue = 0;
  let timersOvertaken = 0;
  for (const [timer, { dueAt, sessionKey }] of due) {
    const endedBySomeone = endedAt.get(sessionKey);
    const at = fired.get(timer);
    // A session ended by someone else before its timer came due owes nothing.
    if (at === undefined && endedBySomeone !== undefined && endedBySomeone <= dueAt + 5_000) continue;
    timersDue++;
    if (at === undefined && endedBySomeone !== undefined) timersOvertaken++;
    else if (at === undefined) timersMissed.push(timer);
    else if (at.length > 1) timersDoubled.push(timer);
    else {
      lateness.push(Math.max(0, at[0]! - dueAt));
      firings.push({ timer, dueAt, at: at[0]! });
      if (at[0]! - dueAt > 5_000) late.push({ timer, dueAt, at: at[0]! });
    }
  }
  const open = [...sessions].filter((session) => !ended.has(session)).length;
  return {
    events: log.length,
    acknowledged: acknowledged.length,
    exactlyOnce,
    missing,
    doubled,
    orbitConflicts,
    sessions: sessions.size,
    sessionsOpen: open,
    timersDue,
    timersFired: lateness.length,
    timersMissed,
    timersOvertaken,
    timersDoubled,
    lateness: lateness.sort((a, b) => a - b),
    late,
    firings: firings.sort((a, b) => a.dueAt - b.dueAt),
  };
};

export interface DirectiveFigures {
  readonly expected: number;
  readonly published: number;
  readonly missing: number;
  /** Records whose directive id was published before (allowed). */
  readonly duplicates: number;
  /** Two records with one directive id but different content (never allowed). */
  readonly conflicting: number;
}

export const judgeDirectives = (log: readonly Logged[], records: readonly { directiveId: string; value: string }[]): DirectiveFigures => {
  const seen = new Map<string, string>();
  let duplicates = 0;
  let conflicting = 0;
  for (const { directiveId, value } of records) {
    const before = seen.get(directiveId);
    if (before === undefined) seen.set(directiveId, value);
    else if (before === value) duplicates++;
    else conflicting++;
  }
  let expected = 0;
  let missing = 0;
  for (const { event, eventId } of log) {
    directivesFor(event).forEach((_, index) => {
      expected++;
      if (!seen.has(directiveIdFor(eventId, index))) missing++;
    });
  }
  return { expected, published: records.length, missing, duplicates, conflicting };
};

/** Each projection's tables against a fresh fold of the log into shadow tables: the names of those that differ. */
export const judgeProjections = async (deps: { eventStore: EventStore; readStore: ReadStore }, projections: readonly Projection[]): Promise<{ equal: string[]; different: string[] }> => {
  const equal: string[] = [];
  const different: string[] = [];
  for (const projection of projections) {
    const shadow = await buildShadow(deps, projection, { prefix: 'chaos_' });
    try {
      const live = tablesOf(projection);
      let same = true;
      for (const base of projection.tables) {
        const rows = async (table: string) => (await deps.readStore.query<Record<string, unknown>>(`SELECT * FROM ${table}`)).map((row) => JSON.stringify(row, (_, value: unknown) => (typeof value === 'bigint' ? String(value) : value))).sort();
        if (JSON.stringify(await rows(live(base))) !== JSON.stringify(await rows(shadow.tables(base)))) same = false;
      }
      (same ? equal : different).push(projection.name);
    } finally {
      await shadow.discard();
    }
  }
  return { equal, different };
};
