/**
 * How many bytes a record takes in a record batch (Kafka's format v2, uncompressed), counted
 * from above: the broker refuses a batch larger than the topic's `max.message.bytes`
 * (1,048,588 by default), so what the bridge produces is measured before it is sent.
 */
import type { IHeaders, Message } from 'kafkajs';

/** A record batch's own header: offset, length, epoch, magic, CRC, attributes, offsets, timestamps, producer and the count. */
export const BATCH_OVERHEAD_BYTES = 61;
/** A record's fixed part at its largest: length, attributes, timestamp and offset deltas, the key's and value's lengths, the header count. */
const RECORD_OVERHEAD_BYTES = 36;
/** A header's two lengths at their largest. */
const HEADER_OVERHEAD_BYTES = 10;

type HeaderValue = IHeaders[string];

const bytesOf = (value: Buffer | string | null | undefined): number => (value === null || value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length);

/** The bytes of headers, each value of a repeated header counted as a header of its own. */
export const headerBytes = (headers: IHeaders | undefined): number => {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers ?? {}) as [string, HeaderValue][]) {
    for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + bytesOf(one);
  }
  return bytes;
};

/** The most a record takes in a batch. */
export const recordBytes = (message: Pick<Message, 'key' | 'value' | 'headers'>): number =>
  RECORD_OVERHEAD_BYTES + bytesOf(message.key) + bytesOf(message.value) + headerBytes(message.headers);

/**
 * The records in sends of at most `maxBytes` each, in order (kafkajs makes one batch of a send's
 * records for a partition). A record too big on its own is alone in its send.
 */
export const sendsOf = <T extends Pick<Message, 'key' | 'value' | 'headers'>>(messages: readonly T[], maxBytes: number): T[][] => {
  const sends: T[][] = [];
  let current: T[] = [];
  let bytes = BATCH_OVERHEAD_BYTES;
  for (const message of messages) {
    const size = recordBytes(message);
    if (current.length > 0 && bytes + size > maxBytes) {
      sends.push(current);
      current = [];
      bytes = BATCH_OVERHEAD_BYTES;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) sends.push(current);
  return sends;
};
