/**
 * An HTTP load generator with two modes, for the service and its baseline alike:
 *
 * - open loop (`atFixedRate`): request `slot` is due at `start + slot / rate`, whatever became of
 *   the ones before it, and its latency is counted from that due time, not from when it could be
 *   sent. A slow answer therefore shows in the latency of every request it held up, which a
 *   closed-loop tool (autocannon, wrk) hides: there a connection waiting on a slow answer simply
 *   sends nothing meanwhile ("coordinated omission").
 * - closed loop (`asFastAsPossible`): `connections` requests in flight at all times, for the
 *   highest rate the server sustains.
 *
 * Keep-alive connections from an `http.Agent` with room for far more requests in flight than the
 * server answers, so the generator is never the bound. A workload says what each slot sends and
 * may make a slot wait for an earlier answer (a retrieve for its park's orbit); that wait counts in
 * the slot's latency.
 */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadRequest {
  readonly path: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface Workload {
  /** What slot `slot` sends; a promise when it must wait for an earlier answer. */
  request(slot: number): LoadRequest | Promise<LoadRequest>;
  /** The answer to slot `slot`. */
  answered(slot: number, status: number, body: string): void;
}

export interface OpenLoopRun {
  /** Each request's latency from its due time, in ms, in slot order. */
  readonly latencies: Float64Array;
  /** Answers other than 2xx, and requests that failed outright. */
  readonly failures: number;
  /** Requests answered a second, over the run (first due time to last answer). */
  readonly achievedRate: number;
  readonly seconds: number;
}

export interface ClosedLoopRun {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly failures: number;
}

interface Target {
  readonly hostname: string;
  readonly port: number;
  readonly agent: Agent;
}

const targetOf = (url: string, connections: number): Target => {
  const { hostname, port } = new URL(url);
  return { hostname, port: Number(port), agent: new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections }) };
};

const post = (target: Target, { path, body, headers }: LoadRequest): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { hostname: target.hostname, port: target.port, agent: target.agent, method: 'POST', path, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });

const send = async (target: Target, workload: Workload, slot: number): Promise<boolean> => {
  try {
    const answer = await post(target, await workload.request(slot));
    workload.answered(slot, answer.status, answer.body);
    return answer.status >= 200 && answer.status < 300;
  } catch {
    workload.answered(slot, 0, '');
    return false;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `rate` requests a second for `seconds`, open loop; resolves once every request is answered. */
export const atFixedRate = async (url: string, workload: Workload, { rate, seconds, connections = 512 }: { rate: number; seconds: number; connections?: number }): Promise<OpenLoopRun> => {
  const target = targetOf(url, connections);
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const latencies = new Float64Array(total);
  const inFlight: Promise<void>[] = [];
  let failures = 0;
  let lastAnswer = 0;
  const start = performance.now() + 5;
  for (let slot = 0; slot < total; ) {
    const now = performance.now();
    for (; slot < total && start + slot * intervalMs <= now; slot++) {
      const due = start + slot * intervalMs;
      const index = slot;
      inFlight.push(
        send(target, workload, index).then((ok) => {
          lastAnswer = performance.now();
          latencies[index] = lastAnswer - due;
          if (!ok) failures++;
        }),
      );
    }
    if (slot < total) await sleep(Math.max(0, start + slot * intervalMs - performance.now()));
  }
  await Promise.all(inFlight);
  target.agent.destroy();
  const elapsed = (lastAnswer - start) / 1000;
  return { latencies, failures, achievedRate: total / elapsed, seconds: elapsed };
};

/** `connections` requests in flight at all times for `seconds`: requests answered a second. */
export const asFastAsPossible = async (url: string, workload: Workload, { connections, seconds }: { connections: number; seconds: number }): Promise<ClosedLoopRun> => {
  const target = targetOf(url, connections);
  let slot = 0;
  let requests = 0;
  let failures = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const ok = await send(target, workload, slot++);
      requests++;
      if (!ok) failures++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  target.agent.destroy();
  return { requestsPerSecond: requests / elapsed, requests, failures };
};
