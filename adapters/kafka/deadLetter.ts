/**
 * A dead letter: a signaling record that could not be read, forwarded to the dead-letter topic
 * as it came (the same key, the same value bytes, the same headers), with headers that say why
 * and where it came from. Replaying it means producing its key, value and original headers back
 * to the signaling topic; the `callpark.dlt.*` headers are dropped again when it is dead-lettered
 * a second time, so they always describe the latest failure.
 *
 * A dead letter always fits a record batch of `maxBytes` (recordSize.ts), or the broker would
 * refuse it and the partition behind it would never advance. The headers carry how many issues
 * there are and the first few, each cut short. When the record itself cannot fit, its value is
 * cut to the prefix that does, with the whole value's length and SHA-256 (the source topic,
 * partition and offset say where the rest is); its key is cut as well when long, and its original
 * headers are left out when they would take more than an eighth of the room, their count given.
 */
import { createHash } from 'node:crypto';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { DecodeIssue } from '../../domain/codec/codec.js';
import { BATCH_OVERHEAD_BYTES, headerBytes, recordBytes } from './recordSize.js';
import type { Undecodable, UndecodableReason } from './signalingDecoding.js';

export const DEAD_LETTER_HEADER_PREFIX = 'callpark.dlt.';

export const deadLetterHeader = {
  /** `empty`, `invalid-json`, `unknown-type`, `invalid-message` or `unreadable-batch`. */
  reason: 'callpark.dlt.reason',
  /** What is wrong, for a person: `$.parker.endpoint: expected one of …; $.media: …`. */
  error: 'callpark.dlt.error',
  /** The same as JSON: `[{"path":"$.parker.endpoint","message":"…"}]`; the first few issues only. */
  issues: 'callpark.dlt.issues',
  /** How many issues there are in all. */
  issueCount: 'callpark.dlt.issues.count',
  /** Only when the value was cut to a prefix: the whole value's length in bytes… */
  valueLength: 'callpark.dlt.value.length',
  /** …and its SHA-256, in hex. */
  valueSha256: 'callpark.dlt.value.sha256',
  /** Only when the original headers were left out: how many there were. */
  droppedHeaders: 'callpark.dlt.headers.dropped',
  sourceTopic: 'callpark.dlt.source.topic',
  sourcePartition: 'callpark.dlt.source.partition',
  sourceOffset: 'callpark.dlt.source.offset',
  /** The source record's timestamp (ms since the epoch, as Kafka gives it). */
  sourceTimestamp: 'callpark.dlt.source.timestamp',
  consumerGroup: 'callpark.dlt.consumer.group',
  /** When it was dead-lettered, ISO-8601. */
  at: 'callpark.dlt.at',
} as const;

export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset' | 'timestamp'>;
}

export interface DeadLetterLimits {
  /** The largest record batch a dead letter may take, in bytes (1,000,000: under the broker's default 1,048,588). */
  readonly maxBytes: number;
}

export const defaultDeadLetterLimits: DeadLetterLimits = { maxBytes: 1_000_000 };

/** The smallest `maxBytes` allowed: room for the capped headers and a prefix of the value. */
export const MIN_DEAD_LETTER_BYTES = 16_384;

/** Issues carried in the headers, and the most characters of each one's path and of its message. */
const ISSUES_CARRIED = 5;
const ISSUE_TEXT_CHARS = 200;

const clip = (text: string, chars: number): string => (text.length > chars ? `${text.slice(0, chars - 1)}…` : text);

const issueHeaders = (issues: readonly DecodeIssue[]): IHeaders => {
  const carried = issues.slice(0, ISSUES_CARRIED).map((issue) => ({ path: clip(issue.path, ISSUE_TEXT_CHARS), message: clip(issue.message, ISSUE_TEXT_CHARS) }));
  const more = issues.length - carried.length;
  const error = carried.map((issue) => `${issue.path}: ${issue.message}`).join('; ') + (more > 0 ? `; … and ${more.toLocaleString('en-US')} more issues` : '');
  return { [deadLetterHeader.error]: error, [deadLetterHeader.issues]: JSON.stringify(carried), [deadLetterHeader.issueCount]: String(issues.length) };
};

const prefix = (bytes: Buffer | string | null, max: number): Buffer | string | null => {
  if (bytes === null || max >= Buffer.byteLength(bytes)) return bytes;
  return (typeof bytes === 'string' ? Buffer.from(bytes) : bytes).subarray(0, Math.max(0, max));
};

