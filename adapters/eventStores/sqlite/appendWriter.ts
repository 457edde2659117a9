/**
 * Writing appends: a batch of appends in one `BEGIN IMMEDIATE` transaction (so one commit, and
 * one sync of the WAL, for all of them), each append with its own retry detection and
 * expected-revision check made inside the transaction, holding the write lock. An append that is
 * refused is refused alone: the others of the batch are still written.
 */
import Database from 'better-sqlite3';
import { WrongExpectedRevision, checkExpectedRevision, type AppendResult, type ExpectedRevision } from '../../../domain/eventStore.js';
import { EventIdConflict } from './eventIdConflict.js';
import { positionAt, type SerializedEvent } from './storedEvent.js';

export interface AppendRequest {
  readonly kind: 'append';
  readonly streamName: string;
  readonly events: readonly SerializedEvent[];
  readonly expectedRevision: ExpectedRevision;
  readonly recordedAt: number;
}

/** A snapshot to keep (the stream's row replaced, unless it holds a later revision). */
export interface SnapshotRequest {
  readonly kind: 'snapshot';
  readonly streamName: string;
  readonly revision: number;
  /** The snapshot's data as JSON. */
  readonly data: string;
}

export type WriteRequest = AppendRequest | SnapshotRequest;

/** A snapshot's outcome has no result. */
export type AppendOutcome = { readonly accepted: true; readonly result: AppendResult | undefined } | { readonly accepted: false; readonly error: Error };

/** The refusals that belong to one append; any other error fails the whole batch. */
const isRefusal = (error: unknown): error is Error =>
  error instanceof WrongExpectedRevision ||
  error instanceof EventIdConflict ||
  (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT'));

export class AppendWriter {
  private readonly lastOfStream: Database.Statement<[string], [bigint, bigint]>;
  private readonly storedById: Database.Statement<[string], [string, bigint, bigint]>;
  private readonly head: Database.Statement<[], bigint | null>;
  private readonly insert: Database.Statement<[string, number, string, string, string, string, number]>;
  private readonly keepSnapshot: Database.Statement<[string, number, string]>;
  private readonly appendInSavepoint: (request: AppendRequest) => AppendResult;
  private readonly appendAll: (requests: readonly WriteRequest[]) => AppendOutcome[];

  constructor(db: Database.Database) {
    this.lastOfStream = db
      .prepare<[string], [bigint, bigint]>('SELECT revision, position FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1')
      .raw()
      .safeIntegers();
    this.storedById = db.prepare<[string], [string, bigint, bigint]>('SELECT stream_name, revision, position FROM events WHERE event_id = ?').raw().safeIntegers();
    this.head = db.prepare<[], bigint | null>('SELECT MAX(position) FROM events').pluck().safeIntegers();
    this.insert = db
      .prepare<[string, number, string, string, string, string, number]>(
        'INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .safeIntegers();
    this.keepSnapshot = db.prepare<[string, number, string]>(
      `INSERT INTO snapshots (stream_name, revision, data) VALUES (?, ?, ?)
       ON CONFLICT (stream_name) DO UPDATE SET revision = excluded.revision, data = excluded.data WHERE excluded.revision >= snapshots.revision`,
    );
    // Called inside the batch's transaction, better-sqlite3 makes this a SAVEPOINT: a failing
    // append of several events rolls back to it and leaves the rest of the batch alone.
    this.appendInSavepoint = db.transaction((request: AppendRequest) => this.appendOne(request));
    const appendAll = db.transaction((requests: readonly WriteRequest[]) => requests.map((request) => this.attempt(request)));
    this.appendAll = (requests) => appendAll.immediate(requests);
  }

  /** Write a batch in one transaction: one outcome per append, in order. Throws when the transaction itself fails. */
  write(requests: readonly WriteRequest[]): AppendOutcome[] {
    return this.appendAll(requests);
  }

  private attempt(request: WriteRequest): AppendOutcome {
    if (request.kind === 'snapshot') {
      this.keepSnapshot.run(request.streamName, request.revision, request.data);
      return { accepted: true, result: undefined };
    }
    try {
      const result = request.events.length > 1 ? this.appendInSavepoint(request) : this.appendOne(request);
      return { accepted: true, result };
    } catch (error) {
      if (isRefusal(error)) return { accepted: false, error };
      throw error;
    }
  }

  private appendOne(request: AppendRequest): AppendResult {
    const { streamName, events, expectedRevision, recordedAt } = request;
    const retried = this.answerToRetry(request);
    if (retried !== undefined) return retried;
    const last = this.lastOfStream.get(streamName);
    const lastRevision = last === undefined ? undefined : Number(last[0]);
    checkExpectedRevision(streamName, expectedRevision, lastRevision);
    if (events.length === 0) {
      return { nextExpectedRevision: lastRevision ?? -1, position: positionAt(last?.[1] ?? this.head.get() ?? -1n) };
    }
    let revision = lastRevision ?? -1;
    let position = -1n;
    for (const event of events) {
      revision++;
      position = BigInt(this.insert.run(streamName, revision, event.id, event.type, event.data, event.metadata, recordedAt).lastInsertRowid);
    }
    return { nextExpectedRevision: revision, position: positionAt(position) };
  }

  /**
   * When the append's first event is already stored, the append is a retry of one that
   * succeeded, if all its events sit at consecutive revisions of this stream: then its answer is
   * the first append's. Ids stored anywhere else refuse the append (see EventIdConflict).
   */
  private answerToRetry({ streamName, events }: AppendRequest): AppendResult | undefined {
    const [first, ...rest] = events;
    if (first === undefined) return undefined;
    const stored = this.storedById.get(first.id);
    if (stored === undefined) {
      for (const event of rest) {
        const elsewhere = this.storedById.get(event.id);
        if (elsewhere !== undefined) throw new EventIdConflict(event.id, streamName, { streamName: elsewhere[0], revision: Number(elsewhere[1]) });
      }
      return undefined;
    }
    const [storedStream, firstRevision] = stored;
    const conflict = new EventIdConflict(first.id, streamName, { streamName: storedStream, revision: Number(firstRevision) });
    if (storedStream !== streamName) throw conflict;
    let lastPosition = stored[2];
    rest.forEach((event, index) => {
      const next = this.storedById.get(event.id);
      if (next === undefined || next[0] !== streamName || next[1] !== firstRevision + BigInt(index + 1)) throw conflict;
      lastPosition = next[2];
    });
    return { nextExpectedRevision: Number(firstRevision) + events.length - 1, position: positionAt(lastPosition) };
  }
}
