/**
 * One transaction of the PostgreSQL event store: a group of appends (and snapshots) queued
 * together, written under the log's append lock, so that positions are given, and become
 * visible, in increasing order (ADR 0004):
 *
 * 1. `pg_advisory_xact_lock` on the log's key: one writing transaction at a time, in every
 *    process; it is released only after COMMIT has made the rows visible.
 * 2. One read: the head of the log, the last revision of each stream appended to, and where the
 *    appended event ids are already stored.
 * 3. Each append decided in order, here, as SQLite's writer does (retry, refusal or new rows at
 *    the next revisions and positions): a refused append is refused alone.
 * 4. One INSERT of every new row with its NOTIFY, one upsert of the snapshots, COMMIT: four
 *    round trips holding the lock when the batch has no snapshot.
 */
import type pg from 'pg';
import { checkExpectedRevision, type AppendResult } from '../../../domain/eventStore.js';
import type { AppendOutcome, AppendRequest, SnapshotRequest, WriteRequest } from '../sqlite/appendWriter.js';
import { EventIdConflict } from '../sqlite/eventIdConflict.js';
import { AppendLockTimeout, isLockTimeout } from './appendLockTimeout.js';
import { positionAt } from '../sqlite/storedEvent.js';

export interface BatchSettings {
  readonly lockKey: bigint;
  readonly channel: string;
  /** The connections' `lock_timeout`, named in the AppendLockTimeout an append gets when it ran out. */
  readonly lockTimeoutMs: number;
  /** Called inside the transaction, holding the lock, just before COMMIT (tests hold transactions open with it). */
  readonly beforeCommit?: () => Promise<void>;
}

interface StoredAt {
  readonly streamName: string;
  readonly revision: number;
  readonly position: bigint;
}

/** What the transaction knows of the log, updated as it decides each append. */
interface LogState {
  head: bigint;
  readonly lastOfStream: Map<string, { revision: number; position: bigint }>;
  readonly ids: Map<string, StoredAt>;
}

interface NewRow {
  readonly position: bigint;
  readonly streamName: string;
  readonly revision: number;
  readonly request: AppendRequest;
  readonly index: number;
}

const readState = async (client: pg.ClientBase, appends: readonly AppendRequest[]): Promise<LogState> => {
  const streams = [...new Set(appends.map((append) => append.streamName))];
  const ids = appends.flatMap((append) => append.events.map((event) => event.id));
  const { rows } = await client.query<{ head: string | null; streams: { s: string; r: string; p: string }[] | null; ids: { i: string; s: string; r: string; p: string }[] | null }>(
    `SELECT (SELECT max(position) FROM events)::text AS head,
       (SELECT json_agg(json_build_object('s', s.name, 'r', last.revision::text, 'p', last.position::text))
          FROM unnest($1::text[]) AS s(name)
          CROSS JOIN LATERAL (SELECT revision, position FROM events WHERE stream_name = s.name ORDER BY revision DESC LIMIT 1) AS last) AS streams,
       (SELECT json_agg(json_build_object('i', event_id, 's', stream_name, 'r', revision::text, 'p', position::text)) FROM events WHERE event_id = ANY($2::text[])) AS ids`,
    [streams, ids],
  );
  const row = rows[0]!;
  return {
    head: row.head === null ? 0n : BigInt(row.head),
    lastOfStream: new Map((row.streams ?? []).map((last) => [last.s, { revision: Number(last.r), position: BigInt(last.p) }])),
    ids: new Map((row.ids ?? []).map((stored) => [stored.i, { streamName: stored.s, revision: Number(stored.r), position: BigInt(stored.p) }])),
  };
};

/**
 * When the append's first event is already stored, the append is a retry of one that succeeded if
 * all its events sit at consecutive revisions of this stream: it is answered as that one was. Ids
 * stored anywhere else refuse the append (EventIdConflict), as in the SQLite store.
 */
const answerToRetry = ({ streamName, events }: AppendRequest, ids: ReadonlyMap<string, StoredAt>): AppendResult | undefined => {
  const [first, ...rest] = events;
  if (first === undefined) return undefined;
  const stored = ids.get(first.id);
  if (stored === undefined) {
    const reused = rest.find((event) => ids.has(event.id));
    if (reused !== undefined) throw new EventIdConflict(reused.id, streamName, ids.get(reused.id));
    return undefined;
  }
  const conflict = new EventIdConflict(first.id, streamName, { streamName: stored.streamName, revision: stored.revision });
  if (stored.streamName !== streamName) throw conflict;
  let last = stored;
  rest.forEach((event, index) => {
    const next = ids.get(event.id);
    if (next === undefined || next.streamName !== streamName || next.revision !== stored.revision + index + 1) throw conflict;
    last = next;
  });
  return { nextExpectedRevision: stored.revision + events.length - 1, position: positionAt(last.position) };
};

