/**
 * Starting and stopping the service as a person does: `npm start` and a signal to what it started,
 * a port someone else holds, the logs for a terminal.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, SIGNALING_TOKEN, api, defaultTokens, freePort, mainScript, removeDir, repositoryRoot, serviceEnvironment, startServiceProcess, tempDataDir } from '../support/serviceProcess.js';

const exitOf = (child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

const untilReady = async (url: string, exited: () => boolean): Promise<void> => {
  for (;;) {
    if (exited()) throw new Error('the service exited before it was ready');
    if (await fetch(`${url}/readyz`).then((response) => response.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('starting and stopping the service', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('stops, and frees its port, when what `npm start` started gets SIGTERM', async () => {
    const dataDir = await tempDataDir();
    cleanups.push(() => removeDir(dataDir));
    const port = await freePort();
    const npm = spawn('npm', ['start'], { cwd: repositoryRoot(), env: serviceEnvironment({ PORT: String(port), HOST: '127.0.0.1', CALLPARK_DATA_DIR: dataDir }), stdio: 'ignore' });
    let done = false;
    const exited = exitOf(npm).finally(() => (done = true));
    cleanups.push(async () => {
      if (!done) npm.kill('SIGKILL');
    });
    const url = `http://127.0.0.1:${port}`;
    await untilReady(url, () => done);

    npm.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    // npm waited for the service: nothing listens on the port any more.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 180_000);

  it('starts its threads and records a park when node is given V8 heap flags, as an operator sizing its memory would', async () => {
    const dataDir = await tempDataDir();
    cleanups.push(() => removeDir(dataDir));
    // V8's flags are the whole process's; a worker thread refuses them as options of its own.
    const service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: defaultTokens('fabrikam'), LOG_LEVEL: 'warn' }, 90_000, ['--max-semi-space-size=8', '--max-old-space-size=1024']);
    cleanups.push(async () => void (await service.kill()));
    const policy = await api(service.url, ADMIN_TOKEN).patch('/v1/tenants/fabrikam/policies/Global', { allowCallPark: true });
    expect([200, 201]).toContain(policy.status);
    const parked = await api(service.url, SIGNALING_TOKEN).post('/v1/signaling', {
      type: 'park.requested',
      eventId: randomUUID(),
      tenantId: 'fabrikam',
      callId: 'call-with-heap-flags',
      parker: { userId: 'alice@fabrikam.com', endpoint: 'teams-desktop' },
      media: 'audio',
    });
    expect(parked.status).toBe(201);
    expect(parked.body).toMatchObject({ outcome: 'parked' });
    expect(await service.stop()).toBe(0);
  }, 120_000);

  it('says in one line which variable to change when the port is taken, and exits 78', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => holder.close(() => resolve())));
    const { port } = holder.address() as AddressInfo;
    const dataDir = await tempDataDir();
    cleanups.push(() => removeDir(dataDir));

    const child = spawn(process.execPath, [mainScript], { env: serviceEnvironment({ PORT: String(port), HOST: '127.0.0.1', CALLPARK_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const { code } = await exitOf(child);

    expect(code).toBe(78);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`PORT: 127.0.0.1:${port} is in use`);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('writes JSON lines by default and readable lines with LOG_FORMAT=pretty', async () => {
    for (const [format, looksRight] of [
      ['json', (line: string) => line.startsWith('{') && (JSON.parse(line) as { msg?: string }).msg === 'callpark is listening'],
      ['pretty', (line: string) => /\bINFO\b.*callpark is listening/.test(line) && !line.startsWith('{')],
    ] as const) {
      const dataDir = await tempDataDir();
      cleanups.push(() => removeDir(dataDir));
      const service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, LOG_FORMAT: format });
      cleanups.push(async () => void (await service.stop()));
      expect(service.logs.some((line) => looksRight(line)), service.logs.join('\n')).toBe(true);
    }
  });
});
