/**
 * Park and retrieve over HTTP: the embedded service (SQLite, synchronous FULL, started as
 * `npm start` starts it) against a baseline of the same durability in the same run: a Fastify
 * route in a process of its own that checks the bearer token as the service does and makes one
 * durable better-sqlite3 insert per request (fixtures/durableRoute.ts). Both take the same
 * requests from the same generator (http/loadGenerator.ts):
 *
 * - throughput: closed loop, CONNECTIONS requests in flight, park-or-retrieve over TENANTS tenants
 *   (http/lifecycles.ts); target at least 0.9 of the baseline;
 * - latency at FIXED_RATE requests a second, open loop: each request's latency counted from when
 *   it was due to be sent; p50 within 2x and p99 within 1.5x of the baseline's in the same run;
 * - CPU time per park + retrieve (two requests), all threads of the process, from /proc over the
 *   fixed-rate runs (http/processCpu.ts), next to the baseline's for two requests.
 *
 * Every figure is SAMPLES samples, the two servers taken in turns.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, SIGNALING_TOKEN, api, removeDir, startServiceProcess, tempDataDir } from '../support/serviceProcess.js';
import { percentile, type BenchSuite, type CaseResult, type SuiteResult } from './harness.js';
import { lifecycles, tenantIds } from './http/lifecycles.js';
import { asFastAsPossible, atFixedRate, type OpenLoopRun } from './http/loadGenerator.js';
import { processCpuMicros, untilQuiet } from './http/processCpu.js';

const TENANTS = 20;
const CONNECTIONS = 32;
const THROUGHPUT_SECONDS = 6;
const FIXED_RATE = 1_000;
const FIXED_SECONDS = Number(process.env.HTTP_BENCH_FIXED_SECONDS ?? 10);
const SAMPLES = Number(process.env.HTTP_BENCH_SAMPLES ?? 3);
/**
 * Half the CPU time per park + retrieve the service took before the issue "Fair baselines, then
 * half the CPU per call": its threads kept 1.1 of the 2 cores busy at 1,000 requests a second,
 * 2,200 µs per park + retrieve.
 */
const CPU_TARGET_MICROS = 1_100;

interface Server {
  readonly label: string;
  readonly url: string;
  readonly pid: number;
}

interface FixedRateSample {
  readonly run: OpenLoopRun;
  /** CPU time of every thread of the server, per two requests (a park and a retrieve), in µs. */
  readonly cpuPerLifecycle: number;
  /** CPU seconds per second of the run: the cores the server kept busy. */
  readonly cores: number;
}

interface Measurement {
  readonly throughput: Map<string, number[]>;
  readonly fixed: Map<string, FixedRateSample[]>;
  readonly failures: Map<string, number>;
}

const tokens = [`admin@*=${ADMIN_TOKEN}`, `signaling@*=${SIGNALING_TOKEN}`].join(',');

const startBaseline = async (dataDir: string): Promise<Server & { stop: () => void }> => {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'durableRoute.js');
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: tokens, SQLITE_SYNCHRONOUS: 'full' } });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`The baseline route exited (${code}) before listening.`)));
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { url: string }).url));
  });
  return { label: 'baseline', url, pid: child.pid!, stop: () => child.kill('SIGTERM') };
};

const fixedRateSample = async (server: Server): Promise<FixedRateSample> => {
  await untilQuiet(server.pid);
  const before = processCpuMicros(server.pid);
  const run = await atFixedRate(server.url, lifecycles({ token: SIGNALING_TOKEN, tenants: TENANTS }), { rate: FIXED_RATE, seconds: FIXED_SECONDS });
  // What the load left behind (the read side catching up, say) is part of what it cost.
  await untilQuiet(server.pid);
  const cpu = processCpuMicros(server.pid) - before;
  return { run, cpuPerLifecycle: cpu / (run.latencies.length / 2), cores: cpu / 1e6 / run.seconds };
};

const measure = async (): Promise<Measurement> => {
  const dataDir = await tempDataDir();
  const baselineDir = await tempDataDir();
  const service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: tokens, LOG_LEVEL: 'warn', SQLITE_SYNCHRONOUS: 'full' });
  const baseline = await startBaseline(baselineDir);
  const servers: Server[] = [baseline, { label: 'service', url: service.url, pid: service.child.pid! }];
  try {
    for (const tenantId of tenantIds(TENANTS)) {
      const answer = await api(service.url, ADMIN_TOKEN).patch(`/v1/tenants/${tenantId}/policies/Global`, { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 9999, orbitReuseQuarantineSeconds: 0 });
      if (answer.status >= 300) throw new Error(`Enabling call park for ${tenantId} answered ${answer.status}.`);
    }
    const throughput = new Map(servers.map((server) => [server.label, [] as number[]]));
    const fixed = new Map(servers.map((server) => [server.label, [] as FixedRateSample[]]));
    const failures = new Map(servers.map((server) => [server.label, 0]));
    const failed = (server: Server, count: number): void => void failures.set(server.label, failures.get(server.label)! + count);
    // Warm-up of each, not kept.
    for (const server of servers) {
      await asFastAsPossible(server.url, lifecycles({ token: SIGNALING_TOKEN, tenants: TENANTS }), { connections: CONNECTIONS, seconds: 2 });
      await atFixedRate(server.url, lifecycles({ token: SIGNALING_TOKEN, tenants: TENANTS }), { rate: FIXED_RATE, seconds: 2 });
    }
    for (let sample = 0; sample < SAMPLES; sample++) {
      // In turns, the order alternating, so that a busy spell of the machine falls on both.
      for (const server of sample % 2 === 0 ? servers : [...servers].reverse()) {
        const closed = await asFastAsPossible(server.url, lifecycles({ token: SIGNALING_TOKEN, tenants: TENANTS }), { connections: CONNECTIONS, seconds: THROUGHPUT_SECONDS });
        throughput.get(server.label)!.push(closed.requestsPerSecond);
        failed(server, closed.failures);
        const open = await fixedRateSample(server);
        fixed.get(server.label)!.push(open);
        failed(server, open.run.failures);
      }
    }
    return { throughput, fixed, failures };
  } finally {
    baseline.stop();
    await service.stop();
    await removeDir(dataDir);
    await removeDir(baselineDir);
  }
};

