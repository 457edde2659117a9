/**
 * The read-side thread: the projections' runners (ring-back timers, occupancy, audit history, reporting),
 * each on the thread's own connections to the event store and the read store, so that decoding
 * the log, folding it and writing the tables never holds up the main thread's requests. The
 * runners are the same checkpointed runners as anywhere else (projections/runner.ts): a crash of
 * this thread, or of the process, loses or doubles nothing. See readSideThread.ts for the main
 * thread's side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EventStore } from '../../domain/eventStore.js';
import { readSideProjections, readSideRunnerOptions } from '../../projections/readSide.js';
import { ringBackTimersProjection, ringBackTimersRunnerOptions } from '../../projections/ringBackTimers.js';
import { checkpointMigrations, checkpointScope } from '../../projections/checkpoints.js';
import { checkLogFollowed, followedLog } from '../../projections/logFollowed.js';
import type { ReadStore } from '../../projections/readStore.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { SqliteEventStore } from '../eventStores/sqlite/sqliteEventStore.js';
import { openEventStore, openReadStore } from '../config/stores.js';
import { projectionLease, projectionLeases } from '../leases/projectionLeases.js';
import type { FromReadSide, ReadSideWorkerData, ToReadSide } from './protocol.js';

const STATUS_EVERY_MS = 1_000;

const port = parentPort!;
const settings = workerData as ReadSideWorkerData;
const post = (message: FromReadSide): void => port.postMessage(message);
const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const run = async (): Promise<void> => {
  let eventStore: EventStore | undefined;
  let readStore: ReadStore | undefined;
  let runners: ProjectionRunner[] = [];
  const leases = projectionLeases(settings.stores);
  try {
    eventStore = openEventStore(settings.stores);
    readStore = await openReadStore(settings.stores);
    const stores = { eventStore, readStore };
    runners = settings.projections.map((name) => {
      const projection = [ringBackTimersProjection, ...readSideProjections].find((candidate) => candidate.name === name);
      if (projection === undefined) throw new Error(`There is no projection called ${name}.`);
      return new ProjectionRunner(stores, projection, projection === ringBackTimersProjection ? ringBackTimersRunnerOptions : readSideRunnerOptions(projection));
    });
    // On a shared read store the runners may all run elsewhere: this instance still refuses to
    // start on a read store that follows another log (the runner's start checks it where it runs).
    if (settings.stores.readStore.kind === 'postgres') {
      await readStore.migrate(checkpointMigrations, checkpointScope);
      const logId = await followedLog(eventStore);
      for (const runner of runners) {
        await checkLogFollowed(stores, { projection: runner.projection.name, build: runner.build, hasTables: runner.projection.tables.length > 0, logId });
      }
    }
    for (const runner of runners) leases.hold(projectionLease(runner.build), { start: () => runner.start(), stop: () => runner.stop() });
    await leases.started();
  } catch (error) {
    await leases.close().catch(() => undefined);
    await eventStore?.close().catch(() => undefined);
    await readStore?.close().catch(() => undefined);
    post({ kind: 'start-failed', message: errorText(error) });
    port.close();
    return;
  }
  const opened = { eventStore, readStore };

  const byBuild = new Map(runners.map((runner) => [runner.build, runner]));
  const listened = new Set<string>();
  const statuses = () => runners.map((runner) => runner.status());
  for (const runner of runners) {
    runner.onApplied((batch) =>
      post({
        kind: 'applied',
        build: batch.build,
        checkpoint: batch.checkpoint,
        committedAt: batch.committedAt,
        events: listened.has(batch.build) ? batch.events : [],
        status: runner.status(),
      }),
    );
  }
  const reporting = setInterval(() => post({ kind: 'statuses', statuses: statuses(), leases: leases.held() }), STATUS_EVERY_MS);
  // A lease taken or lost is reported at once, not at the next round.
  const unlisten = leases.onChange((held) => post({ kind: 'statuses', statuses: statuses(), leases: held }));
  let stopped = false;
  void (async () => {
    // Wake the subscriptions whenever the main thread has appended (see ReadSideWorkerData.appends).
    const appends = new Int32Array(settings.appends);
    const { eventStore } = opened;
    if (!(eventStore instanceof SqliteEventStore)) return;
    while (!stopped) {
      const seen = Atomics.load(appends, 0);
      const wait = Atomics.waitAsync(appends, 0, seen, STATUS_EVERY_MS);
      if (wait.async) await wait.value;
      if (!stopped) eventStore.lookForAppends();
    }
  })();

  const answer = (id: number, work: Promise<Partial<Extract<FromReadSide, { kind: 'answer' }>>>): void => {
    work.then(
      (value) => post({ kind: 'answer', id, ...value }),
      (error: unknown) => post({ kind: 'answer', id, error: errorText(error) }),
    );
  };
  const runnerOf = (build: string): ProjectionRunner => {
    const runner = byBuild.get(build);
    if (runner === undefined) throw new Error(`The read-side thread runs no projection build ${build}.`);
    return runner;
  };

  port.on('message', (message: ToReadSide) => {
    switch (message.kind) {
      case 'listen':
        listened.add(message.build);
        return;
      case 'lag':
        return answer(message.id, (async () => ({ lag: await runnerOf(message.build).lag() }))());
      case 'wait-for':
        return answer(message.id, (async () => (await runnerOf(message.build).waitFor(message.position), {}))());
      case 'catch-up':
        return answer(message.id, (async () => (await runnerOf(message.build).catchUp(), {}))());
      case 'stop':
        stopped = true;
        clearInterval(reporting);
        unlisten();
        void (async () => {
          try {
            await leases.close();
          } finally {
            await opened.eventStore.close().catch(() => undefined);
            await opened.readStore.close().catch(() => undefined);
            post({ kind: 'stopped', statuses: statuses(), leases: [] });
            port.close();
          }
        })();
        return;
      default: {
        const unknown: never = message;
        throw new Error(`Unknown message for the read-side thread: ${JSON.stringify(unknown)}`);
      }
    }
  });
  post({ kind: 'started', statuses: statuses(), leases: leases.held() });
};

void run();
