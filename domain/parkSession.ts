/**
 * The life of a park session: park, retrieve, ring back, expire, abandon.
 *
 *   (free) ── ParkCall ──► PARKED ── RetrieveCall ──────────────────────────► Retrieved
 *                           │  ▲
 *       park timeout due    ▼  │ unanswered, attempts left: parked again
 *                       RINGING BACK ── parker answers / RetrieveCall ──────► Retrieved
 *                           │ unanswered, no attempts left ──────────────────► Expired (fallback)
 *   PARKED or RINGING BACK ── the caller hangs up ───────────────────────────► Abandoned
 *
 * The first ending recorded wins (I2); a later one is told the call is gone. A scheduler's
 * command that finds the session moved on is a no-op: no events, no error.
 */
import * as E from 'fp-ts/lib/Either.js';
import { capabilities, policyOf, sessionOfCall, type ActiveSession, type CallParkState, type PolicyOrbits } from './callParkState.js';
import type { CallerHungUp, ParkCall, RetrieveCall, RingBackAnswered, RingBackDue, RingBackFailed, RingParkerNow, SendToFallbackNow } from './commands.js';
import type { CallParkEvent, ParkRejected, RetrievalRejected } from './events.js';
import { allocateOrbit, orbitCode, parseOrbitCode } from './orbit.js';
import { rejection, type Rejection, type RejectionContext, type RejectionReason } from './rejection.js';

export type Refusal = Rejection<ParkRejected | RetrievalRejected>;
export type Decision = E.Either<Refusal, readonly CallParkEvent[]>;

const SECOND = 1_000;
const accept = (...events: CallParkEvent[]): Decision => E.right(events);
const nothingToDo: Decision = E.right([]);
const refuse = (reason: RejectionReason, context: RejectionContext = {}): Decision => E.left(rejection(reason, context));

const rangeOf = (lot: PolicyOrbits): string =>
  `orbits ${orbitCode(lot.settings.pickupRangeStart, lot.settings.orbitPrefix)} to ${orbitCode(lot.settings.pickupRangeEnd, lot.settings.orbitPrefix)}`;

const inRange = (lot: PolicyOrbits, orbit: number): boolean => orbit >= lot.settings.pickupRangeStart && orbit <= lot.settings.pickupRangeEnd;

/** What an event ending a session says of the ring back ringing at that moment, if one is (I7). */
const ringingNow = (session: ActiveSession): { ringingAttempt?: number } => (session.phase === 'ringing-back' ? { ringingAttempt: session.attempt } : {});

/** What every event of a session says: tenant, policy, session, call, orbit, parker, and when. */
const sessionFacts = (session: ActiveSession, { tenantId, at }: { tenantId: string; at: number }) => ({
  tenantId,
  policy: session.policy,
  sessionId: session.sessionId,
  callId: session.callId,
  orbit: session.orbit,
  orbitCode: session.orbitCode,
  parker: session.parker,
  at,
});

