/**
 * The write side over a long run, as an operator would run it: 40,000 commands in one tenant,
 * through the command handler, on the SQLite store at synchronous=FULL, with 256-character
 * command ids (the longest the API accepts), a command a second of the tenant's time (so the
 * idempotency window holds 3,600 of them). Measured in the same run:
 * - the store's size on disk against the bytes of the events themselves (every column of their rows);
 * - the command rate of the last tenth of the run against the first tenth's (each tenth in three samples);
 * - the resident memory in the last tenth against the first tenth's (three readings each).
 * Before the run, the process is warmed on a store of its own (BENCH_WRITE_SIDE_WARM_UP commands,
 * 10,000 by default). BENCH_WRITE_SIDE_COMMANDS makes the run shorter while iterating.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { BenchSuite, CaseResult } from './harness.js';

const COMMANDS = Number(process.env['BENCH_WRITE_SIDE_COMMANDS'] ?? 40_000);
const WARM_UP = Number(process.env['BENCH_WRITE_SIDE_WARM_UP'] ?? 10_000);
const TENANT = 'longrun';
const T0 = Date.parse('2026-12-07T00:00:00Z');
const SAMPLES_PER_TENTH = 3;

/** A full garbage collection, to read the live heap (the flag set at run time, so the writer thread's execArgv stays clean). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const liveHeap = (): number => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

const longId = (n: number): string => `${String(n).padStart(8, '0')}-${'c'.repeat(247)}`;
const alice = { userId: 'alice@longrun.example', endpoint: 'teams-desktop' } as const;
const bob = { userId: 'bob@longrun.example', endpoint: 'teams-desktop', federated: false } as const;

const fileBytes = async (path: string): Promise<number> => {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) total += await stat(path + suffix).then((s) => s.size, () => 0);
  return total;
};

interface Run {
  readonly firstRates: number[];
  readonly lastRates: number[];
  readonly firstRss: number[];
  readonly lastRss: number[];
  readonly firstHeap: number[];
  readonly lastHeap: number[];
  readonly storeBytes: number;
  readonly eventBytes: number;
  readonly events: number;
  readonly snapshotBytes: number;
  readonly seconds: number;
}

/**
 * The run's commands, one at a time: ten calls stay parked for a while at any time (a park, and
 * the retrieval of the call parked ten parks before). `after` sees each command's index once it is done.
 */
const drive = async (handler: CommandHandler, tenantId: string, commands: number, after: (n: number) => void = () => undefined): Promise<void> => {
  await handler.handle({ type: 'SetPolicy', commandId: longId(-1), at: T0, tenantId, policy: 'Global', settings: { allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 199, parkTimeoutSeconds: 600, orbitReuseQuarantineSeconds: 0 } });
  const held: string[] = [];
  for (let n = 0; n < commands; n++) {
    const at = T0 + (n + 1) * 1_000;
    const retrieving = n % 2 === 1 && held.length >= 10;
    const command: CallParkCommand = retrieving
      ? { type: 'RetrieveCall', commandId: longId(n), at, tenantId, orbit: held.shift()!, retriever: bob }
      : { type: 'ParkCall', commandId: longId(n), at, tenantId, sessionId: `s-${n}`, callId: `c-${n}`, parker: alice, media: 'audio', random: 0 };
    const outcome = await handler.handle(command);
    const parked = outcome.events[0];
    if (parked?.type === 'Parked') held.push(parked.orbitCode);
    after(n);
  }
};

/**
 * The process warmed before the run, as a service is after its first minutes: the same commands on
 * a store of their own, thrown away. Without it the first tenth measures V8 sizing its young
 * generation and compiling the code (about 40 MiB of resident memory over the first 6,000
 * commands, flat after; see the README), not the write side's growth with history.
 */
const warmUp = async (): Promise<void> => {
  if (WARM_UP === 0) return;
  const directory = await mkdtemp(join(tmpdir(), 'callpark-bench-warm-'));
  const store = new SqliteEventStore(join(directory, 'events.sqlite'));
  try {
    await drive(new CommandHandler({ store }), 'warm-up', WARM_UP);
  } finally {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  }
};

