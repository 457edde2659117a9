/**
 * The EventStore port on PostgreSQL (node-postgres), for a deployment of several instances
 * sharing one log, with EventStoreDB's semantics (see domain/eventStore.ts and the contract suite).
 *
 * - Appends are group-committed (sqlite/groupCommit.ts forms the batches, one transaction at a
 *   time per store writes them) in transactions that hold the log's advisory append lock from the
 *   moment positions are given until COMMIT has made them visible (postgres/appendBatch.ts). So
 *   positions are dense and become visible in increasing order, and a catch-up subscription that
 *   reads `position > cursor` never skips an event committed late: ADR 0004 says why this and not
 *   a transaction-id horizon (Emmett) or gap detection with a timeout (Marten).
 * - An append is acknowledged only after its COMMIT; how far it survives a crash is the server's
 *   `synchronous_commit` (on by default: flushed to the WAL).
 * - Event ids are unique in the whole log: a retried append is answered as the first one was; an
 *   id reused anywhere else is refused with EventIdConflict, as in the SQLite store.
 * - Live subscriptions are woken by LISTEN/NOTIFY (postgres/notifications.ts), by appends of this
 *   store at once, and poll only as a fallback at a long interval.
 * - Waits are bounded: `lock_timeout` for the append lock, `idle_in_transaction_session_timeout`
 *   so a process that stops in the middle of a transaction cannot hold the lock for ever.
 *
 * The store is made synchronously; the schema is prepared on its first use (every operation
 * waits for it), and `open` answers once it is.
 */
import pg from 'pg';
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
import { writeBatch, type BatchSettings } from './appendBatch.js';
import { AppendLockTimeout } from './appendLockTimeout.js';
import { connectionLost } from './connectionLost.js';
import { pgCatchUpSubscription } from './catchUp.js';
import { LogListener } from './notifications.js';
import { oneTransactionAtATime } from './oneTransactionAtATime.js';
import { appendLockKey, checkSchemaName, notificationChannel, prepareSchema } from './schema.js';
import { storedEventColumns, toRecordedEvent, type StoredEventRow } from './storedEvent.js';
import { AppendSignal } from '../sqlite/catchUpSubscription.js';
import { EventIdConflict } from '../sqlite/eventIdConflict.js';
import type { AppendOutcome, WriteRequest } from '../sqlite/appendWriter.js';
import { GroupCommit } from '../sqlite/groupCommit.js';
import { positionAt, serializeEvent } from '../sqlite/storedEvent.js';

export { EventIdConflict } from '../sqlite/eventIdConflict.js';
export { AppendLockTimeout } from './appendLockTimeout.js';

export interface PostgresEventStoreOptions {
  /** `postgres://…` */
  readonly connectionString: string;
  /** The schema of the store's tables (made when missing); `callpark_events` by default. */
  readonly schema?: string;
  /** Connections in the pool (10 by default): one writes at a time, the others read. */
  readonly maxConnections?: number;
  /** How long an append waits for the log's append lock before it fails with AppendLockTimeout. 5 s by default. */
  readonly lockTimeoutMs?: number;
  /** How long a connection may sit idle inside a transaction before the server ends it (releasing the lock). 30 s by default. */
  readonly idleInTransactionTimeoutMs?: number;
  /** The fallback poll of a live subscription, for a NOTIFY lost with its connection. 5 s by default. */
  readonly pollIntervalMs?: number;
  /** How many events a read takes at a time. 1,000 by default. */
  readonly pageSize?: number;
  /** The store's clock for `recordedAt`. */
  readonly clock?: () => number;
  /** The most one append may carry (as appendSize counts it); 1 MiB, as EventStoreDB, by default. */
  readonly maxAppendSize?: number;
  /** Called inside each writing transaction, holding the append lock, just before COMMIT: for tests that hold transactions open. */
  readonly beforeCommit?: () => Promise<void>;
}

export const postgresEventStoreDefaults = {
  schema: 'callpark_events',
  maxConnections: 10,
  lockTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 30_000,
  pollIntervalMs: 5_000,
  pageSize: 1_000,
  maxAppendSize: DEFAULT_MAX_APPEND_SIZE,
} as const;

const duplicateIdWithin = (events: readonly EventData[]): string | undefined => {
  const seen = new Set<string>();
  for (const { id } of events) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
};

/** Attempts at a batch whose connections are lost one after another (the pool may hold several cut at once). */
const WRITE_ATTEMPTS = 3;

