/**
 * The EventStoreDB adapter, through the real `@eventstore/db-client` over gRPC:
 * - the EventStore contract against the in-process EventStoreDB protocol stand-in, on every run
 *   (the stand-in is not EventStoreDB: see test/esdbProtocolStandIn/standInServer.ts);
 * - the EventStore contract against a real EventStoreDB: EVENTSTORE_CONNECTION_STRING when set,
 *   else a testcontainers `eventstore/eventstore:24.10` where a container runtime exists, else
 *   skipped with a loud notice (only the stand-in ran);
 * - what is particular to this adapter, against the stand-in: event ids that dedupe retried
 *   appends on both of the client's append paths, subscriptions that resume after the server
 *   drops them, and system events kept out of subscriptions and of the head position.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect as connectTcp, type Socket } from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { callParkStream } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { connectEventStoreDb, esdbEventId, snapshotStreamOf, type EventStoreDbOptions } from '../../adapters/eventStores/eventStoreDb/eventStoreDbEventStore.js';
import { WrongExpectedRevision, type EventData, type EventStore, type Position, type RecordedEvent, type Subscription } from '../../domain/eventStore.js';
import { eventStoreContract, type ContractSubject } from '../contract/eventStore.contract.js';
import { startEsdbProtocolStandIn, type EsdbProtocolStandIn, type EsdbProtocolStandInOptions } from '../esdbProtocolStandIn/standInServer.js';
import { requireService, tcpAnswers } from '../support/services.js';

const EVENTSTORE_IMAGE = 'eventstore/eventstore:24.10';

const quiet: EventStoreDbOptions = { onSubscriptionDropped: () => undefined, resubscribeInitialDelayMs: 50 };

/** A contract subject: connections to one server, all closed at cleanup. */
const subjectOn = (connectionString: string, extra: { dropConnections?: () => Promise<void>; stop?: () => Promise<void> } = {}): ContractSubject => {
  const opened: EventStore[] = [];
  const connect = (): EventStore => {
    const store = connectEventStoreDb(connectionString, quiet);
    opened.push(store);
    return store;
  };
  return {
    store: connect(),
    openAnother: async () => connect(),
    ...(extra.dropConnections ? { dropConnections: extra.dropConnections } : {}),
    cleanup: async () => {
      await Promise.all(opened.map((store) => store.close()));
      await extra.stop?.();
    },
  };
};

// ---------------------------------------------------------------------------------------------
// The contract against the protocol stand-in.

eventStoreContract('EventStoreDB adapter on the EventStoreDB protocol stand-in', async () => {
  const standIn = await startEsdbProtocolStandIn();
  return subjectOn(standIn.connectionString, { dropConnections: () => standIn.dropConnections(), stop: () => standIn.stop() });
});

// ---------------------------------------------------------------------------------------------
// The contract against a real EventStoreDB, when there is one.

interface RealServer {
  readonly host: string;
  readonly port: number;
  /** The connection string with `{address}` where host:port goes. */
  readonly template: string;
  stop(): Promise<void>;
}

const banner = (lines: readonly string[]): string => {
  const width = Math.max(...lines.map((line) => line.length));
  const rule = '!'.repeat(width + 4);
  return [rule, ...lines.map((line) => `! ${line.padEnd(width)} !`), rule].join('\n');
};

/**
 * Where the real EventStoreDB is: the configured one (CI=true fails the run when it does not
 * answer), else a container, else nowhere (there is no container runtime on the development
 * machines nor in CI: the suite is skipped with a notice).
 */
