/**
 * The EventStore port on EventStoreDB, through `@eventstore/db-client` 6 (gRPC).
 *
 * How the port maps onto EventStoreDB:
 * - Expected revisions: `any`, `no_stream`, `stream_exists` map to the client's constants, a number
 *   to a bigint revision. A WrongExpectedVersionError becomes WrongExpectedRevision; its actual
 *   version is a bigint, or `no_stream` for a stream without events.
 * - Event ids: the port's id is sent as the EventStoreDB event id, so a retried append carries the
 *   same ids and the server deduplicates it. EventStoreDB ids are UUIDs: a UUID is sent in its
 *   lowercase form; any other string is replaced by the version-5 UUID derived from it (SHA-1,
 *   callpark's namespace), so the same id always maps to the same UUID. Events read back carry
 *   the UUID the server stored, i.e. the derived one. With `any`, EventStoreDB dedupes from a
 *   cache of recent event ids: best effort, unlike an expected revision or `no_stream`.
 * - Data and metadata are JSON (`application/json`); metadata absent on write reads back as `{}`.
 * - Revisions are numbers, positions `{ commit, prepare }` bigints, `recordedAt` the server's
 *   `created` time in milliseconds.
 * - A stream without events reads as empty (the client throws StreamNotFoundError while iterating).
 * - `subscribeToAll` is a catch-up subscription to `$all`, filtered on the server by the stream
 *   name prefixes (else the event type prefixes, else "no system events") and on the client by the
 *   whole filter; system events (types starting with `$`) are never delivered. The client does not
 *   resume a dropped subscription, so this adapter does: from the last delivered position, after a
 *   backoff, until `close()`. Snapshot streams (below) are left out of every subscription, on the
 *   server where its filter can say so and always on the client.
 * - Appends over `maxAppendSize` (the server's `MaxAppendSize`, 1 MiB by default) are refused here
 *   with AppendTooLarge before they are sent, as the server would refuse them.
 * - Snapshots live in a stream of their own per stream (`snapshot@{stream}`), out of `$all`'s
 *   readers' way: a snapshot is JSON text cut into parts (events `SnapshotPart`) small enough for
 *   an append each; once all are written, the stream's `$tb` metadata (truncate before) retires
 *   the parts of every older snapshot, which the server's scavenge then deletes. A reader takes
 *   the newest snapshot whose parts are all there, passing over those of one still being written.
 *
 * One file of about 510 lines: it is the whole port on one client (appends, reads, snapshots,
 * subscriptions that resume), each part a few dozen lines sharing the client, its retries and
 * the snapshot streams' naming; split, every part would import all of those back.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import esdb from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendExpectedRevision,
  EventData as EsdbEventData,
  EventStoreDBClient,
  Filter,
  JSONType,
  Position as EsdbPosition,
  RecordedEvent as EsdbRecordedEvent,
  StreamingRead,
} from '@eventstore/db-client';
import type {
  AppendResult,
  Snapshot,
  EventData,
  EventStore,
  ExpectedRevision,
  Position,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
} from '../../../domain/eventStore.js';
import { AppendTooLarge, WrongExpectedRevision, matchesFilter } from '../../../domain/eventStore.js';
import { DEFAULT_MAX_APPEND_SIZE, appendSize, eventSize } from '../appendSize.js';
import { uuidV5 } from '../eventIds.js';
import { readOrCreateEsdbLogIdentity } from './logIdentity.js';

const {
  EventStoreDBClient: Client,
  ANY,
  BACKWARDS,
  END,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  UnavailableError,
  DeadlineExceededError,
  CancelledError,
  eventTypeFilter,
  streamNameFilter,
} = esdb;

/**
 * The failures after which an append may or may not have been written: a leader change (the
 * client moves to the leader it is told of, with `nodePreference=leader`), a dropped connection,
 * a deadline. The append is sent again with the same event ids, which EventStoreDB answers as the
 * first write when it went through (idempotent write) and writes when it did not: never lost,
 * never doubled.
 */
const RETRYABLE_APPEND_FAILURES = [NotLeaderError, UnavailableError, DeadlineExceededError, CancelledError];

