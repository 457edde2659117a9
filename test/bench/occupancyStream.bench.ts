/**
 * The live occupancy stream under load: `/healthz` and parks at a fixed rate, timed open loop
 * (from when each request was due), while thousands of supervisors' pages follow the tenant's
 * board and its policy changes every second, each change a fresh snapshot to every stream.
 * The baseline is the same load in the same run with no stream open. The service runs as
 * `npm start` starts it (SQLite, synchronous FULL); the streams' clients run in a process of
 * their own (fixtures/streamClients.ts), reading and throwing away what comes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, SIGNALING_TOKEN, SUPERVISOR_TOKEN, api, removeDir, startServiceProcess, tempDataDir, type ServiceProcess } from '../support/serviceProcess.js';
import { percentile, type BenchSuite, type CaseResult } from './harness.js';

const TENANT = 'contoso';
const SECONDS = 10;
const SAMPLES = 3;
const HEALTH_RATE = 50;
const PARK_RATE = 20;

/**
 * The streams and the board they follow: the target's 2,000 streams on a 1,000-orbit policy a
 * tenth full, and the 200 on a 9,000-orbit policy holding 2,000 calls (a 500 KB snapshot).
 */
const SETUPS = [
  { streams: 2_000, rangeStart: 1000, rangeEnd: 1999, parked: 100 },
  { streams: 200, rangeStart: 1000, rangeEnd: 9999, parked: 2_000 },
] as const;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const call = (url: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${url}${path}`,
      { method, agent, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });

const sleepUntil = (at: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

/** Send `send` `rate` times a second for `seconds`, each timed from when it was due; the latencies in ms. */
const openLoop = async (rate: number, seconds: number, send: () => Promise<void>): Promise<number[]> => {
  const start = performance.now();
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    await sleepUntil(due);
    inFlight.push(send().then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(inFlight);
  return latencies;
};

const park = (url: string) =>
  call(url, 'POST', '/v1/signaling', SIGNALING_TOKEN, {
    type: 'park.requested',
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: TENANT,
    callId: randomUUID(),
    parker: { userId: 'alice@bench', endpoint: 'teams-desktop' },
    media: 'audio',
  });

const parkThenRetrieve = async (url: string): Promise<void> => {
  const parked = await park(url);
  if (parked.status !== 201) throw new Error(`park: ${parked.status} ${parked.text}`);
  const orbit = (JSON.parse(parked.text) as { orbit: { code: string } }).orbit.code;
  // Freed at once, so the policy never fills; not timed.
  void call(url, 'POST', '/v1/signaling', SIGNALING_TOKEN, {
    type: 'retrieve.requested',
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: TENANT,
    callId: randomUUID(),
    retriever: { userId: 'bob@bench', endpoint: 'teams-desktop' },
    orbit,
  });
};

interface Sample {
  readonly healthP99: number;
  readonly parkP99: number;
}

/** One sample: healthz, parks and a policy change a second (its range, so every board is sent afresh), all at once. */
const sample = async (url: string, setup: (typeof SETUPS)[number]): Promise<Sample> => {
  let rangeEnd: number = setup.rangeEnd;
  const [health, parks] = await Promise.all([
    openLoop(HEALTH_RATE, SECONDS, async () => {
      const answer = await call(url, 'GET', '/healthz');
      if (answer.status !== 200) throw new Error(`healthz: ${answer.status}`);
    }),
    openLoop(PARK_RATE, SECONDS, () => parkThenRetrieve(url)),
    openLoop(1, SECONDS, async () => {
      rangeEnd = rangeEnd === setup.rangeEnd ? setup.rangeEnd - 1 : setup.rangeEnd;
      const answer = await call(url, 'PATCH', `/v1/tenants/${TENANT}/policies/Global`, ADMIN_TOKEN, { pickupRangeEnd: rangeEnd });
      if (answer.status !== 200) throw new Error(`policy: ${answer.status} ${answer.text}`);
    }),
  ]);
  return { healthP99: percentile(health, 99), parkP99: percentile(parks, 99) };
};

interface Clients {
  readonly child: ChildProcess;
  stats(): Promise<{ snapshots: number; bytes: number; closed: number; open: number }>;
}

const openStreams = async (url: string, count: number): Promise<Clients> => {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'streamClients.js');
  const child = spawn(process.execPath, [script, url, `/v1/tenants/${TENANT}/occupancy/stream`, SUPERVISOR_TOKEN, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('The stream clients ended before they opened their streams.');
  return {
    child,
    stats: async () => {
      child.stdin!.write('stats\n');
      const line = await lines.next();
      return JSON.parse(String(line.value)) as { snapshots: number; bytes: number; closed: number; open: number };
    },
  };
};

/** The peak resident memory of a process (Linux), as text. */
const peakResidentMiB = async (pid: number | undefined): Promise<string> => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kib === undefined ? 'unknown' : `${(Number(kib) / 1024).toFixed(0)} MiB`;
};

interface Measured {
  readonly setup: (typeof SETUPS)[number];
  readonly baseline: Sample[];
  readonly loaded: Sample[];
  readonly note: string;
}

const measureSetup = async (setup: (typeof SETUPS)[number]): Promise<Measured> => {
  const dataDir = await tempDataDir();
  const tokens = [`admin@*=${ADMIN_TOKEN}`, `signaling@${TENANT}=${SIGNALING_TOKEN}`, `supervisor@${TENANT}=${SUPERVISOR_TOKEN}`].join(',');
  let service: ServiceProcess | undefined;
  let clients: Clients | undefined;
  try {
    service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: tokens, LOG_LEVEL: 'warn' });
    const admin = api(service.url, ADMIN_TOKEN);
    const policy = await admin.patch(`/v1/tenants/${TENANT}/policies/Global`, { allowCallPark: true, pickupRangeStart: setup.rangeStart, pickupRangeEnd: setup.rangeEnd, orbitReuseQuarantineSeconds: 0 });
    if (policy.status !== 200) throw new Error(`policy: ${policy.status} ${JSON.stringify(policy.body)}`);
    // The calls the board holds throughout, 32 at a time.
    for (let left = setup.parked; left > 0; left -= 32) {
      const answers = await Promise.all(Array.from({ length: Math.min(32, left) }, () => park(service!.url)));
      const refused = answers.find((answer) => answer.status !== 201);
      if (refused) throw new Error(`park: ${refused.status} ${refused.text}`);
    }
    await sample(service.url, setup); // warm-up
    const baseline: Sample[] = [];
    for (let i = 0; i < SAMPLES; i++) baseline.push(await sample(service.url, setup));
    clients = await openStreams(service.url, setup.streams);
    const loaded: Sample[] = [];
    for (let i = 0; i < SAMPLES; i++) loaded.push(await sample(service.url, setup));
    const stats = await clients.stats();
    const peak = await peakResidentMiB(service.child.pid);
    return {
      setup,
      baseline,
      loaded,
      note: `${label(setup)}: ${stats.snapshots.toLocaleString('en-US')} snapshots and ${(stats.bytes / 2 ** 20).toFixed(0)} MiB received in all; ${stats.closed} streams closed by the service (falling behind); the service's peak resident memory ${peak}`,
    };
  } finally {
    clients?.child.kill('SIGTERM');
    await service?.stop();
    await removeDir(dataDir);
  }
};

