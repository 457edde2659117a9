import { describe, expect, it } from 'vitest';
import { IdempotencyWindow } from '../../adapters/idempotencyWindow.js';
import type { CallParkEvent } from '../../domain/events.js';

const position = (n: number) => ({ commit: BigInt(n), prepare: BigInt(n) });
const eventAt = (at: number) => ({ type: 'ParkRejected', at }) as unknown as CallParkEvent;

/** Ids of many shapes: prefixes of one another, spaces, non-ASCII letters, digits that sort unlike numbers. */
const ids = ['a', 'a b', 'ab', 'a-1', 'a-10', 'a-2', 'Z', 'zz', 'é', 'ü-9', '日本', 'cmd 1', 'cmd-1', '0', '00', '9'];

const windowOf = (commandIds: readonly string[], firstAt = 0) => {
  const window = new IdempotencyWindow();
  commandIds.forEach((id, i) => window.record(id, eventAt(firstAt + i), i, position(i), undefined));
  return window;
};

describe('the idempotency window', () => {
  it('finds every command in its stored lines, and nothing else', () => {
    const lines = windowOf(ids).lines(-1, 0);
    const restored = new IdempotencyWindow([{ after: -1, through: ids.length - 1, lines }]);
    ids.forEach((id, i) => expect(new IdempotencyWindow([{ after: -1, through: ids.length - 1, lines }]).find(id, 0)).toMatchObject({ commandId: id, firstRevision: i, count: 1, at: i }));
    for (const stranger of ['', 'a ', 'b', 'a-3', 'zzz', '日', 'cmd', '1']) expect(restored.find(stranger, 0)).toBeUndefined();
  });

  it('finds the same commands once it has turned its lines into a map', () => {
    const lines = windowOf(ids).lines(-1, 0);
    const restored = new IdempotencyWindow([{ after: -1, through: ids.length - 1, lines }]);
    ids.forEach((id, i) => expect(restored.find(id, 0)?.firstRevision).toBe(i));
    expect(restored.find('b', 0)).toBeUndefined();
  });

  it('keeps only what came after the revision asked for, and nothing older than the window', () => {
    const window = windowOf(ids, 100);
    const since = new IdempotencyWindow([{ after: 9, through: ids.length - 1, lines: window.lines(9, 103) }]);
    expect(ids.filter((id) => since.find(id, 0) !== undefined)).toEqual(ids.slice(10));
    const recent = new IdempotencyWindow([{ after: -1, through: ids.length - 1, lines: window.lines(-1, 103) }]);
    expect(ids.filter((id) => recent.find(id, 0) !== undefined)).toEqual(ids.slice(3));
  });

  it('does not find a stored command older than the window', () => {
    const lines = windowOf(['old', 'new'], 1_000).lines(-1, 0);
    const restored = new IdempotencyWindow([{ after: -1, through: 1, lines }]);
    expect(restored.find('old', 1_001)).toBeUndefined();
    expect(restored.find('new', 1_001)).toMatchObject({ commandId: 'new' });
  });
});
