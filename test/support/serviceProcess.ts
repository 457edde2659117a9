/**
 * The service as `npm start` starts it: `node dist/adapters/app/main.js` in a child process, with its
 * configuration in the environment, a data folder of its own and an ephemeral port. Tests talk to
 * it over HTTP, kill it (SIGTERM or SIGKILL) and start it again on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: where package.json is, whether this runs from test/ or from dist/test/. */
export const repositoryRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('No package.json above the test support folder.');
    dir = parent;
  }
  return dir;
};
export const mainScript = join(repositoryRoot(), 'dist', 'adapters', 'app', 'main.js');

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
export const SIGNALING_TOKEN = 'e2e-signaling-token-0123456789abcdef';
export const SUPERVISOR_TOKEN = 'e2e-supervisor-token-0123456789abcdef';

export const tempDataDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'callpark-e2e-'));
export const removeDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true });

export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every line the service logged so far. */
  readonly logs: string[];
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown at all. */
  kill(): Promise<void>;
}

export const defaultTokens = (tenant: string): string =>
  [`admin@*=${ADMIN_TOKEN}`, `signaling@${tenant}=${SIGNALING_TOKEN}`, `supervisor@${tenant}=${SUPERVISOR_TOKEN}`].join(',');

/** The variables that configure the service (adapters/config/config.ts), never taken from the test runner. */
const serviceVariables = [
  'PORT',
  'HOST',
  'CALLPARK_DATA_DIR',
  'CALLPARK_TOKENS',
  'EVENTSTORE_CONNECTION_STRING',
  'EVENTSTORE_POSTGRES_SCHEMA',
  'SQLITE_SYNCHRONOUS',
  'DATABASE_URL',
  'DATABASE_SCHEMA',
  'KAFKA_BROKERS',
  'KAFKA_GROUP_ID',
  'KAFKA_SIGNALING_TOPIC',
  'KAFKA_DIRECTIVES_TOPIC',
  'KAFKA_DEAD_LETTER_TOPIC',
  'LOG_FORMAT',
  'CALLPARK_URL',
  'CALLPARK_TOKEN',
  'CALLPARK_TENANT',
];

/** The runner's environment without the service's variables: the embedded defaults unless `env` says otherwise. */
export const serviceEnvironment = (env: Record<string, string>): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => !serviceVariables.includes(entry[0]) && entry[1] !== undefined)),
  ...env,
});

/** A port nobody listens on right now, from the system. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** Start the service on a free port (with `nodeOptions` before its script) and wait until /readyz answers ready. */
export const startServiceProcess = async (env: Record<string, string>, timeoutMs = 90_000, nodeOptions: readonly string[] = []): Promise<ServiceProcess> => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The embedded defaults unless a test says otherwise: the runner's own KAFKA_BROKERS (set for
  // the Kafka suites) or store settings must not leak into the service under test.
  const child = spawn(process.execPath, [...nodeOptions, mainScript], {
    env: serviceEnvironment({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let buffered = '';
  const collect = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    logs.push(...lines);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`The service exited (${exitCode}) before it was ready:\n${logs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`The service was not ready within ${timeoutMs} ms:\n${logs.join('\n')}`);
    const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    logs,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
};

/** A small HTTP client for the service's JSON API. */
export const api = (url: string, token: string) => {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    put: (path: string, body: unknown) => call('PUT', path, body),
    delete: (path: string) => call('DELETE', path),
  };
};
