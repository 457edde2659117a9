/**
 * What the Kafka suites share: the broker (from the global setup), topics and groups of their
 * own for each run, stores in a temporary folder, signaling messages written out as the media
 * tier would send them, and a test's side of the broker (`openKafkaFixture`): its producer, the
 * topics made before a bridge starts, and readers of the directives and dead-letter topics.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { Kafka, Partitioners, logLevel, type Consumer, type ConsumerConfig, type IHeaders, type KafkaMessage, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import { inject } from 'vitest';
import { CommandHandler } from '../../../adapters/commands/commandHandler.js';
import type { KafkaConfig } from '../../../adapters/config/config.js';
import { silentLogger } from '../../../adapters/kafka/bridgeLogger.js';
import { DirectiveMessage, directiveIdFor } from '../../../adapters/kafka/directiveRecord.js';
import { createKafka } from '../../../adapters/kafka/kafkaClient.js';
import { defaultTopicLayout, ensureTopics, type TopicLayout } from '../../../adapters/kafka/topics.js';
import { SqliteEventStore } from '../../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { callParkStream } from '../../../domain/callPark.js';
import { decode } from '../../../domain/codec/codec.js';
import { directivesFor } from '../../../domain/directives.js';
import type { Party } from '../../../domain/commands.js';
import type { EventStore, RecordedEvent } from '../../../domain/eventStore.js';
import type { PolicySettingsChange } from '../../../domain/parkPolicy.js';
import type { SignalingMessage } from '../../../domain/signaling.js';
import { fromStoredForm } from '../../../domain/storedForm/storedEvent.js';
import type * as t from 'io-ts/lib/index.js';
import { SqliteReadStore } from '../../../projections/sqliteReadStore.js';
import { requireService, tcpAnswers } from '../../support/services.js';

export const HOW_TO_START_KAFKA = 'bash infra/kafka/kafka.sh start, then export KAFKA_BROKERS=127.0.0.1:19092 (npm test does both when Java is installed)';

/** The broker the global setup found or started. */
export const kafkaBrokers = (): string | undefined => process.env.KAFKA_BROKERS || inject('kafkaBrokers') || undefined;

const hostAndPort = (broker: string): { host: string; port: number } => {
  const at = broker.lastIndexOf(':');
  return { host: broker.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(broker.slice(at + 1)) };
};

/** Whether a broker answers at `brokers`; under CI a missing broker fails the suite. */
export const brokerAnswers = async (brokers: string | undefined): Promise<boolean> => {
  if (!brokers) return false;
  const { host, port } = hostAndPort(brokers.split(',')[0]!);
  return tcpAnswers(host, port, 2_000);
};

export const requireKafka = (): Promise<boolean> =>
  requireService(
    'Kafka',
    async () => {
      const brokers = kafkaBrokers();
      if (!brokers) throw new Error('KAFKA_BROKERS is not set and no broker was started (is Java installed?)');
      return brokerAnswers(brokers);
    },
    HOW_TO_START_KAFKA,
  );

