/**
 * The read store: where projections keep the tables the service answers queries from.
 *
 * One interface, two implementations (SQLite and PostgreSQL), one code path: the SQL the
 * projections, the runner and the migrations send is the dialect-neutral subset written down in
 * docs/adr/0002-read-store-sql.md. In short: `$1`-style placeholders, INTEGER/BIGINT/TEXT
 * columns, `INSERT … ON CONFLICT (…) DO UPDATE`, `CAST` where a parameter's type is not evident,
 * lowercase snake_case names, no function that only one dialect knows.
 *
 * Values come back the same from both: integers as `number` (as `bigint` beyond 2^53), text as
 * `string`, NULL as `null`.
 */

/** What a statement's parameters may be. Booleans are not: store them as INTEGER 0/1. */
export type SqlValue = string | number | bigint | null;

export type Row = Record<string, unknown>;

/** Statements, inside a transaction or not. */
export interface SqlExecutor {
  /** A statement that returns rows (SELECT, or a write with RETURNING). */
  query<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** A statement that returns no rows; answers how many rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ readonly rowCount: number }>;
}

/** A numbered schema change. `id`s increase strictly within one scope; `name` says what it does. */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: readonly string[];
}

export interface MigrationReport {
  readonly scope: string;
  /** The ids this call applied; those applied before, by this process or another, are not listed. */
  readonly applied: readonly number[];
}

export interface ReadStore extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Run `fn` in one transaction: committed when it resolves, rolled back when it throws (and the
   * error rethrown). Transactions of one store never interleave; `query` and `execute` outside
   * them see committed data only.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Apply the migrations of `scope` that are not yet recorded in `schema_migrations`, in order,
   * each in its own transaction. Safe when several processes migrate the same database at once.
   */
  migrate(migrations: readonly Migration[], scope?: string): Promise<MigrationReport>;
  close(): Promise<void>;
}

/** The table every migration is recorded in, created by `migrate` itself. */
export const schemaMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  scope TEXT NOT NULL,
  id INTEGER NOT NULL,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (scope, id)
)`;

/** Migrations must be numbered 1, 2, 3… in any order of declaration, without gaps or repeats. */
export const checkMigrations = (migrations: readonly Migration[], scope: string): Migration[] => {
  const sorted = [...migrations].sort((a, b) => a.id - b.id);
  sorted.forEach((migration, index) => {
    if (migration.id !== index + 1) {
      throw new Error(`Migrations of ${scope}: expected id ${index + 1}, found ${migration.id} (${migration.name}); ids run 1, 2, 3… without gaps or repeats.`);
    }
  });
  return sorted;
};

/**
 * Apply one migration inside a transaction that already holds the migration lock: skip it when it
 * is recorded (refusing a recorded migration of another name), else run it and record it.
 */
export const applyMigration = async (tx: SqlExecutor, scope: string, migration: Migration, now: number): Promise<boolean> => {
  const [recorded] = await tx.query<{ name: string }>('SELECT name FROM schema_migrations WHERE scope = $1 AND id = $2', [scope, migration.id]);
  if (recorded) {
    if (recorded.name !== migration.name) {
      throw new Error(`Migration ${scope} #${migration.id} is recorded as "${recorded.name}" but is now called "${migration.name}": migrations are never renumbered.`);
    }
    return false;
  }
  for (const statement of migration.sql) await tx.execute(statement);
  await tx.execute('INSERT INTO schema_migrations (scope, id, name, applied_at) VALUES ($1, $2, $3, $4)', [scope, migration.id, migration.name, now]);
  return true;
};

const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** Table, schema and prefix names are put into SQL text, so they are held to lowercase snake_case. */
export const checkIdentifier = (name: string, what = 'identifier'): string => {
  if (!identifierPattern.test(name)) throw new Error(`Invalid ${what} "${name}": use lowercase letters, digits and _ (at most 63), not starting with a digit.`);
  return name;
};

const valuesLists = new Map<string, string>();

/**
 * The placeholders of a multi-row VALUES list: `rows` groups of `columns` parameters, numbered
 * from `from` (1 by default). `values(2, 3)` is `($1, $2, $3), ($4, $5, $6)`. Remembered, since a
 * projection asks for the same few shapes batch after batch.
 */
export const values = (rows: number, columns: number, from = 1): string => {
  const key = `${rows}x${columns}+${from}`;
  let list = valuesLists.get(key);
  if (list === undefined) {
    const groups: string[] = [];
    let next = from;
    for (let row = 0; row < rows; row++) {
      const cells: string[] = [];
      for (let column = 0; column < columns; column++) cells.push(`$${next++}`);
      groups.push(`(${cells.join(', ')})`);
    }
    list = groups.join(', ');
    if (valuesLists.size >= 1_024) valuesLists.clear();
    valuesLists.set(key, list);
  }
  return list;
};

/** An integer read back from either dialect: a `number` while exact, a `bigint` beyond. */
export const integerFrom = (value: bigint): number | bigint =>
  value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;

/** A column that holds an integer, as a `bigint` whatever form it came back in. */
export const toBigInt = (value: unknown): bigint => {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new Error(`Expected an integer, found ${typeof value} ${String(value)}.`);
};
