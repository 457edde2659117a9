/**
 * The Kafka bridge: signaling in (signalingConsumer.ts), directives out (directivePublisher.ts),
 * and the topics they use (topics.ts), started together. `startKafkaBridge` returns at once and
 * starts in the background, trying again while Kafka does not answer, so the service can boot
 * (and answer HTTP) before the broker is up; `ready()` says when it is working.
 */
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { EventStore } from '../../domain/eventStore.js';
import type { ReadStore } from '../../projections/readStore.js';
import type { KafkaConfig } from './kafkaEnvironment.js';
import type { Metrics } from '../observability/metrics.js';
import { messageOf, type BridgeLogger } from './bridgeLogger.js';
import { DirectivePublisher } from './directivePublisher.js';
import { createKafka } from './kafkaClient.js';
import { OrbitStatePublisher } from './orbitStatePublisher.js';
import type { KafkaSecurity } from './kafkaEnvironment.js';
import type { PublisherStatus, PublisherTuning } from './supervisedPublisher.js';
import { SignalingConsumer, type SignalingCommands, type SignalingConsumerStatus, type SignalingConsumerTuning } from './signalingConsumer.js';
import { defaultTopicLayout, ensureTopics, type TopicLayout } from './topics.js';

export interface KafkaBridgeOptions {
  readonly kafka: KafkaConfig;
  /** The one way in. */
  readonly handler: SignalingCommands;
  /** The event log the directives are published from. */
  readonly store: EventStore;
  /** Where the directive publisher keeps its checkpoint. */
  readonly readStore: ReadStore;
  /** The instant commands are decided at (I7: time enters here). */
  readonly clock: () => number;
  readonly logger: BridgeLogger;
  readonly metrics?: Metrics;
  /** TLS and SASL (kafkaSettingsFromEnv). */
  readonly security?: KafkaSecurity;
  /** The most a compressed record batch may decompress to (64 MiB; compressionCodecs.ts). */
  readonly maxDecompressedBytes?: number;
  /** Partitions and replication of the topics it creates. */
  readonly topics?: Partial<TopicLayout>;
  readonly consumer?: Partial<SignalingConsumerTuning>;
  readonly publisher?: Partial<PublisherTuning>;
  /** A draw in [0, 1) for random orbit allocation (Math.random). */
  readonly random?: () => number;
  /** The wait between attempts to start while Kafka does not answer, in ms (2,000). */
  readonly startRetryMs?: number;
}

export type KafkaBridgeState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface KafkaBridgeStatus {
  readonly state: KafkaBridgeState;
  readonly consumer: SignalingConsumerStatus;
  readonly publisher: PublisherStatus;
  /** The orbit state publisher, when there is an orbit state topic. */
  readonly orbitState?: PublisherStatus;
  readonly lastError: string | undefined;
}

