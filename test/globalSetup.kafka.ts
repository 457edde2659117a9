/**
 * A real Kafka broker for the Kafka suites (test/kafka/), started once for the run:
 * - KAFKA_BROKERS set: that broker is used, nothing is started;
 * - else, when the run includes a Kafka suite and Java is present, `infra/kafka/kafka.sh start`
 *   starts the local broker (about 10 s) and its address goes to the workers, as KAFKA_BROKERS
 *   and as `inject('kafkaBrokers')`; it is stopped at the end only if this run started it;
 * - without Java nothing happens: the Kafka suites skip loudly (or fail under CI=true).
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

const script = fileURLToPath(new URL('../infra/kafka/kafka.sh', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const run = (file: string, args: readonly string[], timeoutMs: number): Promise<Run> =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error: ExecFileException | null, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });

const javaPresent = async (): Promise<boolean> => (await run('java', ['-version'], 30_000)).code === 0;

/** Whether the run includes a Kafka suite against the broker (test/kafka/*.int.spec.ts); a run of other suites starts no broker. */
const runIncludesKafkaSuites = async (project: TestProject): Promise<boolean> => {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern ?? [];
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles.some((file) => /[\\/]test[\\/]kafka[\\/].*\.int\.spec\.ts$/.test(file));
};

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.KAFKA_BROKERS;
  if (given) {
    project.provide('kafkaBrokers', given);
    return undefined;
  }
  if (!(await runIncludesKafkaSuites(project))) return undefined;
  if (!(await javaPresent())) {
    console.warn('[kafka] Java is not installed: the Kafka broker cannot start, and the Kafka suites will say so.');
    return undefined;
  }
  const wasRunning = (await run('bash', [script, 'status'], 60_000)).code === 0;
  const started = Date.now();
  const start = await run('bash', [script, 'start'], 180_000);
  const brokers = /^KAFKA_BROKERS=(\S+)$/m.exec(start.stdout)?.[1];
  if (start.code !== 0 || brokers === undefined) {
    // The suites then find no broker and skip loudly, or fail under CI: the broker's own words say why.
    console.warn(`[kafka] infra/kafka/kafka.sh start failed (exit ${start.code}):\n${start.stderr.split('\n').slice(-40).join('\n')}`);
    return undefined;
  }
  process.env.KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
  console.info(`[kafka] broker ${wasRunning ? 'already running' : `started in ${((Date.now() - started) / 1000).toFixed(1)} s`} at ${brokers}`);
  return async () => {
    if (wasRunning) return;
    const stop = await run('bash', [script, 'stop'], 60_000);
    if (stop.code !== 0) console.warn(`[kafka] infra/kafka/kafka.sh stop failed (exit ${stop.code}):\n${stop.stderr}`);
  };
}
