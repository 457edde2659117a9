/**
 * A directive on the directives topic: keyed by the Call-ID it is about, its value a JSON
 * envelope naming where it came from, around the directive itself (domain/directives.ts):
 *
 *   { "directiveId": "<eventId>:0", "eventId": "…", "eventType": "Parked", "commandId": "evt-1001",
 *     "directive": { "type": "hold-caller", "tenantId": "…", "callId": "…", … } }
 *
 * `directiveId` is the stored event's id and the directive's index among that event's
 * directives: deterministic, so a directive published twice (after a crash between Kafka's
 * acknowledgement and the checkpoint) is recognisable. `commandId` is the command that recorded
 * the event: for signaling, the `eventId` of the signaling message.
 */
import * as t from 'io-ts/lib/index.js';
import type { Message } from 'kafkajs';
import { closed } from '../../domain/codec/codec.js';
import { Directive, directivesFor } from '../../domain/directives.js';
import type { DecodedEvent } from '../../domain/storedForm/storedEvent.js';

export const DirectiveMessage = closed('DirectiveMessage', {
  directiveId: t.string,
  eventId: t.string,
  eventType: t.string,
  commandId: t.string,
  directive: Directive,
});
export type DirectiveMessage = t.TypeOf<typeof DirectiveMessage>;

export const directiveHeader = {
  directiveId: 'callpark.directive.id',
  directiveType: 'callpark.directive.type',
  eventId: 'callpark.event.id',
  eventType: 'callpark.event.type',
  commandId: 'callpark.command.id',
  tenantId: 'callpark.tenant.id',
} as const;

export const directiveIdFor = (eventId: string, index: number): string => `${eventId}:${index}`;

/** The directive records one stored event calls for, in the order the media tier should carry them out. */
export const directiveRecords = (eventId: string, { event, metadata }: DecodedEvent): Message[] =>
  directivesFor(event).map((directive, index) => {
    const directiveId = directiveIdFor(eventId, index);
    const envelope: DirectiveMessage = { directiveId, eventId, eventType: event.type, commandId: metadata.commandId, directive };
    return {
      key: directive.callId,
      value: JSON.stringify(DirectiveMessage.encode(envelope)),
      headers: {
        [directiveHeader.directiveId]: directiveId,
        [directiveHeader.directiveType]: directive.type,
        [directiveHeader.eventId]: eventId,
        [directiveHeader.eventType]: event.type,
        [directiveHeader.commandId]: metadata.commandId,
        [directiveHeader.tenantId]: directive.tenantId,
      },
    };
  });
