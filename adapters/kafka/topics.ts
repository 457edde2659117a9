/**
 * The bridge's topics: signaling in, directives out, the dead letters of signaling that could not
 * be read, and orbit state out (log-compacted: the latest state of each orbit is kept). Created
 * at start when missing; existing topics are left as they are (their partition count is logged,
 * never changed: more partitions would move Call-IDs between them). Their names come with the
 * configuration (KafkaConfig, kafkaEnvironment.ts, is made of these and more); this file depends
 * on nothing of it.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import type { BridgeLogger } from './bridgeLogger.js';

/** The names of the bridge's topics. */
export interface TopicNames {
  readonly signalingTopic: string;
  readonly directivesTopic: string;
  readonly deadLetterTopic: string;
  /** The log-compacted topic of orbit state (busy lamps); none, no orbit state is published. */
  readonly orbitStateTopic?: string;
}

export interface TopicLayout {
  /** Partitions of the signaling topic: how many consumers can share the work (6). */
  readonly signalingPartitions: number;
  /** Partitions of the directives topic (6). */
  readonly directivesPartitions: number;
  /** Partitions of the orbit state topic (6). */
  readonly orbitStatePartitions: number;
  /** Partitions of the dead-letter topic (1: it is read by people, in order). */
  readonly deadLetterPartitions: number;
  /** Copies of each partition: 1 on a single broker, 3 in production. */
  readonly replicationFactor: number;
  /** How long dead letters are kept, in ms (14 days). */
  readonly deadLetterRetentionMs: number;
}

export const defaultTopicLayout: TopicLayout = {
  signalingPartitions: 6,
  directivesPartitions: 6,
  deadLetterPartitions: 1,
  orbitStatePartitions: 6,
  replicationFactor: 1,
  deadLetterRetentionMs: 14 * 24 * 60 * 60 * 1000,
};

export const topicConfigs = (topics: TopicNames, layout: TopicLayout): ITopicConfig[] => [
  { topic: topics.signalingTopic, numPartitions: layout.signalingPartitions, replicationFactor: layout.replicationFactor },
  { topic: topics.directivesTopic, numPartitions: layout.directivesPartitions, replicationFactor: layout.replicationFactor },
  {
    topic: topics.deadLetterTopic,
    numPartitions: layout.deadLetterPartitions,
    replicationFactor: layout.replicationFactor,
    configEntries: [{ name: 'retention.ms', value: String(layout.deadLetterRetentionMs) }],
  },
  ...(topics.orbitStateTopic === undefined
    ? []
    : [
        {
          topic: topics.orbitStateTopic,
          numPartitions: layout.orbitStatePartitions,
          replicationFactor: layout.replicationFactor,
          // Compacted: a consumer reading from the start finds every orbit's latest state.
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ]),
];

/** Create whichever of the topics is missing, and wait for their leaders. */
export const ensureTopics = async (admin: Admin, topics: TopicNames, layout: TopicLayout, logger: BridgeLogger): Promise<void> => {
  const wanted = topicConfigs(topics, layout);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter(({ topic }) => !existing.has(topic));
  if (missing.length > 0) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
      logger.info({ topics: missing.map(({ topic, numPartitions }) => ({ topic, partitions: numPartitions })) }, 'Kafka topics created');
    } catch (error) {
      // Another instance may have created them in between: only a topic still missing is a failure.
      const now = new Set(await admin.listTopics());
      if (missing.some(({ topic }) => !now.has(topic))) throw error;
    }
  }
  const metadata = await admin.fetchTopicMetadata({ topics: wanted.map(({ topic }) => topic) });
  for (const { name, partitions } of metadata.topics) {
    const want = wanted.find(({ topic }) => topic === name);
    if (want?.numPartitions !== undefined && partitions.length !== want.numPartitions) {
      logger.warn({ topic: name, partitions: partitions.length, configured: want.numPartitions }, 'Kafka topic exists with another partition count; left as it is');
    }
  }
};