/** Decide one append against the state, adding its rows; throws its refusal. */
const decide = (request: AppendRequest, state: LogState, rows: NewRow[]): AppendResult => {
  const retried = answerToRetry(request, state.ids);
  if (retried !== undefined) return retried;
  const { streamName, events } = request;
  const last = state.lastOfStream.get(streamName);
  checkExpectedRevision(streamName, request.expectedRevision, last?.revision);
  if (events.length === 0) return { nextExpectedRevision: last?.revision ?? -1, position: positionAt(last?.position ?? (state.head === 0n ? -1n : state.head)) };
  let revision = last?.revision ?? -1;
  events.forEach((event, index) => {
    revision++;
    state.head++;
    rows.push({ position: state.head, streamName, revision, request, index });
    state.ids.set(event.id, { streamName, revision, position: state.head });
  });
  state.lastOfStream.set(streamName, { revision, position: state.head });
  return { nextExpectedRevision: revision, position: positionAt(state.head) };
};

/** The rows inserted and their commit announced, in one statement (NOTIFY is delivered only if the transaction commits). */
const insertRows = (client: pg.ClientBase, rows: readonly NewRow[], channel: string): Promise<unknown> => {
  const column = <T>(pick: (row: NewRow) => T): T[] => rows.map(pick);
  const event = (row: NewRow) => row.request.events[row.index]!;
  return client.query(
    `WITH inserted AS (
       INSERT INTO events (position, stream_name, revision, event_id, type, data, metadata, recorded_at)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::json[], $7::json[], $8::bigint[])
       RETURNING 1)
     SELECT pg_notify($9, $10) FROM (SELECT count(*) FROM inserted) AS written`,
    [
      column((row) => row.position.toString()),
      column((row) => row.streamName),
      column((row) => row.revision),
      column((row) => event(row).id),
      column((row) => event(row).type),
      column((row) => event(row).data),
      column((row) => event(row).metadata),
      column((row) => row.request.recordedAt),
      channel,
      rows.at(-1)!.position.toString(),
    ],
  );
};

/** Each stream's snapshot of the highest revision in the batch (an upsert may touch a row once per statement). */
const keepSnapshots = (client: pg.ClientBase, snapshots: readonly SnapshotRequest[]): Promise<unknown> => {
  const newest = new Map<string, SnapshotRequest>();
  for (const snapshot of snapshots) {
    const kept = newest.get(snapshot.streamName);
    if (kept === undefined || snapshot.revision >= kept.revision) newest.set(snapshot.streamName, snapshot);
  }
  const chosen = [...newest.values()];
  return client.query(
    `INSERT INTO snapshots (stream_name, revision, data) SELECT * FROM unnest($1::text[], $2::bigint[], $3::json[])
     ON CONFLICT (stream_name) DO UPDATE SET revision = excluded.revision, data = excluded.data WHERE excluded.revision >= snapshots.revision`,
    [chosen.map((snapshot) => snapshot.streamName), chosen.map((snapshot) => snapshot.revision), chosen.map((snapshot) => snapshot.data)],
  );
};

/** Write a batch in one transaction: one outcome per request, in order. Throws when the transaction itself fails (nothing of it is written). */
export const writeBatch = async (client: pg.ClientBase, requests: readonly WriteRequest[], settings: BatchSettings): Promise<AppendOutcome[]> => {
  const appends = requests.filter((request): request is AppendRequest => request.kind === 'append');
  const snapshots = requests.filter((request): request is SnapshotRequest => request.kind === 'snapshot');
  // BEGIN and the lock in one round trip (the key is a number of ours, not input).
  try {
    await client.query(appends.length > 0 ? `BEGIN; SELECT pg_advisory_xact_lock(${settings.lockKey.toString()})` : 'BEGIN');
    let outcomes: AppendOutcome[] = requests.map(() => ({ accepted: true, result: undefined }));
    const rows: NewRow[] = [];
    if (appends.length > 0) {
      const state = await readState(client, appends);
      outcomes = requests.map((request): AppendOutcome => {
        if (request.kind === 'snapshot') return { accepted: true, result: undefined };
        try {
          return { accepted: true, result: decide(request, state, rows) };
        } catch (error) {
          if (error instanceof Error && (error.name === 'WrongExpectedRevision' || error instanceof EventIdConflict)) return { accepted: false, error };
          throw error;
        }
      });
      if (rows.length > 0) await insertRows(client, rows, settings.channel);
    }
    if (snapshots.length > 0) await keepSnapshots(client, snapshots);
    await settings.beforeCommit?.();
    await client.query('COMMIT');
    return outcomes;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw isLockTimeout(error) ? new AppendLockTimeout(settings.lockTimeoutMs) : error;
  }
};
