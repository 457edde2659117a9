/**
 * A compressed record batch that cannot be decompressed (beyond KAFKA_MAX_DECOMPRESSED_BYTES, or
 * corrupt) must not stop the partitions fetched with it: kafkajs decodes a broker's whole fetch
 * answer at once, so a codec that throws fails every partition that broker leads, again and
 * again. Instead the codec answers records that stand for the batch's own (one per offset, the
 * first carrying the compressed bytes, each a header saying why), which the consumer dead-letters
 * with the reason `unreadable-batch`: the partition advances past the batch, every other one
 * flows on, and the batch is kept in the dead-letter topic (and at its source offsets).
 *
 * The codec is given only the compressed bytes. They are a view into the fetch answer, right
 * after the batch's header (Kafka's record batch format v2, 61 bytes: first offset, length, …,
 * last offset delta, …, record count), which is read from there and checked: its length must
 * match, its magic be 2, its records be compressed, and its offsets contiguous. When anything
 * does not match, there are no stand-ins and the fetch fails as kafkajs would have it.
 */
import { createRequire } from 'node:module';
import type { KafkaMessage } from 'kafkajs';

/** On a stand-in record: why its batch cannot be read (a dead-letter header, so never copied to the dead letter as one of the record's own). */
export const UNREADABLE_BATCH_HEADER = 'callpark.dlt.unreadable-batch';

const BATCH_HEADER_BYTES = 61;
/** A batch of more records than this gets no stand-ins (their encoding would be held in memory). */
const MAX_STAND_INS = 100_000;

type RecordEncoder = (record: { offsetDelta: number; key: Buffer | null; value: Buffer | null; headers: Record<string, string> }) => { buffer: Buffer };
const require = createRequire(import.meta.url);
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as RecordEncoder;

/** The records that stand for a batch that cannot be decompressed, encoded as its decompressed records would be; undefined when its header cannot be found. */
export const standInRecords = (compressed: Buffer, error: string): Buffer | undefined => {
  const start = compressed.byteOffset - BATCH_HEADER_BYTES;
  if (start < 0) return undefined;
  const header = Buffer.from(compressed.buffer, start, BATCH_HEADER_BYTES);
  const length = header.readInt32BE(8);
  const magic = header.readInt8(16);
  const codec = header.readInt16BE(21) & 0x07;
  const lastOffsetDelta = header.readInt32BE(23);
  const count = header.readInt32BE(57);
  const fits = length === BATCH_HEADER_BYTES - 12 + compressed.length && magic === 2 && codec !== 0 && count >= 1 && count <= MAX_STAND_INS && lastOffsetDelta === count - 1;
  if (!fits) return undefined;
  const records: Buffer[] = [];
  for (let offsetDelta = 0; offsetDelta < count; offsetDelta++) {
    records.push(encodeRecord({ offsetDelta, key: null, value: offsetDelta === 0 ? compressed : null, headers: { [UNREADABLE_BATCH_HEADER]: error } }).buffer);
  }
  return Buffer.concat(records);
};

/** Why the batch of a stand-in record cannot be read; undefined for a record as it was produced. */
export const unreadableBatchOf = (message: Pick<KafkaMessage, 'headers'>): string | undefined => {
  const value = message.headers?.[UNREADABLE_BATCH_HEADER];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString();
};