/** Topics, group and client of one test: nothing shared with another test or another run. */
export const uniqueKafkaConfig = (brokers: string, label: string): KafkaConfig => {
  const id = `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return {
    brokers: brokers.split(','),
    clientId: `callpark-test-${id}`,
    groupId: `callpark-test-${id}`,
    signalingTopic: `test.${id}.signaling`,
    directivesTopic: `test.${id}.directives`,
    deadLetterTopic: `test.${id}.dead-letter`,
  };
};

export const testKafka = (brokers: string | readonly string[], clientId = `callpark-test-${randomUUID()}`): Kafka =>
  new Kafka({ clientId, brokers: typeof brokers === 'string' ? brokers.split(',') : [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 } });

const testProducer = (kafka: Kafka): Producer => kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });

/** A temporary folder with an event store, a read store and a handler on SQLite files. */
export interface Stores {
  readonly folder: string;
  readonly eventStorePath: string;
  readonly readStorePath: string;
  readonly store: SqliteEventStore;
  readonly readStore: SqliteReadStore;
  readonly handler: CommandHandler;
  close(): Promise<void>;
}

export const openStores = async (folder?: string): Promise<Stores> => {
  const dir = folder ?? (await mkdtemp(join(tmpdir(), 'callpark-kafka-')));
  const eventStorePath = join(dir, 'events.db');
  const readStorePath = join(dir, 'read.db');
  const store = new SqliteEventStore(eventStorePath, { synchronous: 'normal' });
  const readStore = await SqliteReadStore.open(readStorePath);
  const handler = new CommandHandler({ store });
  return {
    folder: dir,
    eventStorePath,
    readStorePath,
    store,
    readStore,
    handler,
    close: async () => {
      await readStore.close();
      await store.close();
      if (folder === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
};

/** Set-CsTeamsCallParkPolicy -Identity Global -AllowCallPark $true, as an administrator would. */
export const enablePark = async (handler: Pick<CommandHandler, 'handle'>, tenantId: string, change: PolicySettingsChange = {}, at = Date.now()): Promise<void> => {
  const outcome = await handler.handle({ type: 'SetPolicy', commandId: `enable-park-${tenantId}-${randomUUID()}`, at, tenantId, policy: 'Global', settings: { allowCallPark: true, ...change } });
  if (outcome.kind === 'rejected') throw new Error(`could not enable call park for ${tenantId}: ${outcome.rejection?.message}`);
};

export const alice: Party = { userId: 'alice@contoso.com', endpoint: 'teams-desktop' };
export const bob: Party = { userId: 'bob@contoso.com', endpoint: 'teams-ip-phone' };

/** A signaling message as it travels: the wire form of the codec (instants as ISO-8601 text). */
export type SignalingRecord = t.OutputOf<typeof SignalingMessage>;

const now = (): string => new Date().toISOString();
const envelope = (tenantId: string, callId: string) => ({ eventId: `sig-${randomUUID()}`, occurredAt: now(), tenantId, callId });

/** Signaling messages as the media tier sends them, each with a fresh eventId. */
export const signal = {
  park: (tenantId: string, callId: string, parker: Party = alice): SignalingRecord => ({ type: 'park.requested', ...envelope(tenantId, callId), parker, media: 'audio' }),
  retrieve: (tenantId: string, retrieverCallId: string, orbit: string, retriever: Party = bob): SignalingRecord => ({
    type: 'retrieve.requested',
    ...envelope(tenantId, retrieverCallId),
    retriever,
    orbit,
  }),
  ended: (tenantId: string, callId: string): SignalingRecord => ({ type: 'call.ended', ...envelope(tenantId, callId), sipMethod: 'BYE' }),
  answered: (tenantId: string, callId: string): SignalingRecord => ({ type: 'ringback.answered', ...envelope(tenantId, callId) }),
  failed: (tenantId: string, callId: string, sipStatus: 486 | 480 | 408 | 603 = 486): SignalingRecord => ({ type: 'ringback.failed', ...envelope(tenantId, callId), sipStatus }),
};

/**
 * A steady stream of calls over the tenants in turn: each parked, and hung up `lag` calls later;
 * the last `lag` calls are hung up at the end. Every park's session thus ends, so a test can count
 * one Parked and one Abandoned per call whatever happened to the bridge in between.
 */
export const parkThenHangUp = (tenants: readonly string[], calls: number, lag = 10): SignalingRecord[] => {
  const callOf = (call: number) => {
    const tenant = tenants[call % tenants.length]!;
    return { tenant, callId: `${tenant}-call-${call}` };
  };
  const stream: SignalingRecord[] = [];
  for (let call = 0; call < calls; call++) {
    const parked = callOf(call);
    stream.push(signal.park(parked.tenant, parked.callId));
    if (call >= lag) {
      const earlier = callOf(call - lag);
      stream.push(signal.ended(earlier.tenant, earlier.callId));
    }
  }
  for (let call = Math.max(0, calls - lag); call < calls; call++) {
    const last = callOf(call);
    stream.push(signal.ended(last.tenant, last.callId));
  }
  return stream;
};

/** Signaling messages as records of the signaling topic: keyed by Call-ID, the JSON the media tier sends. */
export const signalingRecords = (messages: readonly SignalingRecord[]): Message[] => messages.map((message) => ({ key: message.callId, value: JSON.stringify(message) }));

/** What a topic reader has received, in order, until it is stopped. */
export interface TopicReading<T> {
  readonly received: T[];
  stop(): Promise<void>;
}

/** Every record of a topic, read from the beginning by a group of its own, each made into a T by `read`. */
export const readTopic = async <T>(
  kafka: Kafka,
  topic: string,
  read: (message: KafkaMessage, partition: number) => T,
  consumer: Partial<ConsumerConfig> = {},
): Promise<TopicReading<T>> => {
  const received: T[] = [];
  const reader: Consumer = kafka.consumer({ groupId: `callpark-test-reader-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false, ...consumer });
  await reader.connect();
  await reader.subscribe({ topics: [topic], fromBeginning: true });
  await reader.run({ eachMessage: async ({ partition, message }) => void received.push(read(message, partition)) });
  return { received, stop: () => reader.disconnect() };
};

