/**
 * The service on the PostgreSQL event store (EVENTSTORE_CONNECTION_STRING=postgres://…), started
 * as `npm start` starts it: a park and a retrieval land in the log's tables, the timeline follows,
 * and a restart reads the same log. (`CALLPARK_TEST_EVENT_STORE=postgres` runs the whole service
 * suite, service.e2e.spec.ts, on it too.)
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresEventStoreUnderTest, type EventStoreUnderTest } from '../support/eventStoreUnderTest.js';
import { ADMIN_TOKEN, SIGNALING_TOKEN, api, defaultTokens, removeDir, startServiceProcess, tempDataDir, type ServiceProcess } from '../support/serviceProcess.js';
import { postgresAvailable, postgresTestUrl } from '../support/services.js';

const TENANT = 'fabrikam';
const available = await postgresAvailable();

describe.skipIf(!available)('the service on the PostgreSQL event store', () => {
  let dataDir: string;
  let eventStore: EventStoreUnderTest;
  const running: ServiceProcess[] = [];
  const start = async (): Promise<ServiceProcess> => {
    const service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: defaultTokens(TENANT), ...eventStore.environment });
    running.push(service);
    return service;
  };
  const eventsInTheLog = async (): Promise<string[]> => {
    const client = new pg.Client({ connectionString: postgresTestUrl() });
    await client.connect();
    try {
      const { rows } = await client.query<{ type: string }>(`SELECT type FROM ${eventStore.environment.EVENTSTORE_POSTGRES_SCHEMA}.events WHERE stream_name LIKE $1 ORDER BY position`, [`%${TENANT}`]);
      return rows.map((row) => row.type);
    } finally {
      await client.end();
    }
  };

  beforeEach(async () => {
    dataDir = await tempDataDir();
    eventStore = postgresEventStoreUnderTest();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.kill().catch(() => undefined)));
    await removeDir(dataDir);
    await eventStore.cleanup();
  });

  it('parks and retrieves with the log in PostgreSQL, and reads the same log after a restart', async () => {
    const first = await start();
    expect((await api(first.url, ADMIN_TOKEN).patch(`/v1/tenants/${TENANT}/policies/Global`, { allowCallPark: true })).status).toBeLessThan(300);
    const park = (callId: string) => ({
      type: 'park.requested',
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId: TENANT,
      callId,
      parker: { userId: 'alice@fabrikam.com', endpoint: 'teams-desktop' },
      media: 'audio',
    });
    const parked = await api(first.url, SIGNALING_TOKEN).post('/v1/signaling', park('call-pg-1'));
    expect(parked.status).toBe(201);
    expect(await eventsInTheLog()).toEqual(['PolicySettingsChanged', 'Parked']);
    expect(await first.stop()).toBe(0);

    const second = await start();
    const retrieved = await api(second.url, SIGNALING_TOKEN).post('/v1/signaling', {
      type: 'retrieve.requested',
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId: TENANT,
      callId: `invite-${randomUUID()}`,
      retriever: { userId: 'bob@fabrikam.com', endpoint: 'teams-desktop', federated: false },
      orbit: (parked.body as { orbit: { code: string } }).orbit.code,
    });
    expect(retrieved.status).toBe(200);
    expect(retrieved.body).toMatchObject({ outcome: 'retrieved' });
    expect(await eventsInTheLog()).toEqual(['PolicySettingsChanged', 'Parked', 'Retrieved']);
  }, 60_000);
});
