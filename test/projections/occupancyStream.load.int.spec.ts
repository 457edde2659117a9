/**
 * The live occupancy stream under hundreds of real connections: 150 clients that read and 150
 * that never do, on a 9,000-orbit policy holding 2,000 calls, that keeps changing. Each change is read from the
 * occupancy once, for every subscriber; a client that does not take what it is sent is let go,
 * its socket destroyed on the server's side; the readers keep getting every snapshot and the
 * service keeps answering.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenStreams } from '../../adapters/http/occupancyStream.js';
import { CONTOSO, tokens } from '../http/httpFixtures.js';
import { sqliteFactory, type ReadStoreFactory } from './readStores.js';
import { startReadSideService, type ReadSideService } from './readSideService.js';
import { connectSse, type SseClient } from './sseClient.js';

const READERS = 150;
const NEVER_READERS = 150;
const PARKED = 2_000;
/** Small, so that the clients that never read are let go after a few snapshots. */
const MAX_BUFFERED = 1024 * 1024;

let stores: ReadStoreFactory;
let service: ReadSideService;
let streams: OpenStreams;
const serverSockets = new Map<number, Socket>();

beforeAll(async () => {
  stores = await sqliteFactory();
});
afterAll(async () => {
  await stores.cleanup();
});
beforeEach(async () => {
  streams = new OpenStreams();
  service = await startReadSideService({ readStore: await (await stores.fresh()).open(), listen: true, maxBufferedBytes: MAX_BUFFERED, streams });
  serverSockets.clear();
  service.app.server.on('connection', (socket: Socket) => serverSockets.set(socket.remotePort!, socket));
});
afterEach(async () => {
  await service.stop();
});

const setPolicy = async (settings: Record<string, unknown>): Promise<void> => {
  const response = await service.app.inject({ method: 'PATCH', url: `/v1/tenants/${CONTOSO}/policies/Global`, headers: { authorization: `Bearer ${tokens.admin}` }, payload: settings });
  expect(response.statusCode).toBe(200);
};

const streamPath = `/v1/tenants/${CONTOSO}/occupancy/stream`;

/** A client that sends the request, reads until its first snapshot has begun, and then never reads again. */
const neverReader = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`GET ${streamPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tokens.supervisor}\r\nAccept: text/event-stream\r\n\r\n`),
    );
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('latin1');
      if (!seen.includes('event: snapshot')) return;
      socket.off('data', onData);
      socket.pause();
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.once('close', () => reject(new Error('closed before its snapshot')));
  });

const closed = (socket: Socket): Promise<void> => (socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve())));

describe('the occupancy stream with hundreds of connections', () => {
  it('reads the occupancy once per policy change for all, lets go of the clients that do not read, and keeps answering', { timeout: 300_000 }, async () => {
    await setPolicy({ allowCallPark: true, pickupRangeStart: 1000, pickupRangeEnd: 9999 });
    // Calls on 2,000 of its orbits: a snapshot lists each of them, some 500 KB in all.
    const outcomes = await Promise.all(
      Array.from({ length: PARKED }, (_, i) =>
        service.handler.handle({ type: 'ParkCall', commandId: `park-${i}`, at: Date.now(), tenantId: CONTOSO, sessionId: `session-${i}`, callId: `call-${i}`, parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' }, media: 'audio', random: 0 }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.kind === 'accepted' && outcome.events.some((event) => event.type === 'Parked'))).toHaveLength(PARKED);
    await service.catchUp();
    const port = Number(new URL(service.url!).port);

    const readers: SseClient[] = await Promise.all(Array.from({ length: READERS }, () => connectSse(`${service.url}${streamPath}`, { authorization: `Bearer ${tokens.supervisor}` })));
    const first = await Promise.all(readers.map((reader) => reader.next('snapshot')));
    expect(first[0]!.data.length).toBeGreaterThan(200_000);
    const never = await Promise.all(Array.from({ length: NEVER_READERS }, () => neverReader(port)));
    expect(service.feed.size).toBe(READERS + NEVER_READERS);
    // Nobody waits for a snapshot now; from here on, every read is one of a change.
    await streams.fanOut.idle();

    let rangeEnd = 9999;
    let changes = 0;
    while (streams.dropped < NEVER_READERS) {
      expect(changes).toBeLessThan(200);
      const readsBefore = service.feed.reads;
      rangeEnd = rangeEnd === 9999 ? 9998 : 9999;
      await setPolicy({ pickupRangeEnd: rangeEnd });
      changes++;
      await service.catchUp();
      const snapshots = await Promise.all(readers.map((reader) => reader.next('snapshot')));
      await streams.fanOut.idle();
      expect(service.feed.reads - readsBefore).toBe(1);
      for (const snapshot of snapshots) expect(snapshot.data).toContain(`"rangeEnd":${rangeEnd}`);
    }

    // Every client that never read is let go, and its socket is gone on the server's side.
    expect(streams.dropped).toBe(NEVER_READERS);
    await Promise.all(never.map((socket) => closed(serverSockets.get(socket.localPort!)!)));
    expect(service.feed.size).toBe(READERS);
    expect(streams.size).toBe(READERS);
    const open = await new Promise<number>((resolve, reject) => service.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    expect(open).toBe(READERS);

    // The readers are still followed, and the service still answers.
    await setPolicy({ pickupRangeEnd: 9000 });
    for (const snapshot of await Promise.all(readers.map((reader) => reader.next('snapshot')))) expect(snapshot.data).toContain('"rangeEnd":9000');
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);

    for (const reader of readers) reader.close();
    for (const socket of never) socket.destroy();
  });
});
