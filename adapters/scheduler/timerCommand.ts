/**
 * The command a ring-back timer sends when it comes due. Its id is made from the session and the
 * attempt alone, so every process, and the same process after a restart, sends the same command
 * for the same timer: the handler answers a repeat with the first outcome and records nothing
 * new (I6), and the domain ignores a timer for an attempt that has moved on.
 */
import type { RingBackDue, RingBackFailed } from '../../domain/commands.js';
import type { RingBackTimer } from '../../projections/ringBackTimers.js';

export type TimerIdentity = Pick<RingBackTimer, 'tenantId' | 'sessionId' | 'kind' | 'attempt'>;

/** `ring-back-due:{sessionId}:{attempt}` or `ring-back-unanswered:{sessionId}:{attempt}`. */
export const timerCommandId = (timer: TimerIdentity): string => `${timer.kind}:${timer.sessionId}:${timer.attempt}`;

/** The timer's command, decided at `at` (the clock when it fires). */
export const timerCommand = (timer: Omit<RingBackTimer, 'position' | 'dueAt'>, at: number): RingBackDue | RingBackFailed => {
  const commandId = timerCommandId(timer);
  const { tenantId, sessionId, callId, attempt } = timer;
  switch (timer.kind) {
    case 'ring-back-due':
      return { type: 'RingBackDue', commandId, at, tenantId, callId, sessionId, attempt };
    case 'ring-back-unanswered':
      return { type: 'RingBackFailed', commandId, at, tenantId, callId, cause: 'no-answer', sessionId, attempt };
    default: {
      const unhandled: never = timer.kind;
      return unhandled;
    }
  }
};
