/**
 * The EventStoreDB adapter when the cluster misbehaves, against the protocol stand-in: an append
 * answered NotLeader, and one whose connection drops after the server wrote it, are sent again
 * with the same event ids and recorded once; a subscription cut mid-stream resumes after its
 * last event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import esdb from '@eventstore/db-client';
import { connectEventStoreDb, type EventStoreDbEventStore } from '../../adapters/eventStores/eventStoreDb/eventStoreDbEventStore.js';
import type { RecordedEvent } from '../../domain/eventStore.js';
import { startEsdbProtocolStandIn, type EsdbProtocolStandIn } from '../esdbProtocolStandIn/standInServer.js';

const opened: { standIn: EsdbProtocolStandIn; store: EventStoreDbEventStore }[] = [];
const open = async (appendAttempts?: number) => {
  // Unary Append: the RPC the stand-in injects faults into.
  const standIn = await startEsdbProtocolStandIn({ batchAppend: false });
  const store = connectEventStoreDb(standIn.connectionString, { ...(appendAttempts === undefined ? {} : { appendAttempts }), onSubscriptionDropped: () => undefined });
  opened.push({ standIn, store });
  return { standIn, store };
};

afterEach(async () => {
  for (const { standIn, store } of opened.splice(0)) {
    await store.close().catch(() => undefined);
    await standIn.stop();
  }
});

const event = (id: string) => ({ id, type: 'Noted', data: { id }, metadata: {} });
const streamOf = async (store: EventStoreDbEventStore, stream: string): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const recorded of store.readStream(stream)) events.push(recorded);
  return events;
};

describe('EventStoreDB appends across leader changes and dropped connections', () => {
  it('sends an append answered NotLeader again, to the leader it was told of, and records it once', async () => {
    const { standIn, store } = await open();
    await store.appendToStream('faults-1', [event('a')], { expectedRevision: 'no_stream' });
    standIn.injectAppendFaults(['not-leader']);
    const result = await store.appendToStream('faults-1', [event('b'), event('c')], { expectedRevision: 0 });
    expect(result.nextExpectedRevision).toBe(2);
    expect((await streamOf(store, 'faults-1')).map((recorded) => (recorded.data as { id: string }).id)).toEqual(['a', 'b', 'c']);
  });

  it('sends an append whose answer was lost with its connection again, and the server keeps one copy', async () => {
    const { standIn, store } = await open();
    standIn.injectAppendFaults(['drop-after-write']);
    const result = await store.appendToStream('faults-2', [event('a'), event('b')], { expectedRevision: 'no_stream' });
    expect(result.nextExpectedRevision).toBe(1);
    standIn.injectAppendFaults(['drop-after-write', 'not-leader']);
    await store.appendToStream('faults-2', [event('c')], { expectedRevision: 1 });
    expect((await streamOf(store, 'faults-2')).map((recorded) => (recorded.data as { id: string }).id)).toEqual(['a', 'b', 'c']);
    expect(standIn.calls().append).toBeGreaterThanOrEqual(5);
  });

  it('throws the failure when it is not to be tried again (one attempt)', async () => {
    const { standIn, store } = await open(1);
    standIn.injectAppendFaults(['not-leader']);
    await expect(store.appendToStream('faults-3', [event('a')], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(esdb.NotLeaderError);
  });

  it('resumes a subscription cut in the middle after the last event it delivered', async () => {
    const { standIn, store } = await open();
    for (let index = 0; index < 5; index++) await store.appendToStream(`faults-4-${index}`, [event(`s${index}`)], { expectedRevision: 'no_stream' });
    const seen: string[] = [];
    const subscription = store.subscribeToAll();
    for await (const recorded of subscription) {
      seen.push((recorded.data as { id: string }).id);
      if (seen.length === 2) await standIn.dropConnections();
      if (seen.length === 3) await store.appendToStream('faults-4-late', [event('late')], { expectedRevision: 'no_stream' });
      if (seen.includes('late')) break;
    }
    await subscription.close();
    expect(seen).toEqual(['s0', 's1', 's2', 's3', 's4', 'late']);
  });
});
