/**
 * Rows of a projection's table, a batch at a time: load the rows a batch touches in a few
 * statements, fold the batch over them in memory, and write back only what changed, in
 * multi-row statements. A batch of 500 events thus costs a handful of round trips, not 500.
 *
 * The SQL is the read store's dialect-neutral subset (docs/adr/0002-read-store-sql.md):
 * `$n` placeholders, `(a = $1 AND b = $2) OR …` for composite keys, `INSERT … ON CONFLICT (key)
 * DO UPDATE SET c = excluded.c`. Multi-row statements are cut into chunks of 256, 128, … 1 rows,
 * so each table sends a few distinct statement texts, which both drivers prepare once.
 */
import { values, type SqlExecutor, type SqlValue } from './readStore.js';

export type RowValues = Record<string, SqlValue>;

export interface TableShape<R extends RowValues> {
  /** The table's physical name in the build at hand (from `tables(…)`). */
  readonly table: string;
  /** The primary key's columns, in order. */
  readonly key: readonly (keyof R & string)[];
  /** Every column, the key's included. */
  readonly columns: readonly (keyof R & string)[];
}

const LARGEST_CHUNK = 256;

/** Cut `items` into chunks whose sizes are powers of two, largest first. */
export const chunks = <T>(items: readonly T[]): T[][] => {
  const out: T[][] = [];
  let at = 0;
  for (let size = LARGEST_CHUNK; size >= 1; size >>= 1) {
    while (items.length - at >= size) {
      out.push(items.slice(at, at + size));
      at += size;
    }
  }
  return out;
};

/** `(a = $1 AND b = $2) OR (a = $3 AND b = $4)`: `count` keys of `columns`. */
const keyConditions = (columns: readonly string[], count: number): string => {
  const groups: string[] = [];
  let next = 1;
  for (let i = 0; i < count; i++) groups.push(`(${columns.map((column) => `${column} = $${next++}`).join(' AND ')})`);
  return groups.join(' OR ');
};

/** The parameters of a multi-row statement, in a plain loop (flatMap costs microseconds a row). */
const parametersOf = <R extends RowValues>(rows: readonly R[], columns: readonly (keyof R & string)[]): SqlValue[] => {
  const out: SqlValue[] = [];
  for (const row of rows) for (const column of columns) out.push(row[column] ?? null);
  return out;
};

/** Insert rows that are new by construction (an event's own row), in chunks. */
export const insertRows = async <R extends RowValues>(tx: SqlExecutor, shape: Omit<TableShape<R>, 'key'>, rows: readonly R[]): Promise<void> => {
  for (const chunk of chunks(rows)) {
    await tx.execute(`INSERT INTO ${shape.table} (${shape.columns.join(', ')}) VALUES ${values(chunk.length, shape.columns.length)}`, parametersOf(chunk, shape.columns));
  }
};

/**
 * The rows of one table that a batch reads and writes, keyed by primary key. `want` the keys
 * first, `load` them, then `get`, `put` and `remove` freely; `flush` writes what changed. Kept in
 * a projection's BatchMemory, it serves the next batch too (only the keys it does not know are
 * loaded), up to `limit` rows: past that, `trim` forgets them all.
 */
export class RowCache<R extends RowValues> {
  /** Key → the row as the batch has it; null when there is none. */
  private readonly rows = new Map<string, R | null>();
  /** Keys to load → their values. */
  private readonly wanted = new Map<string, readonly SqlValue[]>();
  /** Keys changed since the last flush → their values when removed, undefined when put. */
  private readonly dirty = new Map<string, readonly SqlValue[] | undefined>();

  constructor(
    private readonly shape: TableShape<R>,
    private readonly limit = 20_000,
  ) {}

  /**
   * A key's values as one string. Each key column holds one type, and identifiers hold no
   * control characters (the codecs refuse them), so a NUL between the values is unambiguous.
   */
  private keyOf(values: readonly SqlValue[]): string {
    let id = String(values[0]);
    for (let i = 1; i < values.length; i++) id += `\u0000${values[i]}`;
    return id;
  }

