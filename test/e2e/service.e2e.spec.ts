/**
 * The service end to end, started as `npm start` starts it (node dist/adapters/app/main.js on the
 * embedded SQLite stores), driven over HTTP: restarts, crashes, two processes on one file.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  SIGNALING_TOKEN,
  SUPERVISOR_TOKEN,
  api,
  defaultTokens,
  removeDir,
  startServiceProcess,
  tempDataDir,
  type ServiceProcess,
} from '../support/serviceProcess.js';
import { eventStoreUnderTest, type EventStoreUnderTest } from '../support/eventStoreUnderTest.js';

const TENANT = 'contoso';
const now = (): string => new Date().toISOString();
const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

const parkMessage = (callId: string, userId = 'alice@contoso.com') => ({
  type: 'park.requested',
  eventId: randomUUID(),
  occurredAt: now(),
  tenantId: TENANT,
  callId,
  parker: { userId, endpoint: 'teams-desktop' },
  media: 'audio',
});

const retrieveMessage = (orbit: string, userId = 'bob@contoso.com', endpoint = 'teams-desktop', federated = false) => ({
  type: 'retrieve.requested',
  eventId: randomUUID(),
  occurredAt: now(),
  tenantId: TENANT,
  callId: `invite-${randomUUID()}`,
  retriever: { userId, endpoint, federated },
  orbit,
});

interface TimelineEntry {
  readonly type: string;
  readonly at: string;
}

describe('the service, started as npm start starts it', () => {
  let dataDir: string;
  let eventStore: EventStoreUnderTest;
  const running: ServiceProcess[] = [];
  const start = async (): Promise<ServiceProcess> => {
    const service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: defaultTokens(TENANT), ...eventStore.environment });
    running.push(service);
    return service;
  };

  beforeEach(async () => {
    dataDir = await tempDataDir();
    eventStore = eventStoreUnderTest();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.kill().catch(() => undefined)));
    await removeDir(dataDir);
    await eventStore.cleanup();
  });

  const configure = async (url: string, settings: Record<string, unknown>): Promise<void> => {
    const answer = await api(url, ADMIN_TOKEN).patch(`/v1/tenants/${TENANT}/policies/Global`, { allowCallPark: true, ...settings });
    expect([200, 201]).toContain(answer.status);
  };

  /** The session's timeline, once the audit projection has it with at least `types`. */
  const timelineOf = async (url: string, sessionId: string, types: readonly string[], timeoutMs = 30_000): Promise<TimelineEntry[]> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const answer = await api(url, SUPERVISOR_TOKEN).get(`/v1/tenants/${TENANT}/sessions/${sessionId}`);
      last = answer.body;
      const timeline = (answer.body?.timeline ?? []) as TimelineEntry[];
      if (answer.status === 200 && types.every((type) => timeline.some((entry) => entry.type === type))) return timeline;
      await sleep(200);
    }
    throw new Error(`Session ${sessionId} never showed ${types.join(', ')}: ${JSON.stringify(last)}`);
  };
  const at = (timeline: readonly TimelineEntry[], type: string): number => Date.parse(timeline.find((entry) => entry.type === type)!.at);

  it('parks a call, answers its orbit, and someone else retrieves it; the supervisor sees the timeline', async () => {
    const service = await start();
    await configure(service.url, {});
    const signaling = api(service.url, SIGNALING_TOKEN);
    const parked = await signaling.post('/v1/signaling', parkMessage('call-e2e-1'));
    expect(parked.status).toBe(201);
    expect(parked.body).toMatchObject({ outcome: 'parked', orbit: { code: '10' } });
    const retrieved = await signaling.post('/v1/signaling', retrieveMessage('10'));
    expect(retrieved.status).toBe(200);
    expect(retrieved.body).toMatchObject({ outcome: 'retrieved', retriever: { userId: 'bob@contoso.com' } });
    const timeline = await timelineOf(service.url, String(parked.body.sessionId), ['Parked', 'Retrieved']);
    expect(timeline.map((entry) => entry.type)).toEqual(['Parked', 'Retrieved']);
  });

  it('rings the parker back after parkTimeoutSeconds and, after the last unanswered attempt, sends the call to its fallback', async () => {
    const service = await start();
    await configure(service.url, { parkTimeoutSeconds: 10, ringBackSeconds: 5, maxRingBackAttempts: 1, fallback: 'sip:reception@contoso.com' });
    const parked = await api(service.url, SIGNALING_TOKEN).post('/v1/signaling', parkMessage('call-e2e-2'));
    const parkedAt = Date.parse(String(parked.body.ringBackDueAt)) - 10_000;
    const timeline = await timelineOf(service.url, String(parked.body.sessionId), ['RingBackStarted', 'Expired'], 40_000);
    // Not before they are due; how late is the ring-back benchmark's to measure, not a test's.
    expect(at(timeline, 'RingBackStarted') - parkedAt).toBeGreaterThanOrEqual(10_000);
    expect(at(timeline, 'Expired') - at(timeline, 'RingBackStarted')).toBeGreaterThanOrEqual(5_000);
  }, 60_000);

  it('rings back after a restart while the call is parked, not before it is due, once', async () => {
    const first = await start();
    await configure(first.url, { parkTimeoutSeconds: 10 });
    const parked = await api(first.url, SIGNALING_TOKEN).post('/v1/signaling', parkMessage('call-e2e-3'));
    const dueAt = Date.parse(String(parked.body.ringBackDueAt));
    expect(await first.stop()).toBe(0);
    const second = await start();
    const timeline = await timelineOf(second.url, String(parked.body.sessionId), ['RingBackStarted'], 30_000);
    expect(at(timeline, 'RingBackStarted') - dueAt).toBeGreaterThanOrEqual(0);
    expect(timeline.filter((entry) => entry.type === 'RingBackStarted')).toHaveLength(1);
  }, 60_000);

  it('fires a ring back that came due while the service was down as soon as it starts', async () => {
    const first = await start();
    await configure(first.url, { parkTimeoutSeconds: 10 });
    const parked = await api(first.url, SIGNALING_TOKEN).post('/v1/signaling', parkMessage('call-e2e-4'));
    const dueAt = Date.parse(String(parked.body.ringBackDueAt));
    await first.kill();
    await sleep(Math.max(0, dueAt - Date.now()) + 1_500);
    const restartedAt = Date.now();
    const second = await start();
    const timeline = await timelineOf(second.url, String(parked.body.sessionId), ['RingBackStarted'], 30_000);
    // Fired by the restarted service (the first was killed before it came due), once.
    expect(at(timeline, 'RingBackStarted')).toBeGreaterThanOrEqual(restartedAt);
    expect(timeline.filter((entry) => entry.type === 'RingBackStarted')).toHaveLength(1);
  }, 60_000);

  it('keeps every answered park when SIGKILLed during a burst, and no orbit holds two calls', async () => {
    const first = await start();
    await configure(first.url, { pickupRangeStart: 100, pickupRangeEnd: 999, orbitReuseQuarantineSeconds: 0 });
    const signaling = api(first.url, SIGNALING_TOKEN);
    const answered: { sessionId: string; orbit: string }[] = [];
    let fiftyAnswered!: () => void;
    const fifty = new Promise<void>((resolve) => (fiftyAnswered = resolve));
    const burst = Array.from({ length: 300 }, (_, i) =>
      signaling.post('/v1/signaling', parkMessage(`burst-${i}`, `user-${i}@contoso.com`)).then(
        (answer) => {
          if (answer.status !== 201) return;
          answered.push({ sessionId: String(answer.body.sessionId), orbit: String((answer.body.orbit as { code: string }).code) });
          if (answered.length === 50) fiftyAnswered();
        },
        () => undefined,
      ),
    );
    await fifty;
    await first.kill();
    await Promise.all(burst);
    expect(answered.length).toBeGreaterThanOrEqual(50);

    const second = await start();
    const occupancy = async () => (await api(second.url, SUPERVISOR_TOKEN).get(`/v1/tenants/${TENANT}/policies/Global/occupancy`)).body;
    const board = (await occupancy()) as { orbits: { code: string; status: string; sessionId?: string }[] };
    const held = board.orbits.filter((orbit) => orbit.status !== 'free');
    const sessions = new Set(held.map((orbit) => orbit.sessionId));
    for (const park of answered) {
      expect(sessions.has(park.sessionId)).toBe(true);
      expect(held.find((orbit) => orbit.sessionId === park.sessionId)?.code).toBe(park.orbit);
    }
    expect(new Set(held.map((orbit) => orbit.code)).size).toBe(held.length);
    expect(sessions.size).toBe(held.length);
  }, 60_000);

  it('never issues an orbit twice when two service processes park into one policy on one SQLite file', async () => {
    const [first, second] = [await start(), await start()];
    await configure(first.url, { pickupRangeStart: 10, pickupRangeEnd: 99, orbitReuseQuarantineSeconds: 0 });
    const clients = [api(first.url, SIGNALING_TOKEN), api(second.url, SIGNALING_TOKEN)];
    const answers = await Promise.all(Array.from({ length: 120 }, (_, i) => clients[i % 2]!.post('/v1/signaling', parkMessage(`pair-${i}`, `user-${i}@contoso.com`))));
    const orbits = answers.filter((answer) => answer.status === 201).map((answer) => (answer.body.orbit as { code: string }).code);
    expect(orbits).toHaveLength(90);
    expect(new Set(orbits).size).toBe(90);
    expect(answers.filter((answer) => answer.status === 503).every((answer) => answer.body.reason === 'no-free-orbit')).toBe(true);
    expect(answers.filter((answer) => answer.status === 503)).toHaveLength(30);
  }, 60_000);

  it('keeps tenants apart and roles to their work', async () => {
    const service = await start();
    await configure(service.url, {});
    const parked = await api(service.url, SIGNALING_TOKEN).post('/v1/signaling', parkMessage('call-e2e-roles'));
    expect((await api(service.url, SUPERVISOR_TOKEN).post('/v1/signaling', parkMessage('call-e2e-roles-2'))).status).toBe(403);
    expect((await api(service.url, SIGNALING_TOKEN).get(`/v1/tenants/${TENANT}/sessions/${String(parked.body.sessionId)}`)).status).toBe(403);
    expect((await api(service.url, SIGNALING_TOKEN).post('/v1/signaling', { ...parkMessage('x'), tenantId: 'fabrikam' })).status).toBe(403);
    expect((await api(service.url, 'not-a-token-of-anyone-0123456789').get(`/v1/tenants/${TENANT}/policies`)).status).toBe(401);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});
