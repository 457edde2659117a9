/**
 * The simulator over Kafka: signaling produced to the signaling topic keyed by Call-ID, and the
 * directives read back from the directives topic by a consumer group of its own, from the moment
 * it joined (the directives of the simulated tenants only).
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import { decode } from '../../domain/codec/codec.js';
import { DirectiveMessage } from '../kafka/directiveRecord.js';
import type { CallModel, SignalingRecord } from './callModel.js';
import type { KafkaTarget } from './options.js';
import type { Tally } from './tally.js';

export interface Transport {
  send(message: SignalingRecord): void;
  close(): Promise<void>;
}

export const kafkaTransport = async (target: KafkaTarget, tenants: readonly string[], tally: Tally, model: Pick<CallModel, 'onDirective'>): Promise<Transport> => {
  const kafka = new Kafka({ clientId: 'callpark-simulator', brokers: [...target.brokers], logLevel: logLevel.NOTHING });
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const consumer: Consumer = kafka.consumer({ groupId: `callpark-simulator-${randomUUID()}`, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  const ours = new Set(tenants);
  try {
    await producer.connect();
    await consumer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const topics = new Set(await admin.listTopics().finally(() => admin.disconnect()));
    for (const topic of [target.signalingTopic, target.directivesTopic]) {
      if (!topics.has(topic)) throw new Error(`the topic ${topic} does not exist: is the service's Kafka bridge running, with the same topics (--signaling-topic, --directives-topic)?`);
    }
    await consumer.subscribe({ topics: [target.directivesTopic], fromBeginning: false });
  } catch (error) {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    throw new Error(`Kafka at ${target.brokers.join(',')}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const record of batch.messages) {
        const decoded = decode(DirectiveMessage, JSON.parse(record.value?.toString() ?? 'null'));
        if (E.isLeft(decoded)) {
          tally.answered('directive that does not decode');
          continue;
        }
        const { directive, commandId } = decoded.right;
        if (ours.has(directive.tenantId)) model.onDirective(directive, commandId);
      }
    },
  });
  await joined;
  // The group's starting offsets are the ends of the partitions once it has fetched: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  let queue: { key: string; value: string }[] = [];
  let flushing: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const messages = queue;
      queue = [];
      try {
        await producer.send({ topic: target.signalingTopic, messages });
      } catch (error) {
        for (let i = 0; i < messages.length; i++) tally.failed(error instanceof Error ? error.name : 'error');
      }
    }
  };
  return {
    send: (message) => {
      queue.push({ key: message.callId, value: JSON.stringify(message) });
      flushing ??= Promise.resolve()
        .then(flush)
        .finally(() => (flushing = undefined));
    },
    close: async () => {
      await flushing;
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
};
