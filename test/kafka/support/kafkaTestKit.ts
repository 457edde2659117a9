/**
 * What the Kafka suites share: the broker (from the global setup), topics and groups of their
 * own for each run, stores in a temporary folder, signaling messages written out as the media
 * tier would send them, and a reader of the directives topic.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { Kafka, Partitioners, logLevel, type Consumer, type IHeaders, type Producer } from 'kafkajs';
import { inject } from 'vitest';
import { CommandHandler } from '../../../adapters/commands/commandHandler.js';
import type { KafkaConfig } from '../../../adapters/config/config.js';
import { DirectiveMessage } from '../../../adapters/kafka/directiveRecord.js';
import { SqliteEventStore } from '../../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { callParkStream } from '../../../domain/callPark.js';
import { decode } from '../../../domain/codec/codec.js';
import type { Party } from '../../../domain/commands.js';
import type { EventStore, RecordedEvent } from '../../../domain/eventStore.js';
import type { PolicySettingsChange } from '../../../domain/parkPolicy.js';
import type { SignalingMessage } from '../../../domain/signaling.js';
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

export const testProducer = (kafka: Kafka): Producer => kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });

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

/** Produce signaling messages keyed by Call-ID; answers each record's partition and offset. */
export const produceSignals = async (producer: Producer, topic: string, messages: readonly SignalingRecord[]): Promise<{ partition: number; offset: string }[]> => {
  const results = await producer.send({ topic, messages: messages.map((message) => ({ key: message.callId, value: JSON.stringify(message) })) });
  return results.map((result) => ({ partition: result.partition, offset: result.baseOffset ?? '' }));
};

export interface ReceivedDirective {
  readonly message: DirectiveMessage;
  readonly key: string | undefined;
  readonly partition: number;
  readonly offset: string;
  readonly headers: IHeaders;
  readonly receivedAt: number;
}

/** Everything published on a directives topic, read from the beginning by a group of its own. */
export class DirectiveReader {
  readonly received: ReceivedDirective[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topic: string): Promise<DirectiveReader> {
    const consumer = kafka.consumer({ groupId: `callpark-test-reader-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    const reader = new DirectiveReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const decoded = decode(DirectiveMessage, JSON.parse(message.value?.toString() ?? 'null'));
        if (E.isLeft(decoded)) throw new Error(`a directive that does not decode: ${decoded.left.message}`);
        reader.received.push({ message: decoded.right, key: message.key?.toString(), partition, offset: message.offset, headers: message.headers ?? {}, receivedAt: Date.now() });
      },
    });
    return reader;
  }

  /** The directives about one call, in the order received. */
  about(callId: string): DirectiveMessage[] {
    return this.received.filter(({ message }) => message.directive.callId === callId).map(({ message }) => message);
  }

  typesAbout(callId: string): string[] {
    return this.about(callId).map((message) => message.directive.type);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

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
