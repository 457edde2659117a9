/**
 * The EventStore contract: one suite every implementation of the port runs (in-memory, SQLite,
 * EventStoreDB). Each test works on streams, event types and prefixes of its own (a random
 * suffix), so the suite can run against a shared server that already holds other events.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendSize } from '../../adapters/eventStores/appendSize.js';
import {
  AppendTooLarge,
  WrongExpectedRevision,
  comparePositions,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type Position,
  type ReadStreamOptions,
  type RecordedEvent,
  type Subscription,
} from '../../domain/eventStore.js';

export interface ContractSubject {
  readonly store: EventStore;
  /** A second, independent connection to the same store (another process's view). */
  openAnother(): Promise<EventStore>;
  /** Cut the connection under live subscriptions, when the store has one to cut. */
  dropConnections?(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** How many events the large-stream case appends; 100,000 unless a slow store must shrink it. */
  readonly largeStreamSize?: number;
}

/** A name no other test (and no other run against the same server) uses. */
const unique = (label: string): string => `contract-${label}-${randomUUID().replaceAll('-', '').slice(0, 12)}`;

const event = (type: string, data: unknown = {}, metadata?: unknown): EventData =>
  metadata === undefined ? { id: randomUUID(), type, data } : { id: randomUUID(), type, data, metadata };

const events = (count: number, type = 'Happened'): EventData[] => Array.from({ length: count }, (_, n) => event(type, { n }));

