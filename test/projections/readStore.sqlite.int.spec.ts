import { describe, expect, it } from 'vitest';
import { values } from '../../projections/readStore.js';
import { translatePlaceholders } from '../../projections/sqliteReadStore.js';
import { describeReadStore } from './readStoreBehaviour.js';
import { sqliteFactory } from './readStores.js';

describeReadStore('SQLite', sqliteFactory);

describe('placeholders for SQLite', () => {
  it('turns $n into ?, in order of appearance, repeating a parameter used twice', () => {
    expect(translatePlaceholders('UPDATE t SET a = $2, b = $1 WHERE c = $2 OR d = $10')).toEqual({
      sql: 'UPDATE t SET a = ?, b = ? WHERE c = ? OR d = ?',
      order: [2, 1, 2, 10],
      arity: 10,
    });
  });

  it('leaves $n inside string literals, quoted names and comments alone', () => {
    const sql = `SELECT '$1 it''s', "col$2" -- $3\n, $1 /* $4 */ FROM t`;
    expect(translatePlaceholders(sql)).toEqual({ sql: `SELECT '$1 it''s', "col$2" -- $3\n, ? /* $4 */ FROM t`, order: [1], arity: 1 });
  });

  it('refuses a bare ?', () => {
    expect(() => translatePlaceholders('SELECT ? FROM t')).toThrow(/\$1, \$2/);
  });

  it('numbers multi-row VALUES lists', () => {
    expect(values(2, 3)).toBe('($1, $2, $3), ($4, $5, $6)');
    expect(values(1, 2, 5)).toBe('($5, $6)');
  });
});
