/**
 * A dead letter always fits the largest record batch it may take: its headers carry how many
 * issues there are and the first few, cut short; a record too big to copy whole keeps a prefix of
 * its value with the value's length and SHA-256. Sizes are checked against kafkajs's own encoding
 * of a record batch, the bytes the broker measures.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import type { IHeaders, Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { deadLetterMessage, MIN_DEAD_LETTER_BYTES, readDeadLetter, type DeadLetterSource } from '../../adapters/kafka/deadLetter.js';
import { BATCH_OVERHEAD_BYTES, recordBytes, sendsOf } from '../../adapters/kafka/recordSize.js';
import type { Undecodable } from '../../adapters/kafka/signalingDecoding.js';

const require = createRequire(import.meta.url);
type Encoder = { size(): number };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (batch: { records: unknown[] }) => Promise<Encoder> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: { offsetDelta: number; key: unknown; value: unknown; headers: IHeaders }) => unknown;

/** The size of a record batch holding these records, as kafkajs writes it. */
const encodedBytes = async (messages: readonly Message[]): Promise<number> =>
  (await RecordBatch({ records: messages.map((message, offsetDelta) => Record({ offsetDelta, key: message.key, value: message.value, headers: message.headers ?? {} })) })).size();

const source = (value: Buffer, key = 'call-1', headers: IHeaders = { 'trace-id': 'b7ad6b71' }): DeadLetterSource => ({
  topic: 'callpark.signaling',
  partition: 3,
  message: { key: Buffer.from(key), value, headers, offset: '1207', timestamp: '1795338600000' },
});

const unknownFields = (count: number): Undecodable => ({
  reason: 'invalid-message',
  issues: Array.from({ length: count }, (_, n) => ({ path: `$.x-unknown-field-${n}`, message: `unknown field "x-unknown-field-${n}" (known fields: ${'type, eventId, occurredAt, tenantId, callId, parker, media, '.repeat(4)})` })),
});

const context = { groupId: 'callpark', at: Date.parse('2026-11-22T09:30:01.000Z') };

describe('the size of a dead letter', () => {
  it('counts a record batch from above, as kafkajs encodes it', async () => {
    const messages: Message[] = [
      { key: 'call-1', value: 'x'.repeat(300), headers: { a: 'b', 'trace-id': ['1', '2'] } },
      { key: null, value: Buffer.alloc(70_000), headers: { é: 'é'.repeat(200) } },
    ];
    const encoded = await encodedBytes(messages);
    const counted = BATCH_OVERHEAD_BYTES + messages.reduce((bytes, message) => bytes + recordBytes(message), 0);
    expect(counted).toBeGreaterThanOrEqual(encoded);
    expect(counted - encoded).toBeLessThan(200);
  });

  it('carries the count of the issues and the first few, each cut short, and the value as it came when it fits', async () => {
    const value = Buffer.from('{"type":"park.requested"}'.padEnd(314_000, ' '));
    const failure = unknownFields(12_000);
    const record = deadLetterMessage(source(value), failure, context, { maxBytes: 1_000_000 });
    expect(await encodedBytes([record])).toBeLessThanOrEqual(1_000_000);
    expect(record.value).toBe(value);
    const letter = readDeadLetter(record.headers)!;
    expect(letter.issueCount).toBe(12_000);
    expect(letter.issues).toEqual(failure.issues.slice(0, 5).map((issue) => ({ path: issue.path, message: `${issue.message.slice(0, 199)}…` })));
    expect(letter.error).toMatch(/; … and 11,995 more issues$/);
    expect(letter.originalHeaders).toEqual({ 'trace-id': 'b7ad6b71' });
    expect(letter.truncated).toBeUndefined();
  });

  it('cuts a path or a message of any length', () => {
    const failure: Undecodable = { reason: 'invalid-message', issues: [{ path: `$.${'a'.repeat(100_000)}`, message: 'm'.repeat(100_000) }] };
    const record = deadLetterMessage(source(Buffer.from('{}')), failure, context);
    expect(recordBytes(record)).toBeLessThan(3_000);
    expect(readDeadLetter(record.headers)!.issues[0]!.path).toHaveLength(200);
  });

  it('keeps a prefix of a value too big to copy, with its length and SHA-256, and where it came from', async () => {
    const value = Buffer.alloc(1_048_000, 'x');
    const record = deadLetterMessage(source(value), { reason: 'invalid-json', issues: [{ path: '$', message: 'the value is not JSON' }] }, context, { maxBytes: 1_000_000 });
    const bytes = await encodedBytes([record]);
    expect(bytes).toBeLessThanOrEqual(1_000_000);
    expect(bytes).toBeGreaterThan(990_000);
    const kept = record.value as Buffer;
    expect(Buffer.compare(kept, value.subarray(0, kept.length))).toBe(0);
    const letter = readDeadLetter(record.headers)!;
    expect(letter.truncated).toEqual({ length: value.length, sha256: createHash('sha256').update(value).digest('hex') });
    expect(letter.source).toEqual({ topic: 'callpark.signaling', partition: 3, offset: '1207', timestamp: '1795338600000' });
    expect(letter.originalHeaders).toEqual({ 'trace-id': 'b7ad6b71' });
    expect(record.key?.toString()).toBe('call-1');
  });

  it('leaves out original headers too big to carry, saying how many there were', async () => {
    const headers = Object.fromEntries(Array.from({ length: 100 }, (_, n) => [`h-${n}`, 'v'.repeat(2_000)]));
    const record = deadLetterMessage(source(Buffer.from('{"type":'), 'call-1', headers), { reason: 'invalid-json', issues: [{ path: '$', message: 'not JSON' }] }, context, { maxBytes: 100_000 });
    expect(await encodedBytes([record])).toBeLessThanOrEqual(100_000);
    const letter = readDeadLetter(record.headers)!;
    expect(letter.droppedHeaders).toBe(100);
    expect(letter.originalHeaders).toEqual({});
    expect(record.value?.toString()).toBe('{"type":');
  });

  it('always fits, whatever the record and the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxBytes: fc.integer({ min: MIN_DEAD_LETTER_BYTES, max: 2_000_000 }),
          valueBytes: fc.integer({ min: 0, max: 2_500_000 }),
          keyBytes: fc.integer({ min: 0, max: 50_000 }),
          headers: fc.integer({ min: 0, max: 60 }),
          headerBytes: fc.integer({ min: 0, max: 20_000 }),
          issues: fc.integer({ min: 1, max: 30_000 }),
        }),
        async ({ maxBytes, valueBytes, keyBytes, headers, headerBytes, issues }) => {
          const originalHeaders = Object.fromEntries(Array.from({ length: headers }, (_, n) => [`h-${n}`, 'v'.repeat(headerBytes)]));
          const record = deadLetterMessage(source(Buffer.alloc(valueBytes, 'y'), 'k'.repeat(keyBytes), originalHeaders), unknownFields(issues), context, { maxBytes });
          expect(await encodedBytes([record])).toBeLessThanOrEqual(maxBytes);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('sends a batch of dead letters in sends that each fit', async () => {
    const records = Array.from({ length: 8 }, (_, n) => deadLetterMessage(source(Buffer.alloc(300_000 + n, 'z')), unknownFields(12_000), context, { maxBytes: 1_000_000 }));
    const sends = sendsOf(records, 1_000_000);
    expect(sends.flat()).toEqual(records);
    for (const send of sends) expect(await encodedBytes(send)).toBeLessThanOrEqual(1_000_000);
  });
});
