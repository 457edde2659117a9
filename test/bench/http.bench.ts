/**
 * Park and retrieve lifecycles over HTTP against the embedded service (SQLite, synchronous FULL,
 * started as `npm start` starts it), driven by autocannon, next to a trivial Fastify route served
 * by the same process layout in the same run. Then the latency at a fixed offered rate of 1,000
 * requests a second.
 *
 * Each autocannon connection parks a call, then retrieves it by the orbit the park answered, over
 * and over; calls are spread over tenants as real traffic is (each tenant is one stream: its
 * commands are taken one at a time, see ADR 0001).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ADMIN_TOKEN, SIGNALING_TOKEN, api, removeDir, startServiceProcess, tempDataDir } from '../support/serviceProcess.js';
import type { BenchSuite, CaseResult } from './harness.js';

export const TENANTS = 16;
const CONNECTIONS = 32;
const SECONDS = 6;
const SAMPLES = 3;
const FIXED_RATE = 1_000;

const tenantOf = (connection: number): string => `tenant-${connection % TENANTS}`;

export interface Run {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

export const load = async (options: autocannon.Options): Promise<Run> => {
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  return { requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
};

const parkBody = (tenantId: string): string =>
  JSON.stringify({
    type: 'park.requested',
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId,
    callId: randomUUID(),
    parker: { userId: 'alice@bench', endpoint: 'teams-desktop' },
    media: 'audio',
  });

const retrieveBody = (tenantId: string, orbit: string): string =>
  JSON.stringify({
    type: 'retrieve.requested',
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId,
    callId: randomUUID(),
    retriever: { userId: 'bob@bench', endpoint: 'teams-desktop' },
    orbit,
  });

/** What a connection remembers between its park and its retrieval. */
interface Lifecycle {
  tenant?: string;
  orbit?: string;
}

/** Park, then retrieve what was parked, on each connection, round and round. */
export const lifecycles = (url: string): autocannon.Options => {
  let connections = 0;
  return {
    url,
    headers: { authorization: `Bearer ${SIGNALING_TOKEN}`, 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        path: '/v1/signaling',
        setupRequest: (request, context) => {
          const lifecycle = context as Lifecycle;
          lifecycle.tenant ??= tenantOf(connections++);
          return { ...request, body: parkBody(lifecycle.tenant) };
        },
        onResponse: (status, body, context) => {
          (context as Lifecycle).orbit = status === 201 ? (JSON.parse(body) as { orbit: { code: string } }).orbit.code : '0';
        },
      },
      {
        method: 'POST',
        path: '/v1/signaling',
        setupRequest: (request, context) => ({ ...request, body: retrieveBody((context as Lifecycle).tenant!, (context as Lifecycle).orbit ?? '0') }),
      },
    ],
  };
};

const trivial = (url: string): autocannon.Options => ({
  url,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  requests: [{ method: 'POST', path: '/v1/signaling', setupRequest: (request) => ({ ...request, body: parkBody('tenant-0') }) }],
});

const startTrivial = async (): Promise<{ url: string; stop: () => void }> => {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'trivialServer.js');
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { url: string }).url)));
  return { url, stop: () => child.kill('SIGTERM') };
};

const suite: BenchSuite = {
  name: 'http-lifecycles',
  async run() {
    const dataDir = await tempDataDir();
    const tokens = [`admin@*=${ADMIN_TOKEN}`, `signaling@*=${SIGNALING_TOKEN}`].join(',');
    const service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: tokens, LOG_LEVEL: 'warn' });
    const baseline = await startTrivial();
    try {
      for (let tenant = 0; tenant < TENANTS; tenant++) {
        await api(service.url, ADMIN_TOKEN).patch(`/v1/tenants/tenant-${tenant}/policies/Global`, { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 9999, orbitReuseQuarantineSeconds: 0 });
      }
      await load({ ...lifecycles(service.url), duration: 2 });
      await load({ ...trivial(baseline.url), duration: 2 });
      const serviceRuns: Run[] = [];
      const trivialRuns: Run[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        trivialRuns.push(await load(trivial(baseline.url)));
        serviceRuns.push(await load(lifecycles(service.url)));
      }
      const fixed = await load({ ...lifecycles(service.url), overallRate: FIXED_RATE, connections: 16, duration: 10 });
      const failures = serviceRuns.reduce((sum, run) => sum + run.errors + run.non2xx, 0);
      const cases: CaseResult[] = [
        { name: 'trivial Fastify route, requests/s', unit: 'req/s', samples: trivialRuns.map((run) => run.requestsPerSecond), baseline: true },
        { name: 'park + retrieve over HTTP, requests/s', unit: 'req/s', samples: serviceRuns.map((run) => run.requestsPerSecond), target: { of: 'ratio', atLeast: 0.4 } },
        { name: 'park + retrieve lifecycles/s', unit: 'lifecycles/s', samples: serviceRuns.map((run) => run.requestsPerSecond / 2) },
        { name: `latency p50 at ${FIXED_RATE} req/s`, unit: 'ms', samples: [fixed.p50] },
        { name: `latency p99 at ${FIXED_RATE} req/s`, unit: 'ms', samples: [fixed.p99], target: { of: 'median', atMost: 10 } },
      ];
      return {
        suite: 'HTTP park and retrieve (embedded service)',
        cases,
        notes: [
          `${CONNECTIONS} connections for ${SECONDS} s a sample, ${TENANTS} tenants; SQLite synchronous FULL; failures under load: ${failures}; at the fixed rate: ${fixed.requestsPerSecond.toFixed(0)} req/s achieved, ${fixed.errors + fixed.non2xx} failures`,
        ],
      };
    } finally {
      baseline.stop();
      await service.stop();
      await removeDir(dataDir);
    }
  },
};

export default suite;