let measured: Promise<Measurement> | undefined;
const measurement = (): Promise<Measurement> => (measured ??= measure());

const BASELINE = 'Fastify route: same token check, one durable SQLite insert (FULL)';
const SERVICE = 'service: park or retrieve (SQLite FULL)';

const failuresNote = (m: Measurement): string =>
  `failures (non-2xx or no answer) over all runs: service ${m.failures.get('service')}, baseline ${m.failures.get('baseline')}.`;

const throughputSuite: BenchSuite = {
  name: 'HTTP park and retrieve throughput',
  async run(): Promise<SuiteResult> {
    const m = await measurement();
    const service = m.throughput.get('service')!;
    const cases: CaseResult[] = [
      { name: BASELINE, unit: 'req/s', samples: m.throughput.get('baseline')!, baseline: true },
      { name: SERVICE, unit: 'req/s', samples: service, target: { of: 'ratio', atLeast: 0.9 } },
      { name: 'service: park + retrieve lifecycles', unit: 'lifecycles/s', samples: service.map((rate) => rate / 2) },
    ];
    return {
      suite: 'HTTP park + retrieve throughput, closed loop (embedded service)',
      cases,
      notes: [`${CONNECTIONS} requests in flight for ${THROUGHPUT_SECONDS} s a sample, ${TENANTS} tenants, keep-alive connections; ${SAMPLES} samples after a warm-up, servers in turns. ${failuresNote(m)}`],
    };
  },
};

const latencySuite = (figure: 'p50' | 'p99' | 'max', atMost?: number): BenchSuite => ({
  name: `HTTP latency ${figure} at ${FIXED_RATE} req/s`,
  async run(): Promise<SuiteResult> {
    const m = await measurement();
    const of = (runs: readonly FixedRateSample[]): number[] =>
      runs.map(({ run }) => (figure === 'max' ? Math.max(...run.latencies) : percentile([...run.latencies], figure === 'p50' ? 50 : 99)));
    const service = m.fixed.get('service')!;
    const baseline = m.fixed.get('baseline')!;
    const achieved = (runs: readonly FixedRateSample[]): string => runs.map((s) => s.run.achievedRate.toFixed(0)).join(', ');
    const overloaded = [...service, ...baseline].some((s) => s.run.achievedRate < 0.95 * FIXED_RATE);
    return {
      suite: `HTTP latency ${figure} at ${FIXED_RATE} req/s, open loop (from each request's due time)`,
      cases: [
        { name: BASELINE, unit: 'ms', samples: of(m.fixed.get('baseline')!), baseline: true },
        { name: SERVICE, unit: 'ms', samples: of(service), ...(atMost === undefined ? {} : { target: { of: 'ratio', atMost } as const }) },
      ],
      notes:
        figure === 'p50'
          ? [
              `${FIXED_RATE} requests a second for ${FIXED_SECONDS} s a sample, park-or-retrieve over ${TENANTS} tenants (a retrieve takes the call parked 100 lifecycles before); each latency from the request's due time, so what a slow answer delayed counts too. Answered a second (first due time to last answer): service ${achieved(service)}, baseline ${achieved(baseline)}.`,
              ...(overloaded ? [`A server answered under 95% of the offered ${FIXED_RATE} req/s: its figures measure a growing queue, not the latency at that rate.`] : []),
            ]
          : [],
    };
  },
});

const cpuSuite: BenchSuite = {
  name: 'HTTP CPU per park + retrieve',
  async run(): Promise<SuiteResult> {
    const m = await measurement();
    const service = m.fixed.get('service')!;
    const baseline = m.fixed.get('baseline')!;
    const cores = (runs: readonly FixedRateSample[]): string => runs.map((sample) => sample.cores.toFixed(2)).join(', ');
    return {
      suite: `CPU time per park + retrieve (two requests), all threads of the server's process, at ${FIXED_RATE} req/s`,
      cases: [
        { name: `${BASELINE}, two requests`, unit: 'µs CPU', samples: baseline.map((sample) => sample.cpuPerLifecycle), baseline: true },
        { name: SERVICE, unit: 'µs CPU', samples: service.map((sample) => sample.cpuPerLifecycle), target: { of: 'median', atMost: CPU_TARGET_MICROS } },
      ],
      notes: [
        `utime + stime of /proc/<pid>/stat over each fixed-rate sample, until the process is quiet again (what the load left for later, such as the read side catching up, counts). Cores kept busy: service ${cores(service)}, baseline ${cores(baseline)}. Target: half the service's figure before the issue (1.1 cores at 1,000 req/s: ${CPU_TARGET_MICROS * 2} µs).`,
      ],
    };
  },
};

export default [throughputSuite, latencySuite('p50', 2), latencySuite('p99', 1.5), latencySuite('max'), cpuSuite];
