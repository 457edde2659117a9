/**
 * A batch of signaling records, read: each record becomes the command it asks for, or a dead
 * letter with the reason it cannot be read (signalingDecoding.ts). The consumer then handles the
 * batch in lanes (tenantLanes.ts): one lane per tenant, whose commands are decided together and
 * recorded by one append, and one lane for the batch's dead letters, produced by as few sends as
 * fit the largest record batch (one, mostly).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { KafkaMessage } from 'kafkajs';
import type { CallParkCommand } from '../../domain/commands.js';
import { toCommand, type SignalingMessage } from '../../domain/signaling.js';
import { uuidV5 } from '../eventStores/eventIds.js';
import { decodeSignaling, type Undecodable } from './signalingDecoding.js';
import { unreadableBatchOf } from './unreadableBatch.js';

export type SignalingItem = CommandItem | DeadLetterItem;

export interface CommandItem {
  readonly kind: 'command';
  readonly message: KafkaMessage;
  readonly command: CallParkCommand;
}

export interface DeadLetterItem {
  readonly kind: 'dead-letter';
  readonly message: KafkaMessage;
  readonly failure: Undecodable;
}

/** The park session a park message starts: named after the message, so a redelivery names the same one. */
export const sessionIdFor = (message: SignalingMessage): string => uuidV5(`park-session\u0000${message.tenantId}\u0000${message.eventId}`);

/** What a batch's records are admitted with: the instant they are decided at (I7), and a source of draws (each record's Admission, domain/signaling.ts, takes one). */
export interface BatchAdmission {
  readonly at: number;
  readonly random: () => number;
}

export const readSignalingRecord = (message: KafkaMessage, admission: BatchAdmission): SignalingItem => {
  const unreadable = unreadableBatchOf(message);
  if (unreadable !== undefined) return { kind: 'dead-letter', message, failure: { reason: 'unreadable-batch', issues: [{ path: '$', message: unreadable }] } };
  const decoded = decodeSignaling(message.value);
  if (E.isLeft(decoded)) return { kind: 'dead-letter', message, failure: decoded.left };
  const signal = decoded.right;
  // Only a park starts a session; its id is named after the message, so a redelivery names the same one.
  const sessionId = signal.type === 'park.requested' ? sessionIdFor(signal) : '';
  return { kind: 'command', message, command: toCommand(signal, { at: admission.at, sessionId, random: admission.random() }) };
};

/** The dead letters' lane: not a tenant's (tenant lanes are named `tenant:<id>`). */
export const DEAD_LETTER_LANE = 'dead-letters';

/** The lane of a record: its tenant's, so that a tenant's commands are decided in order, together. */
export const laneOf = (item: SignalingItem): string => (item.kind === 'command' ? `tenant:${item.command.tenantId}` : DEAD_LETTER_LANE);

export const isCommandLane = (lane: readonly SignalingItem[]): lane is readonly CommandItem[] => lane[0]?.kind === 'command';
