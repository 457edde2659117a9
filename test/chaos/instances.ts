/**
 * The chaos test's service instances: `node dist/adapters/app/main.js` processes, each on a port and a
 * data folder of its own that it keeps across restarts, all on one PostgreSQL database (event
 * store and read store) and one Kafka broker. With CHAOS_LOG_DIR set, each instance's output is
 * also appended to `<name>.log` there (every start of it), to study a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, mainScript, serviceEnvironment } from '../support/serviceProcess.js';

export interface Instance {
  readonly name: string;
  readonly url: string;
  /** Whether it answered /readyz since its last start, and has not been killed since. */
  live: boolean;
  child: ChildProcess | undefined;
  readonly logs: string[];
}

export const startInstance = async (instance: Instance, env: Record<string, string>, timeoutMs = 120_000): Promise<void> => {
  const port = new URL(instance.url).port;
  const child = spawn(process.execPath, [mainScript], { env: serviceEnvironment({ ...env, PORT: port, HOST: '127.0.0.1' }), stdio: ['ignore', 'pipe', 'pipe'] });
  instance.child = child;
  const file = process.env.CHAOS_LOG_DIR === undefined ? undefined : join(process.env.CHAOS_LOG_DIR, `${instance.name}.log`);
  const keep = (chunk: Buffer): void => {
    if (file !== undefined) appendFileSync(file, chunk);
    instance.logs.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
    if (instance.logs.length > 2_000) instance.logs.splice(0, instance.logs.length - 1_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    instance.live = false;
  });
  const deadline = Date.now() + timeoutMs;
  while (!(await fetch(`${instance.url}/readyz`).then((response) => response.ok, () => false))) {
    if (exited) throw new Error(`${instance.name} exited before it was ready:\n${instance.logs.slice(-40).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`${instance.name} was not ready within ${timeoutMs} ms:\n${instance.logs.slice(-40).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  instance.live = true;
};

export const newInstance = async (name: string, root: string): Promise<{ instance: Instance; dataDir: string }> => {
  const dataDir = join(root, name);
  await mkdir(dataDir, { recursive: true });
  return { instance: { name, url: `http://127.0.0.1:${await freePort()}`, live: false, child: undefined, logs: [] }, dataDir };
};

/** SIGKILL: no shutdown at all. */
export const killInstance = async (instance: Instance): Promise<void> => {
  const child = instance.child;
  instance.live = false;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
};

/** SIGTERM, and wait for the exit. */
export const stopInstance = async (instance: Instance): Promise<void> => {
  const child = instance.child;
  instance.live = false;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
};