const read = async (store: EventStore, streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> => {
  const found: RecordedEvent[] = [];
  for await (const recorded of store.readStream(streamName, options)) found.push(recorded);
  return found;
};

const revisionsOf = (recorded: readonly RecordedEvent[]): number[] => recorded.map((e) => e.revision);
const idsOf = (recorded: readonly { id: string }[]): string[] => recorded.map((e) => e.id);

/** What an append threw, or undefined when it was accepted. */
const failureOf = (append: Promise<unknown>): Promise<unknown> => append.then(
  () => undefined,
  (error: unknown) => error,
);

const expectRefused = async (append: Promise<unknown>, streamName: string, expected: ExpectedRevision, actual: number | 'no_stream'): Promise<void> => {
  const error = await failureOf(append);
  expect(error, 'the append was accepted').toBeInstanceOf(WrongExpectedRevision);
  expect(error).toMatchObject({ streamName, expected, actual });
};

/** Read `count` events from a subscription (fewer if none arrive for `timeoutMs`), then close it. */
const collect = async (subscription: Subscription, count: number, timeoutMs = 10_000): Promise<RecordedEvent[]> => {
  const received: RecordedEvent[] = [];
  const timer = setTimeout(() => void subscription.close(), timeoutMs);
  try {
    for await (const recorded of subscription) {
      received.push(recorded);
      if (received.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await subscription.close();
  }
  return received;
};

const expectIncreasing = (positions: readonly Position[]): void => {
  for (let i = 1; i < positions.length; i++) {
    expect(comparePositions(positions[i - 1]!, positions[i]!), `position ${i} follows position ${i - 1}`).toBe(-1);
  }
};

/**
 * Time for a subscription to read its (empty) history and wait for live events, so that what the
 * test appends next is likely delivered live. No assertion depends on it: a catch-up subscription
 * delivers the same events in the same order whether they arrive live or as history, and the port
 * exposes no moment of going live to wait on.
 */
const letItGoLive = (): Promise<void> => pause(100);

export const eventStoreContract = (name: string, open: () => Promise<ContractSubject>, options: ContractOptions = {}): void => {
  const largeStreamSize = options.largeStreamSize ?? 100_000;

  describe(`EventStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: EventStore;

    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });

    afterAll(async () => {
      await subject?.cleanup();
    });

    describe('appending and reading', () => {
      it('stores events at revisions from 0, with their type, data and metadata', async () => {
        const stream = unique('order');
        const data = { orbit: 42, caller: 'Zoë ☎', tags: ['a', 'b'], nested: { ok: true, none: null }, ratio: 0.25 };
        const first = event('CallParked', data, { correlationId: 'c-1', causationId: 'c-0' });
        const second = event('CallRetrieved', { orbit: 42, by: 'bob' });

        await store.appendToStream(stream, [first, second]);

        const stored = await read(store, stream);
        expect(stored).toHaveLength(2);
        expect(stored[0]).toMatchObject({ id: first.id, streamName: stream, revision: 0, type: 'CallParked', data, metadata: { correlationId: 'c-1', causationId: 'c-0' } });
        expect(stored[1]).toMatchObject({ id: second.id, streamName: stream, revision: 1, type: 'CallRetrieved', data: { orbit: 42, by: 'bob' } });
        for (const recorded of stored) expect(Number.isFinite(recorded.recordedAt)).toBe(true);
      });

      it('answers an append with the revision and position of its last event', async () => {
        const stream = unique('answer');

        const first = await store.appendToStream(stream, events(3));
        const second = await store.appendToStream(stream, events(1));

        const stored = await read(store, stream);
        expect(first.nextExpectedRevision).toBe(2);
        expect(first.position).toEqual(stored[2]!.position);
        expect(second.nextExpectedRevision).toBe(3);
        expect(second.position).toEqual(stored[3]!.position);
      });

      it('gives every event a position in the global log that increases with every append, across streams', async () => {
        const [a, b] = [unique('left'), unique('right')];
        const answers = [];
        for (const stream of [a, b, a, b, a]) answers.push(await store.appendToStream(stream, events(2)));

        expectIncreasing(answers.map((answer) => answer.position));
        const stored = [...(await read(store, a)), ...(await read(store, b))].sort((x, y) => comparePositions(x.position, y.position));
        expectIncreasing(stored.map((recorded) => recorded.position));
        const head = await store.headPosition();
        expect(head).toBeDefined();
        expect(comparePositions(head!, answers.at(-1)!.position)).toBeGreaterThanOrEqual(0);
      });

      it('shows what one connection appended to another connection', async () => {
        const stream = unique('shared');
        const other = await subject.openAnother();
        try {
          const appended = events(2);
          await store.appendToStream(stream, appended);
          expect(idsOf(await read(other, stream))).toEqual(idsOf(appended));
        } finally {
          await other.close();
        }
      });
    });

    describe('expected revision', () => {
      it('any: accepts an append to a missing stream and to an existing one', async () => {
        const stream = unique('any');
        await expect(store.appendToStream(stream, events(1), { expectedRevision: 'any' })).resolves.toMatchObject({ nextExpectedRevision: 0 });
        await expect(store.appendToStream(stream, events(1), { expectedRevision: 'any' })).resolves.toMatchObject({ nextExpectedRevision: 1 });
        await expect(store.appendToStream(stream, events(1))).resolves.toMatchObject({ nextExpectedRevision: 2 });
      });

      it('no_stream: accepts the first append of a stream', async () => {
        const stream = unique('no-stream');
        await expect(store.appendToStream(stream, events(2), { expectedRevision: 'no_stream' })).resolves.toMatchObject({ nextExpectedRevision: 1 });
      });

      it('no_stream: refuses an append to an existing stream, naming its last revision, and writes nothing', async () => {
        const stream = unique('no-stream-refused');
        await store.appendToStream(stream, events(2));

        await expectRefused(store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' }), stream, 'no_stream', 1);
        expect(revisionsOf(await read(store, stream))).toEqual([0, 1]);
      });

      it('stream_exists: accepts an append to an existing stream', async () => {
        const stream = unique('exists');
        await store.appendToStream(stream, events(1));
        await expect(store.appendToStream(stream, events(1), { expectedRevision: 'stream_exists' })).resolves.toMatchObject({ nextExpectedRevision: 1 });
      });

      it('stream_exists: refuses an append to a missing stream, naming no_stream, and writes nothing', async () => {
        const stream = unique('exists-refused');
        await expectRefused(store.appendToStream(stream, events(1), { expectedRevision: 'stream_exists' }), stream, 'stream_exists', 'no_stream');
        expect(await read(store, stream)).toEqual([]);
      });

      it('a revision: accepts an append when it is the revision of the last event', async () => {
        const stream = unique('exact');
        await store.appendToStream(stream, events(3));
        await expect(store.appendToStream(stream, events(1), { expectedRevision: 2 })).resolves.toMatchObject({ nextExpectedRevision: 3 });
        await expect(store.appendToStream(stream, events(2), { expectedRevision: 3 })).resolves.toMatchObject({ nextExpectedRevision: 5 });
      });

      it('a revision: refuses an append when the stream has moved on, naming its last revision', async () => {
        const stream = unique('exact-behind');
        await store.appendToStream(stream, events(3));
        await expectRefused(store.appendToStream(stream, events(1), { expectedRevision: 1 }), stream, 1, 2);
        expect(revisionsOf(await read(store, stream))).toEqual([0, 1, 2]);
      });

      it('a revision: refuses an append when the stream has not reached it yet', async () => {
        const stream = unique('exact-ahead');
        await store.appendToStream(stream, events(2));
        await expectRefused(store.appendToStream(stream, events(1), { expectedRevision: 5 }), stream, 5, 1);
        expect(revisionsOf(await read(store, stream))).toEqual([0, 1]);
      });

      it('a revision: refuses an append to a missing stream, naming no_stream', async () => {
        const stream = unique('exact-missing');
        await expectRefused(store.appendToStream(stream, events(1), { expectedRevision: 0 }), stream, 0, 'no_stream');
        expect(await read(store, stream)).toEqual([]);
      });

      it('two connections appending to one stream at once with the same expected revision: exactly one wins', async () => {
        const other = await subject.openAnother();
        try {
          for (let round = 0; round < 5; round++) {
            const stream = unique('race');
            await store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' });
            const [mine, theirs] = [event('Mine'), event('Theirs')];

            const outcomes = await Promise.allSettled([
              store.appendToStream(stream, [mine], { expectedRevision: 0 }),
              other.appendToStream(stream, [theirs], { expectedRevision: 0 }),
            ]);

            const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
            const lost = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
            expect(won, `round ${round}`).toHaveLength(1);
            expect(lost, `round ${round}`).toHaveLength(1);
            expect(lost[0]!.reason).toBeInstanceOf(WrongExpectedRevision);
            expect(lost[0]!.reason).toMatchObject({ streamName: stream, expected: 0, actual: 1 });
            const stored = await read(store, stream);
            expect(revisionsOf(stored)).toEqual([0, 1]);
            expect([mine.id, theirs.id]).toContain(stored[1]!.id);
          }
        } finally {
          await other.close();
        }
      });
    });

    describe('retried appends', () => {
      it('re-appending the same event writes nothing and answers as the first append did', async () => {
        const stream = unique('retry-one');
        const parked = event('CallParked', { orbit: 7 });

        const first = await store.appendToStream(stream, [parked], { expectedRevision: 'no_stream' });
        const retry = await store.appendToStream(stream, [parked], { expectedRevision: 'no_stream' });

        expect(retry).toEqual(first);
        expect(idsOf(await read(store, stream))).toEqual([parked.id]);
      });

      it('re-appending the same events of a batch writes nothing and answers as the first append did', async () => {
        const stream = unique('retry-batch');
        await store.appendToStream(stream, events(2));
        const batch = events(3);

        const first = await store.appendToStream(stream, batch, { expectedRevision: 1 });
        const retry = await store.appendToStream(stream, batch, { expectedRevision: 1 });
        const retryWithAny = await store.appendToStream(stream, batch);

        expect(retry).toEqual(first);
        expect(retryWithAny).toEqual(first);
        expect(revisionsOf(await read(store, stream))).toEqual([0, 1, 2, 3, 4]);
      });

      it('re-appending events after the stream moved on writes nothing again', async () => {
        const stream = unique('retry-late');
        const batch = events(2);
        const first = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });
        await store.appendToStream(stream, events(2), { expectedRevision: 1 });

        const retry = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });

        expect(retry.position).toEqual(first.position);
        expect(revisionsOf(await read(store, stream))).toEqual([0, 1, 2, 3]);
        expect(idsOf((await read(store, stream)).slice(0, 2))).toEqual(idsOf(batch));
      });
    });

    describe('reading a stream', () => {
      let stream: string;
      beforeAll(async () => {
        stream = unique('read');
        await store.appendToStream(stream, events(10));
      });

      it('reads a missing stream as empty, not as an error', async () => {
        expect(await read(store, unique('missing'))).toEqual([]);
        expect(await read(store, unique('missing'), { direction: 'backwards' })).toEqual([]);
      });

      it('reads forwards from revision 0 by default', async () => {
        expect(revisionsOf(await read(store, stream))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      });

      it('reads forwards from a revision', async () => {
        expect(revisionsOf(await read(store, stream, { fromRevision: 7 }))).toEqual([7, 8, 9]);
        expect(await read(store, stream, { fromRevision: 10 })).toEqual([]);
      });

      it('reads backwards from the end by default, and from a revision', async () => {
        expect(revisionsOf(await read(store, stream, { direction: 'backwards' }))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect(revisionsOf(await read(store, stream, { direction: 'backwards', fromRevision: 3 }))).toEqual([3, 2, 1, 0]);
      });

      it('reads at most maxCount events, in either direction', async () => {
        expect(revisionsOf(await read(store, stream, { maxCount: 3 }))).toEqual([0, 1, 2]);
        expect(revisionsOf(await read(store, stream, { fromRevision: 4, maxCount: 2 }))).toEqual([4, 5]);
        expect(revisionsOf(await read(store, stream, { direction: 'backwards', maxCount: 2 }))).toEqual([9, 8]);
        expect(revisionsOf(await read(store, stream, { direction: 'backwards', fromRevision: 5, maxCount: 3 }))).toEqual([5, 4, 3]);
      });
    });

    describe('subscribing to all', () => {
      it('delivers history from the start of the log, in order', async () => {
        const prefix = unique('from-start');
        const appended = events(3);
        await store.appendToStream(`${prefix}-1`, appended);

        const received = await collect(store.subscribeToAll({ filter: { streamNamePrefixes: [prefix] } }), 3);

        expect(idsOf(received)).toEqual(idsOf(appended));
        expect(revisionsOf(received)).toEqual([0, 1, 2]);
      });

      it('delivers only the events after a given position', async () => {
        const prefix = unique('from-position');
        const appended = events(4);
        await store.appendToStream(`${prefix}-1`, appended);
        const stored = await read(store, `${prefix}-1`);

        const received = await collect(store.subscribeToAll({ after: stored[1]!.position, filter: { streamNamePrefixes: [prefix] } }), 2);

        expect(idsOf(received)).toEqual(idsOf(appended.slice(2)));
      });

      it('delivers events appended after it started (live), after its history', async () => {
        const prefix = unique('live');
        const history = events(2);
        await store.appendToStream(`${prefix}-1`, history);
        const arriving = collect(store.subscribeToAll({ filter: { streamNamePrefixes: [prefix] } }), 5);
        await letItGoLive();

        const live = [...events(1), ...events(2)];
        await store.appendToStream(`${prefix}-1`, live.slice(0, 1));
        await store.appendToStream(`${prefix}-2`, live.slice(1));

        expect(idsOf(await arriving)).toEqual(idsOf([...history, ...live]));
      });

      it('delivers live events appended through another connection', async () => {
        const prefix = unique('live-other');
        const other = await subject.openAnother();
        try {
          const arriving = collect(store.subscribeToAll({ after: await store.headPosition(), filter: { streamNamePrefixes: [prefix] } }), 3);
          await letItGoLive();
          const appended = events(3);
          await other.appendToStream(`${prefix}-1`, appended);
          expect(idsOf(await arriving)).toEqual(idsOf(appended));
        } finally {
          await other.close();
        }
      });

      it('delivers events of every stream in global order', async () => {
        const prefix = unique('global-order');
        const appended: EventData[] = [];
        for (const stream of ['a', 'b', 'c', 'a', 'c', 'b', 'a']) {
          const batch = events(2);
          appended.push(...batch);
          await store.appendToStream(`${prefix}-${stream}`, batch);
        }

        const received = await collect(store.subscribeToAll({ filter: { streamNamePrefixes: [prefix] } }), appended.length);

        expect(idsOf(received)).toEqual(idsOf(appended));
        expectIncreasing(received.map((recorded) => recorded.position));
      });

      it('filters by stream name prefix', async () => {
        const prefix = unique('by-stream');
        const [orders, calls, other] = [events(2), events(2), events(2)];
        await store.appendToStream(`${prefix}-order-1`, orders.slice(0, 1));
        await store.appendToStream(`${prefix}-other-1`, other);
        await store.appendToStream(`${prefix}-call-1`, calls);
        await store.appendToStream(`${prefix}-order-2`, orders.slice(1));

        const received = await collect(store.subscribeToAll({ filter: { streamNamePrefixes: [`${prefix}-order-`, `${prefix}-call-`] } }), 4);

        expect(idsOf(received)).toEqual(idsOf([orders[0]!, ...calls, orders[1]!]));
      });

      it('filters by event type prefix', async () => {
        const type = unique('Type').replaceAll('-', '');
        const stream = unique('by-type');
        const wanted = [event(`${type}Parked`), event(`${type}Retrieved`)];
        await store.appendToStream(stream, [wanted[0]!, event(`Other${type}`), event('CallParked'), wanted[1]!]);

        const received = await collect(store.subscribeToAll({ filter: { eventTypePrefixes: [type] } }), 2);

        expect(idsOf(received)).toEqual(idsOf(wanted));
        expect(received.map((recorded) => recorded.streamName)).toEqual([stream, stream]);
      });

      it('filters by stream name prefix and event type prefix together', async () => {
        const prefix = unique('both');
        const wanted = event('Parked');
        await store.appendToStream(`${prefix}-1`, [event('Retrieved'), wanted]);
        await store.appendToStream(`${unique('elsewhere')}`, [event('Parked')]);

        const received = await collect(store.subscribeToAll({ filter: { streamNamePrefixes: [prefix], eventTypePrefixes: ['Park'] } }), 1);

        expect(idsOf(received)).toEqual([wanted.id]);
      });

      it('ends the iteration of a waiting subscription when it is closed', async () => {
        const subscription = store.subscribeToAll({ filter: { streamNamePrefixes: [unique('closing')] } });
        const iterating = (async () => {
          let seen = 0;
          for await (const _ of subscription) seen++;
          return seen;
        })();
        await letItGoLive();

        await subscription.close();

        await expect(iterating).resolves.toBe(0);
      });

      it('resumes after its connection drops, seeing every event at least once and none lost (skipped for stores without a connection to cut)', async (context) => {
        const dropConnections = subject.dropConnections?.bind(subject);
        if (dropConnections === undefined) return context.skip(`${name} has no connection to cut (no dropConnections)`);
        const prefix = unique('resume');
        const before = events(5);
        const after = events(5);
        await store.appendToStream(`${prefix}-1`, before);
        const subscription = store.subscribeToAll({ filter: { streamNamePrefixes: [prefix] } });
        const timer = setTimeout(() => void subscription.close(), 30_000);
        const received: RecordedEvent[] = [];
        const seen = new Set<string>();
        try {
          for await (const recorded of subscription) {
            received.push(recorded);
            seen.add(recorded.id);
            if (seen.size === before.length && received.length === before.length) {
              await dropConnections();
              await store.appendToStream(`${prefix}-1`, after.slice(0, 2));
              await store.appendToStream(`${prefix}-2`, after.slice(2));
            }
            if (seen.size === before.length + after.length) break;
          }
        } finally {
          clearTimeout(timer);
          await subscription.close();
        }

        const firstSightings = idsOf(received).filter((id, index, all) => all.indexOf(id) === index);
        expect(firstSightings).toEqual(idsOf([...before, ...after]));
      }, 60_000);
    });

    describe('a large stream', () => {
      it(`appends ${largeStreamSize.toLocaleString('en-US')} events in batches and reads them back in order`, async () => {
        const stream = unique('large');
        const batchSize = 1_000;
        for (let written = 0; written < largeStreamSize; written += batchSize) {
          const count = Math.min(batchSize, largeStreamSize - written);
          const batch = Array.from({ length: count }, (_, n) => event('Counted', { n: written + n }));
          const answer = await store.appendToStream(stream, batch, { expectedRevision: written === 0 ? 'no_stream' : written - 1 });
          expect(answer.nextExpectedRevision).toBe(written + count - 1);
        }

        let expected = 0;
        let previous: Position | undefined;
        for await (const recorded of store.readStream(stream)) {
          if (recorded.revision !== expected) expect(recorded.revision, 'revisions follow one another').toBe(expected);
          if ((recorded.data as { n: number }).n !== expected) expect(recorded.data, `data of revision ${expected}`).toEqual({ n: expected });
          if (previous !== undefined && comparePositions(previous, recorded.position) >= 0) expect.fail(`position of revision ${expected} does not increase`);
          previous = recorded.position;
          expected++;
        }
        expect(expected).toBe(largeStreamSize);
        expect(revisionsOf(await read(store, stream, { direction: 'backwards', maxCount: 3 }))).toEqual([largeStreamSize - 1, largeStreamSize - 2, largeStreamSize - 3]);
      }, 300_000);
    });

    describe('snapshots', () => {
      it('keeps none until one is written, then the newest one: a later revision replaces it, an earlier one does not', async () => {
        const stream = unique('snapshotted');
        expect(await store.readSnapshot(stream)).toBeUndefined();
        await store.writeSnapshot(stream, { revision: 3, data: { state: 'at 3', list: [1, 2, 3] } });
        expect(await store.readSnapshot(stream)).toEqual({ revision: 3, data: { state: 'at 3', list: [1, 2, 3] } });
        await store.writeSnapshot(stream, { revision: 9, data: { state: 'at 9' } });
        await store.writeSnapshot(stream, { revision: 5, data: { state: 'at 5, written late' } });
        expect(await store.readSnapshot(stream)).toEqual({ revision: 9, data: { state: 'at 9' } });
        expect(await store.readSnapshot(unique('other'))).toBeUndefined();
      });

      it('shows a snapshot written through one connection to another', async () => {
        const stream = unique('shared-snapshot');
        const other = await subject.openAnother();
        try {
          await store.writeSnapshot(stream, { revision: 0, data: { from: 'the first' } });
          expect(await other.readSnapshot(stream)).toEqual({ revision: 0, data: { from: 'the first' } });
        } finally {
          await other.close();
        }
      });

      it('keeps a snapshot larger than the largest append whole', async () => {
        const stream = unique('large-snapshot');
        const size = Math.min(Number.isFinite(store.maxAppendSize) ? store.maxAppendSize * 2.5 : 3_000_000, 3_000_000);
        const rows = Array.from({ length: Math.ceil(size / 40) }, (_, n) => [n, `row "${n}" é`]);
        await store.writeSnapshot(stream, { revision: 41, data: { rows } });
        await store.writeSnapshot(stream, { revision: 42, data: { rows: rows.slice(1) } });
        expect(await store.readSnapshot(stream)).toEqual({ revision: 42, data: { rows: rows.slice(1) } });
      }, 60_000);

      it('keeps snapshots out of the log: neither the stream nor a subscription to all delivers them', async () => {
        const stream = unique('apart');
        const marker = unique('marker');
        const start = await store.headPosition();
        await store.appendToStream(stream, [event('Before')]);
        await store.writeSnapshot(stream, { revision: 0, data: { marker } });
        await store.appendToStream(stream, [event('After')]);
        expect((await read(store, stream)).map((recorded) => recorded.type)).toEqual(['Before', 'After']);

        const delivered: RecordedEvent[] = [];
        const subscription = store.subscribeToAll(start === undefined ? {} : { after: start });
        const timer = setTimeout(() => void subscription.close(), 20_000);
        for await (const recorded of subscription) {
          delivered.push(recorded);
          if (recorded.streamName === stream && recorded.type === 'After') break;
        }
        clearTimeout(timer);
        await subscription.close();
        expect(delivered.filter((recorded) => recorded.streamName === stream).map((recorded) => recorded.type)).toEqual(['Before', 'After']);
        expect(delivered.filter((recorded) => JSON.stringify(recorded.data).includes(marker))).toEqual([]);
        const head = await store.headPosition();
        expect(comparePositions(head!, delivered.at(-1)!.position)).toBe(0);
      }, 30_000);
    });

    describe('the largest append', () => {
      /** One event whose size, as appendSize counts it, is exactly `size`. */
      const eventOfSize = (size: number): EventData => {
        const base = { id: randomUUID(), type: 'Sized', data: { text: '' } };
        return { ...base, data: { text: 'x'.repeat(size - appendSize([base])) } };
      };

      it('accepts an append of the store’s maximum append size, and refuses one a byte larger with AppendTooLarge, writing nothing', async () => {
        if (!Number.isFinite(store.maxAppendSize)) expect.fail('every store in the contract suite has a maximum append size');
        const stream = unique('sized');
        const limit = store.maxAppendSize;
        const error = await failureOf(store.appendToStream(stream, [eventOfSize(limit - 1000), eventOfSize(1001)]));
        expect(error).toBeInstanceOf(AppendTooLarge);
        expect(error).toMatchObject({ streamName: stream, maxAppendSize: limit });
        expect(await read(store, stream)).toEqual([]);
        const answer = await store.appendToStream(stream, [eventOfSize(limit - 1000), eventOfSize(1000)]);
        expect(answer.nextExpectedRevision).toBe(1);
        expect(await read(store, stream)).toHaveLength(2);
      }, 60_000);
    });

    describe('finding an event by its id', () => {
      it('answers the revision of an event of the stream by its id, and nothing for an id stored elsewhere or not at all (stores with an index of ids)', async (context) => {
        const find = store.findEvent;
        if (find === undefined) return context.skip(`${name} keeps no index of event ids (findEvent): its idempotency record reads the stream back (ADR 0003)`);
        const [stream, other] = [unique('indexed'), unique('elsewhere')];
        const stored = events(3);
        await store.appendToStream(stream, stored);
        const elsewhere = event('Elsewhere');
        await store.appendToStream(other, [elsewhere]);
        expect(await find(stream, stored[2]!.id)).toBe(2);
        expect(await find(stream, stored[0]!.id)).toBe(0);
        expect(await find(stream, elsewhere.id)).toBeUndefined();
        expect(await find(stream, randomUUID())).toBeUndefined();
      });
    });
  });
};
