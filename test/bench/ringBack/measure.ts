/**
 * One sample of the ring-back benchmark (ringBack.bench.ts tells what it measures), run in a
 * process of its own by ringBack/sampleProcess.ts.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CommandHandler } from '../../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import type { SchedulerClock } from '../../../adapters/scheduler/clock.js';
import { RingBackScheduler, type CommandPort } from '../../../adapters/scheduler/ringBackScheduler.js';
import { ReadSideThread } from '../../../adapters/readSide/readSideThread.js';
import { SqliteEventStore } from '../../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { callParkStream } from '../../../domain/callPark.js';
import type { ParkCall, SetPolicy } from '../../../domain/commands.js';
import type { EventStore } from '../../../domain/eventStore.js';
import { ringBackTimersProjection, ringBackTimersRunnerOptions } from '../../../projections/ringBackTimers.js';
import { ProjectionRunner } from '../../../projections/runner.js';
import { SqliteReadStore } from '../../../projections/sqliteReadStore.js';
import { dueOffset } from './dueTimes.js';
import { latenessSummary, wallClock, type LatenessSummary } from './lateness.js';
import { recordDirectly } from './parkedCalls.js';

export const STORE = process.env.RING_BACK_STORE === 'memory' ? 'memory' : 'sqlite';
const TENANTS = Number(process.env.RING_BACK_TENANTS ?? 100);
const SNAPSHOT_EVERY = process.env.RING_BACK_SNAPSHOT_EVERY === undefined ? undefined : Number(process.env.RING_BACK_SNAPSHOT_EVERY);
const CONCURRENCY = process.env.RING_BACK_CONCURRENCY === undefined ? undefined : Number(process.env.RING_BACK_CONCURRENCY);
export const CALLS = Number(process.env.RING_BACK_CALLS ?? 100_000);
export const WINDOW_MS = Number(process.env.RING_BACK_WINDOW_MS ?? 60_000);
const LEAD_MS = 5_000;
const PARK_TIMEOUT_SECONDS = 10;
/** The benchmark's own time: the first timer is due at this instant. */
const FIRST_DUE = Date.UTC(2026, 10, 22, 9, 0, 0);
export const MiB = 1024 * 1024;

export interface Measurement {
  readonly scheduler: LatenessSummary;
  readonly recorded: LatenessSummary;
  readonly observed: LatenessSummary;
  readonly baseline: LatenessSummary & { readonly peakRss: number };
  readonly rssBeforeScheduler: number;
  readonly rssAfterLoad: number;
  readonly peakRss: number;
  readonly heapUsedAtPeak: number;
  readonly notes: readonly string[];
}

const tenantOf = (index: number): string => `tenant-${index % TENANTS}`;
const sessionOf = (index: number): string => `s-${index}`;
const dueAtOf = (index: number): number => FIRST_DUE + dueOffset(index, CALLS, WINDOW_MS);

const policy = (tenantId: string): SetPolicy => ({
  type: 'SetPolicy',
  commandId: `policy-${tenantId}`,
  at: FIRST_DUE - 3_600_000,
  tenantId,
  policy: 'Global',
  // Ringing for 300 s: the ring-back-unanswered timers fall after the minute measured.
  settings: { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 9999, parkTimeoutSeconds: PARK_TIMEOUT_SECONDS, ringBackSeconds: 300, maxRingBackAttempts: 1 },
});

const parkCall = (index: number): ParkCall => ({
  type: 'ParkCall',
  commandId: `park-${index}`,
  at: dueAtOf(index) - PARK_TIMEOUT_SECONDS * 1000,
  tenantId: tenantOf(index),
  sessionId: sessionOf(index),
  callId: `c-${index}`,
  parker: { userId: `user-${index % 500}@bench.example`, endpoint: 'teams-desktop' },
  media: 'audio',
  random: 0,
});

const seconds = (from: number): string => `${((wallClock() - from) / 1000).toFixed(1)} s`;

/** The bare-setTimeout child, armed for the same instants; resolves with its summary. */
const bareTimers = (firstDue: number): Promise<LatenessSummary & { peakRss: number }> => {
  const child = fork(fileURLToPath(new URL('./bareTimers.js', import.meta.url)), [String(firstDue), String(CALLS), String(WINDOW_MS)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`The bare-timers baseline exited with ${code}.`));
      else resolve(JSON.parse(output) as LatenessSummary & { peakRss: number });
    });
  });
};