export interface EventStoreDbOptions {
  /** How many times an append is sent before its failure is thrown (5): see RETRYABLE_APPEND_FAILURES. */
  readonly appendAttempts?: number;
  /** The first pause before sending an append again (50 ms), doubled each time up to 2 s. */
  readonly appendRetryDelayMs?: number;
  /** The server's `MaxAppendSize` (1 MiB by default, as EventStoreDB's). */
  readonly maxAppendSize?: number;
  /** The first wait before resubscribing a dropped subscription; doubled at each failed attempt. */
  readonly resubscribeInitialDelayMs?: number;
  readonly resubscribeMaxDelayMs?: number;
  /** Told when a subscription dropped and is about to be resumed (default: a console warning). */
  readonly onSubscriptionDropped?: (drop: { readonly reason: unknown; readonly resumeAfter: Position | undefined; readonly delayMs: number }) => void;
}

/** Connect to EventStoreDB with a connection string such as `esdb://host:2113?tls=false`. */
export const connectEventStoreDb = (connectionString: string, options: EventStoreDbOptions = {}): EventStoreDbEventStore =>
  new EventStoreDbEventStore(Client.connectionString(connectionString), options);

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The EventStoreDB event id for a port event id: a UUID as itself (lowercased), any other string
 * as the version-5 UUID named by it in callpark's namespace (adapters/eventStores/eventIds.ts), so a retry
 * with the same id sends the same UUID.
 */
export const esdbEventId = (id: string): string => (UUID_PATTERN.test(id) ? id.toLowerCase() : uuidV5(id));

const toEsdbExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
};

const toEsdbEvent = (event: EventData): EsdbEventData => ({
  id: esdbEventId(event.id),
  contentType: 'application/json',
  type: event.type,
  // The client serialises the data with JSON.stringify, which has no text for `undefined`.
  data: (event.data ?? null) as JSONType,
  // Sent as bytes so that every JSON value (null and false included) reaches the server; the
  // client only recognises a plain Uint8Array as bytes.
  metadata: event.metadata === undefined ? undefined : new TextEncoder().encode(JSON.stringify(event.metadata)),
});

const toPosition = (position: EsdbPosition): Position => ({ commit: position.commit, prepare: position.prepare });

const toRecordedEvent = (event: EsdbRecordedEvent): RecordedEvent => {
  if (event.position === undefined) throw new Error(`EventStoreDB sent event ${event.id} of ${event.streamId} without its position.`);
  return {
    id: event.id,
    streamName: event.streamId,
    revision: Number(event.revision),
    position: toPosition(event.position),
    type: event.type,
    data: event.data,
    metadata: event.metadata ?? {},
    recordedAt: event.created.getTime(),
  };
};

const isSystemEvent = (type: string): boolean => type.startsWith('$');

/** Where the snapshots of a stream are kept. */
const SNAPSHOT_STREAM_PREFIX = 'snapshot@';
export const snapshotStreamOf = (streamName: string): string => `${SNAPSHOT_STREAM_PREFIX}${streamName}`;
const isSnapshotStream = (streamName: string): boolean => streamName.startsWith(SNAPSHOT_STREAM_PREFIX);
const SNAPSHOT_PART = 'SnapshotPart';

/** One part of a snapshot's JSON text. */
interface SnapshotPart {
  readonly revision: number;
  readonly part: number;
  readonly parts: number;
  readonly text: string;
}

const isSnapshotPart = (data: unknown): data is SnapshotPart => {
  const part = data as Partial<SnapshotPart> | null;
  return typeof part === 'object' && part !== null && typeof part.revision === 'number' && typeof part.part === 'number' && typeof part.parts === 'number' && typeof part.text === 'string';
};

const ignore = (): void => undefined;

/**
 * The server side of a port filter. EventStoreDB filters on one thing: the stream name prefixes,
 * else the event type prefixes; without either, it leaves out system events. The client applies
 * the whole filter again.
 */
