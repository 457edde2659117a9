/**
 * What a read store does, said once and checked against both: readStore.sqlite.int.spec.ts and
 * readStore.postgres.int.spec.ts run these same tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Migration, ReadStore } from '../../projections/readStore.js';
import type { ReadStoreFactory } from './readStores.js';

const orbits = (table: string): Migration[] => [
  { id: 1, name: 'create orbits', sql: [`CREATE TABLE ${table} (code TEXT PRIMARY KEY, parks BIGINT NOT NULL, label TEXT)`] },
  { id: 2, name: 'index orbits by parks', sql: [`CREATE INDEX ${table}_by_parks ON ${table} (parks)`] },
];

export const describeReadStore = (label: string, factory: () => Promise<ReadStoreFactory>): void => {
  describe(`the ${label} read store`, () => {
    let stores: ReadStoreFactory;
    let store: ReadStore;
    let counter = 0;
    const table = (): string => `orbits_${++counter}`;

    beforeAll(async () => {
      stores = await factory();
      store = await stores.open();
    });
    afterAll(async () => {
      await stores?.cleanup();
    });

    it('applies migrations once, in order, and records them', async () => {
      const name = table();
      const scope = `test:${name}`;
      expect(await store.migrate([orbits(name)[1]!, orbits(name)[0]!], scope)).toEqual({ scope, applied: [1, 2] });
      expect(await store.migrate(orbits(name), scope)).toEqual({ scope, applied: [] });
      const recorded = await store.query('SELECT id, name FROM schema_migrations WHERE scope = $1 ORDER BY id', [scope]);
      expect(recorded).toEqual([
        { id: 1, name: 'create orbits' },
        { id: 2, name: 'index orbits by parks' },
      ]);
      const third: Migration = { id: 3, name: 'add orbits.retired', sql: [`ALTER TABLE ${name} ADD COLUMN retired INTEGER NOT NULL DEFAULT 0`] };
      expect(await store.migrate([...orbits(name), third], scope)).toEqual({ scope, applied: [3] });
    });

    it('refuses migrations renumbered, renamed or with gaps', async () => {
      const name = table();
      const scope = `test:${name}`;
      await store.migrate(orbits(name), scope);
      await expect(store.migrate([{ ...orbits(name)[0]!, name: 'something else' }], scope)).rejects.toThrow(/recorded as "create orbits"/);
      await expect(store.migrate([orbits(name)[0]!, { ...orbits(name)[1]!, id: 3 }], scope)).rejects.toThrow(/expected id 2, found 3/);
    });

    it('a failing migration leaves nothing behind and is retried next time', async () => {
      const name = table();
      const scope = `test:${name}`;
      const broken: Migration = { id: 1, name: 'create orbits', sql: [`CREATE TABLE ${name} (code TEXT PRIMARY KEY)`, 'CREATE TABLE no way'] };
      await expect(store.migrate([broken], scope)).rejects.toThrow();
      expect(await store.query('SELECT id FROM schema_migrations WHERE scope = $1', [scope])).toEqual([]);
      expect(await store.migrate(orbits(name), scope)).toEqual({ scope, applied: [1, 2] });
    });

    it('migrates once when several processes start at the same time', async () => {
      const name = table();
      const scope = `test:${name}`;
      const fresh = await stores.fresh();
      const processes = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
      const reports = await Promise.all(processes.map((each) => each.migrate(orbits(name), scope)));
      expect(reports.flatMap((report) => report.applied).sort()).toEqual([1, 2]);
      expect(await processes[0]!.query('SELECT COUNT(*) AS n FROM schema_migrations WHERE scope = $1', [scope])).toEqual([{ n: 2 }]);
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      const name = table();
      await store.migrate(orbits(name), `test:${name}`);
      await store.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${name} (code, parks) VALUES ($1, $2)`, ['42', 1]);
      });
      await expect(
        store.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${name} (code, parks) VALUES ($1, $2)`, ['43', 1]);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await store.query(`SELECT code FROM ${name}`)).toEqual([{ code: '42' }]);
    });

    it('keeps transactions asked for at once apart: the one that throws rolls back alone, the others commit', async () => {
      const name = table();
      await store.migrate(orbits(name), `test:${name}`);
      const insert = (code: string, fail = false) =>
        store.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${name} (code, parks) VALUES ($1, $2)`, [code, 1]);
          if (fail) throw new Error(`not ${code}`);
          return code;
        });
      // A duplicate key fails in the store itself, after the first insert of the transaction.
      const duplicate = () =>
        store.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${name} (code, parks) VALUES ($1, $2)`, ['d', 1]);
          await tx.execute(`INSERT INTO ${name} (code, parks) VALUES ($1, $2)`, ['a', 1]);
        });
      const outcomes = await Promise.allSettled([insert('a'), insert('b', true), duplicate(), insert('c')]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((outcomes[0] as PromiseFulfilledResult<string>).value).toBe('a');
      expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/not b/);
      expect((await store.query<{ code: string }>(`SELECT code FROM ${name} ORDER BY code`)).map((row) => row.code)).toEqual(['a', 'c']);
    });

    it('shows a transaction’s writes to nobody else until it commits', async () => {
      const name = table();
      await store.migrate(orbits(name), `test:${name}`);
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let written = (): void => undefined;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      const transaction = store.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${name} (code, parks) VALUES ($1, $2)`, ['7', 1]);
        expect(await tx.query(`SELECT code FROM ${name}`)).toEqual([{ code: '7' }]);
        written();
        await held;
      });
      await wrote;
      expect(await store.query(`SELECT code FROM ${name}`)).toEqual([]);
      release();
      await transaction;
      expect(await store.query(`SELECT code FROM ${name}`)).toEqual([{ code: '7' }]);
    });

    it('refuses statements on a transaction that is over', async () => {
      let leaked: Parameters<Parameters<ReadStore['transaction']>[0]>[0] | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.query('SELECT 1 AS one')).rejects.toThrow(/transaction is over/);
    });

    it('gives values back in the same forms: integers as numbers (bigints beyond 2^53), text as strings, NULL as null', async () => {
      const name = table();
      await store.migrate(orbits(name), `test:${name}`);
      const huge = 2n ** 62n + 1n;
      const { rowCount } = await store.execute(`INSERT INTO ${name} (code, parks, label) VALUES ($1, $2, $3), ($4, $5, NULL)`, ['1', 2, 'two', '2', huge]);
      expect(rowCount).toBe(2);
      expect(await store.query(`SELECT code, parks, label FROM ${name} ORDER BY parks`)).toEqual([
        { code: '1', parks: 2, label: 'two' },
        { code: '2', parks: huge, label: null },
      ]);
      // A whole number is an integer in either dialect, even where it meets text.
      expect(await store.query(`SELECT label || CAST($1 AS TEXT) AS x, parks + $2 AS y FROM ${name} WHERE code = $3`, [2, 3, '1'])).toEqual([{ x: 'two2', y: 5 }]);
      expect(await store.query(`SELECT COUNT(*) AS n, MAX(code) AS top FROM ${name} WHERE parks > $1`, [1])).toEqual([{ n: 2, top: '2' }]);
    });

    it('takes each $n wherever it appears, as often as it appears, and leaves quoted $n alone', async () => {
      expect(await store.query(`SELECT CAST($2 AS BIGINT) + CAST($1 AS BIGINT) AS a, CAST($2 AS BIGINT) * 2 AS b, '$1' AS c`, [1, 20])).toEqual([{ a: 21, b: 40, c: '$1' }]);
      await expect(store.query('SELECT CAST($1 AS BIGINT) AS a', [1, 2])).rejects.toThrow();
    });

    it('answers RETURNING, and counts the rows an UPDATE changed', async () => {
      const name = table();
      await store.migrate(orbits(name), `test:${name}`);
      expect(await store.query(`INSERT INTO ${name} (code, parks) VALUES ($1, $2) RETURNING code, parks`, ['9', 0])).toEqual([{ code: '9', parks: 0 }]);
      expect(await store.execute(`UPDATE ${name} SET parks = parks + 1 WHERE code = $1`, ['9'])).toEqual({ rowCount: 1 });
      expect(await store.execute(`UPDATE ${name} SET parks = parks + 1 WHERE code = $1`, ['nope'])).toEqual({ rowCount: 0 });
    });
  });
};
