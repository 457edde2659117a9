/**
 * The scheduler's commands are seen like every other: a ring back fired by a timer gets its log
 * line and its count in `callpark_commands_total`, marked as coming from the scheduler. The
 * service is the one `npm start` wires; the call was parked an hour ago, so its ring back is
 * overdue and fires as soon as the service has read its timer.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../adapters/config/config.js';
import { startService, type RunningService } from '../../adapters/app/service.js';
import { nextId, parkCommand, TENANT } from '../support/callParkFixtures.js';
import { removeDir, tempDataDir } from '../support/serviceProcess.js';
import { capturedLogger } from './capturedLogger.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const metricLine = (metrics: string, name: string, labels: Record<string, string>): string | undefined =>
  metrics.split('\n').find((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)));

describe('commands fired by the ring-back scheduler', () => {
  it('are logged and counted in callpark_commands_total with source="scheduler"', async () => {
    const dataDir = await tempDataDir();
    cleanups.push(() => removeDir(dataDir));
    const log = capturedLogger();
    const service: RunningService = await startService(loadConfig({ CALLPARK_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }), { logger: log.logger });
    cleanups.push(() => service.stop());

    const anHourAgo = Date.now() - 3_600_000;
    await service.handler.handle({ type: 'SetPolicy', commandId: nextId('admin'), at: anHourAgo - 1_000, tenantId: TENANT, policy: 'Global', settings: { allowCallPark: true } });
    const parked = await service.handler.handle({ ...parkCommand(), at: anHourAgo, sessionId: 'session-overdue' });
    expect(parked.kind).toBe('accepted');

    const line = await log.waitFor((entry) => entry.msg === 'command' && entry.source === 'scheduler');
    expect(line).toMatchObject({ tenant: TENANT, session: 'session-overdue', command: 'RingBackDue', commandId: 'ring-back-due:session-overdue:1', outcome: 'accepted', duplicate: false });
    expect(line.latencyMs).toEqual(expect.any(Number));

    const token = (await readFile(service.adminTokenFile!, 'utf8')).trim();
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metricLine(metrics, 'callpark_commands_total', { command: 'RingBackDue', outcome: 'accepted', source: 'scheduler' })).toMatch(/ 1$/);
  });
});
