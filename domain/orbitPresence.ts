/**
 * Orbit presence: what a busy lamp on a phone shows for one orbit (Asterisk's parking hints,
 * Cisco's park monitoring; DOMAIN.md, "Signaling from the media tier"). An orbit is `busy` while
 * a call waits on it, with its session, its parker, since when it has waited and whether the
 * parker is being rung back; `free` once the call is gone. Derived from the events alone: each
 * session event changes its orbit's state from what it was.
 */
import type * as t from 'io-ts/lib/index.js';
import * as io from 'io-ts/lib/index.js';
import { Instant, closed } from './codec/codec.js';
import { Party } from './commands.js';
import type { CallParkEvent } from './events.js';

const orbitOf = { tenantId: io.string, policy: io.string, orbit: io.number, orbitCode: io.string, changedAt: Instant };

export const OrbitBusy = closed('busy', {
  state: io.literal('busy'),
  ...orbitOf,
  sessionId: io.string,
  callId: io.string,
  parker: Party,
  /** When the call was parked: the lamp has been lit since. */
  since: Instant,
  ringingBack: io.boolean,
  /** How many ring backs have started. */
  attempt: io.number,
});
export const OrbitFree = closed('free', { state: io.literal('free'), ...orbitOf, sessionId: io.string });

export const OrbitState = io.union([OrbitBusy, OrbitFree], 'OrbitState');
export type OrbitState = t.TypeOf<typeof OrbitState>;
export type OrbitBusy = t.TypeOf<typeof OrbitBusy>;

/**
 * The state an event leaves its orbit in, from the orbit's busy state before it (undefined when
 * it held no call, or held another session's); undefined for an event that changes no orbit.
 */
export const orbitStateAfter = (event: CallParkEvent, before: OrbitBusy | undefined): OrbitState | undefined => {
  const place = { tenantId: event.tenantId, changedAt: event.at };
  switch (event.type) {
    case 'Parked':
      return {
        state: 'busy',
        ...place,
        policy: event.policy,
        orbit: event.orbit,
        orbitCode: event.orbitCode,
        sessionId: event.sessionId,
        callId: event.callId,
        parker: event.parker,
        since: event.at,
        ringingBack: false,
        attempt: 0,
      };
    case 'RingBackStarted':
    case 'RingBackUnanswered': {
      // A ring back of a session the orbit does not hold changes nothing it shows.
      if (before === undefined || before.sessionId !== event.sessionId) return undefined;
      return { ...before, changedAt: event.at, ringingBack: event.type === 'RingBackStarted', attempt: event.attempt };
    }
    case 'Retrieved':
    case 'Expired':
    case 'Abandoned':
      return { state: 'free', ...place, policy: event.policy, orbit: event.orbit, orbitCode: event.orbitCode, sessionId: event.sessionId };
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

/** The key of an orbit: its tenant, its policy (each policy is an orbit namespace) and its number. */
export const orbitKey = (state: { tenantId: string; policy: string; orbit: number }): string => JSON.stringify([state.tenantId, state.policy, state.orbit]);