const serverFilter = (filter: SubscriptionFilter | undefined): Filter => {
  if (filter?.streamNamePrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamNamePrefixes] });
  if (filter?.eventTypePrefixes?.length) return eventTypeFilter({ prefixes: [...filter.eventTypePrefixes] });
  // Neither system streams (`$…`, metadata `$$…` included) nor snapshot streams.
  return streamNameFilter({ regex: `^(?!\\$|${SNAPSHOT_STREAM_PREFIX})` });
};


/** Iterate a client read, cancelling its gRPC call when the reader stops early. */
async function* consume<E>(read: StreamingRead<E>): AsyncGenerator<E> {
  let finished = false;
  try {
    for await (const item of read) yield item;
    finished = true;
  } finally {
    read.on('error', ignore);
    if (!finished) await read.cancel().catch(ignore);
  }
}

const HEAD_PAGE_SIZE = 64;
const READ_BUFFER = { highWaterMark: 256 };

export class EventStoreDbEventStore implements EventStore {
  private readonly subscriptions = new Set<ResumingSubscription>();
  readonly maxAppendSize: number;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: EventStoreDbOptions = {},
  ) {
    this.maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
  }

  private identity: Promise<string> | undefined;

  /** The id of the log in this database (domain/logIdentity.ts), kept in the metadata of a well-known stream. */
  logIdentity(): Promise<string> {
    this.identity ??= readOrCreateEsdbLogIdentity(this.client).catch((error: unknown) => {
      this.identity = undefined;
      throw error;
    });
    return this.identity;
  }

  async appendToStream(
    streamName: string,
    events: readonly EventData[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    const expected = options.expectedRevision ?? 'any';
    if (events.length === 0) return this.appendNothing(streamName, expected);
    const size = appendSize(events);
    if (size > this.maxAppendSize) throw new AppendTooLarge(streamName, size, this.maxAppendSize);
    try {
      const result = await this.retried(() => this.client.appendToStream(streamName, events.map(toEsdbEvent), { expectedRevision: toEsdbExpectedRevision(expected) }));
      const revision = Number(result.nextExpectedRevision);
      const position = result.position ? toPosition(result.position) : await this.positionOf(streamName, revision);
      return { nextExpectedRevision: revision, position };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        throw new WrongExpectedRevision(streamName, expected, typeof actual === 'bigint' ? Number(actual) : 'no_stream');
      }
      if (error instanceof MaxAppendSizeExceededError) throw new AppendTooLarge(streamName, size, error.maxAppendSize);
      throw error;
    }
  }

  /** Run an append again, after a pause, when it failed in a way that may have left it unwritten. */
  private async retried<T>(append: () => Promise<T>): Promise<T> {
    const attempts = Math.max(1, this.options.appendAttempts ?? 5);
    let delayMs = this.options.appendRetryDelayMs ?? 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return await append();
      } catch (error) {
        if (attempt >= attempts || !RETRYABLE_APPEND_FAILURES.some((failure) => error instanceof failure)) throw error;
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 2_000);
      }
    }
  }

  async *readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    if (options.maxCount !== undefined && options.maxCount <= 0) return;
    const backwards = options.direction === 'backwards';
    const read = this.client.readStream(
      streamName,
      {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision === undefined ? (backwards ? END : START) : BigInt(options.fromRevision),
        ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
      },
      READ_BUFFER,
    );
    let finished = false;
    try {
      // The client reports a missing stream while iterating, so the whole loop is guarded.
      for await (const resolved of read) {
        if (resolved.event) yield toRecordedEvent(resolved.event);
      }
      finished = true;
    } catch (error) {
      finished = true;
      if (error instanceof StreamNotFoundError) return;
      throw error;
    } finally {
      // A reader that stops early leaves the gRPC call running unless it is cancelled; an error
      // the call reports once nobody iterates any more must not become an uncaught one.
      read.on('error', ignore);
      if (!finished) await read.cancel().catch(ignore);
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const subscription = new ResumingSubscription(this.client, options, this.options, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Write the snapshot's parts after the last one stored (with that as the expected revision, so
   * two writers do not interleave their parts), then retire every part before them with `$tb`.
   * A snapshot older than the one kept is not written.
   */
  async writeSnapshot(streamName: string, snapshot: Snapshot): Promise<void> {
    const stream = snapshotStreamOf(streamName);
    const parts = this.snapshotParts(snapshot);
    for (let attempt = 1; ; attempt++) {
      let last: RecordedEvent | undefined;
      for await (const event of this.readStream(stream, { direction: 'backwards', maxCount: 1 })) last = event;
      if (last !== undefined && isSnapshotPart(last.data) && last.data.revision > snapshot.revision) return;
      let expected: ExpectedRevision = last?.revision ?? 'no_stream';
      const first = last === undefined ? 0 : last.revision + 1;
      try {
        for (const batch of parts) expected = (await this.appendToStream(stream, batch, { expectedRevision: expected })).nextExpectedRevision;
      } catch (error) {
        // Another process is writing one: take turns, a few times at most (a snapshot is only a cache).
        if (error instanceof WrongExpectedRevision && attempt < 3) continue;
        throw error;
      }
      await this.client.setStreamMetadata(stream, { truncateBefore: first });
      return;
    }
  }

  /**
   * The newest whole snapshot: read backwards, its last part first, then each one before it. The
   * parts of a snapshot still being written (or abandoned by a writer that died) come after it in
   * the stream and are passed over, so a cold load during a write still starts from a snapshot.
   */
  async readSnapshot(streamName: string): Promise<Snapshot | undefined> {
    const stream = snapshotStreamOf(streamName);
    let found: SnapshotPart[] = [];
    for await (const event of this.readStream(stream, { direction: 'backwards' })) {
      const part = event.data;
      if (!isSnapshotPart(part)) {
        found = [];
        continue;
      }
      const after = found.at(-1);
      const continues = after !== undefined && part.revision === after.revision && part.parts === after.parts && part.part === after.part - 1;
      if (continues) found.push(part);
      else found = part.part === part.parts - 1 ? [part] : [];
      if (found.at(-1)?.part === 0) {
        const text = found
          .reverse()
          .map((piece) => piece.text)
          .join('');
        return { revision: found[0]!.revision, data: JSON.parse(text) as unknown };
      }
    }
    return undefined;
  }

  /** The snapshot's JSON text in parts, gathered into appends that each fit the limit. */
  private snapshotParts(snapshot: Snapshot): EventData[][] {
    const text = JSON.stringify(snapshot.data ?? null);
    // A character of the text takes at most 6 bytes once quoted (`\u001f`), and a part's fields ~100.
    const length = Math.max(1, Math.floor((this.maxAppendSize - 256) / 6));
    const pieces: string[] = [];
    for (let at = 0; at < text.length || pieces.length === 0; at += length) pieces.push(text.slice(at, at + length));
    const batches: EventData[][] = [];
    let batch: EventData[] = [];
    let size = 0;
    pieces.forEach((piece, part) => {
      const event: EventData = { id: randomUUID(), type: SNAPSHOT_PART, data: { revision: snapshot.revision, part, parts: pieces.length, text: piece } };
      const bytes = eventSize(event);
      if (batch.length > 0 && size + bytes > this.maxAppendSize) {
        batches.push(batch);
        batch = [];
        size = 0;
      }
      batch.push(event);
      size += bytes;
    });
    batches.push(batch);
    return batches;
  }

  /** The last event of `$all` that is not a system event, read backwards a page at a time. */
  async headPosition(): Promise<Position | undefined> {
    let from: EsdbPosition | typeof END = END;
    for (;;) {
      let seen = 0;
      let last: EsdbPosition | undefined;
      const page = this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: HEAD_PAGE_SIZE });
      for await (const resolved of consume<AllStreamResolvedEvent>(page)) {
        seen++;
        const event = resolved.event;
        if (event === undefined) continue;
        if (!isSystemEvent(event.type) && !isSnapshotStream(event.streamId)) return toPosition(event.position);
        last = event.position;
      }
      if (seen < HEAD_PAGE_SIZE || last === undefined) return undefined;
      from = last;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  /**
   * An append of no events writes nothing, so it is answered here: the expected revision is
   * checked against the stream's last event (EventStoreDB's answer to an empty append cannot tell
   * an empty stream from one at revision 0).
   */
  private async appendNothing(streamName: string, expected: ExpectedRevision): Promise<AppendResult> {
    let last: RecordedEvent | undefined;
    for await (const event of this.readStream(streamName, { direction: 'backwards', maxCount: 1 })) last = event;
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && last === undefined) ||
      (expected === 'stream_exists' && last !== undefined) ||
      expected === last?.revision;
    if (!ok) throw new WrongExpectedRevision(streamName, expected, last?.revision ?? 'no_stream');
    return { nextExpectedRevision: last?.revision ?? -1, position: last?.position ?? (await this.headPosition()) ?? { commit: -1n, prepare: -1n } };
  }

  /** The position of a stream's event, for a server that answered an append without one. */
  private async positionOf(streamName: string, revision: number): Promise<Position> {
    for await (const event of this.readStream(streamName, { fromRevision: revision, maxCount: 1 })) return event.position;
    throw new Error(`EventStoreDB answered an append to ${streamName} without a position, and its event ${revision} cannot be read.`);
  }
}

