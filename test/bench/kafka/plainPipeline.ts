/**
 * The Kafka bridge's baseline: the same job written plainly with the same libraries, and nothing
 * else. A kafkajs consumer takes a fetch's batch of a partition; better-sqlite3 stores its records
 * durably in one transaction (WAL, the same `synchronous` as the bridge's event store); a kafkajs
 * producer (idempotent, one request in flight, acks from all in-sync replicas, as the bridge's)
 * sends one directive per record and waits for the acknowledgement; then the offset is committed.
 * No decoding beyond JSON.parse, no decision, no event log, no checkpoint.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, Partitioners, logLevel, type EachBatchPayload } from 'kafkajs';
import type { KafkaConfig } from '../../../adapters/config/config.js';
import { directiveHeader } from '../../../adapters/kafka/directiveRecord.js';
import { applyPragmas, type Synchronous } from '../../../adapters/eventStores/sqlite/connection.js';

export interface PlainPipelineSettings {
  readonly kafka: Pick<KafkaConfig, 'brokers' | 'clientId' | 'groupId' | 'signalingTopic' | 'directivesTopic'>;
  /** Where its SQLite file goes. */
  readonly folder: string;
  readonly synchronous: Synchronous;
  /** Partitions handled at once: the bridge's default (6). */
  readonly partitionsConsumedConcurrently?: number;
}

export interface PlainPipeline {
  /** Directives acknowledged by Kafka so far. */
  published(): number;
  stop(): Promise<void>;
}

interface Signaling {
  readonly type?: string;
  readonly eventId?: string;
  readonly tenantId?: string;
  readonly callId?: string;
}

/** Start it; resolves once the consumer has joined its group. */
export const startPlainPipeline = async (settings: PlainPipelineSettings): Promise<PlainPipeline> => {
  const db = new Database(join(settings.folder, 'plain.db'));
  applyPragmas(db, { synchronous: settings.synchronous, busyTimeoutMs: 5_000 });
  db.exec(`CREATE TABLE IF NOT EXISTS signaling (
    position    INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL UNIQUE,
    tenant_id   TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL
  ) STRICT`);
  const insert = db.prepare<[string, string, string, string, number]>('INSERT OR IGNORE INTO signaling (source, event_id, tenant_id, body, recorded_at) VALUES (?, ?, ?, ?, ?)');
  const store = db.transaction((rows: readonly { source: string; message: Signaling; body: string }[]) => {
    const at = Date.now();
    for (const { source, message, body } of rows) insert.run(source, message.eventId ?? source, message.tenantId ?? '', body, at);
  });

  const kafka = new Kafka({ clientId: settings.kafka.clientId, brokers: [...settings.kafka.brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: settings.kafka.groupId, maxWaitTimeInMs: 1_000, allowAutoTopicCreation: false });
  let published = 0;

  const eachBatch = async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }: EachBatchPayload): Promise<void> => {
    if (batch.messages.length === 0) return;
    const rows = batch.messages.map((record) => {
      const body = record.value?.toString('utf8') ?? '';
      return { source: `${batch.topic}:${batch.partition}:${record.offset}`, message: JSON.parse(body) as Signaling, body };
    });
    store(rows);
    await producer.send({
      topic: settings.kafka.directivesTopic,
      acks: -1,
      messages: rows.map(({ message }) => ({
        key: message.callId ?? null,
        value: JSON.stringify({ directiveId: `${message.eventId}:0`, commandId: message.eventId, directive: { type: `answer-to-${message.type}`, tenantId: message.tenantId, callId: message.callId } }),
        headers: { [directiveHeader.commandId]: message.eventId ?? '' },
      })),
    });
    published += rows.length;
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
  };

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [settings.kafka.signalingTopic], fromBeginning: true });
  // run() resolves once the group is joined.
  await consumer.run({ autoCommit: true, autoCommitThreshold: 1, eachBatchAutoResolve: false, partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently ?? 6, eachBatch });
  return {
    published: () => published,
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
      db.close();
    },
  };
};
