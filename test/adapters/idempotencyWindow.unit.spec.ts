import { describe, expect, it } from 'vitest';
import { IdempotencyWindow } from '../../adapters/commands/idempotencyWindow.js';
import type { CallParkEvent } from '../../domain/events.js';

const position = (n: number) => ({ commit: BigInt(n), prepare: BigInt(n) });
const eventAt = (at: number) => ({ type: 'ParkRejected', at }) as unknown as CallParkEvent;

const windowOf = (commandIds: readonly string[], firstAt = 0, missedUntil?: number) => {
  const window = new IdempotencyWindow(missedUntil);
  commandIds.forEach((id, i) => window.record(id, eventAt(firstAt + i), i, position(i), undefined));
  return window;
};

describe('the idempotency window', () => {
  it('finds every command it folded, with where its events start and how many, and nothing else', () => {
    const ids = ['a', 'a b', 'é', '日本', 'x'.repeat(22), 'x'.repeat(23), 'x'.repeat(256), `${'x'.repeat(255)}y`, `\u0000${'x'.repeat(22)}`];
    const window = windowOf(ids);
    ids.forEach((id, i) => expect(window.find(id, 0)).toMatchObject({ commandId: id, firstRevision: i, count: 1, position: position(i) }));
    expect(window.size).toBe(ids.length);
    expect(window.find('b', 0)).toBeUndefined();
    expect(window.find('x'.repeat(255), 0)).toBeUndefined();
  });

  it('keeps no events: a repeated command reads them back from the store', () => {
    expect(windowOf(['a'.repeat(256)]).find('a'.repeat(256), 0)?.events).toBeUndefined();
  });

  it('moves the commands of an append to its position once it is done', () => {
    const window = windowOf(['a', 'b'.repeat(40), 'c']);
    window.settle(['a', 'b'.repeat(40)], position(99));
    expect(window.find('a', 0)?.position).toEqual(position(99));
    expect(window.find('b'.repeat(40), 0)?.position).toEqual(position(99));
    expect(window.find('c', 0)?.position).toEqual(position(2));
  });

  it('counts every event of a command in its entry', () => {
    const window = new IdempotencyWindow();
    window.record('two', eventAt(5), 7, position(7), undefined);
    window.record('two', eventAt(5), 8, position(8), undefined);
    expect(window.find('two', 0)).toMatchObject({ firstRevision: 7, count: 2, position: position(8) });
  });

  it('forgets commands older than the window, and keeps its size to the window', () => {
    const window = windowOf(Array.from({ length: 5_000 }, (_, i) => `c-${i}`));
    window.forget(4_000);
    expect(window.size).toBe(1_000);
    expect(window.find('c-3999', 0)).toBeUndefined();
    expect(window.find('c-4000', 4_000)).toMatchObject({ firstRevision: 4_000 });
    expect(window.find('c-4000', 4_001)).toBeUndefined();
  });

  it('says it may miss commands recorded before its snapshot only while they can still be in the window', () => {
    const window = windowOf(['new'], 2_000, 1_500);
    expect(window.mayMiss(1_000)).toBe(true);
    expect(window.mayMiss(1_500)).toBe(true);
    expect(window.mayMiss(1_501)).toBe(false);
    // Windows only move forwards: once past, it stays complete.
    expect(window.mayMiss(1_000)).toBe(false);
    expect(new IdempotencyWindow().mayMiss(0)).toBe(false);
  });
});