/**
 * A catch-up subscription to `$all` that survives dropped connections: each time the client's
 * subscription errors or ends without `close()`, it subscribes again after the last position it
 * delivered, after a backoff that starts again once the server confirms the new subscription.
 */
class ResumingSubscription implements Subscription {
  private closed = false;
  private current: AllStreamSubscription | undefined;
  private readonly stop = new AbortController();
  private lastDelivered: Position | undefined;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: SubscribeOptions,
    private readonly settings: EventStoreDbOptions,
    private readonly onClosed: () => void,
  ) {
    this.lastDelivered = options.after;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    const initialDelay = this.settings.resubscribeInitialDelayMs ?? 100;
    const maxDelay = this.settings.resubscribeMaxDelayMs ?? 5_000;
    let failures = 0;
    while (!this.closed) {
      const subscription = this.client.subscribeToAll(
        { fromPosition: this.lastDelivered ?? START, filter: serverFilter(this.options.filter) },
        READ_BUFFER,
      );
      this.current = subscription;
      subscription.once('confirmation', () => (failures = 0));
      let reason: unknown = new Error('the server ended the subscription');
      try {
        for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
          const recorded = resolved.event;
          if (recorded === undefined || isSystemEvent(recorded.type) || isSnapshotStream(recorded.streamId)) continue;
          const event = toRecordedEvent(recorded);
          if (!matchesFilter(event, this.options.filter)) continue;
          this.lastDelivered = event.position;
          yield event;
          if (this.closed) return;
        }
      } catch (error) {
        reason = error;
      } finally {
        await this.release(subscription);
      }
      if (this.closed) return;
      const delayMs = Math.min(initialDelay * 2 ** failures, maxDelay);
      failures++;
      this.reportDrop({ reason, resumeAfter: this.lastDelivered, delayMs });
      await sleep(delayMs, undefined, { signal: this.stop.signal }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    if (this.current) await this.release(this.current);
    this.onClosed();
  }

  /** Cancel the gRPC call (which ending the iteration does not do) and drop the client's stream. */
  private async release(subscription: AllStreamSubscription): Promise<void> {
    subscription.on('error', ignore);
    await subscription.unsubscribe().catch(ignore);
    if (!subscription.destroyed) subscription.destroy();
  }

  private reportDrop(drop: { reason: unknown; resumeAfter: Position | undefined; delayMs: number }): void {
    if (this.settings.onSubscriptionDropped) return this.settings.onSubscriptionDropped(drop);
    const reason = drop.reason instanceof Error ? drop.reason.message : String(drop.reason);
    const after = drop.resumeAfter ? `${drop.resumeAfter.commit}/${drop.resumeAfter.prepare}` : 'the start';
    console.warn(`EventStoreDB subscription to $all dropped (${reason}); resubscribing after ${after} in ${drop.delayMs} ms.`);
  }
}
