/**
 * A world for the scheduler's tests: one event store, one read store database, and as many
 * service processes on them as a test starts, each with its own command handler, projection
 * runner and scheduler, as `npm start` wires them. Time is a ManualClock shared by all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CommandHandler, type CommandOutcome } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { RingBackScheduler, type CommandPort, type RingBackSchedulerOptions, type SchedulerLog } from '../../adapters/scheduler/ringBackScheduler.js';
import { callParkStream } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { CallParkEvent } from '../../domain/events.js';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import { migrationScope, tablesOf } from '../../projections/projection.js';
import type { ReadStore } from '../../projections/readStore.js';
import { decodeRecorded, ringBackTimersProjection, timersDueBetween, type RingBackTimer } from '../../projections/ringBackTimers.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import { postgresAvailable, postgresTestUrl } from '../support/services.js';
import type { ManualClock } from './manualClock.js';

/** Opens connections onto one read store database, as separate processes would. */
export interface ReadStoreDatabase {
  readonly dialect: 'sqlite' | 'postgres';
  open(): Promise<ReadStore>;
  drop(): Promise<void>;
}

export const sqliteDatabase = async (): Promise<ReadStoreDatabase> => {
  const folder = await mkdtemp(join(tmpdir(), 'callpark-scheduler-'));
  const opened: ReadStore[] = [];
  return {
    dialect: 'sqlite',
    open: async () => {
      const store = await SqliteReadStore.open(join(folder, 'read.db'));
      opened.push(store);
      return store;
    },
    drop: async () => {
      await Promise.all(opened.map((store) => store.close()));
      await rm(folder, { recursive: true, force: true });
    },
  };
};

export const postgresDatabase = async (): Promise<ReadStoreDatabase> => {
  const schema = `test_scheduler_${randomBytes(4).toString('hex')}`;
  const opened: PostgresReadStore[] = [];
  return {
    dialect: 'postgres',
    open: async () => {
      const store = await PostgresReadStore.open({ connectionString: postgresTestUrl(), schema, max: 4 });
      opened.push(store);
      return store;
    },
    drop: async () => {
      await opened[0]?.dropSchema();
      await Promise.all(opened.map((store) => store.close()));
    },
  };
};

/** Whether the test PostgreSQL answers (test/support/services.ts). */
export const postgresAnswers = postgresAvailable;

export interface LogEntry {
  readonly level: 'warn' | 'error';
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** One service process: a handler, the projection's runner and the scheduler. */
export interface ServiceProcess {
  readonly handler: CommandHandler;
  readonly runner: ProjectionRunner;
  readonly scheduler: RingBackScheduler;
  readonly lateness: number[];
  /** What the scheduler sent, and what it was answered. */
  readonly sent: { command: CallParkCommand; outcome?: CommandOutcome; error?: unknown }[];
  readonly logged: LogEntry[];
  stop(): Promise<void>;
}

export interface ProcessOptions {
  readonly scheduler?: RingBackSchedulerOptions;
  /** Wrap the handler the scheduler sends through (to fail, slow down or count). */
  readonly wrap?: (port: CommandPort) => CommandPort;
  /** Start without the runner (another process projects). */
  readonly withoutRunner?: boolean;
  /** Split the tenants into `count` shards and own those of `own` (none: wait for `own` calls) rather than every tenant. */
  readonly shards?: { readonly count: number; readonly own: readonly number[] };
}

export class TimerWorld {
  readonly store = new InMemoryEventStore();
  readonly processes: ServiceProcess[] = [];
  private readonly readStores: ReadStore[] = [];

  constructor(
    readonly database: ReadStoreDatabase,
    readonly clock: ManualClock,
  ) {}

  async startProcess(options: ProcessOptions = {}): Promise<ServiceProcess> {
    const readStore = await this.database.open();
    this.readStores.push(readStore);
    const handler = new CommandHandler({ store: this.store, sleep: async () => undefined });
    const runner = new ProjectionRunner({ eventStore: this.store, readStore }, ringBackTimersProjection);
    const lateness: number[] = [];
    const sent: ServiceProcess['sent'] = [];
    const logged: LogEntry[] = [];
    const log: SchedulerLog = {
      warn: (details, message) => logged.push({ level: 'warn', message, details }),
      error: (details, message) => logged.push({ level: 'error', message, details }),
    };
    const recording: CommandPort = {
      handle: async (command) => {
        const entry: ServiceProcess['sent'][number] = { command };
        sent.push(entry);
        try {
          entry.outcome = await handler.handle(command);
          return entry.outcome;
        } catch (error) {
          entry.error = error;
          throw error;
        }
      },
    };
    // Started before the scheduler, as the composition root does: the runner creates the table.
    if (!options.withoutRunner) await runner.start();
    else await readStore.migrate(ringBackTimersProjection.migrations(tablesOf(ringBackTimersProjection)), migrationScope(ringBackTimersProjection));
    const scheduler = new RingBackScheduler({
      handler: options.wrap ? options.wrap(recording) : recording,
      readStore,
      ...(options.withoutRunner ? {} : { runner }),
      clock: this.clock,
      observeLateness: (ms) => lateness.push(ms),
      log,
      random: () => 0.5,
      ...(options.scheduler ? { options: options.scheduler } : {}),
      ...(options.shards ? { shards: options.shards.count } : {}),
    });
    if (options.shards) await Promise.all(options.shards.own.map((shard) => scheduler.own(shard)));
    else await scheduler.start();
    const process: ServiceProcess = {
      handler,
      runner,
      scheduler,
      lateness,
      sent,
      logged,
      stop: async () => {
        await scheduler.stop();
        await runner.stop();
      },
    };
    this.processes.push(process);
    return process;
  }

  /** Let every process catch up: runners to the head of the log, schedulers to their answers. */
  readonly settle = async (): Promise<void> => {
    for (let round = 0; round < 3; round++) {
      for (const { runner } of this.processes) if (runner.status().state === 'running') await runner.catchUp();
      for (const { scheduler } of this.processes) await scheduler.settled();
    }
  };

  /** Move the clock to `to`, running what comes due on the way. */
  advanceTo(to: number): Promise<void> {
    return this.clock.advanceTo(to, this.settle);
  }

  async events(tenantId: string): Promise<CallParkEvent[]> {
    const events: CallParkEvent[] = [];
    for await (const recorded of this.store.readStream(callParkStream(tenantId))) events.push(decodeRecorded(recorded));
    return events;
  }

  /** Every row of the timers table. */
  async timers(): Promise<RingBackTimer[]> {
    const readStore = this.readStores[0] ?? (await this.database.open());
    if (!this.readStores.includes(readStore)) this.readStores.push(readStore);
    return timersDueBetween(readStore, undefined, Number.MAX_SAFE_INTEGER, 1_000_000);
  }

  async close(): Promise<void> {
    for (const process of this.processes) await process.stop();
    await this.database.drop();
  }
}
