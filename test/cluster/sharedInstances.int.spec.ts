/**
 * Two service instances on one deployment (one event store, one PostgreSQL read store): each
 * piece of shared work (every projection, each shard of the ring-back scheduler) runs on exactly
 * one of them, the shards half on each; the survivor takes over what a stopped instance ran, and
 * a read on one instance waits for a write acknowledged by the other when it carries the write's
 * position.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../adapters/config/config.js';
import { createLogger } from '../../adapters/observability/logger.js';
import { startService, type RunningService } from '../../adapters/app/service.js';
import { DEFAULT_SCHEDULER_SHARDS, schedulerShardLeases, shardsIn } from '../../adapters/scheduler/shards.js';
import { postgresAvailable, postgresTestUrl } from '../support/services.js';

const available = await postgresAvailable();
const TOKEN = 'cluster-admin-token-0123456789abcdef';

const allLeases = (service: RunningService): string[] => [...schedulerShardLeases(DEFAULT_SCHEDULER_SHARDS), ...service.runners.map((runner) => `projection:${runner.build}`)].sort();
const shardsOf = (service: RunningService): number[] => shardsIn(service.leases(), DEFAULT_SCHEDULER_SHARDS);

/** Resolves once `check` holds: now, or after one of the services took or lost a lease (bounded by the test's timeout). */
const leasesSettle = (services: readonly RunningService[], check: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    const stops: (() => void)[] = [];
    const look = (): void => {
      if (!check()) return;
      for (const stop of stops.splice(0)) stop();
      resolve();
    };
    stops.push(...services.map((service) => service.onLeasesChanged(look)));
    look();
  });

describe.skipIf(!available)('several instances on one deployment', () => {
  const schema = `cluster_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let dataDir: string;
  let a: RunningService;
  let b: RunningService;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'callpark-cluster-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', CALLPARK_DATA_DIR: dataDir, DATABASE_URL: postgresTestUrl(), DATABASE_SCHEMA: schema, CALLPARK_TOKENS: `admin@*=${TOKEN}` });
    const logger = createLogger('warn', 'json');
    a = await startService(config, { logger });
    b = await startService(config, { logger });
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    const client = new pg.Client({ connectionString: postgresTestUrl() });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await rm(dataDir, { recursive: true, force: true });
  });

  const call = (service: RunningService, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('runs each shared piece of work on exactly one instance, the ring-back scheduler’s shards shared out between them', async () => {
    await leasesSettle([a, b], () => [...a.leases(), ...b.leases()].length >= allLeases(a).length && shardsOf(a).length === DEFAULT_SCHEDULER_SHARDS / 2);
    const held = [...a.leases(), ...b.leases()].sort();
    expect(held).toEqual(allLeases(a));
    expect(shardsOf(b)).toHaveLength(DEFAULT_SCHEDULER_SHARDS / 2);
    const metrics = await (await call(b, 'GET', '/metrics')).text();
    for (const lease of allLeases(b)) expect(metrics).toContain(`callpark_lease_held{lease="${lease}"} ${b.leases().includes(lease) ? 1 : 0}`);
    const ready = (await (await call(b, 'GET', '/readyz')).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    expect(ready.checks.leases).toMatchObject({ ok: true });
  });

  it('answers a read on one instance with a write acknowledged by the other, when the read carries its position', async () => {
    const policy = await call(a, 'PATCH', '/v1/tenants/contoso/policies/Global', { allowCallPark: true, parkTimeoutSeconds: 600 });
    expect(policy.status).toBe(200);
    for (let index = 0; index < 5; index++) {
      const parked = await call(a, 'POST', '/v1/calls/park', {
        eventId: `rw-${index}`,
        tenantId: 'contoso',
        callId: `call-${index}`,
        parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' },
        media: 'audio',
      });
      expect(parked.status).toBe(201);
      const position = parked.headers.get('callpark-position');
      expect(position).toMatch(/^\d+(\.\d+)?$/);
      const { sessionId } = (await parked.json()) as { sessionId: string };
      const read = await call(b, 'GET', `/v1/tenants/contoso/sessions/${sessionId}`, undefined, { 'callpark-position': position! });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ sessionId, status: 'parked' });
    }
  });

  it('refuses a position that is not one', async () => {
    const read = await call(b, 'GET', '/v1/tenants/contoso/sessions/nope', undefined, { 'callpark-position': 'yesterday' });
    expect(read.status).toBe(400);
    expect(await read.json()).toMatchObject({ reason: 'invalid-request' });
  });

  it('refuses to start an instance on another event log, though the projections run elsewhere', async () => {
    const otherLog = await mkdtemp(join(tmpdir(), 'callpark-cluster-other-'));
    try {
      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', CALLPARK_DATA_DIR: otherLog, DATABASE_URL: postgresTestUrl(), DATABASE_SCHEMA: schema, CALLPARK_TOKENS: `admin@*=${TOKEN}` });
      await expect(startService(config, { logger: createLogger('warn', 'json') })).rejects.toThrow(/another event log/);
    } finally {
      await rm(otherLog, { recursive: true, force: true });
    }
  }, 60_000);

  it('hands a stopped instance’s work to the one left', async () => {
    const leaving = a.leases().length > 0 ? a : b;
    const staying = leaving === a ? b : a;
    await leaving.stop();
    await leasesSettle([staying], () => staying.leases().length === allLeases(staying).length);
    expect([...staying.leases()].sort()).toEqual(allLeases(staying));
    const ready = await call(staying, 'GET', '/readyz');
    expect(ready.status).toBe(200);
  });
});
