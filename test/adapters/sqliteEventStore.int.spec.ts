/**
 * The SQLite event store on real files: the EventStore contract, then what only a file shared by
 * processes can show: refused ids, group commit, acknowledged appends surviving SIGKILL, and two
 * processes racing on one stream.
 *
 * The child processes run the compiled fixture (dist/test/adapters/fixtures/sqliteAppender.js):
 * `npm test` builds it; after editing it, run `npx tsc -b` before `npx vitest run`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { EventIdConflict, SqliteEventStore, type SqliteEventStoreOptions } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { WrongExpectedRevision, type EventData, type EventStore, type RecordedEvent } from '../../domain/eventStore.js';
import { eventStoreContract } from '../contract/eventStore.contract.js';
import * as E from 'fp-ts/lib/Either.js';
import { decide } from '../../domain/callPark.js';
import { initialState } from '../../domain/callParkState.js';
import { decode } from '../../domain/codec/codec.js';
import { CallParkCommand } from '../../domain/commands.js';
import { fromStoredForm, toStoredForm } from '../../domain/storedForm/storedEvent.js';

const fixture = fileURLToPath(new URL('../../dist/test/adapters/fixtures/sqliteAppender.js', import.meta.url));

const temporaryFile = async (): Promise<{ readonly path: string; readonly remove: () => Promise<void> }> => {
  const directory = await mkdtemp(join(tmpdir(), 'callpark-sqlite-'));
  return { path: join(directory, 'events.db'), remove: () => rm(directory, { recursive: true, force: true }) };
};

/** A store on a fresh file, closed and removed when the test finishes. */
const freshStore = async (options?: SqliteEventStoreOptions): Promise<{ readonly store: SqliteEventStore; readonly path: string }> => {
  const file = await temporaryFile();
  const store = new SqliteEventStore(file.path, options);
  onTestFinished(async () => {
    await store.close();
    await file.remove();
  });
  return { store, path: file.path };
};

const event = (data: unknown = {}, type = 'Happened'): EventData => ({ id: randomUUID(), type, data });
const events = (count: number): EventData[] => Array.from({ length: count }, (_, n) => event({ n }));

const read = async (store: EventStore, stream: string): Promise<RecordedEvent[]> => {
  const found: RecordedEvent[] = [];
  for await (const recorded of store.readStream(stream)) found.push(recorded);
  return found;
};

const failureOf = (append: Promise<unknown>): Promise<unknown> => append.then(() => undefined, (error: unknown) => error);

const runFixture = (args: readonly string[]): { readonly child: ChildProcess; readonly lines: AsyncIterator<string>; readonly exited: Promise<unknown[]> } => {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  onTestFinished(() => void child.kill('SIGKILL'));
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator](), exited };
};

eventStoreContract('SQLite', async () => {
  const file = await temporaryFile();
  const store = new SqliteEventStore(file.path);
  return {
    store,
    openAnother: async () => new SqliteEventStore(file.path),
    cleanup: async () => {
      await store.close();
      await file.remove();
    },
  };
});

eventStoreContract('SQLite, writing on the caller’s thread', async () => {
  const file = await temporaryFile();
  const store = new SqliteEventStore(file.path, { writerThread: false });
  return {
    store,
    openAnother: async () => new SqliteEventStore(file.path, { writerThread: false }),
    cleanup: async () => {
      await store.close();
      await file.remove();
    },
  };
});