const locateRealServer = async (): Promise<(() => Promise<RealServer>) | undefined> => {
  const configured = process.env.EVENTSTORE_CONNECTION_STRING;
  if (configured) {
    const match = /^(esdb(?:\+discover)?:\/\/(?:[^@/]*@)?)([^,/?]+)(.*)$/.exec(configured);
    if (!match) throw new Error('EVENTSTORE_CONNECTION_STRING is not an esdb:// connection string.');
    const [, scheme, address, rest] = match as unknown as [string, string, string, string];
    const [host = '', port = '2113'] = address.split(':');
    const up = await requireService('EventStoreDB', () => tcpAnswers(host, Number(port)), 'point EVENTSTORE_CONNECTION_STRING at a running EventStoreDB');
    if (!up) return undefined;
    const single = !rest.startsWith(',') && !scheme.includes('+discover') && /[?&]tls=false/i.test(rest);
    return async () => ({ host, port: Number(port), template: single ? `${scheme}{address}${rest}` : configured, stop: async () => undefined });
  }
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(
      `\n${banner([
        'SKIPPING the EventStore contract against a real EventStoreDB.',
        `No EVENTSTORE_CONNECTION_STRING, and no container runtime for ${EVENTSTORE_IMAGE} (${reason}).`,
        'Only the EventStoreDB protocol stand-in ran: it is not EventStoreDB.',
        'Run a real one: set EVENTSTORE_CONNECTION_STRING=esdb://<host>:2113?tls=false, or start Docker.',
      ])}\n`,
    );
    return undefined;
  }
  return async () => {
    const container = await new GenericContainer(EVENTSTORE_IMAGE)
      .withEnvironment({ EVENTSTORE_INSECURE: 'true' })
      .withExposedPorts(2113)
      .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCodeMatching((code) => code >= 200 && code < 300))
      .withStartupTimeout(120_000)
      .start();
    return {
      host: container.getHost(),
      port: container.getMappedPort(2113),
      template: 'esdb://{address}?tls=false',
      stop: async () => {
        await container.stop();
      },
    };
  };
};

/**
 * A TCP relay whose connections a test can cut, standing between the client and a real server
 * (which has no switch for that), so the resume case of the contract runs against it too.
 */
const cuttableRelay = async (target: { host: string; port: number }): Promise<{ address: string; cut(): Promise<void>; stop(): Promise<void> }> => {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connectTcp(target.port, target.host);
    const close = (): void => {
      for (const socket of [client, upstream]) {
        socket.destroy();
        sockets.delete(socket);
      }
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', close).on('close', close);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const cut = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await pause(20);
  };
  return { address: `127.0.0.1:${port}`, cut, stop: async () => (await cut(), await new Promise<void>((resolve) => server.close(() => resolve()))) };
};

/** A fresh server may still be electing itself leader: wait until it answers a read. */
const untilItAnswers = async (store: EventStore, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await store.headPosition();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await pause(500);
    }
  }
};

const startRealServer = await locateRealServer();
if (startRealServer) {
  eventStoreContract('EventStoreDB adapter on a real EventStoreDB', async () => {
    const real = await startRealServer();
    const relay = real.template.includes('{address}') ? await cuttableRelay(real) : undefined;
    const connectionString = real.template.replace('{address}', relay?.address ?? `${real.host}:${real.port}`);
    const subject = subjectOn(connectionString, {
      ...(relay ? { dropConnections: () => relay.cut() } : {}),
      stop: async () => {
        await relay?.stop();
        await real.stop();
      },
    });
    await untilItAnswers(subject.store);
    return subject;
  });
} else {
  describe.skip('EventStore contract: EventStoreDB adapter on a real EventStoreDB (no EventStoreDB available: only the protocol stand-in ran)', () => {
    it('runs the EventStore contract against a real EventStoreDB', () => undefined);
  });
}

// ---------------------------------------------------------------------------------------------
// What is particular to the EventStoreDB adapter, against the stand-in.

