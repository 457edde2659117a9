/**
 * A dead letter: a signaling record that could not be read, forwarded to the dead-letter topic
 * as it came (the same key, the same value bytes, the same headers), with headers that say why
 * and where it came from. Replaying it means producing its key, value and original headers back
 * to the signaling topic; the `callpark.dlt.*` headers are dropped again when it is dead-lettered
 * a second time, so they always describe the latest failure.
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { DecodeIssue } from '../../domain/codec.js';
import type { Undecodable, UndecodableReason } from './signalingDecoding.js';

export const DEAD_LETTER_HEADER_PREFIX = 'callpark.dlt.';

export const deadLetterHeader = {
  /** `empty`, `invalid-json`, `unknown-type` or `invalid-message`. */
  reason: 'callpark.dlt.reason',
  /** What is wrong, for a person: `$.parker.endpoint: expected one of …; $.media: …`. */
  error: 'callpark.dlt.error',
  /** The same as JSON: `[{"path":"$.parker.endpoint","message":"…"}]`. */
  issues: 'callpark.dlt.issues',
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

/** The dead-letter record of a signaling record that could not be read. */
export const deadLetterMessage = (source: DeadLetterSource, failure: Undecodable, context: { readonly groupId: string; readonly at: number }): Message => {
  const original: IHeaders = {};
  for (const [name, value] of Object.entries(source.message.headers ?? {})) {
    if (value !== undefined && !name.startsWith(DEAD_LETTER_HEADER_PREFIX)) original[name] = value;
  }
  return {
    key: source.message.key,
    value: source.message.value,
    headers: {
      ...original,
      [deadLetterHeader.reason]: failure.reason,
      [deadLetterHeader.error]: failure.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
      [deadLetterHeader.issues]: JSON.stringify(failure.issues),
      [deadLetterHeader.sourceTopic]: source.topic,
      [deadLetterHeader.sourcePartition]: String(source.partition),
      [deadLetterHeader.sourceOffset]: source.message.offset,
      [deadLetterHeader.sourceTimestamp]: source.message.timestamp,
      [deadLetterHeader.consumerGroup]: context.groupId,
      [deadLetterHeader.at]: new Date(context.at).toISOString(),
    },
  };
};

export interface DeadLetter {
  readonly reason: UndecodableReason;
  readonly error: string;
  readonly issues: readonly DecodeIssue[];
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string; readonly timestamp: string };
  readonly consumerGroup: string;
  readonly at: string;
  /** The headers the record came with, without the dead-letter ones. */
  readonly originalHeaders: Readonly<Record<string, string>>;
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
  return {
    reason: reason as UndecodableReason,
    error: get(deadLetterHeader.error) ?? '',
    issues: JSON.parse(get(deadLetterHeader.issues) ?? '[]') as DecodeIssue[],
    source: {
      topic: get(deadLetterHeader.sourceTopic) ?? '',
      partition: Number(get(deadLetterHeader.sourcePartition)),
      offset: get(deadLetterHeader.sourceOffset) ?? '',
      timestamp: get(deadLetterHeader.sourceTimestamp) ?? '',
    },
    consumerGroup: get(deadLetterHeader.consumerGroup) ?? '',
    at: get(deadLetterHeader.at) ?? '',
    originalHeaders,
  };
};
