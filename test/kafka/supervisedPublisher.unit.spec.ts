/**
 * The supervision the directive and orbit state publishers share: a runner that gave up on a batch
 * (the broker kept refusing) is started again from its checkpoint, and publishes every record once
 * the broker takes them; what Kafka did not acknowledge is never counted as published.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, Producer, ProducerRecord } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import type { BridgeLogger } from '../../adapters/kafka/bridgeLogger.js';
import { SupervisedPublisher } from '../../adapters/kafka/supervisedPublisher.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';

/** A producer that refuses its first `refusals` sends, then keeps what it is sent; `received(n)` resolves once it holds n records. */
const refusingProducer = (refusals: number) => {
  const kept: Message[] = [];
  let sends = 0;
  const waiting: { count: number; resolve: () => void }[] = [];
  const producer = {
    send: async (record: ProducerRecord) => {
      sends++;
      if (sends <= refusals) throw new Error(`broker refused send ${sends}`);
      kept.push(...record.messages);
      for (const waiter of waiting.filter(({ count }) => kept.length >= count)) waiter.resolve();
      return [];
    },
  };
  return {
    producer: producer as unknown as Producer,
    kept,
    received: (count: number) => new Promise<void>((resolve) => (kept.length >= count ? resolve() : waiting.push({ count, resolve }))),
  };
};

const capturingLogger = () => {
  const lines: { level: string; message: string | undefined }[] = [];
  const at = (level: string) => (_context: object, message?: string) => void lines.push({ level, message });
  const logger: BridgeLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
};

describe('a supervised publisher', () => {
  let folder: string;
  let readStore: SqliteReadStore;
  let store: InMemoryEventStore;
  let publisher: SupervisedPublisher | undefined;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'callpark-publisher-'));
    readStore = await SqliteReadStore.open(join(folder, 'read.sqlite'));
    store = new InMemoryEventStore();
  });

  afterEach(async () => {
    await publisher?.stop();
    publisher = undefined;
    await readStore.close();
    await rm(folder, { recursive: true, force: true });
  });

  const start = async (refusals: number) => {
    const broker = refusingProducer(refusals);
    const { logger, lines } = capturingLogger();
    publisher = new SupervisedPublisher(
      { producer: broker.producer, topic: 'test.records', store, readStore, logger, tuning: { retry: { attempts: 1, delayMs: 1 }, superviseEveryMs: 5, maxBatchMs: 0 } },
      {
        label: 'test publisher',
        name: 'test-records',
        version: 1,
        tables: [],
        migrations: () => [],
        records: (events) => events.map((event) => ({ key: event.streamName, value: event.id })),
      },
    );
    await publisher.start();
    return { broker, lines, publisher };
  };

  const append = async (count: number): Promise<string[]> => {
    const ids = Array.from({ length: count }, (_, n) => `event-${n}`);
    await store.appendToStream('things-1', ids.map((id) => ({ id, type: 'Thing', data: {} })));
    return ids;
  };

  it('starts a runner that gave up again from its checkpoint, and then publishes every record, once acknowledged', async () => {
    const { broker, lines, publisher } = await start(5);
    const ids = await append(3);
    await broker.received(3);
    await publisher.catchUp();

    expect(broker.kept.map((message) => message.value)).toEqual(ids);
    const status = publisher.status();
    expect(status.restarts).toBeGreaterThanOrEqual(1);
    expect(status.published).toBe(3);
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.message)).toContain('test publisher gave up on a batch; starting it again from its checkpoint');
  });

  it('publishes without a restart while the broker takes every send', async () => {
    const { broker, publisher } = await start(0);
    await append(2);
    await broker.received(2);
    await publisher.catchUp();
    expect(publisher.status()).toMatchObject({ restarts: 0, published: 2 });
  });
});
