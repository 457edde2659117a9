/**
 * The idempotency window (I6) in memory: the commands a tenant recorded within the last hour of
 * its own time that this process folded, so that a repeated command id answers with the first
 * outcome and records nothing new.
 *
 * It is never stored: a snapshot holds the state only (ADR 0003). Commands recorded before the
 * snapshot a tenant was loaded from are found in the store instead, by the id of their first
 * event (idempotencyLookup.ts); `missedSince` says whether any such command can still be in the
 * window.
 *
 * Its cost is the commands of the window, whatever their ids' length: an entry is where the
 * command's events start in the stream and how many there are, under a key of at most 23
 * characters (an id longer than 22 is known by 128 bits of its SHA-256). The events themselves
 * stay in the store: a repeated command, which is rare, reads them back (idempotencyLookup.ts),
 * and that read checks the command id written in their metadata, so two ids sharing a key could
 * only ever fail loudly, never answer for one another.
 */
import { createHash } from 'node:crypto';
import type { Position } from '../../domain/eventStore.js';
import type { CallParkEvent } from '../../domain/events.js';
import type { Rejection } from './commandOutcome.js';

export type { Rejection } from './commandOutcome.js';

/** What a command recorded: where its events start; the events, rejection and position once read (or folded here). */
export interface Remembered {
  readonly commandId: string;
  readonly firstRevision: number;
  /** How many events it recorded; undefined when found in the store by its first event's id, until read. */
  count: number | undefined;
  events: CallParkEvent[] | undefined;
  rejection?: Rejection;
  position?: Position;
}

interface Entry {
  readonly key: string;
  /** When its first event happened, in the tenant's time. */
  readonly at: number;
  readonly firstRevision: number;
  count: number;
  rejection?: Rejection;
  position: Position;
}

/** Longer ids than this are keyed by a digest. */
const LONGEST_KEPT = 22;

/** An id of up to 22 characters is its own key; a longer one's key is 23 characters long (so the two never meet), `\0` then 128 bits of its SHA-256. */
const keyOf = (commandId: string): string =>
  commandId.length <= LONGEST_KEPT ? commandId : `\u0000${createHash('sha256').update(commandId, 'utf8').digest().toString('base64', 0, 16).slice(0, 22)}`;

export class IdempotencyWindow {
  /** Key of the command id → what it recorded. */
  private readonly entries = new Map<string, Entry>();
  /** The same entries in the order of their first revision, from `oldest` on: forgetting stops at the first kept. */
  private order: Entry[] = [];
  private oldest = 0;
  /** The last command recorded, whose later events go to the same entry without keying it again. */
  private last: { readonly commandId: string; readonly entry: Entry } | undefined;

  /**
   * @param missedUntil the tenant's time of the last command this window may be missing (recorded
   *   before the snapshot it was loaded from); undefined when it misses none.
   */
  constructor(private missedUntil?: number) {}

  /** What `commandId` recorded, if this process folded it and it did so at or after `notBefore`; its events are the store's to read. */
  find(commandId: string, notBefore: number): Remembered | undefined {
    const entry = this.entries.get(keyOf(commandId));
    if (entry === undefined || entry.at < notBefore) return undefined;
    return { commandId, firstRevision: entry.firstRevision, count: entry.count, events: undefined, position: entry.position, ...(entry.rejection ? { rejection: entry.rejection } : {}) };
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
    let entry = this.last?.commandId === commandId ? this.last.entry : this.entries.get(keyOf(commandId));
    if (entry === undefined) {
      entry = { key: keyOf(commandId), at: event.at, firstRevision: revision, count: 0, position };
      this.entries.set(entry.key, entry);
      this.order.push(entry);
    }
    this.last = { commandId, entry };
    entry.count++;
    entry.position = position;
    if (rejection !== undefined) entry.rejection = rejection;
  }

  /** The append of the commands folded with a pending position is done: they are at `position`. */
  settle(commandIds: readonly string[], position: Position): void {
    for (const commandId of commandIds) {
      const entry = this.entries.get(keyOf(commandId));
      if (entry !== undefined) entry.position = position;
    }
  }

  /** Forget commands that fell out of the window, oldest first. */
  forget(notBefore: number): void {
    while (this.oldest < this.order.length && this.order[this.oldest]!.at < notBefore) {
      const entry = this.order[this.oldest++]!;
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      if (this.last?.entry === entry) this.last = undefined;
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