export interface ReceivedDirective {
  readonly message: DirectiveMessage;
  readonly key: string | undefined;
  readonly partition: number;
  readonly offset: string;
  readonly headers: IHeaders;
  readonly receivedAt: number;
}

const receivedDirective = (message: KafkaMessage, partition: number): ReceivedDirective => {
  const decoded = decode(DirectiveMessage, JSON.parse(message.value?.toString() ?? 'null'));
  if (E.isLeft(decoded)) throw new Error(`a directive that does not decode: ${decoded.left.message}`);
  return { message: decoded.right, key: message.key?.toString(), partition, offset: message.offset, headers: message.headers ?? {}, receivedAt: Date.now() };
};

/** Everything published on a directives topic, read from the beginning by a group of its own. */
export class DirectiveReader {
  private constructor(private readonly reading: TopicReading<ReceivedDirective>) {}

  static async start(kafka: Kafka, topic: string): Promise<DirectiveReader> {
    return new DirectiveReader(await readTopic(kafka, topic, receivedDirective));
  }

  get received(): readonly ReceivedDirective[] {
    return this.reading.received;
  }

  /** The directives about one call, in the order received. */
  about(callId: string): DirectiveMessage[] {
    return this.received.filter(({ message }) => message.directive.callId === callId).map(({ message }) => message);
  }

  typesAbout(callId: string): string[] {
    return this.about(callId).map((message) => message.directive.type);
  }

  /** The ids of the directives received, each once however often it came. */
  directiveIds(): Set<string> {
    return new Set(this.received.map(({ message }) => message.directiveId));
  }

  stop(): Promise<void> {
    return this.reading.stop();
  }
}

/**
 * A test's side of the broker, for the topics of `config`: a client and a connected producer of
 * its own, and the readers it started; `close()` stops them all.
 */
export interface KafkaFixture {
  readonly kafka: Kafka;
  readonly producer: Producer;
  /** Signaling messages to the signaling topic, in one send; each record's partition and offset. */
  signal(messages: readonly SignalingRecord[]): Promise<{ partition: number; offset: string }[]>;
  /** Records as they are (poison, other keys) to the signaling topic, in one send. */
  send(messages: Message[]): Promise<RecordMetadata[]>;
  /** A reader of the directives topic from its beginning. */
  directives(): Promise<DirectiveReader>;
  /** A reader of the dead-letter topic from its beginning. */
  deadLetters(consumer?: Partial<ConsumerConfig>): Promise<TopicReading<KafkaMessage>>;
  close(): Promise<void>;
}

