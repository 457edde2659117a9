/**
 * A Kafka broker of the test's own: infra/kafka/kafka.sh with a temporary run dir and free
 * ports, so a test may restart it without pulling the shared broker from under the other suites.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../infra/kafka/kafka.sh', import.meta.url));

export interface PrivateBroker {
  readonly brokers: string;
  restart(): Promise<void>;
  /** Stop it and delete its data. */
  destroy(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const kafkaSh = (command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile('bash', [script, command], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kafka.sh ${command} failed: ${error.message}\n${String(stderr).split('\n').slice(-30).join('\n')}`));
      else resolve(String(stdout));
    });
  });

export const javaAnswers = (): Promise<boolean> => new Promise((resolve) => execFile('java', ['-version'], (error) => resolve(error === null)));

export const startPrivateBroker = async (): Promise<PrivateBroker> => {
  const runDir = await mkdtemp(join(tmpdir(), 'callpark-kafka-broker-'));
  const env = {
    ...process.env,
    KAFKA_RUN_DIR: runDir,
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
    KAFKA_STOP_TIMEOUT: '20',
  };
  const out = await kafkaSh('start', env, 180_000);
  const brokers = /^KAFKA_BROKERS=(\S+)$/m.exec(out)?.[1];
  if (!brokers) throw new Error(`kafka.sh start did not say where the broker listens: ${out}`);
  return {
    brokers,
    restart: async () => void (await kafkaSh('restart', env, 240_000)),
    destroy: async () => {
      await kafkaSh('stop', env, 60_000).catch(() => undefined);
      await rm(runDir, { recursive: true, force: true });
    },
  };
};
