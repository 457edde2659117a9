/**
 * Read stores for the tests: SQLite files in a temporary folder, PostgreSQL schemas made for the
 * run and dropped after it; and a read store that fails right after a commit, as a process
 * killed between its commit and anything it does next would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import type { ReadStore, SqlExecutor } from '../../projections/readStore.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import { postgresTestUrl } from '../support/services.js';

/** Opens read stores onto one database: each `open()` is a new connection (pool), as another process would have. */
export interface ReadStoreFactory {
  readonly dialect: 'sqlite' | 'postgres';
  open(): Promise<ReadStore>;
  /** A database of its own, for a test that must start empty. */
  fresh(): Promise<ReadStoreFactory>;
  /** Close every store opened and delete the databases. */
  cleanup(): Promise<void>;
}

const suffix = (): string => randomBytes(4).toString('hex');

export const sqliteFactory = async (): Promise<ReadStoreFactory> => {
  const folder = await mkdtemp(join(tmpdir(), 'callpark-projections-'));
  const opened: ReadStore[] = [];
  const onFile = (file: string): ReadStoreFactory => ({
    dialect: 'sqlite',
    open: async () => {
      const store = await SqliteReadStore.open(join(folder, file));
      opened.push(store);
      return store;
    },
    fresh: async () => onFile(`read-${suffix()}.db`),
    cleanup: async () => {
      await Promise.all(opened.map((store) => store.close()));
      await rm(folder, { recursive: true, force: true });
    },
  });
  return onFile('read.db');
};

export const postgresFactory = async (): Promise<ReadStoreFactory> => {
  const opened: PostgresReadStore[] = [];
  const inSchema = (schema: string): ReadStoreFactory => ({
    dialect: 'postgres',
    open: async () => {
      const store = await PostgresReadStore.open({ connectionString: postgresTestUrl(), schema, max: 4 });
      opened.push(store);
      return store;
    },
    fresh: async () => inSchema(`test_projections_${suffix()}`),
    cleanup: async () => {
      const schemas = new Set(opened.map((store) => store.schema));
      for (const schema of schemas) await opened.find((store) => store.schema === schema)?.dropSchema();
      await Promise.all(opened.map((store) => store.close()));
    },
  });
  return inSchema(`test_projections_${suffix()}`);
};

export { postgresAvailable } from '../support/services.js';

/** The error a crash right after a commit leaves behind. */
export class CrashAfterCommit extends Error {
  override readonly name = 'CrashAfterCommit';
}

/** The same read store, its transactions run through `transaction` instead. */
export const withTransactions = (
  store: ReadStore,
  transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => Promise<T>,
): ReadStore => ({
  dialect: store.dialect,
  query: (sql, params) => store.query(sql, params),
  execute: (sql, params) => store.execute(sql, params),
  migrate: (migrations, scope) => store.migrate(migrations, scope),
  close: () => store.close(),
  transaction,
});

/** A read store whose transactions, when `crash()` says so, fail after committing. */
export const crashingAfterCommit = (store: ReadStore, crash: () => boolean): ReadStore =>
  withTransactions(store, async (fn) => {
    const result = await store.transaction(fn);
    if (crash()) throw new CrashAfterCommit('crashed after the commit');
    return result;
  });
