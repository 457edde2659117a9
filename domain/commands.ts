/**
 * Commands: what the signaling tier, the ring-back scheduler and administrators ask of call park.
 * Every command carries its id (I6), the instant it is decided at (I7: time is data) and its tenant.
 */
import * as t from 'io-ts/lib/index.js';
import { Instant, closed, taggedUnion, oneOf, text, unitInterval } from './codec/codec.js';
import { Capabilities, Endpoint, Media } from './endpoint.js';
import { CallId, CommandId, SessionId, TenantId, UserId } from './identifiers.js';
import { PolicyIdentity, PolicySettingsChange } from './parkPolicy.js';

const base = { commandId: CommandId, at: Instant, tenantId: TenantId };

/** Who acts, from which endpoint. */
export const Party = closed('Party', { userId: UserId, endpoint: Endpoint });
export type Party = t.TypeOf<typeof Party>;

export const Retriever = closed('Retriever', { userId: UserId, endpoint: Endpoint, federated: t.boolean });
export type Retriever = t.TypeOf<typeof Retriever>;

export const OrbitCodeText = text('OrbitCode', 16);

/** Park the call on an orbit: the service's choice, or the parker's when `orbit` is given (directed park). */
export const ParkCall = closed(
  'ParkCall',
  { type: t.literal('ParkCall'), ...base, sessionId: SessionId, callId: CallId, parker: Party, media: Media, random: unitInterval },
  { orbit: OrbitCodeText, caller: text('Caller', 256) },
);

/** Pick up the call parked on an orbit. `retrieverCallId` is the retriever's own dialog, when known. */
export const RetrieveCall = closed(
  'RetrieveCall',
  { type: t.literal('RetrieveCall'), ...base, orbit: OrbitCodeText, retriever: Retriever },
  { retrieverCallId: CallId },
);

/** The scheduler: the call's park timeout has passed, ring the parker back (attempt counts from 1). */
export const RingBackDue = closed('RingBackDue', { type: t.literal('RingBackDue'), ...base, callId: CallId, sessionId: SessionId, attempt: t.number });

/** The parker answered the ring back (200 OK from the parker's endpoint). */
export const RingBackAnswered = closed('RingBackAnswered', { type: t.literal('RingBackAnswered'), ...base, callId: CallId });

export const unansweredCauses = ['no-answer', 'busy', 'unavailable', 'timeout', 'declined', 'cannot-ring-back'] as const;
export const UnansweredCause = oneOf('UnansweredCause', unansweredCauses);
export type UnansweredCause = t.TypeOf<typeof UnansweredCause>;

/**
 * The ring back failed: the signaling tier saw 486, 480, 408 or 603 (`ringback.failed`), or the
 * scheduler saw `ringBackSeconds` pass (cause `no-answer`, with the session and attempt it is
 * about). It records the event `RingBackUnanswered` while attempts are left, else `Expired`.
 */
export const RingBackFailed = closed(
  'RingBackFailed',
  { type: t.literal('RingBackFailed'), ...base, callId: CallId, cause: UnansweredCause },
  { sessionId: SessionId, attempt: t.number, sipStatus: t.number },
);

/** The waiting party hung up (BYE or CANCEL). */
export const CallerHungUp = closed('CallerHungUp', { type: t.literal('CallerHungUp'), ...base, callId: CallId });

/**
 * A supervisor watching the board sends a parked call to its fallback now (DOMAIN.md, "Supervisors'
 * actions"). `supervisor` is who did it; the session is named so that a call that has moved on
 * (ended, or parked again under another session) is refused rather than acted on.
 */
export const SendToFallbackNow = closed('SendToFallbackNow', { type: t.literal('SendToFallbackNow'), ...base, sessionId: SessionId, supervisor: UserId });

/** A supervisor rings the parker now: the next ring-back attempt starts at once, whatever is left of the wait. */
export const RingParkerNow = closed('RingParkerNow', { type: t.literal('RingParkerNow'), ...base, sessionId: SessionId, supervisor: UserId });

/** New-CsTeamsCallParkPolicy. */
export const NewPolicy = closed('NewPolicy', { type: t.literal('NewPolicy'), ...base, policy: PolicyIdentity, settings: PolicySettingsChange });
/** Set-CsTeamsCallParkPolicy. */
export const SetPolicy = closed('SetPolicy', { type: t.literal('SetPolicy'), ...base, policy: PolicyIdentity, settings: PolicySettingsChange });
/** Remove-CsTeamsCallParkPolicy (on Global: back to the defaults). */
export const RemovePolicy = closed('RemovePolicy', { type: t.literal('RemovePolicy'), ...base, policy: PolicyIdentity });
/** Grant-CsTeamsCallParkPolicy; `policy: null` takes the grant away, so Global applies. */
export const GrantPolicy = closed('GrantPolicy', { type: t.literal('GrantPolicy'), ...base, userId: UserId, policy: t.union([PolicyIdentity, t.null]) });
/** The tenant's override of one row of the endpoint matrix. */
export const SetEndpointCapabilities = closed('SetEndpointCapabilities', {
  type: t.literal('SetEndpointCapabilities'),
  ...base,
  endpoint: Endpoint,
  capabilities: Capabilities,
});
/** Back to the default row of the matrix. */
export const ResetEndpointCapabilities = closed('ResetEndpointCapabilities', { type: t.literal('ResetEndpointCapabilities'), ...base, endpoint: Endpoint });

export const CallParkCommand = taggedUnion('CallParkCommand', [
  ParkCall,
  RetrieveCall,
  RingBackDue,
  RingBackAnswered,
  RingBackFailed,
  CallerHungUp,
  SendToFallbackNow,
  RingParkerNow,
  NewPolicy,
  SetPolicy,
  RemovePolicy,
  GrantPolicy,
  SetEndpointCapabilities,
  ResetEndpointCapabilities,
]);
export type CallParkCommand = t.TypeOf<typeof CallParkCommand>;
export type CommandType = CallParkCommand['type'];

export type ParkCall = t.TypeOf<typeof ParkCall>;
export type RetrieveCall = t.TypeOf<typeof RetrieveCall>;
export type RingBackDue = t.TypeOf<typeof RingBackDue>;
export type RingBackAnswered = t.TypeOf<typeof RingBackAnswered>;
export type RingBackFailed = t.TypeOf<typeof RingBackFailed>;
export type CallerHungUp = t.TypeOf<typeof CallerHungUp>;
export type SendToFallbackNow = t.TypeOf<typeof SendToFallbackNow>;
export type RingParkerNow = t.TypeOf<typeof RingParkerNow>;
export type NewPolicy = t.TypeOf<typeof NewPolicy>;
export type SetPolicy = t.TypeOf<typeof SetPolicy>;
export type RemovePolicy = t.TypeOf<typeof RemovePolicy>;
export type GrantPolicy = t.TypeOf<typeof GrantPolicy>;
export type SetEndpointCapabilities = t.TypeOf<typeof SetEndpointCapabilities>;
export type ResetEndpointCapabilities = t.TypeOf<typeof ResetEndpointCapabilities>;