const run = async (): Promise<Run> => {
  const directory = await mkdtemp(join(tmpdir(), 'callpark-bench-write-'));
  const path = join(directory, 'events.sqlite');
  const store = new SqliteEventStore(path);
  const handler = new CommandHandler({ store });
  const tenth = Math.floor(COMMANDS / 10);
  const sample = Math.floor(tenth / SAMPLES_PER_TENTH);
  const firstRates: number[] = [];
  const lastRates: number[] = [];
  const firstRss: number[] = [];
  const lastRss: number[] = [];
  const firstHeap: number[] = [];
  const lastHeap: number[] = [];
  await warmUp();
  const started = process.hrtime.bigint();
  try {
    let sampleStart = process.hrtime.bigint();
    await drive(handler, TENANT, COMMANDS, (n) => {
      const done = n + 1;
      const inFirst = done <= tenth;
      const inLast = done > COMMANDS - tenth && done - (COMMANDS - tenth) <= SAMPLES_PER_TENTH * sample;
      const boundary = inFirst ? done % sample === 0 && done / sample <= SAMPLES_PER_TENTH : inLast && (done - (COMMANDS - tenth)) % sample === 0;
      if (done === COMMANDS - tenth) sampleStart = process.hrtime.bigint();
      if (boundary) {
        const now = process.hrtime.bigint();
        const rate = sample / (Number(now - sampleStart) / 1e9);
        sampleStart = now;
        (inFirst ? firstRates : lastRates).push(rate);
        (inFirst ? firstRss : lastRss).push(process.memoryUsage().rss);
        (inFirst ? firstHeap : lastHeap).push(liveHeap());
        // The collection is not the handler's time.
        sampleStart = process.hrtime.bigint();
      }
    });
  } finally {
    await store.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const db = new Database(path);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const eventBytes = db
      .prepare('SELECT SUM(length(CAST(stream_name AS BLOB)) + length(CAST(event_id AS BLOB)) + length(CAST(type AS BLOB)) + length(CAST(data AS BLOB)) + length(CAST(metadata AS BLOB)) + 24) FROM events')
      .pluck()
      .get() as number;
    const events = db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
    const snapshotBytes = (db.prepare('SELECT COALESCE(SUM(length(CAST(data AS BLOB))), 0) FROM snapshots').pluck().get() as number) ?? 0;
    db.close();
    const storeBytes = await fileBytes(path);
    return { firstRates, lastRates, firstRss, lastRss, firstHeap, lastHeap, storeBytes, eventBytes, events, snapshotBytes, seconds };
  } finally {
    if (db.open) db.close();
    await rm(directory, { recursive: true, force: true });
  }
};

let measured: Promise<Run> | undefined;
const measure = (): Promise<Run> => (measured ??= run());
const mib = (bytes: number): string => (bytes / 1_048_576).toFixed(1);

const notes = (r: Run): string[] => [
  `${COMMANDS.toLocaleString('en-US')} commands (parks and retrievals, ten calls held) in one tenant with 256-character ids, a second apart, through the command handler on SQLite FULL, in ${r.seconds.toFixed(0)} s, after ${WARM_UP.toLocaleString('en-US')} of the same on a store thrown away; ` +
    `${r.events.toLocaleString('en-US')} events of ${mib(r.eventBytes)} MiB; the file ${mib(r.storeBytes)} MiB (one snapshot of ${(r.snapshotBytes / 1024).toFixed(1)} KiB among it).`,
];

const rateSuite: BenchSuite = {
  name: 'write side over a long run: rate',
  async run() {
    const r = await measure();
    const cases: CaseResult[] = [
      { name: 'command rate, first tenth of the run', unit: 'commands/s', baseline: true, samples: r.firstRates },
      { name: 'command rate, last tenth of the run', unit: 'commands/s', samples: r.lastRates, target: { of: 'ratio', atLeast: 0.9 } },
    ];
    return { suite: 'write side, 40,000 commands in one tenant: rate', cases, notes: notes(r) };
  },
};

const memorySuite: BenchSuite = {
  name: 'write side over a long run: memory',
  async run() {
    const r = await measure();
    const cases: CaseResult[] = [
      { name: 'resident memory, first tenth', unit: 'MiB', baseline: true, samples: r.firstRss.map((bytes) => bytes / 1_048_576) },
      { name: 'resident memory, last tenth', unit: 'MiB', samples: r.lastRss.map((bytes) => bytes / 1_048_576), target: { of: 'ratio', atMost: 1.2 } },
    ];
    return { suite: 'write side, 40,000 commands in one tenant: memory', cases };
  },
};

const heapSuite: BenchSuite = {
  name: 'write side over a long run: live heap',
  async run() {
    const r = await measure();
    const cases: CaseResult[] = [
      { name: 'live heap after a full collection, first tenth', unit: 'MiB', baseline: true, samples: r.firstHeap.map((bytes) => bytes / 1_048_576) },
      { name: 'live heap after a full collection, last tenth', unit: 'MiB', samples: r.lastHeap.map((bytes) => bytes / 1_048_576), target: { of: 'ratio', atMost: 1.2 } },
    ];
    const notes = ['Read at the same points as the resident memory, after a full garbage collection: what the process holds, not what V8 has reserved.'];
    return { suite: 'write side, 40,000 commands in one tenant: live heap', cases, notes };
  },
};

const sizeSuite: BenchSuite = {
  name: 'write side over a long run: store size',
  async run() {
    const r = await measure();
    const cases: CaseResult[] = [
      { name: 'bytes of the events themselves', unit: 'MiB', baseline: true, samples: [r.eventBytes / 1_048_576] },
      { name: 'event store on disk', unit: 'MiB', samples: [r.storeBytes / 1_048_576], target: { of: 'ratio', atMost: 2 } },
    ];
    return { suite: 'write side, 40,000 commands in one tenant: store size', cases, notes: ['The size is one measurement of a deterministic run (the same commands give the same bytes), not a timing.'] };
  },
};

export default [rateSuite, memorySuite, heapSuite, sizeSuite];
