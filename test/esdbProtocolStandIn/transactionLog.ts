/**
 * The stand-in's storage: one in-memory transaction log with EventStoreDB's write rules.
 *
 * - Every event is written the way EventStoreDB 20+ writes a gRPC append: as a prepare record of
 *   an implicit transaction, so its position in `$all` has commit == prepare == the byte offset at
 *   which its record starts. Offsets grow by an approximate record size, so positions are sparse
 *   and increasing, never dense indexes.
 * - Stream revisions count from 0.
 * - Expected versions and idempotency follow EventStoreDB's commit check: a write whose expected
 *   version is behind the stream is idempotent when the same event ids already follow that version;
 *   with `any` (or `stream_exists`) it is idempotent when the first id is known and the rest follow
 *   it; a partial match is a wrong expected version ("corrupted idempotency"). EventStoreDB knows
 *   the ids of recent events only (a bounded cache); the stand-in knows them all.
 */

export interface ProposedEvent {
  /** The event id as a canonical lowercase UUID. */
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

export interface StoredEvent extends ProposedEvent {
  readonly streamName: string;
  readonly revision: number;
  /** Where the event's record starts in the log: its commit and its prepare position. */
  readonly logPosition: bigint;
  /** When it was written, in .NET ticks (100 ns) since the Unix epoch, as EventStoreDB reports it. */
  readonly created: bigint;
}

export type ExpectedVersion =
  | { readonly kind: 'any' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'stream_exists' }
  | { readonly kind: 'revision'; readonly revision: number };

export type WriteOutcome =
  | { readonly kind: 'written' | 'idempotent'; readonly lastRevision: number; readonly logPosition: bigint }
  | { readonly kind: 'nothing_to_write'; readonly currentRevision: number | undefined }
  | { readonly kind: 'wrong_expected_version'; readonly currentRevision: number | undefined };

/** A position in `$all` as the protocol carries it. */
export interface LogPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

export type StreamStart = 'start' | 'end' | number;
export type AllStart = 'start' | 'end' | LogPosition;
export type Direction = 'forwards' | 'backwards';

/** EventStoreDB's default maximum size of one append (`MaxAppendSize`), in bytes. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

/** What EventStoreDB counts towards the maximum append size (`Event.SizeOnDisk`). */
export const sizeOnDisk = (event: ProposedEvent): number => event.data.length + event.customMetadata.length + event.type.length * 2;

const RECORD_OVERHEAD = 64;
const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');
const recordSize = (streamName: string, event: ProposedEvent): number =>
  RECORD_OVERHEAD + utf8Length(streamName) + utf8Length(event.type) + 16 + event.data.length + event.customMetadata.length;

const TICKS_PER_MILLISECOND = 10_000n;

/** Whether an event at `eventPosition` (commit == prepare) comes before the position `p`. */
const isBefore = (eventPosition: bigint, p: LogPosition): boolean =>
  eventPosition < p.commit || (eventPosition === p.commit && eventPosition < p.prepare);
const isAfter = (eventPosition: bigint, p: LogPosition): boolean =>
  eventPosition > p.commit || (eventPosition === p.commit && eventPosition > p.prepare);

export class TransactionLog {
  private readonly all: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly revisionsById = new Map<string, Map<string, number>>();
  private readonly listeners = new Set<() => void>();
  private nextLogPosition = 0n;

  constructor(private readonly clock: () => number = Date.now) {}

  write(streamName: string, expected: ExpectedVersion, events: readonly ProposedEvent[]): WriteOutcome {
    const stream = this.streams.get(streamName) ?? [];
    const current = stream.length === 0 ? undefined : stream.length - 1;
    const verdict = this.check(streamName, stream, expected, events);
    if (verdict.kind !== 'write') return verdict;
    if (events.length === 0) return { kind: 'nothing_to_write', currentRevision: current };

    const created = BigInt(this.clock()) * TICKS_PER_MILLISECOND;
    const ids = this.revisionsById.get(streamName) ?? new Map<string, number>();
    let last: StoredEvent | undefined;
    for (const event of events) {
      last = { ...event, streamName, revision: stream.length, logPosition: this.nextLogPosition, created };
      this.nextLogPosition += BigInt(recordSize(streamName, event));
      stream.push(last);
      this.all.push(last);
      if (!ids.has(event.id)) ids.set(event.id, last.revision);
    }
    this.streams.set(streamName, stream);
    this.revisionsById.set(streamName, ids);
    this.notify();
    return { kind: 'written', lastRevision: last!.revision, logPosition: last!.logPosition };
  }

  /**
   * The stream's events from `from`, in `direction`; undefined when the stream has no events.
   * As EventStoreDB does, events its metadata retires (before `$tb`, or more than `$maxCount` from
   * the end; a metadata stream `$$…` keeps its last event only) are never read again: the server
   * drops them at its next scavenge.
   */
  readStream(streamName: string, from: StreamStart, direction: Direction): Iterable<StoredEvent> | undefined {
    const stream = this.streams.get(streamName);
    if (stream === undefined || stream.length === 0) return undefined;
    const first = this.firstKept(streamName, stream.length);
    if (direction === 'forwards') return forwardsFrom(stream, Math.max(first, from === 'start' ? 0 : from === 'end' ? stream.length : from));
    return backwardsFrom(stream, from === 'start' ? 0 : from === 'end' ? stream.length - 1 : Math.min(from, stream.length - 1), first);
  }

