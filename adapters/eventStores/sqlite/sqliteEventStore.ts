/**
 * The EventStore port on an SQLite file (better-sqlite3, WAL): the embedded default store of the
 * service, with EventStoreDB's semantics (see domain/eventStore.ts and the contract suite).
 *
 * - Appends are group-committed (sqlite/groupCommit.ts) in `BEGIN IMMEDIATE` transactions, with
 *   the expected revision checked inside the transaction; several processes may share the file
 *   (they queue on its write lock, for up to `busyTimeoutMs`). The transactions are written on a
 *   writer thread of the store's own (sqlite/appendThread.ts), so a commit's sync of the WAL
 *   never holds up the caller's thread.
 * - An append is acknowledged only after its transaction has committed; how far the commit
 *   survives a crash is the `synchronous` setting (docs/sqlite-durability.md).
 * - Event ids are unique in the whole store: a retried append is answered as the first one was;
 *   an id reused anywhere else is refused with EventIdConflict (sqlite/eventIdConflict.ts).
 * - Streams and the global log are read in pages; subscriptions are woken by appends of this
 *   store and poll for those of other processes.
 */
import type Database from 'better-sqlite3';
import { AppendTooLarge } from '../../../domain/eventStore.js';
import type {
  AppendResult,
  EventData,
  EventStore,
  ExpectedRevision,
  Position,
  ReadStreamOptions,
  RecordedEvent,
  Snapshot,
  SubscribeOptions,
  Subscription,
} from '../../../domain/eventStore.js';
import { DEFAULT_MAX_APPEND_SIZE } from '../appendSize.js';
import { AppendThread } from './appendThread.js';
import { AppendWriter, type AppendOutcome, type WriteRequest } from './appendWriter.js';
import { AppendSignal, catchUpSubscription, type LogSource } from './catchUpSubscription.js';
import { openConnection, type Synchronous } from './connection.js';
import { EventIdConflict } from './eventIdConflict.js';
import { readOrCreateLogIdentity } from './logIdentity.js';
import { GroupCommit } from './groupCommit.js';
import { RecentAppends } from './recentAppends.js';
import { positionAt, serializeEvent, storedEventColumns, toRecordedEvent, type StoredEventRow } from './storedEvent.js';

export { EventIdConflict } from './eventIdConflict.js';
export type { Synchronous } from './connection.js';

export interface SqliteEventStoreOptions {
  /** `full` (the default) survives power loss; `normal` survives a crash of the process only. */
  readonly synchronous?: Synchronous;
  /** How long an append waits for another process's write lock. 5 s by default. */
  readonly busyTimeoutMs?: number;
  /** How often a live subscription looks for events appended by other processes. 50 ms by default. */
  readonly pollIntervalMs?: number;
  /** How many events a read takes from the file at a time. 1,000 by default. */
  readonly pageSize?: number;
  /** The store's clock for `recordedAt`. */
  readonly clock?: () => number;
  /** The most one append may carry (as appendSize counts it); 1 MiB, as EventStoreDB, by default. */
  readonly maxAppendSize?: number;
  /** Write on a thread of the store's own (the default; an in-memory database has no file to share, so it writes on this one). */
  readonly writerThread?: boolean;
}

export const sqliteEventStoreDefaults = {
  synchronous: 'full',
  busyTimeoutMs: 5_000,
  pollIntervalMs: 50,
  pageSize: 1_000,
  maxAppendSize: DEFAULT_MAX_APPEND_SIZE,
} as const satisfies SqliteEventStoreOptions;

