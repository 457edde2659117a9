/**
 * The PostgreSQL event store on the real server (DATABASE_URL_TEST): the EventStore contract, then
 * what only PostgreSQL shows: catch-up subscriptions that never skip an event whose transaction
 * commits after a later position is visible (the sequence-gap problem, ADR 0004; the same
 * scenario run with a naive writer shows the skip), wake-ups by NOTIFY, the log's identity,
 * bounded snapshot rows and a schema of a later version refused.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AppendLockTimeout, PostgresEventStore } from '../../adapters/eventStores/postgres/postgresEventStore.js';
import type { EventData } from '../../domain/eventStore.js';
import { logIdentityOf } from '../../domain/logIdentity.js';
import { eventStoreContract } from '../contract/eventStore.contract.js';
import { freshPostgresLog, type PostgresLog } from '../support/postgresEventStores.js';
import { postgresAvailable } from '../support/services.js';
import { Recorder, deliveryProblems, eventFor, naiveWriter, runGapScenario, someoneWaitsForTheAppendLock, type GapWriter } from './postgresGap.js';

const available = await postgresAvailable();

const logForTest = (label: string): PostgresLog => {
  const log = freshPostgresLog(label);
  onTestFinished(() => log.cleanup());
  return log;
};

/** A store whose next append (armed by `appendHeld`) holds its transaction, and the append lock, open until released. */
const holdingWriter = async (log: PostgresLog): Promise<GapWriter> => {
  let armed: { held: () => void; released: Promise<void> } | undefined;
  const store = await log.open({
    beforeCommit: async () => {
      const hold = armed;
      armed = undefined;
      if (hold === undefined) return;
      hold.held();
      await hold.released;
    },
  });
  return {
    appendHeld: (stream, event) => {
      let release = (): void => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let held = (): void => {};
      const holding = new Promise<void>((resolve) => (held = resolve));
      armed = { held, released };
      return { holding, release, acknowledged: store.appendToStream(stream, [event]) };
    },
    append: (stream, event) => store.appendToStream(stream, [event]),
  };
};

