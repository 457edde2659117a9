/**
 * A RowCache kept from one batch to the next (projections/tableRows.ts): the next batch reads no
 * row it already knows, and past its limit it forgets them all and reads them back as stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlExecutor } from '../../projections/readStore.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import { RowCache, type TableShape } from '../../projections/tableRows.js';

interface Counter {
  [column: string]: string | number | null;
  tenant_id: string;
  hour_start: number;
  count: number;
}

const shape: TableShape<Counter> = { table: 'counters', key: ['tenant_id', 'hour_start'], columns: ['tenant_id', 'hour_start', 'count'] };

/** The executor, counting the SELECTs it is sent. */
const counting = (tx: SqlExecutor, reads: { count: number }): SqlExecutor => ({
  query: (sql, params) => {
    if (/^\s*SELECT/i.test(sql)) reads.count++;
    return tx.query(sql, params);
  },
  execute: (sql, params) => tx.execute(sql, params),
});

describe('a RowCache kept between batches', () => {
  let folder: string;
  let store: SqliteReadStore;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'callpark-table-rows-'));
    store = await SqliteReadStore.open(join(folder, 'read.sqlite'));
    await store.execute('CREATE TABLE counters (tenant_id TEXT NOT NULL, hour_start BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (tenant_id, hour_start))');
  });
  afterEach(async () => {
    await store.close();
    await rm(folder, { recursive: true, force: true });
  });

  /** One batch: count the keys given, as a projection would. */
  const batch = (cache: RowCache<Counter>, keys: readonly [string, number][], reads: { count: number }): Promise<void> =>
    store.transaction(async (tx) => {
      const db = counting(tx, reads);
      for (const key of keys) cache.want(key);
      await cache.load(db);
      for (const [tenant, hour] of keys) {
        const row = cache.get([tenant, hour]) ?? { tenant_id: tenant, hour_start: hour, count: 0 };
        row.count++;
        cache.put(row);
      }
      await cache.flush(db);
      cache.trim();
    });

  const stored = (): Promise<Counter[]> => store.query<Counter>('SELECT tenant_id, hour_start, count FROM counters ORDER BY tenant_id, hour_start');

  it('reads a row once, then counts on from memory, batch after batch', async () => {
    const cache = new RowCache(shape, 10);
    const reads = { count: 0 };
    await batch(cache, [['a', 1], ['b', 1], ['a', 1]], reads);
    expect(reads.count).toBe(1);
    await batch(cache, [['a', 1], ['b', 2]], reads);
    // Only b/2 was unknown.
    expect(reads.count).toBe(2);
    await batch(cache, [['a', 1], ['b', 1], ['b', 2]], reads);
    expect(reads.count).toBe(2);
    expect(await stored()).toEqual([
      { tenant_id: 'a', hour_start: 1, count: 4 },
      { tenant_id: 'b', hour_start: 1, count: 2 },
      { tenant_id: 'b', hour_start: 2, count: 2 },
    ]);
  });

  it('past its limit, forgets every row and reads back what the table holds', async () => {
    const cache = new RowCache(shape, 2);
    const reads = { count: 0 };
    await batch(cache, [['a', 1], ['b', 1], ['c', 1]], reads);
    expect(() => cache.get(['a', 1])).toThrow(/before it was loaded/);
    const before = reads.count;
    await batch(cache, [['a', 1], ['c', 1]], reads);
    // Both were read back, in one statement.
    expect(reads.count).toBe(before + 1);
    expect(await stored()).toEqual([
      { tenant_id: 'a', hour_start: 1, count: 2 },
      { tenant_id: 'b', hour_start: 1, count: 1 },
      { tenant_id: 'c', hour_start: 1, count: 2 },
    ]);
  });

  it('refuses to trim or forget rows that are not written yet', async () => {
    const cache = new RowCache(shape, 1);
    cache.put({ tenant_id: 'a', hour_start: 1, count: 1 });
    expect(() => cache.trim()).toThrow(/Flush/);
    expect(() => cache.forget(() => true)).toThrow(/Flush/);
  });
});