const duplicateIdWithin = (events: readonly EventData[]): string | undefined => {
  const seen = new Set<string>();
  for (const { id } of events) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
};

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly groupCommit: GroupCommit;
  private readonly appendThread: AppendThread | undefined;
  private readonly signal = new AppendSignal();
  private readonly recentAppends = new RecentAppends();
  private readonly committedListeners = new Set<() => void>();
  private readonly readForwards: Database.Statement<[string, number, number], StoredEventRow>;
  private readonly readBackwards: Database.Statement<[string, number, number], StoredEventRow>;
  private readonly lastPosition: Database.Statement<[], bigint | null>;
  private readonly snapshotOf: Database.Statement<[string], { revision: number; data: string }>;
  private readonly revisionOfId: Database.Statement<[string, string], number>;
  readonly maxAppendSize: number;
  private readonly pageSize: number;
  private readonly pollIntervalMs: number;
  private readonly clock: () => number;
  private closed = false;
  private readonly identity: string;

  constructor(path: string, options: SqliteEventStoreOptions = {}) {
    const defaults = sqliteEventStoreDefaults;
    this.pageSize = Math.max(1, Math.trunc(options.pageSize ?? defaults.pageSize));
    this.pollIntervalMs = options.pollIntervalMs ?? defaults.pollIntervalMs;
    this.clock = options.clock ?? Date.now;
    this.maxAppendSize = options.maxAppendSize ?? defaults.maxAppendSize;
    const connection = { synchronous: options.synchronous ?? defaults.synchronous, busyTimeoutMs: options.busyTimeoutMs ?? defaults.busyTimeoutMs };
    this.db = openConnection(path, connection);
    this.identity = readOrCreateLogIdentity(this.db);
    let write: (requests: readonly WriteRequest[]) => Promise<AppendOutcome[]>;
    if ((options.writerThread ?? true) && path !== ':memory:') {
      const thread = new AppendThread({ path, options: connection });
      this.appendThread = thread;
      write = (requests) => thread.write(requests);
    } else {
      const writer = new AppendWriter(this.db);
      write = async (requests) => writer.write(requests);
    }
    this.groupCommit = new GroupCommit(
      write,
      () => {
        this.signal.notify();
        for (const listener of this.committedListeners) listener();
      },
    );
    this.readForwards = this.db
      .prepare<[string, number, number], StoredEventRow>(`SELECT ${storedEventColumns} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?`)
      .raw()
      .safeIntegers();
    this.readBackwards = this.db
      .prepare<[string, number, number], StoredEventRow>(`SELECT ${storedEventColumns} FROM events WHERE stream_name = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`)
      .raw()
      .safeIntegers();
    this.lastPosition = this.db.prepare<[], bigint | null>('SELECT MAX(position) FROM events').pluck().safeIntegers();
    this.snapshotOf = this.db.prepare<[string], { revision: number; data: string }>('SELECT revision, data FROM snapshots WHERE stream_name = ?');
    this.revisionOfId = this.db.prepare<[string, string], number>('SELECT revision FROM events WHERE event_id = ? AND stream_name = ?').pluck();
  }

  /** The id of the log in this file (domain/logIdentity.ts), made with the file. */
  logIdentity(): Promise<string> {
    this.ensureOpen();
    return Promise.resolve(this.identity);
  }

  async appendToStream(streamName: string, events: readonly EventData[], options: { expectedRevision?: ExpectedRevision } = {}): Promise<AppendResult> {
    this.ensureOpen();
    const repeated = duplicateIdWithin(events);
    if (repeated !== undefined) throw new EventIdConflict(repeated, streamName);
    const serialized = events.map(serializeEvent);
    serialized.forEach((event, index) => this.recentAppends.remember(event, events[index]!.data, events[index]!.metadata));
    // Measured as appendSize does (metadata left out counts nothing), from the JSON already written.
    const size = serialized.reduce((total, event, index) => total + Buffer.byteLength(event.data) + (events[index]!.metadata === undefined ? 0 : Buffer.byteLength(event.metadata)) + event.type.length * 2, 0);
    if (size > this.maxAppendSize) throw new AppendTooLarge(streamName, size, this.maxAppendSize);
    return this.groupCommit.submit({
      kind: 'append',
      streamName,
      events: serialized,
      expectedRevision: options.expectedRevision ?? 'any',
      recordedAt: this.clock(),
    });
  }

  async *readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    const read = backwards ? this.readBackwards : this.readForwards;
    let from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      this.ensureOpen();
      const limit = Math.min(this.pageSize, remaining);
      const rows = read.all(streamName, from, limit);
      for (const row of rows) yield toRecordedEvent(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < limit) return;
      remaining -= rows.length;
      from = Number(last[2]) + (backwards ? -1 : 1);
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.ensureOpen();
    const source: LogSource = {
      db: this.db,
      signal: this.signal,
      head: () => this.lastPosition.get() ?? 0n,
      isOpen: () => !this.closed,
      recordedEvent: (row) => this.recentAppends.recordedEvent(row),
    };
    return catchUpSubscription(source, options, { pageSize: this.pageSize, pollIntervalMs: this.pollIntervalMs });
  }

  async headPosition(): Promise<Position | undefined> {
    this.ensureOpen();
    const last = this.lastPosition.get();
    return last === null || last === undefined ? undefined : positionAt(last);
  }

  /** The stream's row of the snapshots table replaced, on the writer thread, in the next group commit. */
  async writeSnapshot(streamName: string, snapshot: Snapshot): Promise<void> {
    this.ensureOpen();
    await this.groupCommit.keepSnapshot({ kind: 'snapshot', streamName, revision: snapshot.revision, data: JSON.stringify(snapshot.data) });
  }

  async readSnapshot(streamName: string): Promise<Snapshot | undefined> {
    this.ensureOpen();
    const row = this.snapshotOf.get(streamName);
    return row === undefined ? undefined : { revision: row.revision, data: JSON.parse(row.data) as unknown };
  }

  /** Through the unique index on event ids, which the store keeps for retried appends anyway. */
  readonly findEvent = async (streamName: string, eventId: string): Promise<number | undefined> => {
    this.ensureOpen();
    return this.revisionOfId.get(eventId, streamName);
  };

  /**
   * Be told after each commit of appends made through this store (to wake readers of the file
   * elsewhere: another thread's subscriptions would otherwise see them at their next poll).
   */
  onCommitted(listener: () => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /** Another connection to the file has appended: the live subscriptions read on now, not at their next poll. */
  lookForAppends(): void {
    this.signal.notify();
  }

  /** Writes what is queued, ends the subscriptions and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.groupCommit.drain();
    await this.appendThread?.close();
    this.signal.notify();
    this.db.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('The event store is closed.');
  }
}
