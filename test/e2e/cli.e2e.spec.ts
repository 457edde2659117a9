/** `npx callpark …` against the service started as `npm start` starts it. */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SIGNALING_TOKEN, SUPERVISOR_TOKEN, api, defaultTokens, freePort, removeDir, serviceEnvironment, startServiceProcess, tempDataDir, type ServiceProcess } from '../support/serviceProcess.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'adapters', 'app', 'cli.js');
const run = promisify(execFile);

describe('the callpark command line', () => {
  let dataDir: string;
  let service: ServiceProcess;
  const callpark = (...args: string[]) => callparkWith({ CALLPARK_URL: service.url, CALLPARK_TOKEN: ADMIN_TOKEN, CALLPARK_TENANT: 'contoso', CALLPARK_DATA_DIR: dataDir }, ...args);
  const callparkWith = async (variables: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const env = serviceEnvironment(variables);
    try {
      const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  beforeAll(async () => {
    dataDir = await tempDataDir();
    service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: defaultTokens('contoso') });
  });
  afterAll(async () => {
    await service.stop();
    await removeDir(dataDir);
  });

  it('creates, changes, shows, grants and removes policies with the cmdlets’ names and values', async () => {
    expect((await callpark('policy', 'new', 'Sales', '-AllowCallPark', '$true', '--PickupRangeStart', '500', '--pickupRangeEnd', '599')).code).toBe(0);
    const shown = JSON.parse((await callpark('policy', 'get', 'Sales')).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ identity: 'Sales', allowCallPark: true, pickupRangeStart: 500, pickupRangeEnd: 599 });
    expect((await callpark('policy', 'set', 'Sales', '--ParkTimeoutSeconds', '120')).code).toBe(0);
    expect((await callpark('policy', 'grant', 'alice@contoso.com', 'Sales')).code).toBe(0);
    const parked = await api(service.url, SIGNALING_TOKEN).post('/v1/signaling', {
      type: 'park.requested',
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId: 'contoso',
      callId: 'cli-call',
      parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' },
      media: 'audio',
    });
    expect(parked.body).toMatchObject({ policy: 'Sales', orbit: { code: '500' } });
    const refused = await callpark('policy', 'remove', 'Sales');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('409');
  });

  it("a supervisor rings the parker now, then sends the call to its fallback; once it has moved on it is refused", async () => {
    const supervisor = (...args: string[]) =>
      callparkWith({ CALLPARK_URL: service.url, CALLPARK_TOKEN: SUPERVISOR_TOKEN, CALLPARK_TENANT: 'contoso', CALLPARK_DATA_DIR: dataDir }, ...args);
    expect((await callpark('policy', 'set', 'Global', '--AllowCallPark', 'true')).code).toBe(0);
    const parked = await api(service.url, SIGNALING_TOKEN).post('/v1/signaling', {
      type: 'park.requested',
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId: 'contoso',
      callId: 'cli-supervised',
      parker: { userId: 'dave@contoso.com', endpoint: 'teams-desktop' },
      media: 'audio',
    });
    const sessionId = String((parked.body as { sessionId: string }).sessionId);
    const rung = await supervisor('session', 'ring-parker', sessionId, '--supervisor', 'sam@contoso.com');
    expect([rung.code, JSON.parse(rung.stdout)]).toMatchObject([0, { outcome: 'ringing-back', requestedBy: 'sam@contoso.com' }]);
    const sent = await supervisor('session', 'send-to-fallback', sessionId, '--supervisor=sam@contoso.com');
    expect([sent.code, JSON.parse(sent.stdout)]).toMatchObject([0, { outcome: 'expired', cause: 'sent-by-supervisor', sentBy: 'sam@contoso.com' }]);
    const late = await supervisor('session', 'send-to-fallback', sessionId, '--supervisor', 'sam@contoso.com');
    expect([late.code, late.stderr]).toEqual([1, expect.stringContaining('409')]);
    const nameless = await supervisor('session', 'ring-parker', sessionId);
    expect([nameless.code, nameless.stderr]).toEqual([2, expect.stringContaining('--supervisor')]);
  });

  it('says what is wrong with a setting, and how to call it', async () => {
    const outOfRange = await callpark('policy', 'set', 'Global', '--ParkTimeoutSeconds', '5');
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toContain('parkTimeoutSeconds must be a whole number from 10 to 1800');
    const unknown = await callpark('policy', 'set', 'Global', '--Loudness', '11');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown setting --Loudness');
  });

  it('takes its options as --name value and as --name=value, before or after the command', async () => {
    const spaced = await callparkWith({ CALLPARK_DATA_DIR: dataDir }, '--url', service.url, '--tenant', 'contoso', '--token', ADMIN_TOKEN, 'policy', 'get', 'Global');
    expect(spaced.stderr).toBe('');
    expect(spaced.code).toBe(0);
    const joined = await callparkWith({ CALLPARK_DATA_DIR: dataDir }, `--url=${service.url}`, '--tenant=contoso', 'policy', 'get', 'Global', `--token=${ADMIN_TOKEN}`);
    expect(joined.stderr).toBe('');
    expect(joined.code).toBe(0);
    expect(JSON.parse(joined.stdout)).toEqual(JSON.parse(spaced.stdout));
    expect((await callparkWith({ CALLPARK_URL: service.url, CALLPARK_TOKEN: ADMIN_TOKEN }, '--tenant=contoso', 'policy', 'set', 'Global', '--ParkTimeoutSeconds=120')).code).toBe(0);
    expect(JSON.parse((await callpark('policy', 'get', 'Global')).stdout)).toMatchObject({ parkTimeoutSeconds: 120 });
  });

  it('names the URL it could not reach when no service listens there', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const failed = await callparkWith({ CALLPARK_TOKEN: ADMIN_TOKEN }, `--url=${nowhere}`, '--tenant', 'contoso', 'policy', 'get');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`cannot reach the service at ${nowhere}`);
    expect(failed.stderr).not.toContain('fetch failed');
  });

  it('rebuilds a projection while the service runs, and the service answers from the new tables', async () => {
    const before = await api(service.url, SUPERVISOR_TOKEN).get('/v1/tenants/contoso/audit/sessions');
    const rebuilt = await callpark('projections', 'rebuild', 'audit_history');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toContain('100.0%');
    expect(rebuilt.stderr).toContain('rebuilt and swapped in');
    const after = await api(service.url, SUPERVISOR_TOKEN).get('/v1/tenants/contoso/audit/sessions');
    expect(before.status).toBe(200);
    expect((before.body.items as unknown[]).length).toBeGreaterThan(0);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
  }, 60_000);
});
