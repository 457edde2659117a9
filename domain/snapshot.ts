/**
 * A tenant's call park state in a stored form, so a command does not pay for the history
 * behind it: the handler keeps a snapshot every so many events and reads only what follows.
 * A snapshot is a cache of the fold, never a source of truth: the log alone rebuilds it (I7).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import type { CallParkState } from './callParkState.js';
import { Instant, decode, oneOf, type DecodeError } from './codec.js';
import { Party } from './commands.js';
import { Capabilities, Endpoint, Media } from './endpoint.js';
import { PolicySettings } from './parkPolicy.js';

export const SNAPSHOT_SCHEMA_VERSION = 2;

const StoredLot = t.type({
  policy: t.string,
  settings: PolicySettings,
  occupied: t.array(t.tuple([t.number, t.string])),
  freedAt: t.array(t.tuple([t.number, Instant])),
  lastIssued: t.union([t.number, t.null]),
});

const StoredSession = t.type({
  sessionId: t.string,
  callId: t.string,
  policy: t.string,
  orbit: t.number,
  orbitCode: t.string,
  parker: Party,
  media: Media,
  settings: PolicySettings,
  parkedAt: Instant,
  phase: oneOf('SessionPhase', ['parked', 'ringing-back']),
  attempt: t.number,
  dueAt: Instant,
});

export const StoredState = t.type({
  policies: t.array(StoredLot),
  grants: t.array(t.tuple([t.string, t.string])),
  endpointOverrides: t.array(t.tuple([Endpoint, Capabilities])),
  sessions: t.array(StoredSession),
});
export type StoredState = t.OutputOf<typeof StoredState>;

export const encodeState = (state: CallParkState): StoredState =>
  StoredState.encode({
    policies: [...state.policies.values()].map((lot) => ({
      policy: lot.policy,
      settings: lot.settings,
      occupied: [...lot.occupied],
      freedAt: [...lot.freedAt],
      lastIssued: lot.lastIssued ?? null,
    })),
    grants: [...state.grants],
    endpointOverrides: [...state.endpointOverrides],
    sessions: [...state.sessions.values()].map((session) => ({ ...session })),
  });

export const decodeState = (stored: unknown): E.Either<DecodeError, CallParkState> =>
  E.map((decoded: t.TypeOf<typeof StoredState>): CallParkState => ({
    policies: new Map(
      decoded.policies.map((lot) => [
        lot.policy,
        { policy: lot.policy, settings: lot.settings, occupied: new Map(lot.occupied), freedAt: new Map(lot.freedAt), lastIssued: lot.lastIssued ?? undefined },
      ]),
    ),
    grants: new Map(decoded.grants),
    endpointOverrides: new Map(decoded.endpointOverrides),
    sessions: new Map(decoded.sessions.map((session) => [session.sessionId, { ...session }])),
    parkedCalls: new Map(decoded.sessions.map((session) => [session.callId, session.sessionId])),
  }))(decode(StoredState, stored));
