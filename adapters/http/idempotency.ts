/**
 * Idempotency over HTTP (I6). A command's id is the message's `eventId`, or the Idempotency-Key
 * header (see signalingRoutes.ts for how the two combine). Repeating a command id answers the
 * first outcome again, with `Idempotent-Replayed: true`, and records nothing new.
 *
 * The handler remembers what a command id recorded, not the request it came with. So a replay is
 * checked against the request: an id reused for a different request (another call, another
 * policy, another kind of command) is a 422, never someone else's answer.
 */
import type { CallParkCommand } from '../../domain/commands.js';
import type { CallParkEvent } from '../../domain/events.js';

export const REPLAYED_HEADER = 'idempotent-replayed';

/** Whether the event a command id recorded first could have come from this command. */
export const recordedBy = (command: CallParkCommand, event: CallParkEvent): boolean => {
  switch (command.type) {
    case 'ParkCall':
      return (event.type === 'Parked' || event.type === 'ParkRejected') && event.callId === command.callId && event.parker.userId === command.parker.userId;
    case 'RetrieveCall':
      return ((event.type === 'Retrieved' && event.via === 'orbit') || event.type === 'RetrievalRejected') && event.retriever.userId === command.retriever.userId;
    case 'RingBackAnswered':
      return event.type === 'Retrieved' && event.via === 'ring-back' && event.callId === command.callId;
    case 'RingBackFailed':
      return (event.type === 'RingBackUnanswered' || event.type === 'Expired') && event.callId === command.callId;
    case 'RingBackDue':
      return (event.type === 'RingBackStarted' || event.type === 'Expired') && event.sessionId === command.sessionId;
    case 'CallerHungUp':
      return event.type === 'Abandoned' && event.callId === command.callId;
    case 'SendToFallbackNow':
      return event.type === 'Expired' && event.sentBy === command.supervisor && event.sessionId === command.sessionId;
    case 'RingParkerNow':
      return event.type === 'RingBackStarted' && event.requestedBy === command.supervisor && event.sessionId === command.sessionId;
    case 'NewPolicy':
      return event.type === 'PolicyCreated' && event.policy === command.policy;
    case 'SetPolicy':
      return event.type === 'PolicySettingsChanged' && event.policy === command.policy;
    case 'RemovePolicy':
      return event.type === 'PolicyRemoved' && event.policy === command.policy;
    case 'GrantPolicy':
      return event.type === 'PolicyGranted' && event.userId === command.userId;
    case 'SetEndpointCapabilities':
      return event.type === 'EndpointCapabilitiesSet' && event.endpoint === command.endpoint;
    case 'ResetEndpointCapabilities':
      return event.type === 'EndpointCapabilitiesReset' && event.endpoint === command.endpoint;
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
};

/** A replayed outcome fits the request when what it recorded first could have come from it. */
export const replayFits = (command: CallParkCommand, recorded: readonly CallParkEvent[]): boolean => {
  const first = recorded[0];
  return first === undefined || recordedBy(command, first);
};
