/**
 * Why a command was refused: a stable code for machines and a sentence for a person.
 * Silence is the failure users complain about ("the caller hears dialing, then the call
 * continues; no park code is generated"): every refusal says what happened and why.
 */
import type * as t from 'io-ts/lib/index.js';
import { oneOf } from './codec/codec.js';

export const rejectionReasons = [
  // Parking
  'call-park-not-allowed',
  'endpoint-cannot-park',
  'media-not-parkable',
  'call-already-parked',
  'session-id-in-use',
  'no-free-orbit',
  'orbit-occupied',
  'directed-park-not-allowed',
  'invalid-orbit-code',
  // Retrieving
  'no-call-on-orbit',
  'federated-user',
  'endpoint-cannot-retrieve',
  'orbit-outside-your-policy',
  // The rest of a session's life
  'call-not-parked',
  'no-ring-back-in-progress',
  'ring-back-in-progress',
  'endpoint-cannot-ring-back',
  // Administration
  'policy-not-found',
  'policy-already-exists',
  'invalid-setting',
  'policy-has-parked-calls',
] as const;
export const RejectionReason = oneOf('RejectionReason', rejectionReasons);
export type RejectionReason = t.TypeOf<typeof RejectionReason>;

/** What a sentence may mention. */
export interface RejectionContext {
  readonly orbit?: string;
  readonly policy?: string;
  readonly endpoint?: string;
  readonly media?: string;
  readonly range?: string;
  readonly detail?: string;
}

/** ` value` when there is a value to name, else nothing. */
const named = (value: string | undefined): string => (value ? ` ${value}` : '');
const inBrackets = (value: string | undefined): string => (value ? ` (${value})` : '');

const sentences: Record<RejectionReason, (c: RejectionContext) => string> = {
  'call-park-not-allowed': (c) => `Call park is turned off for your park policy${inBrackets(c.policy)}; an administrator can turn it on with allowCallPark.`,
  'endpoint-cannot-park': (c) => `Calls cannot be parked from ${c.endpoint ?? 'this endpoint'}.`,
  'media-not-parkable': (c) => `Only audio calls can be parked; this is ${c.media === 'im' ? 'an instant message' : `a ${c.media ?? 'non-audio'} call`}.`,
  'call-already-parked': () => 'This call is already parked.',
  'session-id-in-use': () => 'The session id of this park already names another parked call; every park needs a session id of its own.',
  'no-free-orbit': (c) => `Every orbit of your park policy${inBrackets(c.range)} holds a call; nothing was parked. Try again when one is retrieved.`,
  'orbit-occupied': (c) => `Orbit${named(c.orbit)} already holds a call; choose another or let the service choose.`,
  'directed-park-not-allowed': (c) => `Your park policy${inBrackets(c.policy)} does not let you choose the orbit; park without one and the service will choose.`,
  'invalid-orbit-code': (c) => `"${c.orbit ?? ''}" is not an orbit code: orbit codes are digits, optionally after * or #.`,
  'no-call-on-orbit': (c) => `No call is parked on orbit${named(c.orbit)}; it may have been retrieved, rung back or hung up.`,
  'federated-user': () => 'Users of another organisation cannot retrieve parked calls.',
  'endpoint-cannot-retrieve': (c) => `Parked calls cannot be retrieved from ${c.endpoint ?? 'this endpoint'}.`,
  'orbit-outside-your-policy': (c) =>
    `Orbit${named(c.orbit)} is not in your park policy${inBrackets(c.range)}: only users granted the same call park policy can pick up each other's calls.`,
  'call-not-parked': () => 'The call is not parked: it was already retrieved, sent to its fallback or hung up.',
  'no-ring-back-in-progress': () => 'The call is parked, but no ring back is in progress for it.',
  'endpoint-cannot-ring-back': (c) => `The parker's endpoint${named(c.endpoint)} cannot be rung back; send the call to its fallback instead.`,
  'ring-back-in-progress': () => 'The parker is being rung back for this call already; wait for the answer or send the call to its fallback.',
  'policy-not-found': (c) => `There is no park policy${named(c.policy)}.`,
  'policy-already-exists': (c) => `A park policy${named(c.policy)} already exists; use Set-CsTeamsCallParkPolicy to change it.`,
  'invalid-setting': (c) => c.detail ?? 'A setting is outside its range.',
  'policy-has-parked-calls': (c) => `Park policy${named(c.policy)} still holds parked calls; remove it once they have ended.`,
};

export interface Rejection<Recorded = never> {
  readonly reason: RejectionReason;
  readonly message: string;
  /** The record of the refused attempt, kept for the audit (ParkRejected, RetrievalRejected). */
  readonly recorded?: Recorded;
}

export const sentenceFor = (reason: RejectionReason, context: RejectionContext = {}): string => sentences[reason](context);

export const rejection = <Recorded = never>(reason: RejectionReason, context: RejectionContext = {}, recorded?: Recorded): Rejection<Recorded> =>
  recorded === undefined ? { reason, message: sentenceFor(reason, context) } : { reason, message: sentenceFor(reason, context), recorded };