export const measure = async (): Promise<Measurement> => {
  const notes: string[] = [];
  const folder = await mkdtemp(join(tmpdir(), 'callpark-ring-back-bench-'));
  const store: EventStore = STORE === 'sqlite' ? new SqliteEventStore(join(folder, 'events.sqlite')) : new InMemoryEventStore();
  const handler = new CommandHandler({ store, ...(SNAPSHOT_EVERY === undefined ? {} : { snapshotEvery: SNAPSHOT_EVERY }) });
  const queryStore = await SqliteReadStore.open(join(folder, 'read.sqlite'));
  // As the service runs it: the timers' runner on the read side's thread, with the stores the
  // service's configuration names (an in-memory log cannot be shared with a thread: there it runs here).
  let runner: Pick<ProjectionRunner, 'onApplied' | 'catchUp'>;
  let stopRunner: () => Promise<void>;
  if (store instanceof SqliteEventStore) {
    const thread = await ReadSideThread.start({ dataDir: folder, eventStore: { kind: 'sqlite', synchronous: 'full' }, readStore: { kind: 'sqlite' } }, [ringBackTimersProjection]);
    store.onCommitted(() => thread.wake());
    runner = thread.runners[0]!;
    stopRunner = () => thread.stop();
  } else {
    const readStore = await SqliteReadStore.open(join(folder, 'read.sqlite'));
    const local = new ProjectionRunner({ eventStore: store, readStore }, ringBackTimersProjection, ringBackTimersRunnerOptions);
    await local.start();
    runner = local;
    let closed: Promise<void> | undefined;
    stopRunner = () => (closed ??= local.stop().then(() => readStore.close()));
  }
  try {
    const setupStarted = wallClock();
    await Promise.all(
      Array.from({ length: TENANTS }, (_, t) => {
        const parks: ParkCall[] = [];
        for (let index = t; index < CALLS; index += TENANTS) parks.push(parkCall(index));
        return recordDirectly(store, tenantOf(t), [policy(tenantOf(t)), ...parks]);
      }),
    );
    const parkedIn = seconds(setupStarted);
    await runner.catchUp();
    const projectedIn = seconds(setupStarted);
    // The service in its steady state: every tenant's call park in the handler's cache, and a
    // snapshot taken (a change of the policy's description records an event; parked calls keep
    // their settings), so each tenant snapshots every SNAPSHOT_EVERY of the minute's events.
    await Promise.all(Array.from({ length: TENANTS }, (_, t) => handler.handle({ ...policy(tenantOf(t)), commandId: `warm-${t}`, settings: { description: 'warmed up' } })));
    // The handler writes those snapshots without waiting for them: let them be committed (and the
    // runner pass the warm-up's events) before the minute starts, or the scheduler's first
    // seconds would be spent under the warm-up's own writes rather than in the steady state.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    await runner.catchUp();
    notes.push(
      `${CALLS.toLocaleString('en-US')} calls over ${TENANTS} tenants, ${STORE === 'sqlite' ? 'SQLite event store' : 'in-memory event store'}, handler snapshots every ${SNAPSHOT_EVERY ?? 'default number of'} events, scheduler concurrency ${CONCURRENCY ?? 'default'}: parked in ${parkedIn}, projected by ${projectedIn}, loaded into the handler by ${seconds(setupStarted)}.`,
    );

    const rssBeforeScheduler = process.memoryUsage().rss;
    const firstDueReal = Date.now() + LEAD_MS;
    const shift = firstDueReal - FIRST_DUE;
    const clock: SchedulerClock = {
      now: () => Date.now() - shift,
      setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    };
    const baseline = bareTimers(firstDueReal);

    const lateness = new Float64Array(CALLS);
    /** When the handler answered each timer's first command: the ring back is recorded by then. */
    const recordedLateness = new Float64Array(CALLS);
    const sentOnce = new Uint8Array(CALLS);
    let firstSends = 0;
    let sends = 0;
    let allSent: () => void = () => undefined;
    const everyTimerSent = new Promise<void>((resolve) => (allSent = resolve));
    let answered = 0;
    let allAnswered: () => void = () => undefined;
    const everyTimerAnswered = new Promise<void>((resolve) => (allAnswered = resolve));
    const measuring: CommandPort = {
      handle: (command) => {
        sends++;
        const index = command.type === 'RingBackDue' ? Number(command.sessionId.slice(2)) : -1;
        const first = index >= 0 && sentOnce[index] === 0;
        if (first) {
          sentOnce[index] = 1;
          lateness[index] = wallClock() - shift - dueAtOf(index);
          if (++firstSends === CALLS) allSent();
        }
        const answer = handler.handle(command);
        if (first) {
          void answer.then(
            () => {
              recordedLateness[index] = wallClock() - shift - dueAtOf(index);
              if (++answered === CALLS) allAnswered();
            },
            () => undefined,
          );
        }
        return answer;
      },
    };
    const observed: number[] = [];
    let warnings = 0;
    const scheduler = new RingBackScheduler({
      handler: measuring,
      readStore: queryStore,
      runner,
      clock,
      observeLateness: (ms) => observed.push(ms),
      log: { warn: () => warnings++, error: () => warnings++ },
      ...(CONCURRENCY === undefined ? {} : { options: { maxConcurrent: CONCURRENCY } }),
    });

    let peakRss = 0;
    let heapUsedAtPeak = 0;
    const sample = (): void => {
      const usage = process.memoryUsage();
      if (usage.rss > peakRss) {
        peakRss = usage.rss;
        heapUsedAtPeak = usage.heapUsed;
      }
    };
    const sampler = setInterval(sample, 200);
    // What the minute costs the one thread, whatever else the machine runs: the share of the
    // time the event loop was busy (blocking commits included), and the CPU per ring back.
    const loopBefore = performance.eventLoopUtilization();
    const cpuBefore = process.cpuUsage();
    const loading = wallClock();
    await scheduler.start();
    sample();
    const rssAfterLoad = process.memoryUsage().rss;
    notes.push(
      `The scheduler started ${(LEAD_MS / 1000).toFixed(0)} s before the first due time and read ${scheduler.status().queued.toLocaleString('en-US')} timers (its 60 s horizon) in ${seconds(loading)}.`,
    );

    const deadline = setTimeout(() => allSent(), LEAD_MS + WINDOW_MS + 60_000);
    await everyTimerSent;
    clearTimeout(deadline);
    const answerDeadline = setTimeout(() => allAnswered(), 60_000);
    await everyTimerAnswered;
    clearTimeout(answerDeadline);
    await scheduler.settled();
    const loopBusy = performance.eventLoopUtilization(loopBefore).utilization;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    sample();
    await scheduler.stop();
    await stopRunner();

    let started = 0;
    const rung = new Set<string>();
    for (let t = 0; t < TENANTS; t++) {
      for await (const recorded of store.readStream(callParkStream(tenantOf(t)))) {
        if (recorded.type !== 'RingBackStarted') continue;
        started++;
        rung.add((recorded.metadata as { commandId: string }).commandId);
      }
    }
    if (firstSends !== CALLS || started !== CALLS || rung.size !== CALLS) {
      throw new Error(`Expected ${CALLS} ring backs, one per call: ${firstSends} sent, ${started} RingBackStarted for ${rung.size} timers.`);
    }
    const bare = await baseline;
    notes.push(`${CALLS.toLocaleString('en-US')} RingBackStarted recorded, one per call; ${sends.toLocaleString('en-US')} commands sent; ${warnings} warnings logged.`);
    notes.push(
      `From the scheduler's start to the last answer the event loop was busy ${(loopBusy * 100).toFixed(0)}% of the time; the process used ${((cpu.user + cpu.system) / CALLS).toFixed(0)} µs of CPU per ring back (user ${(cpu.user / CALLS).toFixed(0)}, system ${(cpu.system / CALLS).toFixed(0)}).`,
    );
    const check = latenessSummary(observed);
    notes.push(`observeLateness (whole ms): ${check.count.toLocaleString('en-US')} values, p50 ${check.p50}, p99 ${check.p99}, max ${check.max}.`);
    notes.push(
      `Resident: ${(rssBeforeScheduler / MiB).toFixed(0)} MiB before the scheduler (the log${STORE === 'memory' ? ', in memory' : ''}, the handler's states, the runner), ${(rssAfterLoad / MiB).toFixed(0)} MiB once it held its timers, ${(peakRss / MiB).toFixed(0)} MiB at the peak (heap used then ${(heapUsedAtPeak / MiB).toFixed(0)} MiB).`,
    );
    return {
      scheduler: latenessSummary(lateness),
      recorded: latenessSummary(recordedLateness),
      observed: check,
      baseline: bare,
      rssBeforeScheduler,
      rssAfterLoad,
      peakRss,
      heapUsedAtPeak,
      notes,
    };
  } finally {
    await stopRunner();
    await queryStore.close();
    await store.close();
    await rm(folder, { recursive: true, force: true });
  }
};