  /** The revision of the first event of the stream its metadata keeps. */
  private firstKept(streamName: string, length: number): number {
    if (streamName.startsWith('$$')) return length - 1;
    const metadata = this.streams.get(`$$${streamName}`)?.at(-1);
    if (metadata === undefined) return 0;
    let parsed: { $tb?: unknown; $maxCount?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(metadata.data).toString('utf8')) as typeof parsed;
    } catch {
      return 0;
    }
    const truncateBefore = typeof parsed.$tb === 'number' ? parsed.$tb : 0;
    const maxCount = typeof parsed.$maxCount === 'number' ? length - parsed.$maxCount : 0;
    return Math.max(0, truncateBefore, maxCount);
  }

  /** `$all` forwards from a position (inclusive) or backwards from one (exclusive), as EventStoreDB reads it. */
  readAll(from: AllStart, direction: Direction): Iterable<StoredEvent> {
    if (direction === 'forwards') {
      const start = from === 'start' ? 0 : from === 'end' ? this.all.length : this.firstIndex((p) => !isBefore(p, from));
      return forwardsFrom(this.all, start);
    }
    const start = from === 'start' ? -1 : from === 'end' ? this.all.length - 1 : this.firstIndex((p) => !isBefore(p, from)) - 1;
    return backwardsFrom(this.all, start);
  }

  /** The index in `$all` of the first event after `position` (exclusive), where a subscription resumes. */
  indexAfter(position: LogPosition | 'start'): number {
    return position === 'start' ? 0 : this.firstIndex((p) => isAfter(p, position));
  }

  eventAt(index: number): StoredEvent | undefined {
    return this.all[index];
  }

  get length(): number {
    return this.all.length;
  }

  /** The position of the last record written, where a live subscription stands once caught up. */
  get lastPosition(): LogPosition {
    const last = this.all.at(-1)?.logPosition ?? 0n;
    return { commit: last, prepare: last };
  }

  /** Resolves at the next write (or at `cancel`), so that live readers can look again. */
  nextWrite(): { readonly written: Promise<void>; cancel(): void } {
    let listener: () => void = () => undefined;
    const written = new Promise<void>((resolve) => {
      listener = resolve;
      this.listeners.add(resolve);
    });
    return {
      written,
      cancel: () => {
        this.listeners.delete(listener);
        listener();
      },
    };
  }

  private check(streamName: string, stream: readonly StoredEvent[], expected: ExpectedVersion, events: readonly ProposedEvent[]): WriteOutcome | { kind: 'write' } {
    const current = stream.length === 0 ? undefined : stream.length - 1;
    const wrong = { kind: 'wrong_expected_version', currentRevision: current } as const;
    switch (expected.kind) {
      case 'stream_exists':
        if (current === undefined) return wrong;
        return this.checkAnywhere(streamName, stream, events);
      case 'any':
        return this.checkAnywhere(streamName, stream, events);
      case 'no_stream':
      case 'revision': {
        const expectedRevision = expected.kind === 'no_stream' ? -1 : expected.revision;
        const currentRevision = current ?? -1;
        if (expectedRevision === currentRevision) return { kind: 'write' };
        if (expectedRevision > currentRevision) return wrong;
        return followsAt(stream, expectedRevision + 1, events) ?? wrong;
      }
      default: {
        const unknown: never = expected;
        throw new Error(`Unknown expected version ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** `any` and `stream_exists`: idempotent when the first id is in the stream and the others follow it. */
  private checkAnywhere(streamName: string, stream: readonly StoredEvent[], events: readonly ProposedEvent[]): WriteOutcome | { kind: 'write' } {
    const first = events[0];
    const at = first === undefined ? undefined : this.revisionsById.get(streamName)?.get(first.id);
    if (at === undefined) return { kind: 'write' };
    return followsAt(stream, at, events) ?? { kind: 'wrong_expected_version', currentRevision: stream.length - 1 };
  }

  private firstIndex(matches: (logPosition: bigint) => boolean): number {
    let low = 0;
    let high = this.all.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (matches(this.all[mid]!.logPosition)) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  private notify(): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }
}

/** The idempotent answer when `events` are exactly the stream's events from `revision` on. */
const followsAt = (stream: readonly StoredEvent[], revision: number, events: readonly ProposedEvent[]): WriteOutcome | undefined => {
  if (events.length === 0 || revision < 0) return undefined;
  const same = events.every((event, i) => stream[revision + i]?.id === event.id);
  if (!same) return undefined;
  const last = stream[revision + events.length - 1]!;
  return { kind: 'idempotent', lastRevision: last.revision, logPosition: last.logPosition };
};

function* forwardsFrom<T>(items: readonly T[], start: number): Iterable<T> {
  // Reads the live array: events written while a reader is paused are seen when it resumes.
  for (let i = Math.max(start, 0); i < items.length; i++) yield items[i]!;
}

function* backwardsFrom<T>(items: readonly T[], start: number, first = 0): Iterable<T> {
  for (let i = start; i >= first; i--) yield items[i]!;
}