  private keyOfRow(row: R): string {
    const { key } = this.shape;
    let id = String(row[key[0]!]);
    for (let i = 1; i < key.length; i++) id += `\u0000${row[key[i]!]}`;
    return id;
  }

  /** Ask for the row with this key to be loaded by the next `load`. */
  want(key: readonly SqlValue[]): void {
    const id = this.keyOf(key);
    if (!this.rows.has(id)) this.wanted.set(id, key);
  }

  /** Read the wanted rows that are not known yet. */
  async load(tx: SqlExecutor): Promise<void> {
    const missing = [...this.wanted].filter(([id]) => !this.rows.has(id));
    this.wanted.clear();
    const { table, key, columns } = this.shape;
    for (const chunk of chunks(missing)) {
      const params: SqlValue[] = [];
      for (const [, values] of chunk) params.push(...values);
      const found = await tx.query<R>(`SELECT ${columns.join(', ')} FROM ${table} WHERE ${keyConditions(key, chunk.length)}`, params);
      for (const [id] of chunk) this.rows.set(id, null);
      for (const row of found) this.rows.set(this.keyOfRow(row), row);
    }
  }

  /** The row with this key as the batch has it; undefined when there is none. Its key must have been loaded (or put). */
  get(key: readonly SqlValue[]): R | undefined {
    const id = this.keyOf(key);
    const row = this.rows.get(id);
    if (row === undefined) throw new Error(`The row ${id} of ${this.shape.table} was read before it was loaded.`);
    return row ?? undefined;
  }

  /** Whether the key is loaded (or was put or removed) in this batch. */
  knows(key: readonly SqlValue[]): boolean {
    return this.rows.has(this.keyOf(key));
  }

  /** Mark every known row whose key matches as absent, without writing (the caller deleted them). Flush first. */
  forget(matches: (key: readonly SqlValue[]) => boolean): void {
    if (this.dirty.size > 0) throw new Error(`Flush ${this.shape.table} before forgetting rows of it.`);
    const { key } = this.shape;
    for (const [id, row] of this.rows) if (row !== null && matches(key.map((column) => row[column] ?? null))) this.rows.set(id, null);
  }

  /** The row, changed in place or new, is the batch's row for its key. */
  put(row: R): void {
    const id = this.keyOfRow(row);
    this.rows.set(id, row);
    this.dirty.set(id, undefined);
  }

  remove(key: readonly SqlValue[]): void {
    const id = this.keyOf(key);
    this.rows.set(id, null);
    this.dirty.set(id, key);
  }

  /** At the end of a batch, flushed: forget every row if there are more than the limit. */
  trim(): void {
    if (this.dirty.size > 0) throw new Error(`Flush ${this.shape.table} before trimming it.`);
    if (this.rows.size > this.limit) this.rows.clear();
  }

  /** Write the rows put and delete the rows removed since the last flush. */
  async flush(tx: SqlExecutor): Promise<void> {
    const { table, key, columns } = this.shape;
    const upserts: R[] = [];
    const deletes: (readonly SqlValue[])[] = [];
    for (const [id, removed] of this.dirty) {
      const row = this.rows.get(id);
      if (row) upserts.push(row);
      else if (removed !== undefined) deletes.push(removed);
    }
    this.dirty.clear();
    for (const chunk of chunks(deletes)) {
      const params: SqlValue[] = [];
      for (const values of chunk) params.push(...values);
      await tx.execute(`DELETE FROM ${table} WHERE ${keyConditions(key, chunk.length)}`, params);
    }
    const others = columns.filter((column) => !key.includes(column));
    const onConflict = others.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${others.map((column) => `${column} = excluded.${column}`).join(', ')}`;
    for (const chunk of chunks(upserts)) {
      await tx.execute(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values(chunk.length, columns.length)} ON CONFLICT (${key.join(', ')}) ${onConflict}`,
        parametersOf(chunk, columns),
      );
    }
  }
}