/**
 * Open a fixture on the broker of `config`. With `topics`, the bridge's topics are created first,
 * with that layout, so that records can wait on them before any bridge starts.
 */
export const openKafkaFixture = async (config: KafkaConfig, options: { readonly topics?: Partial<TopicLayout> } = {}): Promise<KafkaFixture> => {
  if (options.topics) {
    const admin = createKafka(config, silentLogger).admin();
    await admin.connect();
    try {
      await ensureTopics(admin, config, { ...defaultTopicLayout, ...options.topics }, silentLogger);
    } finally {
      await admin.disconnect();
    }
  }
  const kafka = testKafka(config.brokers);
  const producer = testProducer(kafka);
  await producer.connect();
  const readers: { stop(): Promise<void> }[] = [];
  const started = <R extends { stop(): Promise<void> }>(reader: R): R => {
    readers.push(reader);
    return reader;
  };
  const send = (messages: Message[]) => producer.send({ topic: config.signalingTopic, messages });
  return {
    kafka,
    producer,
    send,
    signal: async (messages) => (await send(signalingRecords(messages))).map((result) => ({ partition: result.partition, offset: result.baseOffset ?? '' })),
    directives: async () => started(await DirectiveReader.start(kafka, config.directivesTopic)),
    deadLetters: async (consumer = {}) => started(await readTopic(kafka, config.deadLetterTopic, (message) => message, consumer)),
    close: async () => {
      for (const reader of readers.splice(0)) await reader.stop();
      await producer.disconnect();
    },
  };
};

/** The ids of the directives the tenants' stored events call for: what the directives topic must hold, each at least once. */
export const expectedDirectiveIds = async (store: EventStore, tenantIds: readonly string[]): Promise<Set<string>> => {
  const expected = new Set<string>();
  for (const tenantId of tenantIds) {
    for (const recorded of await tenantEvents(store, tenantId)) {
      const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
      if (E.isLeft(decoded)) throw decoded.left;
      directivesFor(decoded.right.event).forEach((_, index) => expected.add(directiveIdFor(recorded.id, index)));
    }
  }
  return expected;
};

/** Wait until `condition` holds, or fail saying what was awaited. */
export const eventually = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 50): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
};

/** A tenant's events, as stored. */
export const tenantEvents = async (store: EventStore, tenantId: string): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(callParkStream(tenantId))) events.push(event);
  return events;
};

/** How many events each command recorded, over the tenants' streams. */
export const eventsPerCommand = async (store: EventStore, tenantIds: readonly string[]): Promise<Map<string, number>> => {
  const counts = new Map<string, number>();
  for (const tenantId of tenantIds) {
    for (const event of await tenantEvents(store, tenantId)) {
      const commandId = (event.metadata as { commandId: string }).commandId;
      counts.set(commandId, (counts.get(commandId) ?? 0) + 1);
    }
  }
  return counts;
};

export const uniqueTenant = (label: string): string => `${label}-${randomBytes(3).toString('hex')}`;

/** The store, running `beforeAppend` before each append (to count appends, or to slow the store down). */
export const withAppendHook = (store: EventStore, beforeAppend: (streamName: string) => void | Promise<void>): EventStore => ({
  appendToStream: async (streamName, ...rest) => {
    await beforeAppend(streamName);
    return store.appendToStream(streamName, ...rest);
  },
  readStream: (...args) => store.readStream(...args),
  subscribeToAll: (...args) => store.subscribeToAll(...args),
  headPosition: () => store.headPosition(),
  maxAppendSize: store.maxAppendSize,
  writeSnapshot: (...args) => store.writeSnapshot(...args),
  readSnapshot: (...args) => store.readSnapshot(...args),
  ...(store.findEvent ? { findEvent: store.findEvent } : {}),
  close: () => store.close(),
});