export const parkCall = (command: ParkCall, state: CallParkState): Decision => {
  const lot = policyOf(state, command.parker.userId);
  const refuseRecorded = (reason: RejectionReason, context: RejectionContext = {}): Decision =>
    E.left(
      rejection<ParkRejected>(reason, { policy: lot.policy, ...context }, {
        type: 'ParkRejected',
        tenantId: command.tenantId,
        callId: command.callId,
        parker: command.parker,
        media: command.media,
        reason,
        at: command.at,
        policy: lot.policy,
        ...(command.orbit === undefined ? {} : { orbitCode: command.orbit }),
      }),
    );

  if (command.media !== 'audio') return refuseRecorded('media-not-parkable', { media: command.media });
  if (!capabilities(state, command.parker.endpoint).park) return refuseRecorded('endpoint-cannot-park', { endpoint: command.parker.endpoint });
  const { settings } = lot;
  if (!settings.allowCallPark) return refuseRecorded('call-park-not-allowed');
  if (state.parkedCalls.has(command.callId)) return refuseRecorded('call-already-parked');
  if (state.sessions.has(command.sessionId)) return refuseRecorded('session-id-in-use');

  let orbit: number | undefined;
  if (command.orbit !== undefined) {
    if (!settings.allowDirectedPark) return refuseRecorded('directed-park-not-allowed');
    orbit = parseOrbitCode(command.orbit);
    if (orbit === undefined) return refuseRecorded('invalid-orbit-code', { orbit: command.orbit });
    if (!inRange(lot, orbit)) return refuseRecorded('orbit-outside-your-policy', { orbit: command.orbit, range: rangeOf(lot) });
    if (lot.occupied.has(orbit)) return refuseRecorded('orbit-occupied', { orbit: orbitCode(orbit, settings.orbitPrefix) });
  } else {
    orbit = allocateOrbit({
      start: settings.pickupRangeStart,
      end: settings.pickupRangeEnd,
      strategy: settings.orbitAllocation,
      lastIssued: lot.lastIssued,
      isOccupied: (candidate) => lot.occupied.has(candidate),
      freedAt: (candidate) => lot.freedAt.get(candidate),
      quarantineMillis: settings.orbitReuseQuarantineSeconds * SECOND,
      now: command.at,
      random: command.random,
    });
    if (orbit === undefined) return refuseRecorded('no-free-orbit', { range: rangeOf(lot) });
  }

  return accept({
    type: 'Parked',
    tenantId: command.tenantId,
    policy: lot.policy,
    sessionId: command.sessionId,
    callId: command.callId,
    orbit,
    orbitCode: orbitCode(orbit, settings.orbitPrefix),
    parker: command.parker,
    at: command.at,
    media: command.media,
    directed: command.orbit !== undefined,
    settings,
    ringBackDueAt: command.at + settings.parkTimeoutSeconds * SECOND,
    ...(command.caller === undefined ? {} : { caller: command.caller }),
  });
};

/** A dialed code names a parked call's orbit when it is its code, or its digits without the prefix. */
const dialedCodeMatches = (dialed: string, session: ActiveSession): boolean => dialed === session.orbitCode || dialed === String(session.orbit);

export const retrieveCall = (command: RetrieveCall, state: CallParkState): Decision => {
  const lot = policyOf(state, command.retriever.userId);
  const refuseRecorded = (reason: RejectionReason, context: RejectionContext = {}): Decision =>
    E.left(
      rejection<RetrievalRejected>(reason, { policy: lot.policy, orbit: command.orbit, ...context }, {
        type: 'RetrievalRejected',
        tenantId: command.tenantId,
        orbitCode: command.orbit,
        retriever: command.retriever,
        reason,
        at: command.at,
        policy: lot.policy,
        ...(command.retrieverCallId === undefined ? {} : { retrieverCallId: command.retrieverCallId }),
      }),
    );

  if (command.retriever.federated) return refuseRecorded('federated-user');
  if (!capabilities(state, command.retriever.endpoint).retrieve) return refuseRecorded('endpoint-cannot-retrieve', { endpoint: command.retriever.endpoint });
  const orbit = parseOrbitCode(command.orbit);
  if (orbit === undefined) return refuseRecorded('invalid-orbit-code');

  const sessionId = lot.occupied.get(orbit);
  const session = sessionId === undefined ? undefined : state.sessions.get(sessionId);
  if (session === undefined || !dialedCodeMatches(command.orbit.trim(), session)) {
    // A call parked before call park was turned off can still be picked up (I5); nothing else can.
    if (!lot.settings.allowCallPark) return refuseRecorded('call-park-not-allowed');
    // Parked in another policy's namespace, or outside this one's range: not yours to pick up.
    const elsewhere = [...state.policies.values()].some((other) => other !== lot && other.occupied.has(orbit));
    if (elsewhere || !inRange(lot, orbit)) return refuseRecorded('orbit-outside-your-policy', { range: rangeOf(lot) });
    return refuseRecorded('no-call-on-orbit');
  }

  return accept({
    type: 'Retrieved',
    ...sessionFacts(session, command),
    retriever: { userId: command.retriever.userId, endpoint: command.retriever.endpoint },
    via: 'orbit',
    parkedAt: session.parkedAt,
    ...(command.retrieverCallId === undefined ? {} : { retrieverCallId: command.retrieverCallId }),
    ...ringingNow(session),
  });
};

