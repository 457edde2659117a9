/**
 * Real services the tests talk to. A suite that needs one asks here whether it answers:
 * - under CI=true a missing service fails the run (`.ci/run` starts them all);
 * - elsewhere the suite is skipped, with a loud notice naming what to start.
 */
import { createConnection } from 'node:net';
import pg from 'pg';

const banner = (lines: readonly string[]): string => {
  const width = Math.max(...lines.map((line) => line.length));
  const rule = '!'.repeat(width + 4);
  return [rule, ...lines.map((line) => `! ${line.padEnd(width)} !`), rule].join('\n');
};

export const isCI = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/**
 * Decide whether a suite that needs `service` runs. `probe` answers whether the service is up.
 * Returns true when it is; under CI throws when it is not; elsewhere prints a notice and returns false.
 */
export const requireService = async (service: string, probe: () => Promise<boolean>, howToStart: string): Promise<boolean> => {
  let up = false;
  let reason = '';
  try {
    up = await probe();
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  if (up) return true;
  const lines = [`${service} is not available${reason ? `: ${reason}` : ''}.`, `Start it: ${howToStart}`];
  if (isCI()) throw new Error(`CI=true and a required service is missing.\n${banner(lines)}`);
  console.warn(`\n${banner([`SKIPPING the suites that need ${service}.`, ...lines])}\n`);
  return false;
};

/** Whether something accepts TCP connections at host:port, within a short time. */
export const tcpAnswers = (host: string, port: number, timeoutMs = 1_000): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });

/**
 * The PostgreSQL database the tests use: DATABASE_URL_TEST, else the local server these machines
 * and CI run (trust auth, database `test`).
 */
export const postgresTestUrl = (): string => process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether the test PostgreSQL answers a query; under CI its absence fails the run. */
export const postgresAvailable = (): Promise<boolean> =>
  requireService(
    'PostgreSQL',
    async () => {
      const client = new pg.Client({ connectionString: postgresTestUrl(), connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    'pg_ctlcluster 15 main start (or set DATABASE_URL_TEST)',
  );
