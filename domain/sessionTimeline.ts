/**
 * One park session as the audit sees it: its facts and its timeline, every event of the session
 * in order with its type, instant and details (DOMAIN.md, "Views"). `sessionView` folds a
 * session's events into it, so every reader (the audit projection, a test) tells the same story.
 *
 * Which events belong to a session is the reader's to decide: those that name its `sessionId`,
 * and, for an audit, the refused retrievals of its orbit while it was parked.
 */
import type { Party } from './commands.js';
import { eventCodecFor, type CallParkEvent } from './events.js';

export type SessionStatus = 'parked' | 'ringing-back' | 'retrieved' | 'expired' | 'abandoned';

export interface TimelineEntry {
  readonly type: CallParkEvent['type'];
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** The event's stored form without `type`, `at` and the facts every session event repeats. */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface SessionView {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly callId: string;
  readonly policy: string;
  readonly orbit: number;
  readonly orbitCode: string;
  readonly parker: Party;
  readonly caller?: string;
  readonly parkedAt: number;
  readonly status: SessionStatus;
  /** How many ring backs have started. */
  readonly attempts: number;
  /** Parked: when the next ring back is due; ringing back: when it goes unanswered. */
  readonly dueAt?: number;
  readonly endedAt?: number;
  /** Retrieved: who got the call, and how. */
  readonly retrievedBy?: Party;
  readonly via?: 'orbit' | 'ring-back';
  /** Expired: where the call went. */
  readonly fallback?: string;
  readonly timeline: readonly TimelineEntry[];
}

/** The facts every event of a session repeats; a timeline entry leaves them out. */
const repeated = new Set(['type', 'at', 'tenantId', 'policy', 'sessionId', 'callId', 'orbit', 'orbitCode', 'parker']);

export const timelineEntry = (event: CallParkEvent): TimelineEntry => {
  const stored = eventCodecFor(event.type)!.encode(event) as Record<string, unknown>;
  const details = Object.fromEntries(Object.entries(stored).filter(([key]) => !repeated.has(key)));
  return { type: event.type, at: event.at, details };
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Fold a session's events, in order, into its view; undefined when they hold no `Parked` (a
 * session begins with its park). Refused attempts join the timeline and change no fact.
 */
export const sessionView = (events: Iterable<CallParkEvent>): SessionView | undefined => {
  let view: Mutable<SessionView> | undefined;
  const timeline: TimelineEntry[] = [];
  for (const event of events) {
    if (event.type === 'Parked') {
      view = {
        tenantId: event.tenantId,
        sessionId: event.sessionId,
        callId: event.callId,
        policy: event.policy,
        orbit: event.orbit,
        orbitCode: event.orbitCode,
        parker: event.parker,
        ...(event.caller === undefined ? {} : { caller: event.caller }),
        parkedAt: event.at,
        status: 'parked',
        attempts: 0,
        dueAt: event.ringBackDueAt,
        timeline,
      };
    }
    if (view === undefined) continue;
    timeline.push(timelineEntry(event));
    switch (event.type) {
      case 'RingBackStarted':
        view.status = 'ringing-back';
        view.attempts = event.attempt;
        view.dueAt = event.unansweredAt;
        break;
      case 'RingBackUnanswered':
        view.status = 'parked';
        view.dueAt = event.nextRingBackDueAt;
        break;
      case 'Retrieved':
        Object.assign(view, { status: 'retrieved', endedAt: event.at, retrievedBy: event.retriever, via: event.via });
        delete view.dueAt;
        break;
      case 'Expired':
        Object.assign(view, { status: 'expired', endedAt: event.at, fallback: event.fallback, attempts: event.attempts });
        delete view.dueAt;
        break;
      case 'Abandoned':
        Object.assign(view, { status: 'abandoned', endedAt: event.at });
        delete view.dueAt;
        break;
      default:
        break;
    }
  }
  return view;
};
