/**
 * Directives for the media tier: what the B2BUA or SBC must do on the wire, derived from the
 * events alone. Hold the caller (with or without music), connect the caller to whoever retrieved
 * the call, ring the parker, stop ringing, send the call to its fallback, release the orbit, and
 * tell the user why a park or retrieval was refused. Keyed by Call-ID, like the signaling.
 */
import type * as t from 'io-ts/lib/index.js';
import * as io from 'io-ts/lib/index.js';
import { Instant, closed, taggedUnion, oneOf } from './codec/codec.js';
import { Party } from './commands.js';
import type { Abandoned, CallParkEvent, Expired, Retrieved } from './events.js';
import { RejectionReason, sentenceFor } from './rejection.js';

const common = { tenantId: io.string, callId: io.string, at: Instant };
const inSession = { ...common, sessionId: io.string, orbitCode: io.string };

export const HoldCaller = closed('hold-caller', { type: io.literal('hold-caller'), ...inSession, musicOnHold: io.boolean });
export const ConnectCaller = closed('connect-caller', { type: io.literal('connect-caller'), ...inSession, to: Party, via: oneOf('Via', ['orbit', 'ring-back']) }, { retrieverCallId: io.string });
export const RingParker = closed('ring-parker', { type: io.literal('ring-parker'), ...inSession, parker: Party, attempt: io.number, ringUntil: Instant });
/** Stop ringing the parker for a ring back; `attempt` is absent only for an event stored before events said which attempt was ringing. */
export const StopRinging = closed('stop-ringing', { type: io.literal('stop-ringing'), ...inSession }, { attempt: io.number });
export const SendToFallback = closed('send-to-fallback', { type: io.literal('send-to-fallback'), ...inSession, fallback: io.string, parker: Party });
export const ReleaseOrbit = closed('release-orbit', { type: io.literal('release-orbit'), ...inSession });
export const RefusePark = closed('refuse-park', { type: io.literal('refuse-park'), ...common, reason: RejectionReason, message: io.string });
export const RefuseRetrieval = closed('refuse-retrieval', { type: io.literal('refuse-retrieval'), ...common, orbitCode: io.string, reason: RejectionReason, message: io.string });

export const Directive = taggedUnion('Directive', [HoldCaller, ConnectCaller, RingParker, StopRinging, SendToFallback, ReleaseOrbit, RefusePark, RefuseRetrieval]);
export type Directive = t.TypeOf<typeof Directive>;
export type StopRinging = t.TypeOf<typeof StopRinging>;

type SessionEvent = Extract<CallParkEvent, { sessionId: string }>;
const sessionOf = (event: SessionEvent) => ({ tenantId: event.tenantId, callId: event.callId, at: event.at, sessionId: event.sessionId, orbitCode: event.orbitCode });

/**
 * Whether a session's ending found the parker being rung back, and which attempt: the event says
 * so (`ringingAttempt`). An event stored before events said so tells what it can: an abandonment
 * while ringing back or an answered ring back was ringing an attempt it did not name; an expiry
 * after a ring back went unanswered was ringing its last attempt.
 */
const ringingWhenEnded = (event: Retrieved | Expired | Abandoned): { attempt?: number } | undefined => {
  if (event.ringingAttempt !== undefined) return { attempt: event.ringingAttempt };
  switch (event.type) {
    case 'Retrieved':
      return event.via === 'ring-back' ? {} : undefined;
    case 'Abandoned':
      return event.phase === 'ringing-back' ? {} : undefined;
    case 'Expired':
      // A supervisor's expiry is as new as `ringingAttempt`: without it, nothing was ringing.
      return event.sentBy === undefined && event.cause !== 'cannot-ring-back' && event.attempts > 0 ? { attempt: event.attempts } : undefined;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};

/** Every ending of a session stops the ring back it found ringing, before anything else. */
const stopRinging = (event: Retrieved | Expired | Abandoned): StopRinging[] => {
  const ringing = ringingWhenEnded(event);
  return ringing === undefined ? [] : [{ type: 'stop-ringing', ...sessionOf(event), ...ringing }];
};

/** The directives one event calls for, in the order the media tier should carry them out. */
export const directivesFor = (event: CallParkEvent): Directive[] => {
  switch (event.type) {
    case 'Parked':
      return [{ type: 'hold-caller', ...sessionOf(event), musicOnHold: event.settings.musicOnHold }];
    case 'RingBackStarted':
      return [{ type: 'ring-parker', ...sessionOf(event), parker: event.parker, attempt: event.attempt, ringUntil: event.unansweredAt }];
    case 'RingBackUnanswered':
      return [{ type: 'stop-ringing', ...sessionOf(event), attempt: event.attempt }];
    case 'Retrieved':
      return [
        ...stopRinging(event),
        { type: 'connect-caller', ...sessionOf(event), to: event.retriever, via: event.via, ...(event.retrieverCallId ? { retrieverCallId: event.retrieverCallId } : {}) },
        { type: 'release-orbit', ...sessionOf(event) },
      ];
    case 'Expired':
      return [
        ...stopRinging(event),
        { type: 'send-to-fallback', ...sessionOf(event), fallback: event.fallback, parker: event.parker },
        { type: 'release-orbit', ...sessionOf(event) },
      ];
    case 'Abandoned':
      return [
        ...stopRinging(event),
        { type: 'release-orbit', ...sessionOf(event) },
      ];
    case 'ParkRejected':
      return [{ type: 'refuse-park', tenantId: event.tenantId, callId: event.callId, at: event.at, reason: event.reason, message: sentenceFor(event.reason) }];
    case 'RetrievalRejected':
      // Without the retriever's own dialog there is no call on the wire to tell.
      return event.retrieverCallId === undefined
        ? []
        : [{ type: 'refuse-retrieval', tenantId: event.tenantId, callId: event.retrieverCallId, at: event.at, orbitCode: event.orbitCode, reason: event.reason, message: sentenceFor(event.reason) }];
    case 'PolicyCreated':
    case 'PolicySettingsChanged':
    case 'PolicyRemoved':
    case 'PolicyGranted':
    case 'EndpointCapabilitiesSet':
    case 'EndpointCapabilitiesReset':
      return [];
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};