describe('SQLite event store', () => {
  describe('event ids', () => {
    it('refuses an append whose event id is stored in another stream, and writes nothing', async () => {
      const { store } = await freshStore();
      const parked = event();
      await store.appendToStream('orbit-1', [parked]);

      const error = await failureOf(store.appendToStream('orbit-2', [event(), parked]));

      expect(error).toBeInstanceOf(EventIdConflict);
      expect(error).toMatchObject({ eventId: parked.id, streamName: 'orbit-2', storedAt: { streamName: 'orbit-1', revision: 0 } });
      expect(await read(store, 'orbit-2')).toEqual([]);
    });

    it('refuses a retry that does not match what the first append stored', async () => {
      const { store } = await freshStore();
      const [first, second] = events(2);
      await store.appendToStream('orbit-1', [first!, second!]);

      await expect(store.appendToStream('orbit-1', [first!, event()])).rejects.toBeInstanceOf(EventIdConflict);
      await expect(store.appendToStream('orbit-1', [second!, first!])).rejects.toBeInstanceOf(EventIdConflict);
      expect(await read(store, 'orbit-1')).toHaveLength(2);
    });

    it('refuses an append that holds one event id twice', async () => {
      const { store } = await freshStore();
      const twice = event();
      await expect(store.appendToStream('orbit-1', [twice, event(), twice])).rejects.toMatchObject({ name: 'EventIdConflict', eventId: twice.id });
      expect(await read(store, 'orbit-1')).toEqual([]);
    });
  });

  describe('group commit', () => {
    it('writes the appends of one tick together, refusing only those whose expectation fails', async () => {
      const { store } = await freshStore();
      await store.appendToStream('orbit-1', events(1));

      const outcomes = await Promise.allSettled([
        store.appendToStream('orbit-2', events(2), { expectedRevision: 'no_stream' }),
        store.appendToStream('orbit-1', events(3), { expectedRevision: 5 }),
        store.appendToStream('orbit-3', events(1)),
        store.appendToStream('orbit-1', events(2), { expectedRevision: 0 }),
        store.appendToStream('orbit-1', events(1), { expectedRevision: 0 }),
        store.appendToStream('orbit-4', [event({ n: 1n })]),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
      const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' ? outcome.reason : undefined));
      expect(reasons[1]).toMatchObject({ expected: 5, actual: 0 });
      expect(reasons[4]).toBeInstanceOf(WrongExpectedRevision);
      expect(reasons[4]).toMatchObject({ expected: 0, actual: 2 });
      expect(reasons[5]).toBeInstanceOf(TypeError);
      expect((await read(store, 'orbit-1')).map((recorded) => recorded.revision)).toEqual([0, 1, 2]);
      expect(await read(store, 'orbit-2')).toHaveLength(2);
      expect(await read(store, 'orbit-4')).toEqual([]);
    });

    it('writes what is queued when the store closes', async () => {
      const { path } = await freshStore();
      const store = new SqliteEventStore(path);
      const appended = events(2);

      const answer = store.appendToStream('orbit-1', appended);
      await store.close();

      await expect(answer).resolves.toMatchObject({ nextExpectedRevision: 1 });
      const reopened = new SqliteEventStore(path);
      try {
        expect((await read(reopened, 'orbit-1')).map((recorded) => recorded.id)).toEqual(appended.map((e) => e.id));
      } finally {
        await reopened.close();
      }
    });
  });

  describe('the writer thread', () => {
    it('keeps no process alive once its appends are answered', async () => {
      const { path } = await freshStore();
      const { lines, exited } = runFixture(['leave-open', path]);

      expect((await lines.next()).value).toBe('ack 0');
      const [code] = await exited;

      expect(code).toBe(0);
      const reopened = new SqliteEventStore(path);
      try {
        expect((await read(reopened, 'left-open')).map((recorded) => recorded.type)).toEqual(['LeftOpen']);
      } finally {
        await reopened.close();
      }
    });

    it('takes the appends that arrive during a commit into the next one, in order', async () => {
      const { store } = await freshStore();
      const first = store.appendToStream('orbit-1', events(1), { expectedRevision: 'no_stream' });
      // Queued while the first is being written: the next transaction, after it.
      await new Promise((resolve) => setImmediate(resolve));
      const later = Array.from({ length: 20 }, (_, n) => store.appendToStream('orbit-1', events(1), { expectedRevision: 'stream_exists' }).then((result) => ({ n, result })));

      await first;
      const answers = await Promise.all(later);

      expect(answers.map(({ result }) => result.nextExpectedRevision)).toEqual(answers.map(({ n }) => n + 1));
      expect((await read(store, 'orbit-1')).map((recorded) => recorded.revision)).toEqual(Array.from({ length: 21 }, (_, n) => n));
    });
  });

  describe('pages', () => {
    it('reads streams and the log across many pages: every event once, in order', async () => {
      const { store } = await freshStore({ pageSize: 7 });
      const appended: { stream: string; id: string }[] = [];
      for (let n = 0; n < 60; n++) {
        const stream = `orbit-${n % 3 === 0 ? 'a' : n % 3 === 1 ? 'b' : 'c'}`;
        const one = event({ n });
        appended.push({ stream, id: one.id });
        await store.appendToStream(stream, [one]);
      }
      const idsIn = (stream: string): string[] => appended.filter((e) => e.stream === stream).map((e) => e.id);
      const collect = async (subscription: AsyncIterable<RecordedEvent>, count: number): Promise<string[]> => {
        const ids: string[] = [];
        for await (const recorded of subscription) if (ids.push(recorded.id) === count) break;
        return ids;
      };

      expect((await read(store, 'orbit-a')).map((e) => e.id)).toEqual(idsIn('orbit-a'));
      const backwards: string[] = [];
      for await (const recorded of store.readStream('orbit-b', { direction: 'backwards', fromRevision: 17, maxCount: 16 })) backwards.push(recorded.id);
      expect(backwards).toEqual(idsIn('orbit-b').slice(2, 18).reverse());

      const all = store.subscribeToAll();
      expect(await collect(all, 60)).toEqual(appended.map((e) => e.id));
      await all.close();
      const onlyC = store.subscribeToAll({ filter: { streamNamePrefixes: ['orbit-c'] } });
      expect(await collect(onlyC, 20)).toEqual(idsIn('orbit-c'));
      await onlyC.close();
    });
  });

  describe('the file', () => {
    it('is in WAL mode, numbers positions from 1 as bigints, and keeps everything when reopened', async () => {
      const { store, path } = await freshStore();
      const answer = await store.appendToStream('orbit-1', events(3));
      expect(answer.position).toEqual({ commit: 3n, prepare: 3n });
      await store.close();

      const raw = new Database(path);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      raw.close();
      const reopened = new SqliteEventStore(path);
      try {
        expect((await read(reopened, 'orbit-1')).map((recorded) => recorded.position.commit)).toEqual([1n, 2n, 3n]);
        expect(await reopened.headPosition()).toEqual({ commit: 3n, prepare: 3n });
      } finally {
        await reopened.close();
      }
    });

    it('refuses a file written by a newer schema', async () => {
      const { path } = await freshStore();
      const raw = new Database(path);
      raw.pragma('user_version = 99');
      raw.close();
      expect(() => new SqliteEventStore(path)).toThrow(/schema version 99/);
    });
  });

  describe('processes sharing the file', () => {
    beforeAll(() => {
      if (!existsSync(fixture)) throw new Error(`The compiled fixture ${fixture} is missing: run \`npx tsc -b\` first.`);
    });

    it('keeps every acknowledged append when the appending process is killed (SIGKILL), and the file stays sound', async () => {
      const { path, remove } = await temporaryFile();
      onTestFinished(remove);
      const acknowledged = new Map<string, { readonly stream: string; readonly revision: number }>();
      for (const synchronous of ['normal', 'full', 'normal']) {
        const { child, lines, exited } = runFixture(['acknowledge', path, synchronous, 'orbit', '8']);
        const enough = acknowledged.size + 500;
        for (let line = await lines.next(); !line.done; line = await lines.next()) {
          const [, stream, revision, id] = line.value.split(' ');
          acknowledged.set(id!, { stream: stream!, revision: Number(revision) });
          if (acknowledged.size >= enough) break;
        }
        child.kill('SIGKILL');
        const [, signal] = await exited;
        expect(signal, 'the child was killed, not finished').toBe('SIGKILL');
      }

      const raw = new Database(path);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      raw.close();
      const store = new SqliteEventStore(path);
      try {
        const stored = new Map<string, RecordedEvent>();
        for (let k = 0; k < 8; k++) {
          const stream = await read(store, `orbit-${k}`);
          expect(stream.map((recorded) => recorded.revision)).toEqual(stream.map((_, revision) => revision));
          const batches = new Map<string, { size: number; found: number }>();
          for (const { data } of stream) {
            const { batchId, size } = data as { batchId: string; size: number };
            const batch = batches.get(batchId) ?? { size, found: 0 };
            batch.found++;
            batches.set(batchId, batch);
          }
          for (const batch of batches.values()) expect(batch.found, 'appends are whole').toBe(batch.size);
          for (const recorded of stream) stored.set(recorded.id, recorded);
        }
        const lost = [...acknowledged].filter(([id, at]) => stored.get(id)?.streamName !== at.stream || stored.get(id)?.revision !== at.revision);
        expect(lost, 'acknowledged events missing after SIGKILL').toEqual([]);
      } finally {
        await store.close();
      }
    }, 120_000);

    it('two processes appending to one stream with expected revisions lose no revision and double none', async () => {
      const { store, path } = await freshStore();
      const stream = 'orbit-raced';
      const count = 150;
      const subscription = store.subscribeToAll({ filter: { streamNamePrefixes: [stream] } });
      const delivered = (async () => {
        const received: RecordedEvent[] = [];
        for await (const recorded of subscription) if (received.push(recorded) === 2 * count) break;
        return received;
      })();

      const writers = ['a', 'b'].map((writer) => runFixture(['race', path, stream, writer, String(count)]));
      for (const { lines } of writers) expect((await lines.next()).value).toBe('ready');
      for (const { child } of writers) child.stdin!.end('go\n');
      const reports = await Promise.all(writers.map(async ({ lines, exited }) => {
        const report = (await lines.next()).value as string;
        const [code] = await exited;
        expect(code).toBe(0);
        return JSON.parse(report) as { written: number; retries: number };
      }));

      const stored = await read(store, stream);
      expect(stored.map((recorded) => recorded.revision)).toEqual(Array.from({ length: 2 * count }, (_, revision) => revision));
      expect(new Set(stored.map((recorded) => recorded.id)).size).toBe(2 * count);
      for (const writer of ['a', 'b']) {
        const own = stored.map((recorded) => recorded.data as { writer: string; n: number }).filter((data) => data.writer === writer);
        expect(own.map((data) => data.n)).toEqual(Array.from({ length: count }, (_, n) => n));
      }
      expect(reports.map((report) => report.written)).toEqual([count, count]);
      expect(reports[0]!.retries + reports[1]!.retries, 'the writers never collided: the race was not exercised').toBeGreaterThan(0);
      const received = await Promise.race([delivered, new Promise<RecordedEvent[]>((resolve) => setTimeout(() => resolve([]), 10_000))]);
      await subscription.close();
      expect(received.map((recorded) => recorded.id)).toEqual(stored.map((recorded) => recorded.id));
      console.log(`two processes raced on one stream: ${reports.map((report) => report.retries).join(' and ')} retries after WrongExpectedRevision`);
    }, 120_000);
  });
});

describe('SQLite event store: snapshots', () => {
  it('keeps one row per stream in the snapshots table however many are written, and none in the log', async () => {
    const { store, path } = await freshStore();
    await store.appendToStream('tenant-a', events(2));
    for (let revision = 0; revision < 50; revision++) await store.writeSnapshot('tenant-a', { revision, data: { filler: 'x'.repeat(10_000), revision } });
    await store.writeSnapshot('tenant-b', { revision: 7, data: {} });
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT stream_name, revision FROM snapshots ORDER BY stream_name').all()).toEqual([
        { stream_name: 'tenant-a', revision: 49 },
        { stream_name: 'tenant-b', revision: 7 },
      ]);
      expect(db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(2);
    } finally {
      db.close();
    }
    expect(await store.readSnapshot('tenant-a')).toMatchObject({ revision: 49 });
  });

  it('migrates a data file of schema version 1: the snapshot events leave the log, positions go on past every one a reader saw', async () => {
    const file = await temporaryFile();
    onTestFinished(() => file.remove());
    // A file as the previous build made it: snapshots as `CallParkSnapshot` events of streams of their own.
    const old = new Database(file.path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE events (position INTEGER PRIMARY KEY, stream_name TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL,
        type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at INTEGER NOT NULL) STRICT;
      CREATE UNIQUE INDEX events_by_stream ON events (stream_name, revision);
      CREATE UNIQUE INDEX events_by_id ON events (event_id);
    `);
    const insert = old.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, 0)');
    const snapshot = JSON.stringify({ schemaVersion: 3, revision: 0, latestAt: 0, state: {}, window: { after: -1, lines: 'x'.repeat(100_000) } });
    insert.run('callpark-tenant-a', 0, randomUUID(), 'Parked', '{}', '{}');
    insert.run('callpark-full-snapshot-a', 0, randomUUID(), 'CallParkSnapshot', snapshot, '{}');
    insert.run('callpark-tenant-a', 1, randomUUID(), 'Retrieved', '{}', '{}');
    insert.run('callpark-snapshot-a', 0, randomUUID(), 'CallParkSnapshot', snapshot, '{}');
    insert.run('callpark-snapshot-a', 1, randomUUID(), 'CallParkSnapshot', snapshot, '{}');
    old.pragma('user_version = 1');
    old.close();

    const store = new SqliteEventStore(file.path);
    onTestFinished(() => store.close());
    const all: RecordedEvent[] = [];
    const subscription = store.subscribeToAll();
    for await (const recorded of subscription) {
      all.push(recorded);
      if (all.length === 3) break;
    }
    await subscription.close();
    // The two events of the tenant, and the log's last row kept (emptied) so that no position is reused.
    expect(all.map((recorded) => [recorded.streamName, recorded.type])).toEqual([
      ['callpark-tenant-a', 'Parked'],
      ['callpark-tenant-a', 'Retrieved'],
      ['callpark-snapshot-a', 'CallParkSnapshot'],
    ]);
    expect(all[2]!.data).toEqual({});
    const next = await store.appendToStream('callpark-tenant-a', events(1));
    expect(next.position.commit).toBe(6n);
    const db = new Database(file.path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare("SELECT COUNT(*) FROM events WHERE type = 'CallParkSnapshot'").pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('refuses a file of a schema it does not know, saying what to do', async () => {
    const file = await temporaryFile();
    onTestFinished(() => file.remove());
    const future = new Database(file.path);
    future.pragma('user_version = 9');
    future.close();
    expect(() => new SqliteEventStore(file.path)).toThrow(/schema version 9.*CALLPARK_DATA_DIR/);
  });
});

describe('SQLite event store: its own appends read back', () => {
  it('a subscription of the store that appended gets the appended objects, equal to what another connection parses; the domain does not decode them again', async () => {
    const { store, path } = await freshStore();
    const other = new SqliteEventStore(path);
    onTestFinished(() => other.close());
    const decodedCommand = decode(CallParkCommand, { type: 'NewPolicy', commandId: 'c-3', at: '2026-11-22T09:00:01.5Z', tenantId: 'contoso', policy: 'Tag:Sales', settings: { pickupRangeStart: 10 } });
    if (E.isLeft(decodedCommand)) throw new Error('The command does not decode.');
    const command = decodedCommand.right;
    const decided = decide(command, initialState());
    if (E.isLeft(decided)) throw new Error('The policy was refused.');
    const [created] = decided.right;
    const parked = toStoredForm(created!, { commandId: command.commandId });
    const appended: EventData[] = [{ id: randomUUID(), ...parked }, event({ n: 1 })];
    await store.appendToStream('tenant-a', appended);
    // The other connection appends an event of its own: parsed by both.
    await other.appendToStream('tenant-b', [event({ n: 2 })]);
    const subscribed = async (from: EventStore): Promise<RecordedEvent[]> => {
      const found: RecordedEvent[] = [];
      const subscription = from.subscribeToAll();
      for await (const recorded of subscription) if (found.push(recorded) === 3) break;
      await subscription.close();
      return found;
    };
    const own = await subscribed(store);
    const parsed = await subscribed(other);
    expect(own).toEqual(parsed);
    expect(own[0]!.data).toBe(appended[0]!.data);
    expect(own[1]!.data).toBe(appended[1]!.data);
    expect(parsed[0]!.data).not.toBe(appended[0]!.data);
    const decodedOwn = fromStoredForm(own[0]!.type, own[0]!.data, own[0]!.metadata);
    const decodedParsed = fromStoredForm(parsed[0]!.type, parsed[0]!.data, parsed[0]!.metadata);
    expect(decodedOwn).toEqual(decodedParsed);
    // Not decoded again: the very event it was encoded from.
    expect(E.isRight(decodedOwn) && decodedOwn.right.event).toBe(created);
  });
});
