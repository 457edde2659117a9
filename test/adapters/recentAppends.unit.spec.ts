import { describe, expect, it } from 'vitest';
import { RecentAppends } from '../../adapters/eventStores/sqlite/recentAppends.js';
import { serializeEvent, type StoredEventRow } from '../../adapters/eventStores/sqlite/storedEvent.js';

const event = (n: number, filler = 0) => ({ id: `e-${n}`, type: 'Parked', data: { n, filler: 'x'.repeat(filler) }, metadata: { commandId: `c-${n}` } });
const rowOf = (n: number, filler = 0): StoredEventRow => {
  const serialized = serializeEvent(event(n, filler));
  return [BigInt(n), 'callpark-t', BigInt(n), serialized.id, serialized.type, serialized.data, serialized.metadata, 0n];
};
/** Remember the events numbered `ns`: the data objects given, by number. */
const rememberAll = (recent: RecentAppends, ns: readonly number[], filler = 0): Map<number, unknown> => {
  const given = new Map<number, unknown>();
  for (const n of ns) {
    const one = event(n, filler);
    recent.remember(serializeEvent(one), one.data, one.metadata);
    given.set(n, one.data);
  }
  return given;
};

describe('the recent appends a SQLite store remembers', () => {
  it('answers a row it wrote with the objects it was given, and parses any other', () => {
    const recent = new RecentAppends();
    const given = event(1);
    recent.remember(serializeEvent(given), given.data, given.metadata);
    expect(recent.recordedEvent(rowOf(1)).data).toBe(given.data);
    const other = recent.recordedEvent(rowOf(2));
    expect(other.data).toEqual(event(2).data);
    // A row whose text is not the text written is parsed, not answered from memory.
    const changed = rowOf(1);
    changed[5] = JSON.stringify({ n: 1, filler: 'changed' });
    expect(recent.recordedEvent(changed).data).toEqual({ n: 1, filler: 'changed' });
  });

  it('forgets the oldest beyond its count', () => {
    const recent = new RecentAppends(3);
    const given = rememberAll(recent, [1, 2, 3, 4, 5]);
    expect(recent.held.events).toBe(3);
    expect(recent.recordedEvent(rowOf(2)).data).not.toBe(given.get(2));
    expect(recent.recordedEvent(rowOf(2)).data).toEqual(given.get(2));
    expect(recent.recordedEvent(rowOf(3)).data).toBe(given.get(3));
    expect(recent.recordedEvent(rowOf(5)).data).toBe(given.get(5));
  });

  it('holds no more than its bytes, whatever the events weigh', () => {
    const recent = new RecentAppends(4_096, 10_000);
    const given = rememberAll(recent, Array.from({ length: 100 }, (_, i) => i), 1_000);
    const { events, bytes } = recent.held;
    expect(bytes).toBeLessThanOrEqual(10_000);
    expect(events).toBeGreaterThan(0);
    expect(events).toBeLessThan(10);
    // The newest are the ones kept: the last one is answered from memory, the first parsed.
    expect(recent.recordedEvent(rowOf(99, 1_000)).data).toBe(given.get(99));
    expect(recent.recordedEvent(rowOf(0, 1_000)).data).not.toBe(given.get(0));
  });

  it('counts an event remembered twice once', () => {
    const once = new RecentAppends();
    rememberAll(once, [1]);
    const thrice = new RecentAppends();
    rememberAll(thrice, [1, 1, 1]);
    expect(thrice.held).toEqual(once.held);
    expect(once.held.bytes).toBeGreaterThan(0);
  });
});
