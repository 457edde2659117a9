/**
 * The read store in PostgreSQL, through a pg Pool.
 *
 * The same SQL as SQLite's (docs/adr/0002-read-store-sql.md); what differs is kept here: BIGINT
 * and NUMERIC are read back as numbers (pg gives strings), an optional schema is made the
 * connections' search_path (tests isolate themselves in a fresh one), and migrations serialise
 * on a transaction-scoped advisory lock.
 */
import pg from 'pg';
import {
  applyMigration,
  checkIdentifier,
  checkMigrations,
  integerFrom,
  schemaMigrationsTable,
  type Migration,
  type MigrationReport,
  type ReadStore,
  type Row,
  type SqlExecutor,
  type SqlValue,
} from './readStore.js';

export interface PostgresReadStoreOptions {
  /** The database; `DATABASE_URL` when absent. */
  readonly connectionString?: string;
  /** Keep the tables in this schema (created when missing) instead of the database's default. */
  readonly schema?: string;
  /** Connections in the pool (10 by default). */
  readonly max?: number;
  readonly clock?: () => number;
}

const BIGINT = 20;
const NUMERIC = 1700;

/** BIGINT, COUNT(*) and the like: a number while exact, a bigint beyond. */
const parseInteger = (text: string): number | bigint => {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : integerFrom(BigInt(text));
};

/** NUMERIC (what PostgreSQL's SUM of BIGINT and AVG give): whole values as integers, others as numbers. */
const parseNumeric = (text: string): number | bigint => (/^-?\d+$/.test(text) ? parseInteger(text) : Number(text));

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === BIGINT) return parseInteger;
    if (format !== 'binary' && oid === NUMERIC) return parseNumeric;
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const executorOf = (client: pg.Pool | pg.PoolClient, guard: () => void = () => undefined): SqlExecutor => ({
  query: async <R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> => {
    guard();
    return (await client.query<R>(sql, params as unknown[])).rows;
  },
  execute: async (sql: string, params: readonly SqlValue[] = []): Promise<{ readonly rowCount: number }> => {
    guard();
    return { rowCount: (await client.query(sql, params as unknown[])).rowCount ?? 0 };
  },
});

export class PostgresReadStore implements ReadStore {
  readonly dialect = 'postgres' as const;
  private readonly executor: SqlExecutor;
  /** The last error of an idle connection (the pool replaces the connection). */
  lastPoolError: Error | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string | undefined,
    private readonly clock: () => number,
  ) {
    this.executor = executorOf(pool);
    pool.on('error', (error) => {
      this.lastPoolError = error;
    });
  }

  static async open(options: PostgresReadStoreOptions = {}): Promise<PostgresReadStore> {
    const connectionString = options.connectionString ?? process.env.DATABASE_URL;
    if (!connectionString) throw new Error('The PostgreSQL read store needs a connection string: set DATABASE_URL.');
    const schema = options.schema === undefined ? undefined : checkIdentifier(options.schema, 'schema name');
    if (schema !== undefined) await PostgresReadStore.createSchema(connectionString, schema);
    const pool = new pg.Pool({
      connectionString,
      max: options.max ?? 10,
      types: typeParsers,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    });
    return new PostgresReadStore(pool, schema, options.clock ?? Date.now);
  }

  query<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.executor.query<R>(sql, params);
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<{ readonly rowCount: number }> {
    return this.executor.execute(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let open = true;
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(
        executorOf(client, () => {
          if (!open) throw new Error('This transaction is over: run statements inside the function given to transaction().');
        }),
      );
      open = false;
      await client.query('COMMIT');
      return result;
    } catch (error) {
      open = false;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      // A connection that could not roll back is not given to anyone else.
      client.release(broken);
    }
  }

  async migrate(migrations: readonly Migration[], scope = 'default'): Promise<MigrationReport> {
    const sorted = checkMigrations(migrations, scope);
    const lock = (tx: SqlExecutor): Promise<unknown> =>
      tx.query("SELECT pg_advisory_xact_lock(hashtext('callpark.read_store.migrations.' || current_schema())) AS locked");
    // Even CREATE TABLE IF NOT EXISTS can collide with a concurrent one: it waits for the lock too.
    await this.transaction(async (tx) => {
      await lock(tx);
      await tx.execute(schemaMigrationsTable);
    });
    const applied: number[] = [];
    for (const migration of sorted) {
      const done = await this.transaction(async (tx) => {
        await lock(tx);
        return applyMigration(tx, scope, migration, this.clock());
      });
      if (done) applied.push(migration.id);
    }
    return { scope, applied };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * Drop the store's schema and everything in it (tests and benchmarks clean up with this). The
   * tables go first, a few hundred at a time: one DROP SCHEMA … CASCADE over thousands of tables
   * needs more locks than one transaction may hold.
   */
  async dropSchema(): Promise<void> {
    if (this.schema === undefined) throw new Error('This read store has no schema of its own to drop.');
    for (;;) {
      const tables = await this.pool.query<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 LIMIT 200', [this.schema]);
      if (tables.rows.length === 0) break;
      await this.pool.query(`DROP TABLE IF EXISTS ${tables.rows.map(({ name }) => `${this.schema}.${checkIdentifier(name, 'table name')}`).join(', ')} CASCADE`);
    }
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  private static async createSchema(connectionString: string, schema: string): Promise<void> {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } catch (error) {
      // Two processes creating it at once: one of them is told it exists, which is what it wanted.
      const code = (error as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') throw error;
    } finally {
      await client.end();
    }
  }
}