export const ringBackDue = (command: RingBackDue, state: CallParkState): Decision => {
  const session = state.sessions.get(command.sessionId);
  // The call has gone (retrieved, expired, abandoned), or this timer is stale or early: nothing to do.
  if (session === undefined || session.callId !== command.callId) return nothingToDo;
  if (session.phase !== 'parked' || command.attempt !== session.attempt + 1 || command.at < session.dueAt) return nothingToDo;

  const facts = sessionFacts(session, command);
  if (!capabilities(state, session.parker.endpoint).ringBack) {
    return accept({ type: 'Expired', ...facts, attempts: session.attempt, cause: 'cannot-ring-back', fallback: session.settings.fallback });
  }
  return accept({ type: 'RingBackStarted', ...facts, attempt: command.attempt, unansweredAt: command.at + session.settings.ringBackSeconds * SECOND });
};

export const ringBackAnswered = (command: RingBackAnswered, state: CallParkState): Decision => {
  const session = sessionOfCall(state, command.callId);
  if (session === undefined) return refuse('call-not-parked');
  if (session.phase !== 'ringing-back') return refuse('no-ring-back-in-progress');
  return accept({
    type: 'Retrieved',
    ...sessionFacts(session, command),
    retriever: session.parker,
    via: 'ring-back',
    parkedAt: session.parkedAt,
    ...ringingNow(session),
  });
};

export const ringBackFailed = (command: RingBackFailed, state: CallParkState): Decision => {
  // The scheduler names the session and attempt it timed; the signaling tier names only the call.
  const fromScheduler = command.sessionId !== undefined;
  const session = sessionOfCall(state, command.callId);
  if (session === undefined || (fromScheduler && session.sessionId !== command.sessionId)) return fromScheduler ? nothingToDo : refuse('call-not-parked');
  if (session.phase !== 'ringing-back') return fromScheduler ? nothingToDo : refuse('no-ring-back-in-progress');
  if (command.attempt !== undefined && command.attempt !== session.attempt) return nothingToDo;
  if (fromScheduler && command.at < session.dueAt) return nothingToDo;

  const facts = sessionFacts(session, command);
  if (session.attempt < session.settings.maxRingBackAttempts) {
    return accept({
      type: 'RingBackUnanswered',
      ...facts,
      attempt: session.attempt,
      cause: command.cause,
      nextRingBackDueAt: command.at + session.settings.parkTimeoutSeconds * SECOND,
    });
  }
  return accept({ type: 'Expired', ...facts, attempts: session.attempt, cause: command.cause, fallback: session.settings.fallback, ...ringingNow(session) });
};

export const callerHungUp = (command: CallerHungUp, state: CallParkState): Decision => {
  const session = sessionOfCall(state, command.callId);
  if (session === undefined) return refuse('call-not-parked');
  return accept({ type: 'Abandoned', ...sessionFacts(session, command), phase: session.phase, ...ringingNow(session) });
};

/** The session a supervisor named, while it is still parked or ringing back: else the call has moved on. */
const activeSession = (state: CallParkState, sessionId: string): ActiveSession | undefined => state.sessions.get(sessionId);

/** A supervisor sends the call to its fallback now: it ends as Expired, with who sent it. */
export const sendToFallbackNow = (command: SendToFallbackNow, state: CallParkState): Decision => {
  const session = activeSession(state, command.sessionId);
  if (session === undefined) return refuse('call-not-parked');
  return accept({
    type: 'Expired',
    ...sessionFacts(session, command),
    attempts: session.attempt,
    cause: 'sent-by-supervisor',
    fallback: session.settings.fallback,
    ...ringingNow(session),
    sentBy: command.supervisor,
  });
};

/** A supervisor rings the parker now: the next attempt starts at once, whatever is left of the wait. */
export const ringParkerNow = (command: RingParkerNow, state: CallParkState): Decision => {
  const session = activeSession(state, command.sessionId);
  if (session === undefined) return refuse('call-not-parked');
  if (session.phase === 'ringing-back') return refuse('ring-back-in-progress');
  if (!capabilities(state, session.parker.endpoint).ringBack) return refuse('endpoint-cannot-ring-back', { endpoint: session.parker.endpoint });
  return accept({
    type: 'RingBackStarted',
    ...sessionFacts(session, command),
    attempt: session.attempt + 1,
    unansweredAt: command.at + session.settings.ringBackSeconds * SECOND,
    requestedBy: command.supervisor,
  });
};
