/**
 * The README's "Try it" blocks, extracted and run as written by bash against the service they
 * start with `npm start`, on a port and data folder of their own (the blocks read PORT and
 * CALLPARK_DATA_DIR as the README says). They must run as pasted: wait for the service, find the
 * token, park, retrieve, ring back, administer, simulate, and stop what they started.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, removeDir, repositoryRoot, serviceEnvironment, tempDataDir } from '../support/serviceProcess.js';

/** The fenced `sh` blocks of a README section, in order. */
const shellBlocks = (readme: string, heading: string): string[] => {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}" in the README`);
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
};

describe('the README', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('runs its "Try it" blocks as written, and stopping what `npm start` started frees the port', async () => {
    const root = repositoryRoot();
    const blocks = shellBlocks(await readFile(join(root, 'README.md'), 'utf8'), 'Try it');
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks[0]).toContain('npm start &');
    expect(blocks.at(-1)).toContain('kill $!');

    const dataDir = await tempDataDir();
    cleanups.push(() => removeDir(dataDir));
    const port = await freePort();
    // A process group of its own, so that a failing block leaves nothing running.
    const bash = spawn('bash', ['-e', '-c', blocks.join('\n')], {
      cwd: root,
      env: serviceEnvironment({ PORT: String(port), HOST: '127.0.0.1', CALLPARK_DATA_DIR: dataDir }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let exited = false;
    cleanups.push(async () => {
      if (!exited) process.kill(-bash.pid!, 'SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    bash.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    bash.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => bash.once('exit', (exitCode) => resolve(exitCode)));
    exited = true;
    const transcript = `--- stdout\n${stdout}\n--- stderr\n${stderr}`;

    expect(code, transcript).toBe(0);
    expect(stdout, transcript).toMatch(/^ready$/m);
    expect(stdout, transcript).toMatch(/"commandId":"evt-1","outcome":"parked",.*"orbit":\{"code":"10","number":10\}/);
    expect(stdout, transcript).toMatch(/"commandId":"evt-2","outcome":"retrieved",.*"retriever":\{"userId":"bob@contoso.com"/);
    expect(stdout, transcript).toMatch(/"status":"expired",.*"timeline":\[\{"type":"Parked",.*\{"type":"RingBackStarted",.*\{"type":"Expired",.*"fallback":"voicemail"/);
    expect(stdout, transcript).toMatch(/^callpark_commands_total\{command="ParkCall",outcome="accepted",source="request"\} \d+/m);
    expect(stdout, transcript).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(stdout, transcript).toMatch(/"pickupRangeStart": 500/);
    expect(stderr, transcript).toContain('rebuilt and swapped in');
    expect(stdout, transcript).toMatch(/^ {2}sim-1: 200 /m);
    expect(stdout, transcript).not.toContain('--token');
    // What `npm start` started is gone: nothing listens on the port.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 300_000);
});
