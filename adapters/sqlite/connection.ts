/**
 * Opening the SQLite file of the event store: WAL, the chosen `synchronous` level, a busy
 * timeout so several processes can share the file, and the schema.
 *
 * The log is one table. `position` is the rowid: SQLite gives a new row the largest rowid plus
 * one, and writers are serialized by the database's write lock, so positions are dense and
 * become visible in increasing order, which is what lets a subscription poll with
 * `position > last`. See docs/sqlite-durability.md for the `synchronous` level.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * How far an acknowledged append survives:
 * - `full`: SQLite syncs the WAL at every commit, so it survives power loss of the host;
 * - `normal`: the WAL is written but synced only at checkpoints, so it survives a crash of the
 *   process (SIGKILL included) but the last commits may be lost when the host loses power.
 */
export type Synchronous = 'normal' | 'full';

export interface ConnectionOptions {
  readonly synchronous: Synchronous;
  /** How long a writer waits for another connection's write lock before failing. */
  readonly busyTimeoutMs: number;
}

const schemaVersion = 1;

const schema = `
  CREATE TABLE events (
    position    INTEGER PRIMARY KEY,
    stream_name TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    event_id    TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX events_by_stream ON events (stream_name, revision);
  CREATE UNIQUE INDEX events_by_id ON events (event_id);
`;

const synchronousPragma = (level: Synchronous): string => {
  switch (level) {
    case 'full':
      return 'FULL';
    case 'normal':
      return 'NORMAL';
    default: {
      const unknown: never = level;
      throw new Error(`Unknown synchronous level: ${String(unknown)}.`);
    }
  }
};

/** The pragmas every connection to the file uses (the benchmark baseline uses them too). */
export const applyPragmas = (db: Database.Database, options: ConnectionOptions): void => {
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal' && db.name !== ':memory:') throw new Error(`SQLite refused WAL mode for ${db.name} (journal_mode is ${String(mode)}).`);
  db.pragma(`synchronous = ${synchronousPragma(options.synchronous)}`);
};

const migrate = (db: Database.Database): void => {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true });
    if (version === schemaVersion) return;
    if (version !== 0) throw new Error(`The event store file has schema version ${String(version)}; this build knows version ${schemaVersion}.`);
    db.exec(schema);
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
};

export const openConnection = (path: string, options: ConnectionOptions): Database.Database => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: options.busyTimeoutMs });
  try {
    applyPragmas(db, options);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
};
