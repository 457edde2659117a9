/**
 * The EventStore port held in memory, with EventStoreDB's semantics: revisions from 0, the four
 * kinds of expected revision, idempotent re-appends by event id, a global log with positions and
 * catch-up subscriptions. It serves the tests and the benchmarks; nothing here survives a restart.
 */
import { randomUUID } from 'node:crypto';
import { appendSize } from '../appendSize.js';
import {
  AppendTooLarge,
  checkExpectedRevision,
  comparePositions,
  matchesFilter,
  type AppendResult,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type Position,
  type ReadStreamOptions,
  type RecordedEvent,
  type Snapshot,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionFilter,
} from '../../../domain/eventStore.js';

export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  /** Stream → event id → revision, so a retried append is found without a scan. */
  private readonly ids = new Map<string, Map<string, number>>();
  private readonly waiters = new Set<() => void>();
  /** Stream → its newest snapshot, kept apart from the log. */
  private readonly snapshots = new Map<string, Snapshot>();
  private closed = false;
  readonly maxAppendSize: number;

  constructor(
    private readonly clock: () => number = Date.now,
    options: { readonly maxAppendSize?: number } = {},
  ) {
    this.maxAppendSize = options.maxAppendSize ?? Number.POSITIVE_INFINITY;
  }

  /** A new log with every store (domain/logIdentity.ts). */
  private readonly identity = randomUUID();
  logIdentity(): Promise<string> {
    return Promise.resolve(this.identity);
  }

  async appendToStream(
    streamName: string,
    events: readonly EventData[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    this.ensureOpen();
    const stream = this.streams.get(streamName) ?? [];
    const duplicate = this.findRetriedAppend(streamName, stream, events);
    if (duplicate) return duplicate;
    checkExpectedRevision(streamName, options.expectedRevision ?? 'any', stream.length === 0 ? undefined : stream.length - 1);
    if (Number.isFinite(this.maxAppendSize)) {
      const size = appendSize(events);
      if (size > this.maxAppendSize) throw new AppendTooLarge(streamName, size, this.maxAppendSize);
    }
    if (events.length === 0) {
      const last = stream.at(-1);
      return { nextExpectedRevision: stream.length - 1, position: last?.position ?? this.lastPosition() };
    }
    const recordedAt = this.clock();
    for (const event of events) {
      const sequence = BigInt(this.log.length);
      const recorded: RecordedEvent = {
        id: event.id,
        streamName,
        revision: stream.length,
        position: { commit: sequence, prepare: sequence },
        type: event.type,
        data: structuredClone(event.data),
        metadata: structuredClone(event.metadata ?? {}),
        recordedAt,
      };
      stream.push(recorded);
      this.log.push(recorded);
      let ids = this.ids.get(streamName);
      if (ids === undefined) this.ids.set(streamName, (ids = new Map()));
      ids.set(event.id, recorded.revision);
    }
    this.streams.set(streamName, stream);
    this.wake();
    const last = stream[stream.length - 1]!;
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  async *readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.ensureOpen();
    const stream = this.streams.get(streamName) ?? [];
    const maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
    let yielded = 0;
    if (options.direction === 'backwards') {
      for (let revision = Math.min(options.fromRevision ?? stream.length - 1, stream.length - 1); revision >= 0 && yielded < maxCount; revision--) {
        yielded++;
        yield stream[revision]!;
      }
    } else {
      for (let revision = options.fromRevision ?? 0; revision < stream.length && yielded < maxCount; revision++) {
        yielded++;
        yield stream[revision]!;
      }
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.ensureOpen();
    const cursor = { next: options.after === undefined ? 0 : this.indexAfter(options.after), open: true, wakeUp: undefined as (() => void) | undefined };
    return {
      [Symbol.asyncIterator]: () => this.deliver(cursor, options.filter),
      close: async () => {
        cursor.open = false;
        if (cursor.wakeUp) {
          this.waiters.delete(cursor.wakeUp);
          cursor.wakeUp();
        }
      },
    };
  }

  private async *deliver(cursor: { next: number; open: boolean; wakeUp: (() => void) | undefined }, filter: SubscriptionFilter | undefined): AsyncGenerator<RecordedEvent> {
    while (cursor.open && !this.closed) {
      if (cursor.next < this.log.length) {
        const event = this.log[cursor.next++]!;
        if (matchesFilter(event, filter)) yield event;
        continue;
      }
      await new Promise<void>((resolve) => {
        cursor.wakeUp = resolve;
        this.waiters.add(resolve);
      });
    }
  }

  async headPosition(): Promise<Position | undefined> {
    return this.log.at(-1)?.position;
  }

  async writeSnapshot(streamName: string, snapshot: Snapshot): Promise<void> {
    this.ensureOpen();
    const kept = this.snapshots.get(streamName);
    if (kept === undefined || kept.revision <= snapshot.revision) this.snapshots.set(streamName, { revision: snapshot.revision, data: structuredClone(snapshot.data) });
  }

  async readSnapshot(streamName: string): Promise<Snapshot | undefined> {
    this.ensureOpen();
    return this.snapshots.get(streamName);
  }

  readonly findEvent = async (streamName: string, eventId: string): Promise<number | undefined> => {
    this.ensureOpen();
    return this.ids.get(streamName)?.get(eventId);
  };

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
  }

  /** A retry of an append that succeeded: the same ids, in order, already at the end or inside the stream. */
  private findRetriedAppend(streamName: string, stream: readonly RecordedEvent[], events: readonly EventData[]): AppendResult | undefined {
    const first = events[0];
    if (first === undefined) return undefined;
    const start = this.ids.get(streamName)?.get(first.id);
    if (start === undefined) return undefined;
    const same = events.every((event, i) => stream[start + i]?.id === event.id);
    if (!same) return undefined;
    // Answered as the first append was: with the revision and position of its last event.
    const last = stream[start + events.length - 1]!;
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  private indexAfter(after: Position): number {
    // Positions are dense indexes here; a binary search keeps this honest for other shapes.
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (comparePositions(this.log[mid]!.position, after) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private lastPosition(): Position {
    return this.log.at(-1)?.position ?? { commit: -1n, prepare: -1n };
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('The event store is closed.');
  }
}