/** Whether the bridge works, and when not, why: what `/readyz` shows. */
export interface KafkaHealth {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface KafkaBridge {
  /** Working: started, every signaling partition advancing, the consumer in its group, the publisher following the log, and the brokers answering. */
  ready(): Promise<boolean>;
  /** The same, and when not, what is wrong: the stalled partitions named, and why. */
  health(): Promise<KafkaHealth>;
  /** Resolves once everything has started (or the bridge was stopped first). */
  started(): Promise<void>;
  /** Finish the commands and the directive batch under way, commit, and disconnect. */
  stop(): Promise<void>;
  status(): KafkaBridgeStatus;
}

const PROBE_TIMEOUT_MS = 2_000;
const PROBE_CACHE_MS = 1_000;

const withTimeout = <T>(promise: Promise<T>, millis: number): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${millis} ms`)), millis);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });

/** The bridge's producer: idempotent, one request in flight, acknowledged by all in-sync replicas. */
export const bridgeProducer = (kafka: Kafka): Producer =>
  kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });

export const startKafkaBridge = (options: KafkaBridgeOptions): KafkaBridge => {
  const { kafka: config, logger } = options;
  const layout: TopicLayout = { ...defaultTopicLayout, ...options.topics };
  const kafka = createKafka(config, logger, {
    ...(options.security ? { security: options.security } : {}),
    ...(options.maxDecompressedBytes ? { maxDecompressedBytes: options.maxDecompressedBytes } : {}),
  });
  const admin: Admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 } });
  const producer = bridgeProducer(kafka);
  const publisher = new DirectivePublisher({
    producer,
    topic: config.directivesTopic,
    store: options.store,
    readStore: options.readStore,
    logger,
    clock: options.clock,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.publisher ? { tuning: options.publisher } : {}),
  });
  const orbitState =
    config.orbitStateTopic === undefined
      ? undefined
      : new OrbitStatePublisher({
          producer,
          topic: config.orbitStateTopic,
          store: options.store,
          readStore: options.readStore,
          logger,
          clock: options.clock,
          ...(options.publisher ? { tuning: options.publisher } : {}),
        });
  const consumer = new SignalingConsumer({
    kafka,
    config,
    handler: options.handler,
    producer,
    clock: options.clock,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.consumer ? { tuning: options.consumer } : {}),
  });

  let state: KafkaBridgeState = 'starting';
  let lastError: string | undefined;
  const done = { admin: false, topics: false, producer: false, publisher: false, orbitState: false, consumer: false };
  let wake: (() => void) | undefined;
  let probe: { at: number; ok: Promise<boolean> } | undefined;

  const pause = (millis: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, millis);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const startAll = async (): Promise<void> => {
    for (let attempt = 1; state === 'starting'; attempt++) {
      try {
        if (!done.admin) await admin.connect().then(() => void (done.admin = true));
        if (!done.topics) await ensureTopics(admin, config, layout, logger).then(() => void (done.topics = true));
        if (!done.producer) await producer.connect().then(() => void (done.producer = true));
        if (!done.publisher) await publisher.start().then(() => void (done.publisher = true));
        if (!done.orbitState && orbitState) await orbitState.start().then(() => void (done.orbitState = true));
        if (state !== 'starting') return;
        if (!done.consumer) await consumer.start().then(() => void (done.consumer = true));
        state = 'running';
        lastError = undefined;
        logger.info({ signalingTopic: config.signalingTopic, directivesTopic: config.directivesTopic, deadLetterTopic: config.deadLetterTopic, groupId: config.groupId }, 'Kafka bridge started');
        return;
      } catch (error) {
        lastError = messageOf(error);
        const retryInMs = options.startRetryMs ?? 2_000;
        logger.warn({ attempt, error: lastError, retryInMs, brokers: config.brokers }, 'Kafka bridge could not start yet; trying again');
        await pause(retryInMs);
      }
    }
  };
  const starting = startAll();

  const brokersAnswer = (): Promise<boolean> => {
    const now = Date.now();
    if (probe === undefined || now - probe.at > PROBE_CACHE_MS) {
      probe = {
        at: now,
        ok: withTimeout(admin.describeCluster(), PROBE_TIMEOUT_MS).then(
          (cluster) => cluster.brokers.length > 0,
          (error: unknown) => {
            lastError = `brokers do not answer: ${messageOf(error)}`;
            return false;
          },
        ),
      };
    }
    return probe.ok;
  };

  const health = async (): Promise<KafkaHealth> => {
    if (state !== 'running') return { ok: false, detail: `the Kafka bridge is ${state}${lastError ? `: ${lastError}` : ''}` };
    const stuck = consumer.stuck();
    if (stuck !== undefined) return { ok: false, detail: stuck };
    const { joined, lastError: consumerError } = consumer.status();
    if (!joined) return { ok: false, detail: `the signaling consumer is not in its group${consumerError ? `: ${consumerError}` : ' yet'}` };
    const { state: publishing, lastError: publisherError } = publisher.status();
    if (publishing !== 'running') return { ok: false, detail: `the directive publisher is ${publishing}${publisherError ? `: ${publisherError}` : ''}` };
    const presence = orbitState?.status();
    if (presence && presence.state !== 'running') return { ok: false, detail: `the orbit state publisher is ${presence.state}${presence.lastError ? `: ${presence.lastError}` : ''}` };
    if (!(await brokersAnswer())) return { ok: false, detail: lastError ?? 'the brokers do not answer' };
    return { ok: true };
  };

  return {
    ready: async () => (await health()).ok,
    health,
    started: () => starting,
    status: () => ({ state, consumer: consumer.status(), publisher: publisher.status(), ...(orbitState ? { orbitState: orbitState.status() } : {}), lastError }),
    stop: async () => {
      if (state === 'stopped' || state === 'stopping') return;
      state = 'stopping';
      wake?.();
      await starting;
      const steps: [string, () => Promise<void>][] = [
        ['consumer', () => consumer.stop()],
        ['publisher', () => (done.publisher ? publisher.stop() : Promise.resolve())],
        ['orbit state publisher', () => (done.orbitState && orbitState ? orbitState.stop() : Promise.resolve())],
        ['producer', () => producer.disconnect()],
        ['admin', () => admin.disconnect()],
      ];
      for (const [part, stop] of steps) {
        try {
          await stop();
        } catch (error) {
          logger.warn({ part, error: messageOf(error) }, 'Kafka bridge: stopping failed');
        }
      }
      state = 'stopped';
      logger.info({}, 'Kafka bridge stopped');
    },
  };
};
