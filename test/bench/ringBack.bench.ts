/**
 * Ring-back lateness: 100,000 parked calls (1,000 in each of 100 tenants) coming due within one
 * minute, fired by the scheduler through the command handler into the event store, with the
 * ring-back-timers projection in SQLite on a temporary file: the service's own wiring.
 *
 * - The calls are parked first (decided by the domain and appended in bulk: ringBack/parkedCalls.ts)
 *   and projected; the handler loads every tenant (and snapshots it), and the scheduler starts,
 *   as after a restart, with the first timer due 5 s later and the last 60 s after that. The scheduler's clock is the
 *   system clock set back by a fixed amount (it runs at real speed), so the parks can be recorded
 *   before anyone knows when they will be done.
 * - Lateness is measured where the scheduler hands each command to the handler, with the
 *   high-resolution clock; the scheduler's own `observeLateness` (whole milliseconds) is checked
 *   against it in the notes.
 * - Baseline, in the same minute: a child process arming a bare setTimeout per timer for the
 *   same instants, firing a no-op. The ratio is the scheduler's own cost.
 * - Resident memory: sampled every 200 ms while the scheduler holds and fires the timers.
 *
 * Environment, for a closer look: RING_BACK_STORE (`sqlite`, the default: the service's embedded
 * store at synchronous=FULL; or `memory`, to take the store's commits out), RING_BACK_CALLS, RING_BACK_TENANTS, RING_BACK_WINDOW_MS,
 * RING_BACK_SNAPSHOT_EVERY (the handler's snapshot interval; the service's default when unset),
 * RING_BACK_CONCURRENCY (the scheduler's maxConcurrent), RING_BACK_SAMPLES (3: each sample the
 * whole minute in a process of its own, ringBack/sampleProcess.ts).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchSuite, CaseResult, SuiteResult } from './harness.js';
import { CALLS, MiB, STORE, WINDOW_MS, type Measurement } from './ringBack/measure.js';

/** Samples, each the whole minute in a process of its own (RING_BACK_SAMPLES, 3). */
const SAMPLES = Number(process.env.RING_BACK_SAMPLES ?? 3);

const sampleInProcess = (): Promise<Measurement> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./ringBack/sampleProcess.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let measured: Measurement | undefined;
    child.once('message', (message) => (measured = message as Measurement));
    child.once('error', reject);
    child.once('exit', (code) => (measured && code === 0 ? resolve(measured) : reject(new Error(`A ring-back sample exited with ${code} without a measurement.`))));
  });

const measureAll = async (): Promise<Measurement[]> => {
  const samples: Measurement[] = [];
  for (let sample = 0; sample < SAMPLES; sample++) samples.push(await sampleInProcess());
  return samples;
};

let measured: Promise<Measurement[]> | undefined;
const measurements = (): Promise<Measurement[]> => (measured ??= measureAll());

const title = `${CALLS.toLocaleString('en-US')} ring backs due within ${WINDOW_MS / 1000} s`;

const latenessSuite = (figure: 'p50' | 'p99' | 'max'): BenchSuite => ({
  name: `ring-back lateness ${figure}`,
  async run(): Promise<SuiteResult> {
    const ms = await measurements();
    const target = figure === 'p99' ? { target: { of: 'median', atMost: 100 } as const } : {};
    const scheduler: CaseResult = { name: `scheduler sends the command (${STORE === 'sqlite' ? 'SQLite FULL' : 'in-memory'} event store)`, unit: 'ms', samples: ms.map((m) => m.scheduler[figure]), ...target };
    const recorded: CaseResult = { name: 'the handler answers: RingBackStarted recorded', unit: 'ms', samples: ms.map((m) => m.recorded[figure]), ...target };
    return {
      suite: `ring-back lateness ${figure}, ${title}`,
      cases: [{ name: 'bare setTimeout per timer, no-op (child process)', unit: 'ms', baseline: true, samples: ms.map((m) => m.baseline[figure]) }, scheduler, recorded],
      notes: figure === 'p50' ? [`${ms.length} samples, each the whole minute in a process of its own; the first one's notes follow.`, ...ms[0]!.notes] : [],
    };
  },
});

const memorySuite: BenchSuite = {
  name: 'ring-back resident memory',
  async run(): Promise<SuiteResult> {
    const ms = await measurements();
    return {
      suite: `resident memory, ${title}`,
      cases: [
        { name: 'bare setTimeout child process, peak', unit: 'MiB', baseline: true, samples: ms.map((m) => m.baseline.peakRss / MiB) },
        { name: 'service process before the scheduler started', unit: 'MiB', samples: ms.map((m) => m.rssBeforeScheduler / MiB) },
        { name: 'service process holding and firing the timers, peak', unit: 'MiB', samples: ms.map((m) => m.peakRss / MiB), target: { of: 'median', atMost: 1024 } },
      ],
    };
  },
};

export default [latenessSuite('p50'), latenessSuite('p99'), latenessSuite('max'), memorySuite];
