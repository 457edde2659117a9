/**
 * A read store follows one log. The service runs with its read store on PostgreSQL, parks five
 * calls and stops; it is started again with a new data folder (a fresh SQLite event store, as
 * after restoring another backup) and the same DATABASE_URL. The read store's checkpoints are the
 * old log's: the service refuses to start, saying what to do, rather than skipping the new log's
 * events (parks missing from the occupancy and the audit, ring backs never timed, `/readyz`
 * ready). After `npx callpark projections rebuild` it starts, and follows the new log alone.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../adapters/config/config.js';
import { rebuildProjections } from '../../adapters/app/projectionRebuild.js';
import { startService, type RunningService } from '../../adapters/app/service.js';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import { nextId, parkCommand, TENANT } from '../support/callParkFixtures.js';
import { removeDir, tempDataDir } from '../support/serviceProcess.js';
import { postgresAvailable, postgresTestUrl } from '../support/services.js';

const available = await postgresAvailable();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const silent = { logger: pino({ level: 'silent' }) };
/** Where the CLI's progress goes: nowhere. */
const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

const parkSessions = async (service: RunningService, sessions: readonly string[]): Promise<void> => {
  const now = Date.now();
  await service.handler.handle({ type: 'SetPolicy', commandId: nextId('admin'), at: now, tenantId: TENANT, policy: 'Global', settings: { allowCallPark: true } });
  for (const [index, sessionId] of sessions.entries()) {
    const parked = await service.handler.handle({ ...parkCommand(), commandId: nextId('park'), at: now + index, sessionId, callId: `call-${sessionId}` });
    expect(parked.kind).toBe('accepted');
  }
  await Promise.all(service.runners.map((runner) => runner.catchUp()));
};

const column = async (service: RunningService, sql: string): Promise<string[]> =>
  (await service.readStore.query<{ value: string }>(sql, [TENANT])).map((row) => row.value).sort();

describe.skipIf(!available)('a read store on PostgreSQL that follows another log', () => {
  it('is refused at start, saying to rebuild it; rebuilt, it follows the new log alone', async () => {
    const schema = `test_foreign_${randomBytes(4).toString('hex')}`;
    cleanups.push(async () => {
      const store = await PostgresReadStore.open({ connectionString: postgresTestUrl(), schema });
      await store.dropSchema();
      await store.close();
    });
    const env = (dataDir: string) => ({ CALLPARK_DATA_DIR: dataDir, DATABASE_URL: postgresTestUrl(), DATABASE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1' });

    const oldData = await tempDataDir();
    cleanups.push(() => removeDir(oldData));
    const old = await startService(loadConfig(env(oldData)), silent);
    const oldSessions = ['old-1', 'old-2', 'old-3', 'old-4', 'old-5'];
    await parkSessions(old, oldSessions);
    await old.stop();

    // A new data folder: a fresh event store, the same read store.
    const newData = await tempDataDir();
    cleanups.push(() => removeDir(newData));
    const refused = startService(loadConfig(env(newData)), silent);
    await expect(refused).rejects.toThrow(/follow another event log/);
    await expect(refused).rejects.toThrow('npx callpark projections rebuild');

    expect(await rebuildProjections(env(newData), undefined, quiet)).toBe(0);
    const service = await startService(loadConfig(env(newData)), silent);
    cleanups.push(() => service.stop());
    await parkSessions(service, ['new-1']);

    expect(await column(service, "SELECT session_id AS value FROM occupancy_orbits WHERE tenant_id = $1 AND status <> 'free'")).toEqual(['new-1']);
    expect(await column(service, 'SELECT CAST(orbit AS TEXT) AS value FROM occupancy_orbits WHERE tenant_id = $1 AND session_id IS NOT NULL')).toEqual(['10']);
    expect(await column(service, 'SELECT session_id AS value FROM audit_sessions WHERE tenant_id = $1')).toEqual(['new-1']);
    expect(await column(service, 'SELECT session_id AS value FROM ring_back_timers WHERE tenant_id = $1')).toEqual(['new-1']);

    const token = (await readFile(service.adminTokenFile!, 'utf8')).trim();
    const read = (path: string) => fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await read(`/v1/tenants/${TENANT}/sessions/new-1`)).status).toBe(200);
    expect((await read(`/v1/tenants/${TENANT}/sessions/old-1`)).status).toBe(404);
    const readiness = await read('/readyz');
    expect(readiness.status).toBe(200);
  });
});
