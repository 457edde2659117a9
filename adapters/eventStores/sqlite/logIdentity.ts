/**
 * The identity of the log in an SQLite event store file (domain/logIdentity.ts): a random id in a
 * one-row table of the file, made when the store first opens the file (a file made before it gets
 * one at its first opening since), in a write transaction, so two processes opening a new file at
 * once agree on one id. A copy or a backup of the file is the same log.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

export const readOrCreateLogIdentity = (db: Database.Database): string => {
  const read = (): string | undefined => {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_identity'").pluck().get();
    return exists === undefined ? undefined : (db.prepare('SELECT id FROM log_identity WHERE one = 1').pluck().get() as string | undefined);
  };
  const known = read();
  if (known !== undefined) return known;
  return db
    .transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS log_identity (one INTEGER PRIMARY KEY CHECK (one = 1), id TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT');
      db.prepare('INSERT INTO log_identity (one, id, created_at) VALUES (1, ?, ?) ON CONFLICT (one) DO NOTHING').run(randomUUID(), Date.now());
      return db.prepare('SELECT id FROM log_identity WHERE one = 1').pluck().get() as string;
    })
    .immediate();
};