export class PostgresEventStore implements EventStore {
  readonly schema: string;
  readonly maxAppendSize: number;
  private readonly pool: pg.Pool;
  private readonly ready: Promise<string>;
  private readonly signal = new AppendSignal();
  private readonly groupCommit: GroupCommit;
  private readonly listener: LogListener;
  private readonly pageSize: number;
  private readonly pollIntervalMs: number;
  private readonly clock: () => number;
  private closed = false;
  /** The highest position known committed, from this store's commits and other processes' notifications. */
  private knownHead = 0n;
  /** The last error of an idle pooled connection (the pool replaces it). */
  lastPoolError: Error | undefined;

  constructor(options: PostgresEventStoreOptions) {
    const defaults = postgresEventStoreDefaults;
    this.schema = checkSchemaName(options.schema ?? defaults.schema);
    this.maxAppendSize = options.maxAppendSize ?? defaults.maxAppendSize;
    this.pageSize = Math.max(1, Math.trunc(options.pageSize ?? defaults.pageSize));
    this.pollIntervalMs = options.pollIntervalMs ?? defaults.pollIntervalMs;
    this.clock = options.clock ?? Date.now;
    const lockTimeoutMs = options.lockTimeoutMs ?? defaults.lockTimeoutMs;
    const settings = [
      `-c search_path=${this.schema}`,
      `-c lock_timeout=${lockTimeoutMs}`,
      `-c idle_in_transaction_session_timeout=${options.idleInTransactionTimeoutMs ?? defaults.idleInTransactionTimeoutMs}`,
    ];
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? defaults.maxConnections,
      options: settings.join(' '),
      application_name: `callpark-event-store/${this.schema}`.slice(0, 63),
    });
    this.pool.on('error', (error) => {
      this.lastPoolError = error;
    });
    this.ready = this.pool
      .connect()
      .then(async (client) => {
        try {
          return await prepareSchema(client, this.schema);
        } finally {
          client.release();
        }
      })
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`The PostgreSQL event store (EVENTSTORE_CONNECTION_STRING, schema ${this.schema}) could not be opened: ${reason}`, { cause: error });
      });
    // A failure is the first operation's to report; it must not be an unhandled rejection meanwhile.
    this.ready.catch(() => undefined);
    const batch = { lockKey: appendLockKey(this.schema), channel: notificationChannel(this.schema), lockTimeoutMs, ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}) };
    this.groupCommit = new GroupCommit(
      oneTransactionAtATime(async (requests) => {
        await this.ready;
        // A connection may be cut while it sits idle in the pool or under the transaction (a restart
        // of the server, an administrator, the network): the batch is written again on another
        // connection, which answers whatever a lost one did commit as a retry.
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.writeOnce(requests, batch);
          } catch (error) {
            if (!connectionLost(error) || attempt >= WRITE_ATTEMPTS) throw error;
          }
        }
      }),
      () => this.signal.notify(),
    );
    this.listener = new LogListener({
      connectionString: options.connectionString,
      channel: batch.channel,
      reconnectDelayMs: 1_000,
      applicationName: `callpark-event-store/${this.schema}`.slice(0, 63),
      onNotification: (payload) => {
        if (payload !== undefined && /^\d+$/.test(payload)) this.learnHead(BigInt(payload));
        this.signal.notify();
      },
    });
  }

  /** One transaction for `requests` on a connection of the pool, which gets it back only if it is still usable. */
  private async writeOnce(requests: readonly WriteRequest[], batch: BatchSettings): Promise<AppendOutcome[]> {
    const client = await this.pool.connect();
    let broken: unknown;
    // A checked-out connection's errors are its user's to handle (the pool only listens to idle
    // ones): unheard, a reset socket would be an uncaught exception.
    const lost = (error: Error): void => {
      broken ??= error;
    };
    client.on('error', lost);
    try {
      const outcomes = await writeBatch(client, requests, batch);
      if (broken !== undefined) throw broken;
      for (const outcome of outcomes) if (outcome.accepted && outcome.result !== undefined) this.learnHead(outcome.result.position.commit);
      return outcomes;
    } catch (error) {
      broken ??= error;
      throw error;
    } finally {
      client.off('error', lost);
      // A refusal by the server leaves the connection usable (the transaction was rolled back); a lost connection, or anything else, ends it.
      const refused = broken instanceof AppendLockTimeout || (broken instanceof Error && broken.name === 'DatabaseError' && !connectionLost(broken));
      client.release(broken === undefined || refused ? undefined : broken instanceof Error ? broken : new Error(String(broken)));
    }
  }

  /** A store whose schema is ready (made when missing): fails here when the database cannot be reached or is of a later schema. */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const store = new PostgresEventStore(options);
    try {
      await store.ready;
      await store.listener.listening;
      return store;
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }

  /** The id of the log in this schema (domain/logIdentity.ts), made with its tables. */
  async logIdentity(): Promise<string> {
    this.ensureOpen();
    return this.ready;
  }

  async appendToStream(streamName: string, events: readonly EventData[], options: { expectedRevision?: ExpectedRevision } = {}): Promise<AppendResult> {
    this.ensureOpen();
    const repeated = duplicateIdWithin(events);
    if (repeated !== undefined) throw new EventIdConflict(repeated, streamName);
    if (streamName.includes('\u0000') || events.some((event) => event.type.includes('\u0000') || event.id.includes('\u0000'))) {
      throw new Error(`Stream ${streamName}: a stream name, an event type or an event id holds a NUL character, which PostgreSQL text cannot store.`);
    }
    const serialized = events.map(serializeEvent);
    // Measured as appendSize does (metadata left out counts nothing), from the JSON already written.
    const size = serialized.reduce((total, event, index) => total + Buffer.byteLength(event.data) + (events[index]!.metadata === undefined ? 0 : Buffer.byteLength(event.metadata)) + event.type.length * 2, 0);
    if (size > this.maxAppendSize) throw new AppendTooLarge(streamName, size, this.maxAppendSize);
    return this.groupCommit.submit({ kind: 'append', streamName, events: serialized, expectedRevision: options.expectedRevision ?? 'any', recordedAt: this.clock() });
  }

  async *readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.ensureOpen();
    await this.ready;
    const backwards = options.direction === 'backwards';
    const sql = backwards
      ? `SELECT ${storedEventColumns} FROM events WHERE stream_name = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`
      : `SELECT ${storedEventColumns} FROM events WHERE stream_name = $1 AND revision >= $2 ORDER BY revision LIMIT $3`;
    let from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      this.ensureOpen();
      const limit = Math.min(this.pageSize, remaining);
      const { rows } = await this.pool.query<StoredEventRow>(sql, [streamName, from, limit]);
      for (const row of rows) yield toRecordedEvent(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < limit) return;
      remaining -= rows.length;
      from = Number(last.revision) + (backwards ? -1 : 1);
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.ensureOpen();
    return pgCatchUpSubscription(
      { pool: this.pool, signal: this.signal, ready: this.ready, knownHead: () => this.knownHead, isOpen: () => !this.closed },
      options,
      { pageSize: this.pageSize, pollIntervalMs: this.pollIntervalMs, retryDelayMs: 200 },
    );
  }

  async headPosition(): Promise<Position | undefined> {
    this.ensureOpen();
    await this.ready;
    const { rows } = await this.pool.query<{ head: string | null }>('SELECT max(position)::text AS head FROM events');
    const head = rows[0]?.head;
    return head === null || head === undefined ? undefined : positionAt(BigInt(head));
  }

  /** The stream's row of the snapshots table replaced, in the next group commit, unless it holds a later revision. */
  async writeSnapshot(streamName: string, snapshot: Snapshot): Promise<void> {
    this.ensureOpen();
    await this.groupCommit.keepSnapshot({ kind: 'snapshot', streamName, revision: snapshot.revision, data: JSON.stringify(snapshot.data ?? null) });
  }

  async readSnapshot(streamName: string): Promise<Snapshot | undefined> {
    this.ensureOpen();
    await this.ready;
    const { rows } = await this.pool.query<{ revision: string; data: unknown }>('SELECT revision, data FROM snapshots WHERE stream_name = $1', [streamName]);
    const row = rows[0];
    return row === undefined ? undefined : { revision: Number(row.revision), data: row.data };
  }

  /** Through the unique index on event ids, which the store keeps for retried appends anyway. */
  readonly findEvent = async (streamName: string, eventId: string): Promise<number | undefined> => {
    this.ensureOpen();
    await this.ready;
    const { rows } = await this.pool.query<{ revision: string }>('SELECT revision FROM events WHERE event_id = $1 AND stream_name = $2', [eventId, streamName]);
    return rows[0] === undefined ? undefined : Number(rows[0].revision);
  };

  /** Writes what is queued, ends the subscriptions, the listener and the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.groupCommit.drain().catch(() => undefined);
    this.closed = true;
    this.signal.notify();
    await this.listener.close();
    await this.pool.end();
  }

  private learnHead(position: bigint): void {
    if (position > this.knownHead) this.knownHead = position;
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('The event store is closed.');
  }
}
