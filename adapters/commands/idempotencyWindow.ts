/**
 * The idempotency window (I6) in memory: the commands a tenant recorded within the last hour of
 * its own time that this process folded, and what they recorded, so that a repeated command id
 * answers with the first outcome and records nothing new.
 *
 * It is never stored: a snapshot holds the state only (ADR 0003). Commands recorded before the
 * snapshot a tenant was loaded from are found in the store instead, by the id of their first
 * event (idempotencyLookup.ts); `missedSince` says whether any such command can still be in the
 * window. Its cost is the commands of the window, whatever their ids' length on disk.
 */
import type { Position } from '../../domain/eventStore.js';
import type { CallParkEvent } from '../../domain/events.js';
import type { Rejection } from './commandOutcome.js';

export type { Rejection } from './commandOutcome.js';

/** What a command recorded. The events, rejection and position are known once read (or folded here). */
export interface Remembered {
  readonly commandId: string;
  readonly firstRevision: number;
  /** How many events it recorded; undefined when found in the store by its first event's id, until read. */
  count: number | undefined;
  events: CallParkEvent[] | undefined;
  rejection?: Rejection;
  position?: Position;
}

interface Entry extends Remembered {
  /** When its first event happened, in the tenant's time. */
  readonly at: number;
}

export class IdempotencyWindow {
  /** Command id → what it recorded. */
  private readonly entries = new Map<string, Entry>();
  /** The same entries in the order of their first revision, from `oldest` on: forgetting stops at the first kept. */
  private order: Entry[] = [];
  private oldest = 0;

  /**
   * @param missedUntil the tenant's time of the last command this window may be missing (recorded
   *   before the snapshot it was loaded from); undefined when it misses none.
   */
  constructor(private missedUntil?: number) {}

  /** What `commandId` recorded, if this process folded it and it did so at or after `notBefore`. */
  find(commandId: string, notBefore: number): Remembered | undefined {
    const entry = this.entries.get(commandId);
    return entry !== undefined && entry.at >= notBefore ? entry : undefined;
  }

  /** Whether a command of the window at `notBefore` may have been recorded before what this window folded. */
  mayMiss(notBefore: number): boolean {
    if (this.missedUntil !== undefined && this.missedUntil < notBefore) this.missedUntil = undefined;
    return this.missedUntil !== undefined;
  }

  /** Everything from here on is folded: nothing of the window is missing (the tenant's history was read back to its start). */
  complete(): void {
    this.missedUntil = undefined;
  }

  /** Note that the command recorded an event at `revision`; the first event of a command starts its entry. */
  record(commandId: string, event: CallParkEvent, revision: number, position: Position, rejection: Rejection | undefined): void {
    let entry = this.entries.get(commandId);
    if (entry === undefined) {
      entry = { commandId, at: event.at, firstRevision: revision, count: 0, events: [] };
      this.entries.set(commandId, entry);
      this.order.push(entry);
    }
    entry.events?.push(event);
    entry.count = (entry.count ?? 0) + 1;
    entry.position = position;
    if (rejection !== undefined) entry.rejection = rejection;
  }

  /** Forget commands that fell out of the window, oldest first. */
  forget(notBefore: number): void {
    while (this.oldest < this.order.length && this.order[this.oldest]!.at < notBefore) {
      const entry = this.order[this.oldest++]!;
      if (this.entries.get(entry.commandId) === entry) this.entries.delete(entry.commandId);
    }
    if (this.oldest > 1024 && this.oldest > this.order.length / 2) {
      this.order = this.order.slice(this.oldest);
      this.oldest = 0;
    }
  }

  /** How many commands it holds. */
  get size(): number {
    return this.entries.size;
  }
}
