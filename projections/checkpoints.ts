/**
 * Projection checkpoints: for each build of a projection, the position of the last event its
 * tables reflect, the version of the code that wrote them, and the identity of the log they were
 * built from (domain/logIdentity.ts; NULL when the event store cannot tell, or for a checkpoint
 * written before checkpoints recorded it). A checkpoint only moves by
 * compare-and-set, in the transaction that applies the events: the runner that set out from
 * another position (or another version) changes nothing and is told so.
 */
import type { Position } from '../domain/eventStore.js';
import { toBigInt, type Migration, type SqlExecutor } from './readStore.js';

export const checkpointScope = 'projection_checkpoints';

export const checkpointMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'create projection_checkpoints',
    sql: [
      `CREATE TABLE IF NOT EXISTS projection_checkpoints (
        name TEXT PRIMARY KEY,
        commit_position BIGINT,
        prepare_position BIGINT,
        version INTEGER NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  { id: 2, name: 'record the log each checkpoint follows', sql: ['ALTER TABLE projection_checkpoints ADD COLUMN log_id TEXT'] },
];

export interface Checkpoint {
  readonly name: string;
  /** Undefined before the first event. */
  readonly position: Position | undefined;
  readonly version: number;
  /** The identity of the log the tables were built from; undefined when unknown. */
  readonly logId: string | undefined;
  readonly updatedAt: number;
}

interface CheckpointRow {
  name: string;
  commit_position: unknown;
  prepare_position: unknown;
  version: number;
  log_id: string | null;
  updated_at: number;
}

export const readCheckpoint = async (db: SqlExecutor, name: string): Promise<Checkpoint | undefined> => {
  const [row] = await db.query<CheckpointRow & Record<string, unknown>>(
    'SELECT name, commit_position, prepare_position, version, log_id, updated_at FROM projection_checkpoints WHERE name = $1',
    [name],
  );
  if (!row) return undefined;
  const position = row.commit_position === null ? undefined : { commit: toBigInt(row.commit_position), prepare: toBigInt(row.prepare_position) };
  return { name: row.name, position, version: Number(row.version), logId: row.log_id ?? undefined, updatedAt: Number(row.updated_at) };
};

/** Create the checkpoint of a build that has none yet: before the first event, at `version`, following the log `logId`. */
export const createCheckpoint = (db: SqlExecutor, name: string, version: number, now: number, logId?: string): Promise<unknown> =>
  db.execute(
    'INSERT INTO projection_checkpoints (name, commit_position, prepare_position, version, log_id, updated_at) VALUES ($1, NULL, NULL, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
    [name, version, logId ?? null, now],
  );

/** Record which log a checkpoint that did not say follows (one written before checkpoints recorded it). */
export const adoptLog = (db: SqlExecutor, name: string, logId: string): Promise<unknown> =>
  db.execute('UPDATE projection_checkpoints SET log_id = $1 WHERE name = $2 AND log_id IS NULL', [logId, name]);

/**
 * Move the checkpoint from `from` to `to` if it is still at `from` and at `version`. Answers
 * false, changing nothing, when another runner moved it or another version took it over. In
 * PostgreSQL the update also locks the row until the transaction ends, so a second runner's
 * compare-and-set waits for the first one's commit and then fails.
 */
export const advanceCheckpoint = async (
  tx: SqlExecutor,
  { name, version, from, to, now }: { name: string; version: number; from: Position | undefined; to: Position; now: number },
): Promise<boolean> => {
  const set = 'UPDATE projection_checkpoints SET commit_position = $1, prepare_position = $2, updated_at = $3 WHERE name = $4 AND version = $5';
  const { rowCount } =
    from === undefined
      ? await tx.execute(`${set} AND commit_position IS NULL AND prepare_position IS NULL`, [to.commit, to.prepare, now, name, version])
      : await tx.execute(`${set} AND commit_position = $6 AND prepare_position = $7`, [to.commit, to.prepare, now, name, version, from.commit, from.prepare]);
  return rowCount === 1;
};

/** Set a build's checkpoint outright (a rebuild handing its position to the live build). */
export const putCheckpoint = (db: SqlExecutor, checkpoint: Omit<Checkpoint, 'updatedAt' | 'logId'> & { readonly logId?: string }, now: number): Promise<unknown> =>
  db.execute(
    `INSERT INTO projection_checkpoints (name, commit_position, prepare_position, version, log_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (name) DO UPDATE SET commit_position = excluded.commit_position, prepare_position = excluded.prepare_position,
       version = excluded.version, log_id = excluded.log_id, updated_at = excluded.updated_at`,
    [checkpoint.name, checkpoint.position?.commit ?? null, checkpoint.position?.prepare ?? null, checkpoint.version, checkpoint.logId ?? null, now],
  );

export const deleteCheckpoint = (db: SqlExecutor, name: string): Promise<unknown> => db.execute('DELETE FROM projection_checkpoints WHERE name = $1', [name]);
