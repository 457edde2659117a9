/**
 * A tenant's call park state in a stored form, so a command does not pay for the history
 * behind it: the handler keeps a snapshot every so many events and reads only what follows.
 * A snapshot is a cache of the fold, never a source of truth: the log alone rebuilds it (I7).
 * Instants are kept as milliseconds, not as ISO-8601 text: every cold load decodes a snapshot,
 * and checking a timestamp's text costs more than the rest of the state together.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import type { CallParkState } from '../callParkState.js';
import { DecodeError, decode, oneOf } from '../codec/codec.js';
import { Party } from '../commands.js';
import { Capabilities, Endpoint, Media } from '../endpoint.js';
import { PolicySettings } from '../parkPolicy.js';
import { quickOf, quickPathOff, REFUSED } from '../codec/quickDecode.js';

export const SNAPSHOT_SCHEMA_VERSION = 5;

/** Milliseconds since the epoch (a snapshot is written by this service, never typed by a person). */
const Millis = t.number;

/**
 * Pairs of numbers laid out flat ([orbit, freed at, orbit, freed at, …]): a policy has up to
 * thousands of orbits, and checking them one by one as tuples is most of a snapshot's decoding.
 */
const isNumberPairs = (u: unknown): u is number[] => Array.isArray(u) && u.length % 2 === 0 && u.every((n) => typeof n === 'number' && Number.isFinite(n));
const NumberPairs = new t.Type<number[], number[], unknown>(
  'NumberPairs',
  isNumberPairs,
  (u, context) => (isNumberPairs(u) ? t.success(u) : t.failure(u, context, 'expected pairs of numbers laid out flat')),
  t.identity,
);

const pairsOf = (map: ReadonlyMap<number, number>): number[] => {
  const flat: number[] = [];
  for (const [key, value] of map) flat.push(key, value);
  return flat;
};

const mapOfPairs = (flat: readonly number[]): Map<number, number> => {
  const map = new Map<number, number>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
};

const StoredLot = t.type({
  policy: t.string,
  settings: PolicySettings,
  occupied: t.array(t.tuple([t.number, t.string])),
  freedAt: NumberPairs,
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
  /** Where the settings it was parked with are in the state's `settings`. */
  settings: t.number,
  parkedAt: Millis,
  phase: oneOf('SessionPhase', ['parked', 'ringing-back']),
  attempt: t.number,
  dueAt: Millis,
});

export const StoredState = t.type({
  policies: t.array(StoredLot),
  /**
   * The settings the sessions were parked with (I5), each once: every call parked under one
   * policy carries the same ones, and a copy each made up half of a snapshot's bytes.
   */
  settings: t.array(PolicySettings),
  grants: t.array(t.tuple([t.string, t.string])),
  endpointOverrides: t.array(t.tuple([Endpoint, Capabilities])),
  sessions: t.array(StoredSession),
});
export type StoredState = t.OutputOf<typeof StoredState>;

/** Settings with the same values (a handful of fields, compared one by one). */
const sameSettings = (a: PolicySettings, b: PolicySettings): boolean => {
  if (a === b) return true;
  for (const key in a) if (a[key as keyof PolicySettings] !== b[key as keyof PolicySettings]) return false;
  for (const key in b) if (!(key in a)) return false;
  return true;
};

/** Past this many distinct settings, a session's are added without looking for their twin (the look is linear). */
const SETTINGS_LOOKED_THROUGH = 32;

/** Where `settings` are in `table`, added at its end when no settings of the same values are there. */
const indexIn = (table: PolicySettings[], settings: PolicySettings): number => {
  for (let i = 0; i < Math.min(table.length, SETTINGS_LOOKED_THROUGH); i++) if (sameSettings(table[i]!, settings)) return i;
  return table.push(settings) - 1;
};

export const encodeState = (state: CallParkState): StoredState => {
  const settings: PolicySettings[] = [];
  const sessions = [...state.sessions.values()].map((session) => ({ ...session, settings: indexIn(settings, session.settings) }));
  return StoredState.encode({
    policies: [...state.policies.values()].map((lot) => ({
      policy: lot.policy,
      settings: lot.settings,
      occupied: [...lot.occupied],
      freedAt: pairsOf(lot.freedAt),
      lastIssued: lot.lastIssued ?? null,
    })),
    grants: [...state.grants],
    endpointOverrides: [...state.endpointOverrides],
    settings,
    sessions,
  });
};

const quickStoredState = quickOf(StoredState);

/**
 * The state from its stored form: through the quick path (quickDecode.ts), io-ts's own walk only
 * when that refuses, to say what is wrong. A cold load of a tenant decodes its snapshot whole.
 */
export const decodeState = (stored: unknown): E.Either<DecodeError, CallParkState> => {
  const quick = quickPathOff() ? REFUSED : quickStoredState(stored);
  return stateOf(quick === REFUSED ? decode(StoredState, stored) : E.right(quick as t.TypeOf<typeof StoredState>));
};

const stateOf = (decoded: E.Either<DecodeError, t.TypeOf<typeof StoredState>>): E.Either<DecodeError, CallParkState> =>
  E.chain((decoded: t.TypeOf<typeof StoredState>): E.Either<DecodeError, CallParkState> => {
    const missing = decoded.sessions.findIndex((session) => decoded.settings[session.settings] === undefined);
    if (missing >= 0) {
      const index = decoded.sessions[missing]!.settings;
      return E.left(new DecodeError([{ path: `$.sessions[${missing}].settings`, message: `expected the index of one of the ${decoded.settings.length} settings, got ${index}` }]));
    }
    return E.right(stateOfValid(decoded));
  })(decoded);

const stateOfValid = (decoded: t.TypeOf<typeof StoredState>): CallParkState => ({
    policies: new Map(
      decoded.policies.map((lot) => [
        lot.policy,
        { policy: lot.policy, settings: lot.settings, occupied: new Map(lot.occupied), freedAt: mapOfPairs(lot.freedAt), lastIssued: lot.lastIssued ?? undefined },
      ]),
    ),
    grants: new Map(decoded.grants),
    endpointOverrides: new Map(decoded.endpointOverrides),
    sessions: new Map(decoded.sessions.map((session) => [session.sessionId, { ...session, settings: decoded.settings[session.settings]! }])),
    parkedCalls: new Map(decoded.sessions.map((session) => [session.callId, session.sessionId])),
  });
