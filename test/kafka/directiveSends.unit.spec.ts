/**
 * The directive publisher's sends: a batch's records go in as few sends as fit under the byte
 * limit, in order, none split and none lost, so that no send can exceed the broker's record batch
 * limit even when all its records land on one partition.
 */
import { describe, expect, it } from 'vitest';
import { sendsOf } from '../../adapters/kafka/recordSize.js';

const record = (n: number, valueBytes: number) => ({ key: `call-${n}`, value: 'x'.repeat(valueBytes), headers: { 'callpark.directive.id': `event-${n}:0` } });

describe('directive sends', () => {
  it('sends a batch that fits in one send', () => {
    const records = Array.from({ length: 10 }, (_, n) => record(n, 100));
    expect(sendsOf(records, 100_000)).toEqual([records]);
  });

  it('splits a larger batch into sends under the limit, keeping every record once and in order', () => {
    const records = Array.from({ length: 100 }, (_, n) => record(n, 1_000));
    const sends = sendsOf(records, 10_000);
    expect(sends.length).toBeGreaterThan(10);
    expect(sends.flat()).toEqual(records);
    for (const send of sends) expect(send.reduce((bytes, message) => bytes + String(message.value).length, 0)).toBeLessThanOrEqual(10_000);
  });

  it('counts bytes, not characters', () => {
    const records = [record(1, 0), record(2, 0)].map((message) => ({ ...message, value: 'é'.repeat(3_000) }));
    expect(sendsOf(records, 8_000)).toHaveLength(2);
  });

  it('sends a record larger than the limit alone rather than dropping it', () => {
    const records = [record(1, 10), record(2, 50_000), record(3, 10)];
    expect(sendsOf(records, 10_000)).toEqual([[records[0]], [records[1]], [records[2]]]);
  });

  it('sends nothing for no records', () => {
    expect(sendsOf([], 10_000)).toEqual([]);
  });
});
