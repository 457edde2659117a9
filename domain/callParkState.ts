/**
 * The state of one tenant's call park, as far as deciding needs it: its policies with their
 * orbits, who is granted which policy, the tenant's endpoint matrix overrides, and the active
 * park sessions. Ended sessions leave nothing behind but their orbit's `freedAt` (for I8), so
 * the state never grows with history.
 */
import type { Party } from './commands.js';
import { capabilitiesOf, type Capabilities, type Endpoint, type Media } from './endpoint.js';
import type { CallParkEvent, SessionEnded } from './events.js';
import type { CallId, SessionId, UserId } from './identifiers.js';
import { GLOBAL_POLICY, defaultSettings, type PolicySettings } from './parkPolicy.js';

/** A policy as the state holds it: its settings, and the state of the orbits of its range. */
export interface PolicyOrbits {
  readonly policy: string;
  settings: PolicySettings;
  /** Orbit → the session parked on it (I1: at most one). */
  readonly occupied: Map<number, SessionId>;
  /** Orbit → when it was last freed, for the reuse quarantine (I8). */
  readonly freedAt: Map<number, number>;
  /** The orbit issued last by automatic allocation, for `sequential`. */
  lastIssued: number | undefined;
}

export type SessionPhase = 'parked' | 'ringing-back';

export interface ActiveSession {
  readonly sessionId: SessionId;
  readonly callId: CallId;
  readonly policy: string;
  readonly orbit: number;
  readonly orbitCode: string;
  readonly parker: Party;
  readonly media: Media;
  /** The settings the call was parked with (I5). */
  readonly settings: PolicySettings;
  readonly parkedAt: number;
  phase: SessionPhase;
  /** How many ring backs have started. */
  attempt: number;
  /** Parked: when the next ring back is due. Ringing back: when this ring back goes unanswered. */
  dueAt: number;
}

export interface CallParkState {
  readonly policies: Map<string, PolicyOrbits>;
  readonly grants: Map<UserId, string>;
  readonly endpointOverrides: Map<Endpoint, Capabilities>;
  readonly sessions: Map<SessionId, ActiveSession>;
  /** Call → its active session (I3: at most one). */
  readonly parkedCalls: Map<CallId, SessionId>;
}

const newLot = (policy: string, settings: PolicySettings): PolicyOrbits => ({ policy, settings, occupied: new Map(), freedAt: new Map(), lastIssued: undefined });

/** Every tenant has a policy named Global, which applies to users granted no other. */
export const initialState = (): CallParkState => ({
  policies: new Map([[GLOBAL_POLICY, newLot(GLOBAL_POLICY, defaultSettings)]]),
  grants: new Map(),
  endpointOverrides: new Map(),
  sessions: new Map(),
  parkedCalls: new Map(),
});

/** The policy a user acts under: the one granted, else Global. */
export const policyOf = (state: CallParkState, userId: UserId): PolicyOrbits =>
  state.policies.get(state.grants.get(userId) ?? GLOBAL_POLICY) ?? state.policies.get(GLOBAL_POLICY)!;

export const capabilities = (state: CallParkState, endpoint: Endpoint): Capabilities => capabilitiesOf(endpoint, state.endpointOverrides);

export const sessionOfCall = (state: CallParkState, callId: CallId): ActiveSession | undefined => {
  const sessionId = state.parkedCalls.get(callId);
  return sessionId === undefined ? undefined : state.sessions.get(sessionId);
};

const endSession = (state: CallParkState, event: SessionEnded): CallParkState => {
  const session = state.sessions.get(event.sessionId);
  if (session === undefined) return state;
  state.sessions.delete(session.sessionId);
  if (state.parkedCalls.get(session.callId) === session.sessionId) state.parkedCalls.delete(session.callId);
  const lot = state.policies.get(session.policy);
  if (lot && lot.occupied.get(session.orbit) === session.sessionId) {
    lot.occupied.delete(session.orbit);
    lot.freedAt.set(session.orbit, event.at);
  }
  return state;
};

/** Fold one event into the state (see Decider.evolve: the state belongs to the fold). */
export const evolve = (state: CallParkState, event: CallParkEvent): CallParkState => {
  switch (event.type) {
    case 'Parked': {
      const lot = state.policies.get(event.policy);
      if (lot) {
        lot.occupied.set(event.orbit, event.sessionId);
        if (!event.directed) lot.lastIssued = event.orbit;
      }
      state.sessions.set(event.sessionId, {
        sessionId: event.sessionId,
        callId: event.callId,
        policy: event.policy,
        orbit: event.orbit,
        orbitCode: event.orbitCode,
        parker: event.parker,
        media: event.media,
        settings: event.settings,
        parkedAt: event.at,
        phase: 'parked',
        attempt: 0,
        dueAt: event.ringBackDueAt,
      });
      state.parkedCalls.set(event.callId, event.sessionId);
      return state;
    }
    case 'RingBackStarted': {
      const session = state.sessions.get(event.sessionId);
      if (session) {
        session.phase = 'ringing-back';
        session.attempt = event.attempt;
        session.dueAt = event.unansweredAt;
      }
      return state;
    }
    case 'RingBackUnanswered': {
      const session = state.sessions.get(event.sessionId);
      if (session) {
        session.phase = 'parked';
        session.dueAt = event.nextRingBackDueAt;
      }
      return state;
    }
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned':
      return endSession(state, event);
    case 'ParkRejected':
    case 'RetrievalRejected':
      return state;
    case 'PolicyCreated':
      state.policies.set(event.policy, newLot(event.policy, event.settings));
      return state;
    case 'PolicySettingsChanged': {
      const lot = state.policies.get(event.policy);
      if (lot) lot.settings = event.settings;
      return state;
    }
    case 'PolicyRemoved': {
      if (event.policy === GLOBAL_POLICY) {
        const global = state.policies.get(GLOBAL_POLICY);
        if (global) global.settings = defaultSettings;
        return state;
      }
      state.policies.delete(event.policy);
      for (const [userId, policy] of state.grants) if (policy === event.policy) state.grants.delete(userId);
      return state;
    }
    case 'PolicyGranted':
      if (event.policy === null || event.policy === GLOBAL_POLICY) state.grants.delete(event.userId);
      else state.grants.set(event.userId, event.policy);
      return state;
    case 'EndpointCapabilitiesSet':
      state.endpointOverrides.set(event.endpoint, event.capabilities);
      return state;
    case 'EndpointCapabilitiesReset':
      state.endpointOverrides.delete(event.endpoint);
      return state;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};