const unique = (label: string): string => `esdb-${label}-${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const counted = (count: number, type = 'Counted'): EventData[] => Array.from({ length: count }, (_, n) => ({ id: randomUUID(), type, data: { n } }));
const idsOf = (events: readonly { id: string }[]): string[] => events.map((event) => event.id);

const read = async (store: EventStore, streamName: string): Promise<RecordedEvent[]> => {
  const found: RecordedEvent[] = [];
  for await (const recorded of store.readStream(streamName)) found.push(recorded);
  return found;
};

const failureOf = (append: Promise<unknown>): Promise<unknown> => append.then(() => undefined, (error: unknown) => error);

/** The first `count` events of a subscription (fewer after `timeoutMs`); closes it. */
const take = async (subscription: Subscription, count: number, timeoutMs = 10_000): Promise<RecordedEvent[]> => {
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

describe('EventStoreDB adapter: event ids', () => {
  it('sends a UUID as itself, in lowercase', () => {
    const id = randomUUID();
    expect(esdbEventId(id)).toBe(id);
    expect(esdbEventId(id.toUpperCase())).toBe(id);
  });

  it('derives a stable version-5 UUID from any other id', () => {
    const derived = esdbEventId('park-orbit-42-attempt-1');
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(esdbEventId('park-orbit-42-attempt-1')).toBe(derived);
    expect(esdbEventId('park-orbit-42-attempt-2')).not.toBe(derived);
  });
});

const appendPaths: readonly { readonly name: string; readonly rpc: 'batchAppend' | 'append'; readonly options: EsdbProtocolStandInOptions }[] = [
  { name: 'BatchAppend (what the client uses against EventStoreDB 21.10 and later)', rpc: 'batchAppend', options: {} },
  { name: 'Append (a server that does not list BatchAppend)', rpc: 'append', options: { batchAppend: false } },
  { name: 'Append (a server without ServerFeatures, as EventStoreDB 20.x)', rpc: 'append', options: { serverFeatures: false } },
];

describe.each(appendPaths)('EventStoreDB adapter: appends through $name', ({ rpc, options }) => {
  let standIn: EsdbProtocolStandIn;
  let store: EventStore;
  let other: EventStore;

  beforeAll(async () => {
    standIn = await startEsdbProtocolStandIn(options);
    store = connectEventStoreDb(standIn.connectionString, quiet);
    other = connectEventStoreDb(standIn.connectionString, quiet);
  });

  afterAll(async () => {
    await store?.close();
    await other?.close();
    await standIn?.stop();
  });

  it('dedupes a retried append whose ids are deterministic (not UUIDs), also from another connection', async () => {
    const stream = unique('retried');
    const command = unique('command');
    const batch: EventData[] = [0, 1, 2].map((n) => ({ id: `${command}-${n}`, type: 'CallParked', data: { orbit: 40 + n } }));

    const first = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });
    const retried = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });
    const retriedElsewhere = await other.appendToStream(stream, batch, { expectedRevision: 'any' });

    expect(retried).toEqual(first);
    expect(retriedElsewhere).toEqual(first);
    const stored = await read(store, stream);
    expect(idsOf(stored)).toEqual(batch.map((event) => esdbEventId(event.id)));
    expect(standIn.calls()[rpc]).toBeGreaterThan(0);
    expect(standIn.calls()[rpc === 'append' ? 'batchAppend' : 'append']).toBeUndefined();
  });

  it('maps a wrong expected version to WrongExpectedRevision with the actual revision, or no_stream', async () => {
    const stream = unique('wrong');
    const missing = await failureOf(store.appendToStream(stream, counted(1), { expectedRevision: 'stream_exists' }));
    expect(missing).toBeInstanceOf(WrongExpectedRevision);
    expect(missing).toMatchObject({ streamName: stream, expected: 'stream_exists', actual: 'no_stream' });

    await store.appendToStream(stream, counted(2));
    const ahead = await failureOf(store.appendToStream(stream, counted(1), { expectedRevision: 5 }));
    expect(ahead).toMatchObject({ streamName: stream, expected: 5, actual: 1 });
    const exists = await failureOf(store.appendToStream(stream, counted(1), { expectedRevision: 'no_stream' }));
    expect(exists).toMatchObject({ streamName: stream, expected: 'no_stream', actual: 1 });
  });

  it('answers an empty append from the stream as it is, checking the expected revision', async () => {
    const stream = unique('empty');
    await expect(store.appendToStream(stream, [], { expectedRevision: 'no_stream' })).resolves.toMatchObject({ nextExpectedRevision: -1 });
    const written = await store.appendToStream(stream, counted(2));
    await expect(store.appendToStream(stream, [], { expectedRevision: 1 })).resolves.toEqual(written);
    await expect(failureOf(store.appendToStream(stream, [], { expectedRevision: 'no_stream' }))).resolves.toMatchObject({ actual: 1 });
  });
});

describe('EventStoreDB adapter: subscriptions and system events', () => {
  let standIn: EsdbProtocolStandIn;
  let store: EventStore;

  beforeAll(async () => {
    standIn = await startEsdbProtocolStandIn();
    store = connectEventStoreDb(standIn.connectionString, quiet);
  });

  afterAll(async () => {
    await store?.close();
    await standIn?.stop();
  });

  it('keeps system events out of the head position and of an unfiltered subscription', async () => {
    // The stand-in starts with system events only, as a fresh node does.
    await expect(store.headPosition()).resolves.toBeUndefined();
    const stream = unique('ours');
    const ours = counted(2);
    const appended = await store.appendToStream(stream, ours);
    await store.appendToStream(`$$${stream}`, [{ id: randomUUID(), type: '$metadata', data: { $maxCount: 10 } }]);

    await expect(store.headPosition()).resolves.toEqual(appended.position);
    const received = await take(store.subscribeToAll(), 3, 1_000);
    expect(idsOf(received)).toEqual(idsOf(ours));
  });

  it('resumes after the server drops it during catch-up and again while live, losing nothing', async () => {
    const drops: { resumeAfter: Position | undefined }[] = [];
    const resuming = connectEventStoreDb(standIn.connectionString, { resubscribeInitialDelayMs: 20, onSubscriptionDropped: (drop) => void drops.push(drop) });
    const prefix = unique('resume');
    const history = counted(300);
    const live = counted(50);
    for (let i = 0; i < history.length; i += 100) await store.appendToStream(`${prefix}-${i / 100}`, history.slice(i, i + 100));

    const subscription = resuming.subscribeToAll({ filter: { streamNamePrefixes: [prefix] } });
    const timer = setTimeout(() => void subscription.close(), 30_000);
    const received: RecordedEvent[] = [];
    const seen = new Set<string>();
    try {
      for await (const recorded of subscription) {
        received.push(recorded);
        seen.add(recorded.id);
        if (received.length === 100) await standIn.dropConnections();
        if (seen.size === history.length && drops.length === 1) {
          await standIn.dropConnections();
          await store.appendToStream(`${prefix}-live`, live);
        }
        if (seen.size === history.length + live.length) break;
      }
    } finally {
      clearTimeout(timer);
      await subscription.close();
      await resuming.close();
    }

    const firstSightings = idsOf(received).filter((id, index, all) => all.indexOf(id) === index);
    expect(firstSightings).toEqual(idsOf([...history, ...live]));
    expect(drops.length).toBeGreaterThanOrEqual(2);
    expect(drops.every((drop) => drop.resumeAfter !== undefined)).toBe(true);
  });
});

describe('EventStoreDB adapter: snapshots', () => {
  it('keeps a snapshot in parts that each fit an append, and retires every older snapshot’s parts with $tb', async () => {
    const standIn = await startEsdbProtocolStandIn({ maxAppendSize: 64 * 1024 });
    const store = connectEventStoreDb(standIn.connectionString, { ...quiet, maxAppendSize: 64 * 1024 });
    try {
      const big = { rows: Array.from({ length: 20_000 }, (_, n) => `row "${n}"`) };
      for (let revision = 1; revision <= 5; revision++) await store.writeSnapshot('callpark-tenant-t', { revision, data: { ...big, revision } });
      expect(await store.readSnapshot('callpark-tenant-t')).toEqual({ revision: 5, data: { ...big, revision: 5 } });
      // What the server still reads of the snapshot stream: the newest snapshot's parts only.
      const kept: RecordedEvent[] = [];
      for await (const part of store.readStream(snapshotStreamOf('callpark-tenant-t'))) kept.push(part);
      const parts = kept.map((part) => part.data as { revision: number; part: number; parts: number });
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.every((part) => part.revision === 5)).toBe(true);
      expect(parts.map((part) => part.part)).toEqual(Array.from({ length: parts[0]!.parts }, (_, n) => n));
    } finally {
      await store.close();
      await standIn.stop();
    }
  }, 60_000);

  it('reads the newest whole snapshot while a newer one is half written, or was abandoned half written', async () => {
    const standIn = await startEsdbProtocolStandIn();
    const store = connectEventStoreDb(standIn.connectionString, quiet);
    const stream = `callpark-tenant-${randomUUID().slice(0, 8)}`;
    const part = (revision: number, n: number, parts: number, text: string): EventData => ({ id: randomUUID(), type: 'SnapshotPart', data: { revision, part: n, parts, text } });
    try {
      await store.writeSnapshot(stream, { revision: 5, data: { at: 5 } });
      // A writer of the snapshot at 9, in three appends, has made the first two.
      await store.appendToStream(snapshotStreamOf(stream), [part(9, 0, 3, '{"at"')]);
      await store.appendToStream(snapshotStreamOf(stream), [part(9, 1, 3, ':')]);
      expect(await store.readSnapshot(stream)).toEqual({ revision: 5, data: { at: 5 } });
      // It died there; the next writer appends its parts after the abandoned ones.
      await store.writeSnapshot(stream, { revision: 12, data: { at: 12 } });
      expect(await store.readSnapshot(stream)).toEqual({ revision: 12, data: { at: 12 } });
      // A last part with no parts before it is not a snapshot either.
      await store.appendToStream(snapshotStreamOf(stream), [part(15, 1, 2, '15}')]);
      expect(await store.readSnapshot(stream)).toEqual({ revision: 12, data: { at: 12 } });
    } finally {
      await store.close();
      await standIn.stop();
    }
  });
});

describe('EventStoreDB adapter under the command handler: nothing refused for size', () => {
  it('records a batch of 4,200 parks, keeps the snapshot of a tenant holding 4,000 calls (over 1 MiB), and a cold load starts from it', async () => {
    const standIn = await startEsdbProtocolStandIn();
    const store = connectEventStoreDb(standIn.connectionString, quiet);
    const snapshotErrors: unknown[] = [];
    let stored: (revision: number) => void = () => undefined;
    const snapshotStored = new Promise<number>((resolve) => (stored = resolve));
    try {
      const handler = new CommandHandler({ store, onSnapshotError: (error) => snapshotErrors.push(error), onSnapshotStored: (_tenant, revision) => stored(revision) });
      const tenantId = `big-${randomUUID().slice(0, 8)}`;
      const base = Date.parse('2026-12-07T09:00:00Z');
      const policy: CallParkCommand = { type: 'SetPolicy', commandId: 'policy', at: base, tenantId, policy: 'Global', settings: { allowCallPark: true, pickupRangeStart: 1000, pickupRangeEnd: 9999, parkTimeoutSeconds: 1800 } };
      const park = (i: number): CallParkCommand => ({
        type: 'ParkCall',
        commandId: `park-${i}`,
        at: base + 1_000 + i,
        tenantId,
        sessionId: `session-${i}`,
        callId: `call-${i}`,
        parker: { userId: `user-${i}@contoso.com`, endpoint: 'teams-desktop' },
        media: 'audio',
        random: 0,
      });
      const hangUp = (i: number): CallParkCommand => ({ type: 'CallerHungUp', commandId: `hang-up-${i}`, at: base + 1_000 + i, tenantId, callId: `call-${i}` });
      // 4,200 parks in one batch (about 2.8 MB of events: more than one append takes).
      const outcomes = await handler.handleBatch(tenantId, [policy, ...Array.from({ length: 4_200 }, (_, i) => park(i))]);
      expect(outcomes.filter((outcome) => outcome.kind === 'accepted')).toHaveLength(4_201);
      // 200 calls hang up, then calls come and go while the tenant holds 4,000 until its snapshot is due.
      await handler.handleBatch(tenantId, Array.from({ length: 200 }, (_, i) => hangUp(i)));
      const traffic = Array.from({ length: 4_000 }, (_, i) => [park(4_200 + i), hangUp(4_200 + i)]).flat();
      await handler.handleBatch(tenantId, traffic);
      const revision = await snapshotStored;
      expect(snapshotErrors).toEqual([]);
      const snapshot = await store.readSnapshot(callParkStream(tenantId));
      expect(snapshot!.revision).toBeGreaterThanOrEqual(revision);
      expect(JSON.stringify(snapshot!.data).length).toBeGreaterThan(1_048_576);

      // A cold load: the snapshot and the events after it, not the history; repeated commands still known.
      const cold = new CommandHandler({ store });
      expect(await cold.query(tenantId, (state) => state.sessions.size)).toBe(4_000);
      expect(await cold.handle(park(4_300))).toMatchObject({ duplicate: true, kind: 'accepted' });
      expect(await cold.handle({ ...hangUp(1_000), commandId: 'hang-up-again' })).toMatchObject({ kind: 'accepted' });
    } finally {
      await store.close();
      await standIn.stop();
    }
  }, 180_000);
});