let measured: Promise<Measured[]> | undefined;
const measureAll = (): Promise<Measured[]> => (measured ??= (async () => {
  const all: Measured[] = [];
  for (const setup of SETUPS) all.push(await measureSetup(setup));
  return all;
})());

const label = (setup: (typeof SETUPS)[number]): string =>
  `${setup.streams.toLocaleString('en-US')} streams, ${(setup.rangeEnd - setup.rangeStart + 1).toLocaleString('en-US')}-orbit policy holding ${setup.parked.toLocaleString('en-US')} calls, changing every second`;

const suiteOf = (name: string, what: 'healthP99' | 'parkP99', title: string, atMost: number): BenchSuite => ({
  name,
  async run() {
    const all = await measureAll();
    const cases: CaseResult[] = [
      { name: `${title} p99, no stream open (${label(SETUPS[0]).replace(/^[\d,]+ streams, /, '')})`, unit: 'ms', samples: all[0]!.baseline.map((s) => s[what]), baseline: true },
      ...all.flatMap((m, index) => [
        ...(index === 0 ? [] : [{ name: `${title} p99, no stream open (${label(m.setup).replace(/^[\d,]+ streams, /, '')})`, unit: 'ms', samples: m.baseline.map((s) => s[what]) }]),
        { name: `${title} p99, ${label(m.setup)}`, unit: 'ms', samples: m.loaded.map((s) => s[what]), target: { of: 'median' as const, atMost } },
      ]),
    ];
    return {
      suite: `Occupancy stream: ${title} latency at a fixed rate while streams are open`,
      cases,
      notes: [`open loop, ${what === 'healthP99' ? HEALTH_RATE : PARK_RATE} requests a second for ${SECONDS} s a sample, ${SAMPLES} samples; each sample's p99; parks are retrieved at once`, ...all.map((m) => m.note)],
    };
  },
});

export default [suiteOf('occupancy-stream-healthz', 'healthP99', '/healthz', 50), suiteOf('occupancy-stream-park', 'parkP99', 'park', 100)];
