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

const schemaVersion = 2;

/** Version 2: snapshots in a table of their own, a row per stream replaced by each newer one, out of the log. */
const snapshotsTable = `
  CREATE TABLE snapshots (
    stream_name TEXT    PRIMARY KEY,
    revision    INTEGER NOT NULL,
    data        TEXT    NOT NULL
  ) STRICT;
`;

/**
 * Up to version 1 the command handler kept its snapshots as events of this type, in streams of
 * their own, in the log: every reader of the log read them. Version 2 deletes them: a snapshot
 * is a cache of the fold, so the first command of each tenant folds its stream again and keeps a
 * new one in the snapshots table. (Only the log's last row, if it is one, stays, emptied.)
 */
const LEGACY_SNAPSHOT_TYPE = 'CallParkSnapshot';

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
  ${snapshotsTable}
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

/** Bring the file to this build's schema; true when snapshot events of version 1 were deleted (the file is then worth a VACUUM). */
const migrate = (db: Database.Database): boolean =>
  db
    .transaction((): boolean => {
      const version = db.pragma('user_version', { simple: true });
      if (version === schemaVersion) return false;
      let deleted = 0;
      if (version === 0) db.exec(schema);
      else if (version === 1) {
        db.exec(snapshotsTable);
        // The log's last row stays (emptied), so that the next event still gets a position past every
        // one a reader of the log may have seen: positions are rowids, and SQLite would reuse a freed one.
        deleted = db.prepare('DELETE FROM events WHERE type = ? AND position < (SELECT MAX(position) FROM events)').run(LEGACY_SNAPSHOT_TYPE).changes;
        db.prepare(`UPDATE events SET data = '{}' WHERE type = ?`).run(LEGACY_SNAPSHOT_TYPE);
      } else {
        throw new Error(
          `The event store file ${db.name} has schema version ${String(version)}; this build knows versions up to ${schemaVersion}. Run a build of callpark that knows it, or point CALLPARK_DATA_DIR at another directory.`,
        );
      }
      db.pragma(`user_version = ${schemaVersion}`);
      return deleted > 0;
    })
    .immediate();

export const openConnection = (path: string, options: ConnectionOptions): Database.Database => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: options.busyTimeoutMs });
  try {
    applyPragmas(db, options);
    // Give the space of the deleted snapshots back (once: a file migrated is at version 2 after).
    if (migrate(db)) db.exec('VACUUM');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
};
