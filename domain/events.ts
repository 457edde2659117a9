/**
 * Events: what happened, in the versioned form in which it is stored and sent.
 * Each park-session event carries the tenant, the policy, the orbit, the session, the call, who
 * acted from which endpoint, and when. `Parked` carries the settings the call was parked with
 * (I5) and when its ring back is due (I7).
 */
import * as t from 'io-ts/lib/index.js';
import { Instant, closed, taggedUnion, oneOf, text } from './codec/codec.js';
import { Party, Retriever, UnansweredCause, unansweredCauses } from './commands.js';
import { Capabilities, Endpoint, Media } from './endpoint.js';
import { CallId, SessionId, TenantId, UserId } from './identifiers.js';
import { Fallback, PolicyIdentity, PolicySettings } from './parkPolicy.js';
import { RejectionReason } from './rejection.js';

/** The version of the stored form of every event below; kept in each event's metadata. */
export const EVENT_SCHEMA_VERSION = 1;

const OrbitNumber = t.number;
const OrbitCode = text('OrbitCode', 16);

const session = {
  tenantId: TenantId,
  policy: PolicyIdentity,
  sessionId: SessionId,
  callId: CallId,
  orbit: OrbitNumber,
  orbitCode: OrbitCode,
  parker: Party,
  at: Instant,
};

export const Parked = closed(
  'Parked',
  { type: t.literal('Parked'), ...session, media: Media, directed: t.boolean, settings: PolicySettings, ringBackDueAt: Instant },
  { caller: text('Caller', 256) },
);

/**
 * The ring back that was ringing when a session ended, if one was: its attempt (1, 2, …). The
 * media tier must stop ringing the parker for it. Optional, so that the events stored before it
 * was recorded still decode: such an event says nothing of what was ringing.
 */
const ending = { ringingAttempt: t.number };

export const Retrieved = closed(
  'Retrieved',
  { type: t.literal('Retrieved'), ...session, retriever: Party, via: oneOf('RetrievedVia', ['orbit', 'ring-back']), parkedAt: Instant },
  { retrieverCallId: CallId, ...ending },
);

/**
 * The parker is being rung; if nobody answers by `unansweredAt` the attempt is unanswered.
 * `requestedBy`: the supervisor who rang the parker now, before the park timeout was due.
 */
export const RingBackStarted = closed(
  'RingBackStarted',
  { type: t.literal('RingBackStarted'), ...session, attempt: t.number, unansweredAt: Instant },
  { requestedBy: UserId },
);

/** A ring back went unanswered with attempts left: the call is parked again until `nextRingBackDueAt`. */
export const RingBackUnanswered = closed('RingBackUnanswered', {
  type: t.literal('RingBackUnanswered'),
  ...session,
  attempt: t.number,
  cause: UnansweredCause,
  nextRingBackDueAt: Instant,
});

/** Why a call went to its fallback: how its last ring back went unanswered, or a supervisor sent it. */
export const ExpiryCause = oneOf('ExpiryCause', [...unansweredCauses, 'sent-by-supervisor']);
export type ExpiryCause = t.TypeOf<typeof ExpiryCause>;

/**
 * The last ring back went unanswered (or none could ring), or a supervisor sent the call on
 * (`sentBy`, cause `sent-by-supervisor`): the call goes to its fallback.
 */
export const Expired = closed(
  'Expired',
  { type: t.literal('Expired'), ...session, attempts: t.number, cause: ExpiryCause, fallback: Fallback },
  { ...ending, sentBy: UserId },
);

/** The waiting party hung up while parked or while the parker was being rung back. */
export const Abandoned = closed('Abandoned', { type: t.literal('Abandoned'), ...session, phase: oneOf('SessionPhase', ['parked', 'ringing-back']) }, ending);

/** A refused park, for the audit. */
export const ParkRejected = closed(
  'ParkRejected',
  { type: t.literal('ParkRejected'), tenantId: TenantId, callId: CallId, parker: Party, media: Media, reason: RejectionReason, at: Instant },
  { policy: PolicyIdentity, orbitCode: OrbitCode },
);

