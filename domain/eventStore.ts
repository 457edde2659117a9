/**
 * The EventStore port: what the application needs from an event store, in EventStoreDB's terms.
 *
 * Streams hold events at revisions counted from 0. Every stored event also has a position in
 * the global log (`$all`), ordered across streams. The port is owned here, by the side that
 * needs it; SQLite, EventStoreDB and the in-memory store implement it, and one contract suite
 * (test/contract/eventStore.contract.ts) holds every implementation to the same behaviour.
 */

/** A position in the global log. SQLite uses one sequence for both parts; EventStoreDB has two. */
export interface Position {
  readonly commit: bigint;
  readonly prepare: bigint;
}

export const comparePositions = (a: Position, b: Position): number =>
  a.commit < b.commit ? -1 : a.commit > b.commit ? 1 : a.prepare < b.prepare ? -1 : a.prepare > b.prepare ? 1 : 0;

/**
 * What the writer expects the stream to be before its append:
 * - `any`: no check;
 * - `no_stream`: the stream has no events;
 * - `stream_exists`: the stream has at least one event;
 * - a number: the revision of the stream's last event (so 0 after its first event).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

/** An event to append. Its `id` makes a retried append idempotent: see `appendToStream`. */
export interface EventData {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
}

export interface RecordedEvent {
  readonly id: string;
  readonly streamName: string;
  readonly revision: number;
  readonly position: Position;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  /** When the store recorded it, in milliseconds since the epoch (the store's clock, not the domain's). */
  readonly recordedAt: number;
}

export interface AppendResult {
  /** The revision of the stream's last event after the append. */
  readonly nextExpectedRevision: number;
  /** The global position of the last event appended (or of the already stored duplicate). */
  readonly position: Position;
}

/** The stream's state did not match the expected revision. `actual` is `no_stream` for an empty stream. */
export class WrongExpectedRevision extends Error {
  override readonly name = 'WrongExpectedRevision';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}.`);
  }
}

export interface ReadStreamOptions {
  /** Start at this revision (inclusive); forwards from 0 and backwards from the end by default. */
  readonly fromRevision?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
}

/**
 * The append was larger than the store takes in one append (EventStoreDB refuses more than its
 * `MaxAppendSize`, 1 MiB by default). Nothing was written; the same append will never pass, so a
 * writer splits its batch before it reaches the limit (measured as `appendSize` does).
 */
export class AppendTooLarge extends Error {
  override readonly name = 'AppendTooLarge';
  readonly retryable = false;
  constructor(
    readonly streamName: string,
    readonly size: number,
    readonly maxAppendSize: number,
  ) {
    super(`An append of ${size} bytes to ${streamName} is over the store's maximum append size of ${maxAppendSize} bytes.`);
  }
}

/**
 * A snapshot of a stream's fold, kept by the store apart from the log: never in `$all`, never
 * delivered to a subscription, never read by `readStream`. The store keeps the newest one per
 * stream only (the one of the highest revision), so what snapshots cost is bounded per stream
 * whatever its history. It has no size limit (a store with an append limit splits it itself).
 */
export interface Snapshot {
  /** The revision of the stream's last event folded into it. */
  readonly revision: number;
  readonly data: unknown;
}

export interface SubscriptionFilter {
  /** Only events of streams whose name starts with one of these prefixes. */
  readonly streamNamePrefixes?: readonly string[];
  /** Only events whose type starts with one of these prefixes. */
  readonly eventTypePrefixes?: readonly string[];
}

export interface SubscribeOptions {
  /** Deliver events after this position; from the start of the log when absent. */
  readonly after?: Position;
  readonly filter?: SubscriptionFilter;
}

/**
 * A catch-up subscription to the global log: history first, then live events, in global order,
 * each at least once. It is consumed with `for await`, which is its back-pressure. It ends only
 * when `close()` is called; a dropped connection is resumed from the last delivered position.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

export interface EventStore {
  /**
   * Append events to a stream, atomically, when the stream is as expected.
   * Throws WrongExpectedRevision otherwise. Appending events whose ids are already stored at
   * the same place in the stream (a retry of an append that succeeded) writes nothing and
   * answers as the first append did.
   */
  appendToStream(streamName: string, events: readonly EventData[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult>;

  /** Read a stream. A stream with no events reads as empty: never an error. */
  readStream(streamName: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** The catch-up subscription to the global log. */
  subscribeToAll(options?: SubscribeOptions): Subscription;

  /** The position of the last event in the global log, or undefined when the log is empty. */
  headPosition(): Promise<Position | undefined>;

  /**
   * The most an append may carry, in bytes as `appendSize` counts them; a larger one is refused
   * with AppendTooLarge and writes nothing.
   */
  readonly maxAppendSize: number;

  /**
   * Keep `snapshot` as the stream's snapshot, replacing the one kept, unless that one is of a
   * later revision (two processes may write them in either order: the newest stays).
   */
  writeSnapshot(streamName: string, snapshot: Snapshot): Promise<void>;

  /** The stream's newest snapshot, or undefined when none is kept. */
  readSnapshot(streamName: string): Promise<Snapshot | undefined>;

  /**
   * The revision of the stream's event with this id, read from the store's index of event ids;
   * undefined when no such event is stored there. Absent when the store keeps no index that can be
   * asked (EventStoreDB): a reader then finds an event by reading the stream.
   */
  readonly findEvent?: (streamName: string, eventId: string) => Promise<number | undefined>;

  close(): Promise<void>;
}

/** Whether a subscription with this filter receives the event (every store applies the same rule). */
export const matchesFilter = (event: RecordedEvent, filter: SubscriptionFilter | undefined): boolean => {
  if (filter === undefined) return true;
  const { streamNamePrefixes, eventTypePrefixes } = filter;
  if (streamNamePrefixes && !streamNamePrefixes.some((prefix) => event.streamName.startsWith(prefix))) return false;
  if (eventTypePrefixes && !eventTypePrefixes.some((prefix) => event.type.startsWith(prefix))) return false;
  return true;
};

/** The expected-revision rule of appendToStream: throws WrongExpectedRevision when it does not hold. */
export const checkExpectedRevision = (streamName: string, expected: ExpectedRevision, lastRevision: number | undefined): void => {
  const actual = lastRevision ?? 'no_stream';
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && lastRevision === undefined) ||
    (expected === 'stream_exists' && lastRevision !== undefined) ||
    (typeof expected === 'number' && expected === lastRevision);
  if (!ok) throw new WrongExpectedRevision(streamName, expected, actual);
};
