/**
 * The read store in a SQLite file, through better-sqlite3, in WAL mode.
 *
 * better-sqlite3 is synchronous; this wraps it in the async interface both read stores share.
 * Writes go through one connection, one transaction at a time: a transaction's `fn` may await,
 * so the store queues the next transaction (and every write outside one) behind it. Queries
 * outside a transaction use a second, read-only connection, which WAL lets read the last
 * committed state while a transaction is open.
 *
 * Group commit: the transactions asked for within one turn of the event loop (the read side's
 * runners, woken by the same append) share one `BEGIN IMMEDIATE` … `COMMIT`, each in a savepoint
 * of its own. Each is still all or nothing: one that throws is rolled back to its savepoint and
 * rejects alone; the others' promises resolve only once the shared COMMIT has succeeded, and a
 * failed COMMIT rejects them all. A BEGIN and a COMMIT cost far more than a savepoint.
 *
 * Other connections (another store on the same file, another process) are waited for without
 * blocking the thread: `BEGIN IMMEDIATE` is tried with no busy timeout and retried after a short,
 * growing pause, so a transaction held open across an `await` in this process cannot be starved
 * by a busy handler sleeping on the same thread.
 */
import Database from 'better-sqlite3';
import {
  applyMigration,
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

export interface SqliteReadStoreOptions {
  /** `NORMAL` (the default) survives a crash of the process; `FULL` also a loss of power. */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** How long a transaction waits for another connection's write lock before it fails (ms). */
  readonly busyTimeoutMs?: number;
  readonly clock?: () => number;
}

/** `$1`-style placeholders turned into SQLite's `?`, and which parameter each `?` takes. */
export interface TranslatedSql {
  readonly sql: string;
  /** For each `?`, in order, the 1-based number of the parameter it takes. */
  readonly order: readonly number[];
  /** How many parameters the statement expects: the highest `$n`. */
  readonly arity: number;
}

/**
 * Translate `$n` placeholders to `?`, leaving string literals, quoted names and comments alone.
 * A `$n` used twice becomes two `?` bound to the same value.
 */
export const translatePlaceholders = (sql: string): TranslatedSql => {
  let out = '';
  const order: number[] = [];
  let i = 0;
  const copyUntil = (end: string): void => {
    const at = sql.indexOf(end, i);
    const stop = at < 0 ? sql.length : at + end.length;
    out += sql.slice(i, stop);
    i = stop;
  };
  while (i < sql.length) {
    const char = sql[i]!;
    if (char === "'" || char === '"') {
      out += char;
      i++;
      copyUntil(char);
    } else if (char === '-' && sql[i + 1] === '-') {
      copyUntil('\n');
    } else if (char === '/' && sql[i + 1] === '*') {
      copyUntil('*/');
    } else if (char === '?') {
      throw new Error('Write placeholders as $1, $2…: a bare ? is not part of the read-store SQL.');
    } else if (char === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      let digits = '';
      i++;
      while (i < sql.length && /[0-9]/.test(sql[i]!)) digits += sql[i++];
      order.push(Number(digits));
      out += '?';
    } else {
      out += char;
      i++;
    }
  }
  return { sql: out, order, arity: order.length === 0 ? 0 : Math.max(...order) };
};

interface Prepared {
  readonly statement: Database.Statement<unknown[]>;
  readonly translated: TranslatedSql;
}

/** Prepared statements by SQL text, the least recently used dropped beyond `limit`. */
class StatementCache {
  private readonly entries = new Map<string, Prepared>();
  constructor(
    private readonly db: Database.Database,
    private readonly limit = 256,
  ) {}

  get(sql: string): Prepared {
    const cached = this.entries.get(sql);
    if (cached) {
      this.entries.delete(sql);
      this.entries.set(sql, cached);
      return cached;
    }
    const translated = translatePlaceholders(sql);
    const statement = this.db.prepare<unknown[]>(translated.sql);
    if (statement.reader) statement.safeIntegers(true);
    const prepared = { statement, translated };
    this.entries.set(sql, prepared);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    return prepared;
  }
}

/**
 * The values to bind, one per `?`. SQLite would store a JS number as REAL even when it is whole
 * (`2` reads back as `2.0` in text), so whole numbers are bound as integers. A plain loop: this
 * runs for every parameter of every statement.
 */
const bindParameters = (sql: string, { translated }: Prepared, params: readonly SqlValue[]): unknown[] => {
  if (params.length !== translated.arity) {
    throw new Error(`The statement takes ${translated.arity} parameter(s), ${params.length} given: ${sql}`);
  }
  const { order } = translated;
  const args = new Array<unknown>(order.length);
  for (let i = 0; i < order.length; i++) {
    const value = params[order[i]! - 1];
    args[i] = typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
  }
  return args;
};

const normalizeRow = (row: Row): Row => {
  for (const key in row) {
    const value = row[key];
    if (typeof value === 'bigint') row[key] = integerFrom(value);
  }
  return row;
};

const isBusy = (error: unknown): boolean => error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The most transactions sharing one COMMIT. */
const MAX_GROUP = 32;

/** A transaction asked for: its function, and how to tell its caller the outcome. */
interface Member {
  readonly fn: (tx: SqlExecutor) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class SqliteReadStore implements ReadStore {
  readonly dialect = 'sqlite' as const;
  private readonly writerStatements: StatementCache;
  private reader: Database.Database | undefined;
  private readerStatements: StatementCache | undefined;
  /** The end of the queue of writes: each transaction starts when the previous one has settled. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Transactions asked for and not yet started: the next group. */
  private pending: Member[] = [];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly writer: Database.Database,
    private readonly busyTimeoutMs: number,
    private readonly clock: () => number,
  ) {
    this.writerStatements = new StatementCache(writer);
  }

  static async open(path: string, options: SqliteReadStoreOptions = {}): Promise<SqliteReadStore> {
    if (path === '' || path === ':memory:') throw new Error('The SQLite read store needs a file: its queries read through a second connection.');
    // Opening may meet another process switching the file to WAL: wait for it as usual here,
    // then turn the busy handler off (see the file's comment).
    const writer = new Database(path, { timeout: options.busyTimeoutMs ?? 5_000 });
    try {
      writer.pragma('journal_mode = WAL');
      writer.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      writer.pragma('busy_timeout = 0');
    } catch (error) {
      writer.close();
      throw error;
    }
    return new SqliteReadStore(path, writer, options.busyTimeoutMs ?? 5_000, options.clock ?? Date.now);
  }

  async query<R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    this.ensureOpen();
    const statements = this.readerCache();
    const prepared = statements.get(sql);
    // A write with RETURNING is a query too: it goes through the writer, in a transaction.
    if (!prepared.statement.readonly) return this.transaction((tx) => tx.query<R>(sql, params));
    return prepared.statement.all(bindParameters(sql, prepared, params)).map((row) => normalizeRow(row as Row)) as R[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ readonly rowCount: number }> {
    return this.transaction((tx) => tx.execute(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    this.ensureOpen();
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length > 1) return;
      // The first of a group: run it (and whoever joins within this turn) once the previous
      // group has settled and the event loop has had a turn.
      const run = this.queue.then(nextTurn).then(() => this.runGroup(this.pending.splice(0, MAX_GROUP)));
      this.queue = run;
    });
  }

  async migrate(migrations: readonly Migration[], scope = 'default'): Promise<MigrationReport> {
    const sorted = checkMigrations(migrations, scope);
    await this.execute(schemaMigrationsTable);
    const applied: number[] = [];
    for (const migration of sorted) {
      // BEGIN IMMEDIATE holds the write lock from the check to the record: a second process
      // migrating at the same time waits, then finds the migration recorded.
      if (await this.transaction((tx) => applyMigration(tx, scope, migration, this.clock()))) applied.push(migration.id);
    }
    return { scope, applied };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.reader?.close();
    this.writer.close();
  }

  /** One BEGIN … COMMIT for the group; never rejects: each member is told its own outcome. */
  private async runGroup(group: readonly Member[]): Promise<void> {
    // Members left over beyond MAX_GROUP form the next group.
    if (this.pending.length > 0) {
      const next = this.queue.then(() => this.runGroup(this.pending.splice(0, MAX_GROUP)));
      this.queue = next;
    }
    const [only] = group;
    if (only === undefined) return;
    if (group.length === 1) {
      await this.runTransaction(only.fn).then(only.resolve, only.reject);
      return;
    }
    try {
      this.ensureOpen();
      await this.beginImmediate();
    } catch (error) {
      for (const member of group) member.reject(error);
      return;
    }
    const outcomes: Array<{ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown }> = [];
    for (const member of group) {
      if (!this.writer.inTransaction) {
        // An error SQLite answers by rolling the whole transaction back took the group's work with it.
        const lost = new Error('The transaction shared with another was rolled back by SQLite: nothing of it was written.');
        for (const rest of group) rest.reject(lost);
        return;
      }
      this.writer.exec('SAVEPOINT member');
      try {
        const value = await this.runInside(member.fn);
        this.writer.exec('RELEASE member');
        outcomes.push({ ok: true, value });
      } catch (error) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK TO member; RELEASE member');
        outcomes.push({ ok: false, error });
      }
    }
    try {
      if (!this.writer.inTransaction) throw new Error('The transaction shared with another was rolled back by SQLite: nothing of it was written.');
      this.writer.exec('COMMIT');
    } catch (error) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      for (const member of group) member.reject(error);
      return;
    }
    group.forEach((member, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) member.resolve(outcome.value);
      else member.reject(outcome.error);
    });
  }

  private async runTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    this.ensureOpen();
    await this.beginImmediate();
    try {
      const result = await this.runInside(fn);
      this.writer.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      throw error;
    }
  }

  /** Run `fn` on the open transaction; its executor refuses statements once `fn` has settled. */
  private async runInside<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let open = true;
    const guard = (): void => {
      if (!open) throw new Error('This transaction is over: run statements inside the function given to transaction().');
    };
    const tx: SqlExecutor = {
      query: async <R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> => {
        guard();
        const prepared = this.writerStatements.get(sql);
        const args = bindParameters(sql, prepared, params);
        if (!prepared.statement.reader) {
          prepared.statement.run(args);
          return [];
        }
        return prepared.statement.all(args).map((row) => normalizeRow(row as Row)) as R[];
      },
      execute: async (sql: string, params: readonly SqlValue[] = []): Promise<{ readonly rowCount: number }> => {
        guard();
        const prepared = this.writerStatements.get(sql);
        const args = bindParameters(sql, prepared, params);
        if (prepared.statement.reader) {
          prepared.statement.all(args);
          return { rowCount: 0 };
        }
        return { rowCount: prepared.statement.run(args).changes };
      },
    };
    try {
      return await fn(tx);
    } finally {
      open = false;
    }
  }

  private async beginImmediate(): Promise<void> {
    const deadline = this.clock() + this.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        this.writer.exec('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        if (!isBusy(error) || this.clock() >= deadline) throw error;
        await pause(wait);
      }
    }
  }

  private readerCache(): StatementCache {
    if (!this.readerStatements) {
      this.reader = new Database(this.path, { readonly: true, fileMustExist: true, timeout: this.busyTimeoutMs });
      this.readerStatements = new StatementCache(this.reader);
    }
    return this.readerStatements;
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`The read store ${this.path} is closed.`);
  }
}