/** A refused retrieval, for the audit. `orbitCode` is what the retriever dialed. */
export const RetrievalRejected = closed(
  'RetrievalRejected',
  { type: t.literal('RetrievalRejected'), tenantId: TenantId, orbitCode: text('DialedOrbit', 16), retriever: Retriever, reason: RejectionReason, at: Instant },
  { policy: PolicyIdentity, retrieverCallId: CallId },
);

export const PolicyCreated = closed('PolicyCreated', { type: t.literal('PolicyCreated'), tenantId: TenantId, policy: PolicyIdentity, settings: PolicySettings, at: Instant });
export const PolicySettingsChanged = closed('PolicySettingsChanged', {
  type: t.literal('PolicySettingsChanged'),
  tenantId: TenantId,
  policy: PolicyIdentity,
  settings: PolicySettings,
  changed: t.array(t.string),
  at: Instant,
});
/** A policy removed; removing Global puts it back to the defaults. Users granted it fall back to Global. */
export const PolicyRemoved = closed('PolicyRemoved', { type: t.literal('PolicyRemoved'), tenantId: TenantId, policy: PolicyIdentity, at: Instant });
export const PolicyGranted = closed('PolicyGranted', {
  type: t.literal('PolicyGranted'),
  tenantId: TenantId,
  userId: UserId,
  policy: t.union([PolicyIdentity, t.null]),
  at: Instant,
});
export const EndpointCapabilitiesSet = closed('EndpointCapabilitiesSet', {
  type: t.literal('EndpointCapabilitiesSet'),
  tenantId: TenantId,
  endpoint: Endpoint,
  capabilities: Capabilities,
  at: Instant,
});
export const EndpointCapabilitiesReset = closed('EndpointCapabilitiesReset', {
  type: t.literal('EndpointCapabilitiesReset'),
  tenantId: TenantId,
  endpoint: Endpoint,
  at: Instant,
});

export const CallParkEvent = taggedUnion('CallParkEvent', [
  Parked,
  Retrieved,
  RingBackStarted,
  RingBackUnanswered,
  Expired,
  Abandoned,
  ParkRejected,
  RetrievalRejected,
  PolicyCreated,
  PolicySettingsChanged,
  PolicyRemoved,
  PolicyGranted,
  EndpointCapabilitiesSet,
  EndpointCapabilitiesReset,
]);
export type CallParkEvent = t.TypeOf<typeof CallParkEvent>;
export type EventType = CallParkEvent['type'];

export type Parked = t.TypeOf<typeof Parked>;
export type Retrieved = t.TypeOf<typeof Retrieved>;
export type RingBackStarted = t.TypeOf<typeof RingBackStarted>;
export type RingBackUnanswered = t.TypeOf<typeof RingBackUnanswered>;
export type Expired = t.TypeOf<typeof Expired>;
export type Abandoned = t.TypeOf<typeof Abandoned>;
export type ParkRejected = t.TypeOf<typeof ParkRejected>;
export type RetrievalRejected = t.TypeOf<typeof RetrievalRejected>;

/** The events that end a park session: exactly one per session (I2). */
export type SessionEnded = Retrieved | Expired | Abandoned;

export const eventTypes: readonly EventType[] = CallParkEvent.types.map((codec) => codec.name as EventType);

/** Decode a stored event by its type, so an error names the type it was read as. */
const codecsByType = new Map<string, t.Type<CallParkEvent, unknown, unknown>>(
  CallParkEvent.types.map((codec) => [codec.name, codec as unknown as t.Type<CallParkEvent, unknown, unknown>]),
);
export const eventCodecFor = (type: string): t.Type<CallParkEvent, unknown, unknown> | undefined => codecsByType.get(type);
export type PolicyCreated = t.TypeOf<typeof PolicyCreated>;
export type PolicySettingsChanged = t.TypeOf<typeof PolicySettingsChanged>;
export type PolicyRemoved = t.TypeOf<typeof PolicyRemoved>;
export type PolicyGranted = t.TypeOf<typeof PolicyGranted>;
export type EndpointCapabilitiesSet = t.TypeOf<typeof EndpointCapabilitiesSet>;
export type EndpointCapabilitiesReset = t.TypeOf<typeof EndpointCapabilitiesReset>;
