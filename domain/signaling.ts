/**
 * Signaling from the media tier (a B2BUA or SBC): the messages of the signaling topic, keyed by
 * Call-ID, and the commands they become. The HTTP API accepts the same shapes, so there is one
 * way in. `eventId` is the command id that makes a redelivery change nothing (I6).
 */
import * as t from 'io-ts/lib/index.js';
import { Instant, closed, taggedUnion, text } from './codec/codec.js';
import { OrbitCodeText, Party, type CallParkCommand, type UnansweredCause } from './commands.js';
import { Endpoint, Media } from './endpoint.js';
import { CallId, CommandId, IncomingTenantId, UserId } from './identifiers.js';

const envelope = { eventId: CommandId, tenantId: IncomingTenantId, callId: CallId };
/**
 * `occurredAt`, the media tier's clock, is accepted and not used: the service decides and records
 * at its own clock (time enters the domain only at admission, I7), so that one clock orders every
 * tenant's events. A media tier may leave it out. (docs/domain.md, "Whose clock".)
 */
const envelopeOptional = { occurredAt: Instant };

/** REFER of the call to the park service. `orbit` names the orbit for a directed park. */
export const ParkRequested = closed('park.requested', { type: t.literal('park.requested'), ...envelope, parker: Party, media: Media }, { ...envelopeOptional, orbit: OrbitCodeText, caller: text('Caller', 256) });

/** INVITE to an orbit. `callId` is the retriever's own dialog. */
export const RetrieveRequested = closed(
  'retrieve.requested',
  {
    type: t.literal('retrieve.requested'),
    ...envelope,
    retriever: closed('Retriever', { userId: UserId, endpoint: Endpoint }, { federated: t.boolean }),
    orbit: OrbitCodeText,
  },
  envelopeOptional,
);

/** BYE or CANCEL from the waiting party. */
export const CallEnded = closed('call.ended', { type: t.literal('call.ended'), ...envelope }, { ...envelopeOptional, sipMethod: t.union([t.literal('BYE'), t.literal('CANCEL')]) });

/** 200 OK from the parker's endpoint to the ring back. */
export const RingBackAnsweredMessage = closed('ringback.answered', { type: t.literal('ringback.answered'), ...envelope }, envelopeOptional);

const failureStatuses = { 486: 'busy', 480: 'unavailable', 408: 'timeout', 603: 'declined' } as const satisfies Record<number, UnansweredCause>;
const SipFailureStatus = t.union([t.literal(486), t.literal(480), t.literal(408), t.literal(603)]);

/** 486, 480, 408 or 603 from the parker's endpoint to the ring back. */
export const RingBackFailedMessage = closed('ringback.failed', { type: t.literal('ringback.failed'), ...envelope, sipStatus: SipFailureStatus }, envelopeOptional);

export const SignalingMessage = taggedUnion('SignalingMessage', [ParkRequested, RetrieveRequested, CallEnded, RingBackAnsweredMessage, RingBackFailedMessage]);
export type SignalingMessage = t.TypeOf<typeof SignalingMessage>;
export type SignalingType = SignalingMessage['type'];
export const signalingTypes: readonly SignalingType[] = SignalingMessage.types.map((codec) => codec.name as SignalingType);

/** What the service adds to a message to make it a command: when it is decided, and the draws it needs. */
export interface Admission {
  /** The instant the service decides at: time enters the domain only here (I7). */
  readonly at: number;
  /** The id of the park session a park would start. */
  readonly sessionId: string;
  /** A draw in [0, 1) for random orbit allocation. */
  readonly random: number;
}

export const toCommand = (message: SignalingMessage, { at, sessionId, random }: Admission): CallParkCommand => {
  const base = { commandId: message.eventId, at, tenantId: message.tenantId };
  switch (message.type) {
    case 'park.requested':
      return {
        type: 'ParkCall',
        ...base,
        sessionId,
        callId: message.callId,
        parker: message.parker,
        media: message.media,
        random,
        ...(message.orbit === undefined ? {} : { orbit: message.orbit }),
        ...(message.caller === undefined ? {} : { caller: message.caller }),
      };
    case 'retrieve.requested':
      return {
        type: 'RetrieveCall',
        ...base,
        orbit: message.orbit,
        retriever: { userId: message.retriever.userId, endpoint: message.retriever.endpoint, federated: message.retriever.federated ?? false },
        retrieverCallId: message.callId,
      };
    case 'call.ended':
      return { type: 'CallerHungUp', ...base, callId: message.callId };
    case 'ringback.answered':
      return { type: 'RingBackAnswered', ...base, callId: message.callId };
    case 'ringback.failed':
      return { type: 'RingBackFailed', ...base, callId: message.callId, cause: failureStatuses[message.sipStatus], sipStatus: message.sipStatus };
    default: {
      const unhandled: never = message;
      return unhandled;
    }
  }
};