describe.skipIf(!available)('PostgreSQL event store', () => {
  eventStoreContract('PostgreSQL', async () => {
    const log = freshPostgresLog('contract');
    const store = await log.open();
    return {
      store,
      openAnother: () => log.open(),
      dropConnections: () => log.dropConnections(),
      cleanup: () => log.cleanup(),
    };
  });

  describe('the sequence-gap problem', () => {
    it('a naive writer (positions from a sequence at INSERT, no lock): the subscriber sees the later position first and skips the event committed late', async () => {
      const log = logForTest('naive');
      const subscriber = await log.open();
      const watcher = await log.rawClient();
      const naive = await naiveWriter(() => log.rawClient(), log.schema);

      const outcome = await runGapScenario({ a: naive, b: naive }, subscriber, () => someoneWaitsForTheAppendLock(watcher, log.schema));

      expect(outcome.bWaitedForA).toBe(false);
      expect(deliveryProblems(outcome.delivered, outcome.expected)).toEqual([`1 never delivered: ${outcome.expected[0]}`]);
    });

    it('the store: a later append waits for the one holding its transaction open, and the subscriber sees every event once, in order', async () => {
      const log = logForTest('held');
      const subscriber = await log.open();
      const watcher = await log.rawClient();
      const [a, b] = [await holdingWriter(log), await holdingWriter(log)];

      const outcome = await runGapScenario({ a, b }, subscriber, () => someoneWaitsForTheAppendLock(watcher, log.schema));

      expect(outcome.bWaitedForA).toBe(true);
      expect(deliveryProblems(outcome.delivered, outcome.expected)).toEqual([]);
      expect(outcome.delivered.map((recorded) => recorded.id)).toEqual(outcome.expected);
    });

    it('many writers on connections of their own, some holding their transactions open longer: a subscriber sees every event exactly once, in position order', async () => {
      const log = logForTest('load');
      const prefix = `load-${randomUUID().slice(0, 8)}`;
      const subscriber = await log.open();
      const recorder = new Recorder(subscriber.subscribeToAll({ filter: { streamNamePrefixes: [prefix] } }));
      onTestFinished(() => recorder.close());
      let held = 0;
      const writers = await Promise.all(
        Array.from({ length: 6 }, () =>
          log.open({
            maxConnections: 2,
            beforeCommit: async () => {
              if (Math.random() >= 0.3) return;
              held++;
              await sleep(Math.random() * 15);
            },
          }),
        ),
      );
      const appendsPerLoop = 20;
      await Promise.all(
        writers.flatMap((writer, w) =>
          Array.from({ length: 4 }, async (_, loop) => {
            const stream = `${prefix}-w${w}-l${loop}`;
            for (let n = 0; n < appendsPerLoop; n++) {
              const batch: EventData[] = Array.from({ length: 1 + (n % 3) }, () => eventFor(stream));
              await writer.appendToStream(stream, batch, { expectedRevision: n === 0 ? 'no_stream' : 'stream_exists' });
            }
          }),
        ),
      );
      const marker = eventFor('marker');
      await writers[0]!.appendToStream(`${prefix}-marker`, [marker]);
      await recorder.sawId(marker.id);

      const watcher = await log.rawClient();
      const { rows } = await watcher.query<{ event_id: string }>('SELECT event_id FROM events WHERE starts_with(stream_name, $1) ORDER BY position', [prefix]);
      const stored = rows.map((row) => row.event_id);
      expect(stored).toHaveLength(6 * 4 * (7 * 2 + 6 * 3 + 7 * 1) + 1);
      expect(held, 'some transactions were held open').toBeGreaterThan(0);
      expect(deliveryProblems(recorder.delivered, stored)).toEqual([]);
      expect(recorder.delivered.map((recorded) => recorded.id)).toEqual(stored);
    }, 120_000);
  });

  describe('group commit', () => {
    it('of appends made together, one refused is refused alone: the others are written, at dense positions', async () => {
      const log = logForTest('group');
      const store = await log.open();
      await store.appendToStream('group-a', [eventFor('a0')]);
      const [good, refused, other] = await Promise.allSettled([
        store.appendToStream('group-a', [eventFor('a1')], { expectedRevision: 0 }),
        store.appendToStream('group-b', [eventFor('b0')], { expectedRevision: 3 }),
        store.appendToStream('group-c', [eventFor('c0'), eventFor('c1')], { expectedRevision: 'no_stream' }),
      ]);
      expect(good).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 1 } });
      expect(refused).toMatchObject({ status: 'rejected', reason: { name: 'WrongExpectedRevision', actual: 'no_stream' } });
      expect(other).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 1 } });
      const client = await log.rawClient();
      const { rows } = await client.query<{ stream_name: string; position: string }>('SELECT stream_name, position::text FROM events ORDER BY position');
      expect(rows.map((row) => [row.stream_name, row.position])).toEqual([
        ['group-a', '1'],
        ['group-a', '2'],
        ['group-c', '3'],
        ['group-c', '4'],
      ]);
    });
  });

  describe('lost connections', () => {
    it('an append whose connection is cut before its COMMIT is written again on a fresh one, once', async () => {
      const log = logForTest('lost');
      let cuts = 0;
      // Every connection of the log is cut while the append's transaction is open: the writer's too.
      const store = await log.open({ beforeCommit: async () => (cuts++ === 0 ? log.dropConnections() : undefined) });
      await store.appendToStream('lost-a', [eventFor('a0')]);

      const appended = await Promise.all([store.appendToStream('lost-a', [eventFor('a1')], { expectedRevision: 0 }), store.appendToStream('lost-b', [eventFor('b0')])]);

      expect(cuts).toBeGreaterThan(1);
      expect(appended.map((result) => result.nextExpectedRevision)).toEqual([1, 0]);
      const client = await log.rawClient();
      const { rows } = await client.query<{ stream_name: string; revision: string }>('SELECT stream_name, revision::text FROM events ORDER BY position');
      expect(rows.map((row) => [row.stream_name, row.revision])).toEqual([
        ['lost-a', '0'],
        ['lost-a', '1'],
        ['lost-b', '0'],
      ]);
    });
  });

  describe('bounded waits', () => {
    it('an append that cannot get the append lock within lock_timeout fails, writing nothing; once the lock is free it goes through', async () => {
      const log = logForTest('locktimeout');
      const holder = await holdingWriter(log);
      const impatient = await log.open({ lockTimeoutMs: 200 });
      const held = holder.appendHeld('held-1', eventFor('held'));
      await held.holding;

      const refused = eventFor('refused');
      await expect(impatient.appendToStream('waiting-1', [refused])).rejects.toBeInstanceOf(AppendLockTimeout);
      held.release();
      await held.acknowledged;
      expect(await impatient.findEvent('waiting-1', refused.id)).toBeUndefined();
      await expect(impatient.appendToStream('waiting-1', [refused], { expectedRevision: 'no_stream' })).resolves.toMatchObject({ nextExpectedRevision: 0 });
    });
  });

  describe('wake-ups', () => {
    it('a live subscription is woken by the NOTIFY of another process’s commit, not by its poll', async () => {
      const log = logForTest('notify');
      const reader = await log.open({ pollIntervalMs: 600_000 });
      const writer = await log.open({ pollIntervalMs: 600_000 });
      const recorder = new Recorder(reader.subscribeToAll({ filter: { streamNamePrefixes: ['woken-'] } }));
      onTestFinished(() => recorder.close());
      // Caught up on an empty log, the subscription now waits (its poll is ten minutes away).
      const first = eventFor('first');
      await writer.appendToStream('woken-1', [first]);
      await recorder.sawId(first.id);
      const second = eventFor('second');
      await writer.appendToStream('woken-1', [second]);
      await recorder.sawId(second.id);
      expect(recorder.delivered.map((recorded) => recorded.id)).toEqual([first.id, second.id]);
    }, 30_000);

    it('after its listening connection is cut, a subscription is woken again once it listens anew', async () => {
      const log = logForTest('relisten');
      const reader = await log.open({ pollIntervalMs: 600_000 });
      const writer = await PostgresEventStore.open({ connectionString: log.connectionString, schema: log.schema, pollIntervalMs: 600_000 });
      onTestFinished(() => writer.close());
      const recorder = new Recorder(reader.subscribeToAll({ filter: { streamNamePrefixes: ['relisten-'] } }));
      onTestFinished(() => recorder.close());
      const before = eventFor('before');
      await writer.appendToStream('relisten-1', [before]);
      await recorder.sawId(before.id);

      await log.dropConnections();
      const after = eventFor('after');
      // The writer's own pooled connections were cut too: the store writes the append again on a fresh one.
      await writer.appendToStream('relisten-1', [after]);
      await recorder.sawId(after.id);
      expect(recorder.delivered.map((recorded) => recorded.id)).toEqual([before.id, after.id]);
    }, 30_000);
  });

  describe('the schema', () => {
    it('keeps one identity per log: every store on the schema answers it, another schema is another log', async () => {
      const [log, other] = [logForTest('identity'), logForTest('identity')];
      const [one, two, three] = await Promise.all([log.open(), log.open(), other.open()]);
      const id = await logIdentityOf(one);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await logIdentityOf(two)).toBe(id);
      expect(await logIdentityOf(three)).not.toBe(id);
      expect(await one.headPosition()).toBeUndefined();
    });

    it('keeps one snapshot row per stream however many are written, and none in the log', async () => {
      const log = logForTest('snapshots');
      const store = await log.open();
      await store.appendToStream('tenant-a', [eventFor('x')]);
      await Promise.all(Array.from({ length: 50 }, (_, revision) => store.writeSnapshot('tenant-a', { revision, data: { filler: 'x'.repeat(10_000), revision } })));
      await store.writeSnapshot('tenant-b', { revision: 7, data: {} });
      const client = await log.rawClient();
      expect((await client.query('SELECT stream_name, revision::int FROM snapshots ORDER BY stream_name')).rows).toEqual([
        { stream_name: 'tenant-a', revision: 49 },
        { stream_name: 'tenant-b', revision: 7 },
      ]);
      expect((await client.query('SELECT count(*)::int AS n FROM events')).rows[0]).toEqual({ n: 1 });
    });

    it('refuses a schema of a later version, saying what to do', async () => {
      const log = logForTest('future');
      await log.open();
      const client = await log.rawClient();
      await client.query('UPDATE log_identity SET schema_version = 9');
      await expect(PostgresEventStore.open({ connectionString: log.connectionString, schema: log.schema })).rejects.toThrow(/schema version 9.*EVENTSTORE_POSTGRES_SCHEMA/);
    });

    it('names what to check when the database cannot be reached', async () => {
      await expect(PostgresEventStore.open({ connectionString: log0() })).rejects.toThrow(/EVENTSTORE_CONNECTION_STRING, schema callpark_events\) could not be opened: .*ECONNREFUSED/);
    });

    it('refuses a schema name that is not a plain identifier', () => {
      expect(() => new PostgresEventStore({ connectionString: log0(), schema: 'x; DROP TABLE events' })).toThrow(/not a schema name/);
    });
  });
});

const log0 = (): string => 'postgres://nobody@127.0.0.1:1/none';