/** The dead-letter record of a signaling record that could not be read, within `limits.maxBytes`. */
export const deadLetterMessage = (
  source: DeadLetterSource,
  failure: Undecodable,
  context: { readonly groupId: string; readonly at: number },
  limits: DeadLetterLimits = defaultDeadLetterLimits,
): Message => {
  const original: IHeaders = {};
  for (const [name, value] of Object.entries(source.message.headers ?? {})) {
    if (value !== undefined && !name.startsWith(DEAD_LETTER_HEADER_PREFIX)) original[name] = value;
  }
  const why: IHeaders = {
    [deadLetterHeader.reason]: failure.reason,
    ...issueHeaders(failure.issues),
    [deadLetterHeader.sourceTopic]: source.topic,
    [deadLetterHeader.sourcePartition]: String(source.partition),
    [deadLetterHeader.sourceOffset]: source.message.offset,
    [deadLetterHeader.sourceTimestamp]: source.message.timestamp,
    [deadLetterHeader.consumerGroup]: context.groupId,
    [deadLetterHeader.at]: new Date(context.at).toISOString(),
  };
  const { key, value } = source.message;
  const whole: Message = { key, value, headers: { ...original, ...why } };
  if (BATCH_OVERHEAD_BYTES + recordBytes(whole) <= limits.maxBytes) return whole;

  // Too big: the value becomes the prefix that fits, named by its length and hash.
  const keepHeaders = headerBytes(original) <= limits.maxBytes / 8;
  const cut: Message = {
    key: prefix(key, Math.floor(limits.maxBytes / 16)),
    value: null,
    headers: {
      ...(keepHeaders ? original : {}),
      ...why,
      [deadLetterHeader.valueLength]: String(value?.length ?? 0),
      [deadLetterHeader.valueSha256]: createHash('sha256')
        .update(value ?? Buffer.alloc(0))
        .digest('hex'),
      ...(keepHeaders ? {} : { [deadLetterHeader.droppedHeaders]: String(Object.keys(original).length) }),
    },
  };
  return { ...cut, value: prefix(value, limits.maxBytes - BATCH_OVERHEAD_BYTES - recordBytes(cut)) };
};

export interface DeadLetter {
  readonly reason: UndecodableReason;
  readonly error: string;
  /** The first few issues (deadLetterMessage), each cut short. */
  readonly issues: readonly DecodeIssue[];
  /** How many issues there are in all. */
  readonly issueCount: number;
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string; readonly timestamp: string };
  readonly consumerGroup: string;
  readonly at: string;
  /** The headers the record came with, without the dead-letter ones. */
  readonly originalHeaders: Readonly<Record<string, string>>;
  /** Only when the value was cut to a prefix: the whole value's length and SHA-256. */
  readonly truncated?: { readonly length: number; readonly sha256: string };
  /** Only when the original headers were left out: how many there were. */
  readonly droppedHeaders?: number;
}

const text = (value: IHeaders[string]): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/** Read the dead-letter headers of a record of the dead-letter topic (operators' tools, tests). */
export const readDeadLetter = (headers: IHeaders | undefined): DeadLetter | undefined => {
  const get = (name: string): string | undefined => text(headers?.[name]);
  const reason = get(deadLetterHeader.reason);
  if (reason === undefined) return undefined;
  const originalHeaders = Object.fromEntries(
    Object.entries(headers ?? {})
      .filter(([name]) => !name.startsWith(DEAD_LETTER_HEADER_PREFIX))
      .map(([name, value]) => [name, text(value) ?? '']),
  );
  const issues = JSON.parse(get(deadLetterHeader.issues) ?? '[]') as DecodeIssue[];
  const valueLength = get(deadLetterHeader.valueLength);
  const droppedHeaders = get(deadLetterHeader.droppedHeaders);
  return {
    reason: reason as UndecodableReason,
    error: get(deadLetterHeader.error) ?? '',
    issues,
    issueCount: Number(get(deadLetterHeader.issueCount) ?? issues.length),
    source: {
      topic: get(deadLetterHeader.sourceTopic) ?? '',
      partition: Number(get(deadLetterHeader.sourcePartition)),
      offset: get(deadLetterHeader.sourceOffset) ?? '',
      timestamp: get(deadLetterHeader.sourceTimestamp) ?? '',
    },
    consumerGroup: get(deadLetterHeader.consumerGroup) ?? '',
    at: get(deadLetterHeader.at) ?? '',
    originalHeaders,
    ...(valueLength === undefined ? {} : { truncated: { length: Number(valueLength), sha256: get(deadLetterHeader.valueSha256) ?? '' } }),
    ...(droppedHeaders === undefined ? {} : { droppedHeaders: Number(droppedHeaders) }),
  };
};
