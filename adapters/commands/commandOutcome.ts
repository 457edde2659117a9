/** What the command handler answers for a command, and the failures it names. */
import type { Position } from '../../domain/eventStore.js';
import type { CallParkEvent } from '../../domain/events.js';
import type { RejectionReason } from '../../domain/rejection.js';

export type Rejection = { readonly reason: RejectionReason; readonly message: string };

export interface CommandOutcome {
  /** accepted: events were recorded; rejected: refused (with the audit record, if any); no-op: nothing to do. */
  readonly kind: 'accepted' | 'rejected' | 'no-op';
  /** What the command recorded (for a rejection, its audit record when it has one). */
  readonly events: readonly CallParkEvent[];
  readonly rejection?: Rejection;
  /** The command id was seen before: this is the first outcome again, and nothing new was recorded. */
  readonly duplicate: boolean;
  /** Where the last event was stored, so a reader can wait for its projections to pass it. */
  readonly position?: Position;
  /** How many times it was decided (more than 1 when another writer got in first). */
  readonly attempts: number;
}

/** Other writers kept changing the tenant's stream: trying again later may pass. */
export class ConcurrencyExhausted extends Error {
  override readonly name = 'ConcurrencyExhausted';
}

/**
 * The events one command decided are more than the store takes in one append: the same command
 * will never pass, so it must not be retried (the Kafka bridge sends it to the dead-letter topic).
 */
export class CommandTooLarge extends Error {
  override readonly name = 'CommandTooLarge';
  readonly retryable = false;
  constructor(
    readonly commandId: string,
    readonly size: number,
    readonly maxAppendSize: number,
  ) {
    super(`Command ${commandId} decided events of ${size} bytes, more than the event store takes in one append (${maxAppendSize} bytes).`);
  }
}
