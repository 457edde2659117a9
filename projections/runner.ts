/**
 * The checkpointed projection runner: follows `$all` from a projection's checkpoint and applies
 * the events to the read store in batches, each batch in one transaction that also moves the
 * checkpoint, compare-and-set. Whatever fails wherever, the tables and the checkpoint move
 * together or not at all, so an event's effect is neither lost nor applied twice:
 * - a failure before the commit rolls the batch back, and its events are read again;
 * - a failure after the commit finds the checkpoint past them on restart;
 * - a second runner of the same build changes nothing: its compare-and-set finds the checkpoint
 *   moved, it rolls back, reloads the checkpoint and carries on from there.
 *
 * A batch is up to `maxBatchSize` events, collected for at most `maxBatchMs`; it is committed as
 * soon as the subscription has nothing more to give at once (after `lingerMs`, 0 by default), so
 * a quiet log is followed with little delay and a busy one in large transactions. The log is read
 * ahead into a bounded buffer (subscriptionBuffer.ts), so a batch takes what is ready at once.
 */
import { comparePositions, matchesFilter, type EventStore, type Position, type RecordedEvent } from '../domain/eventStore.js';
import { BatchMemory } from './batchMemory.js';
import { advanceCheckpoint, checkpointMigrations, checkpointScope, createCheckpoint, readCheckpoint } from './checkpoints.js';
import { checkLogFollowed, followedLog } from './logFollowed.js';
import { buildName, migrationScope, tablesOf, type Projection, type Tables } from './projection.js';
import type { ReadStore } from './readStore.js';
import { SubscriptionBuffer } from './subscriptionBuffer.js';

export interface RunnerOptions {
  /** The most events in one transaction (500). */
  readonly maxBatchSize?: number;
  /** The longest one batch is collected, in ms (250). */
  readonly maxBatchMs?: number;
  /** How long to wait for more events once none is ready, before committing (0 ms). */
  readonly lingerMs?: number;
  /** Build the tables under this prefix (a rebuild); the live build has none. */
  readonly tablePrefix?: string;
  /** When another runner moved the checkpoint: carry on from where it is (`reload`, the default) or stop. */
  readonly onConflict?: 'reload' | 'stop';
  /** Failures retried (reloading the checkpoint) before the runner gives up: 5, a pause of `delayMs` doubling each time (100 ms). */
  readonly retry?: { readonly attempts: number; readonly delayMs: number };
  readonly clock?: () => number;
}

export type RunnerState = 'idle' | 'running' | 'stopping' | 'stopped' | 'failed' | 'superseded';

export interface RunnerStatus {
  readonly projection: string;
  readonly build: string;
  readonly version: number;
  readonly state: RunnerState;
  /** The position of the last event the tables reflect, as this runner last knew it. */
  readonly checkpoint: Position | undefined;
  readonly appliedEvents: number;
  readonly committedBatches: number;
  /** Batches refused because another runner had moved the checkpoint. */
  readonly conflicts: number;
  readonly retries: number;
  readonly lastCommittedAt: number | undefined;
  readonly lastError: string | undefined;
}

/** Told after each committed batch. */
export interface AppliedBatch {
  readonly projection: string;
  readonly build: string;
  readonly checkpoint: Position;
  /** The batch's events that reached the projection (those its filter let through). */
  readonly events: readonly RecordedEvent[];
  readonly committedAt: number;
}

export interface Lag {
  readonly head: Position | undefined;
  readonly checkpoint: Position | undefined;
  /**
   * How far behind the head, in log positions: a count of events in the stores that number their
   * events (in-memory, SQLite); EventStoreDB's positions are byte offsets, so there it is bytes.
   */
  readonly events: number;
  /**
   * How long the projection has been behind, in ms: since the oldest event read and not yet
   * committed was recorded, else since the last commit (or the start). 0 at the head.
   */
  readonly ms: number;
}

type Listener = (batch: AppliedBatch) => void;

/** The outcome of following the log until something stops it. */
type Follow = 'ended' | 'conflict';

class Superseded extends Error {
  override readonly name = 'Superseded';
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wait for `promise`, but no longer than `ms`. */
const within = async (promise: Promise<void>, ms: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
};

export class ProjectionRunner {
  readonly build: string;
  private readonly tables: Tables;
  private readonly maxBatchSize: number;
  private readonly maxBatchMs: number;
  private readonly lingerMs: number;
  private readonly retry: { readonly attempts: number; readonly delayMs: number };
  private readonly clock: () => number;
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Set<{ position: Position; resolve: () => void; reject: (error: Error) => void }>();
  /** What the projection keeps between batches; forgotten whenever the tables may not be as this runner left them. */
  private readonly memory: BatchMemory;

  private state: RunnerState = 'idle';
  private position: Position | undefined;
  private stopRequested = false;
  private buffer: SubscriptionBuffer | undefined;
  private loop: Promise<void> | undefined;
  private startedAt = 0;
  private firstPendingRecordedAt: number | undefined;
  private appliedEvents = 0;
  private committedBatches = 0;
  private conflicts = 0;
  private retries = 0;
  private lastCommittedAt: number | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly deps: { readonly eventStore: EventStore; readonly readStore: ReadStore },
    readonly projection: Projection,
    private readonly options: RunnerOptions = {},
  ) {
    const prefix = options.tablePrefix ?? '';
    this.build = buildName(projection, prefix);
    this.tables = tablesOf(projection, prefix);
    this.memory = new BatchMemory(prefix !== '');
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.maxBatchMs = options.maxBatchMs ?? 250;
    this.lingerMs = options.lingerMs ?? 0;
    this.retry = options.retry ?? { attempts: 5, delayMs: 100 };
    this.clock = options.clock ?? Date.now;
    this.startedAt = this.clock();
    if (this.maxBatchSize < 1) throw new Error('maxBatchSize must be at least 1.');
  }

  /**
   * Migrate the read store, load the checkpoint (creating it at the start of the log for a new
   * build) and follow the log in the background. Rejects when the stored tables were written by
   * another version of the projection, or from another log, or past the end of this one
   * (ForeignReadStore, logFollowed.ts): they must be rebuilt (see rebuild.ts).
   */
  async start(): Promise<void> {
    if (this.state === 'running' || this.state === 'stopping') throw new Error(`The runner of ${this.build} is already ${this.state}.`);
    const { readStore } = this.deps;
    const prefix = this.options.tablePrefix ?? '';
    await readStore.migrate(checkpointMigrations, checkpointScope);
    await readStore.migrate(this.projection.migrations(this.tables), migrationScope(this.projection, prefix));
    const logId = await followedLog(this.deps.eventStore);
    await createCheckpoint(readStore, this.build, this.projection.version, this.clock(), logId);
    await checkLogFollowed(this.deps, { projection: this.projection.name, build: this.build, hasTables: this.projection.tables.length > 0, logId });
    const checkpoint = await this.loadCheckpoint();
    this.position = checkpoint;
    this.stopRequested = false;
    this.lastError = undefined;
    this.startedAt = this.clock();
    this.setState('running');
    this.loop = this.run();
  }

  /** Finish the batch under way, commit it, and stop following the log. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.state === 'running') this.setState('stopping');
    await this.buffer?.close();
    await this.loop;
  }

  status(): RunnerStatus {
    return {
      projection: this.projection.name,
      build: this.build,
      version: this.projection.version,
      state: this.state,
      checkpoint: this.position,
      appliedEvents: this.appliedEvents,
      committedBatches: this.committedBatches,
      conflicts: this.conflicts,
      retries: this.retries,
      lastCommittedAt: this.lastCommittedAt,
      lastError: this.lastError,
    };
  }

  async lag(): Promise<Lag> {
    const head = await this.deps.eventStore.headPosition();
    const checkpoint = this.position;
    if (head === undefined || (checkpoint !== undefined && comparePositions(checkpoint, head) >= 0)) return { head, checkpoint, events: 0, ms: 0 };
    const events = Number(head.commit - (checkpoint?.commit ?? -1n));
    const since = this.firstPendingRecordedAt ?? this.buffer?.peek()?.recordedAt ?? this.lastCommittedAt ?? this.startedAt;
    return { head, checkpoint, events, ms: Math.max(0, this.clock() - since) };
  }

  /** Be told after each committed batch; answers the function that unsubscribes. */
  onApplied(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the tables reflect `position`; rejects if the runner stops first. */
  waitFor(position: Position): Promise<void> {
    if (this.position !== undefined && comparePositions(this.position, position) >= 0) return Promise.resolve();
    if (this.state !== 'running') return Promise.reject(new Error(`The runner of ${this.build} is ${this.state}: it will not reach ${position.commit}.`));
    return new Promise((resolve, reject) => this.waiters.add({ position, resolve, reject }));
  }

  /** Resolves once the tables reflect the log as it is now. */
  async catchUp(): Promise<void> {
    const head = await this.deps.eventStore.headPosition();
    if (head !== undefined) await this.waitFor(head);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopRequested) {
      try {
        const outcome = await this.follow(() => {
          attempt = 0;
        });
        if (outcome === 'ended') break;
        this.conflicts++;
        if (this.options.onConflict === 'stop') {
          this.lastError = `Another runner moved the checkpoint of ${this.build}.`;
          break;
        }
        this.reachedPosition(await this.loadCheckpoint());
      } catch (error) {
        if (error instanceof Superseded) {
          this.lastError = error.message;
          this.finish('superseded');
          return;
        }
        this.lastError = error instanceof Error ? error.message : String(error);
        if (attempt >= this.retry.attempts || this.stopRequested) {
          this.finish(this.stopRequested ? 'stopped' : 'failed');
          return;
        }
        this.retries++;
        await new Promise((resolve) => setTimeout(resolve, this.retry.delayMs * 2 ** attempt));
        attempt++;
        try {
          this.reachedPosition(await this.loadCheckpoint());
        } catch (reloadError) {
          if (reloadError instanceof Superseded) {
            this.lastError = reloadError.message;
            this.finish('superseded');
            return;
          }
          // The next attempt will meet it again, or not.
        }
      }
    }
    this.finish('stopped');
  }

  /** Follow the log from the checkpoint, a batch at a time, until stopped, ended or refused. */
  private async follow(onCommit: () => void): Promise<Follow> {
    const subscription = this.deps.eventStore.subscribeToAll(this.position === undefined ? {} : { after: this.position });
    const buffer = new SubscriptionBuffer(subscription, this.maxBatchSize);
    this.buffer = buffer;
    if (this.stopRequested) await buffer.close();
    try {
      while (!this.stopRequested) {
        const events = await this.collect(buffer);
        if (events.length === 0) break;
        if (!(await this.commit(events))) return 'conflict';
        onCommit();
        // Let timers and I/O in between batches, even when the log is read from memory.
        await nextTurn();
      }
      return 'ended';
    } finally {
      this.firstPendingRecordedAt = undefined;
      this.buffer = undefined;
      await buffer.close();
    }
  }

  /** One batch: at least one new event, or none when the subscription has ended. */
  private async collect(buffer: SubscriptionBuffer): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    let last = this.position;
    const takeReady = (): void => {
      for (const event of buffer.take(this.maxBatchSize - events.length)) {
        // At least once: a redelivered event is skipped.
        if (last !== undefined && comparePositions(event.position, last) <= 0) continue;
        if (events.length === 0) this.firstPendingRecordedAt = event.recordedAt;
        events.push(event);
        last = event.position;
      }
    };

    for (takeReady(); events.length === 0; takeReady()) {
      if (buffer.drained) return events;
      await buffer.whenReady();
    }

    const startedAt = this.clock();
    const lingerUntil = startedAt + Math.min(this.lingerMs, this.maxBatchMs);
    while (events.length < this.maxBatchSize && !buffer.drained && !this.stopRequested && this.clock() - startedAt < this.maxBatchMs) {
      if (buffer.size === 0) {
        // Give the source a turn: one with events at hand delivers them within it.
        await nextTurn();
        if (buffer.size === 0) {
          const remaining = lingerUntil - this.clock();
          if (remaining <= 0) break;
          await within(buffer.whenReady(), remaining);
          if (buffer.size === 0) break;
        }
      }
      takeReady();
    }
    return events;
  }

  /** Apply a batch and move the checkpoint past it, in one transaction. False when the checkpoint was not where this runner left it. */
  private async commit(events: readonly RecordedEvent[]): Promise<boolean> {
    const from = this.position;
    const to = events[events.length - 1]!.position;
    const relevant = this.projection.filter === undefined ? events : events.filter((event) => matchesFilter(event, this.projection.filter));
    const { projection, tables, memory } = this;
    let moved: boolean;
    try {
      moved = await this.deps.readStore.transaction(async (tx) => {
        // The checkpoint first: in PostgreSQL this locks its row, so a second runner waits here
        // for this batch instead of doing the work and failing at the end.
        if (!(await advanceCheckpoint(tx, { name: this.build, version: projection.version, from, to, now: this.clock() }))) return false;
        if (relevant.length === 0) return true;
        if (projection.handle) await projection.handle(relevant, tx, tables, memory);
        else for (const event of relevant) await projection.apply(event, tx, tables);
        return true;
      });
    } catch (error) {
      memory.forget();
      throw error;
    }
    if (!moved) {
      memory.forget();
      return false;
    }
    memory.batchCommitted();
    const committedAt = this.clock();
    this.firstPendingRecordedAt = undefined;
    this.appliedEvents += relevant.length;
    this.committedBatches++;
    this.lastCommittedAt = committedAt;
    this.notify({ projection: projection.name, build: this.build, checkpoint: to, events: relevant, committedAt });
    return true;
  }

  private notify(batch: AppliedBatch): void {
    this.reachedPosition(batch.checkpoint);
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch (error) {
        this.lastError = `An onApplied listener failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  }

  /** The tables reflect `position` (committed here, or found in the checkpoint another runner moved). */
  private reachedPosition(position: Position | undefined): void {
    this.position = position;
    if (position === undefined) return;
    for (const waiter of this.waiters) {
      if (comparePositions(position, waiter.position) >= 0) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  private async loadCheckpoint(): Promise<Position | undefined> {
    this.memory.forget();
    const checkpoint = await readCheckpoint(this.deps.readStore, this.build);
    if (checkpoint === undefined) throw new Error(`The checkpoint of ${this.build} is missing.`);
    if (checkpoint.version !== this.projection.version) {
      throw new Superseded(
        `The tables of ${this.build} are at version ${checkpoint.version}, this runner's projection is version ${this.projection.version}` +
          (checkpoint.version < this.projection.version ? ': rebuild them.' : ': a newer version has taken over.'),
      );
    }
    return checkpoint.position;
  }

  private finish(state: RunnerState): void {
    this.setState(state);
    for (const waiter of this.waiters) waiter.reject(new Error(`The runner of ${this.build} is ${state}${this.lastError ? `: ${this.lastError}` : ''}.`));
    this.waiters.clear();
  }

  private setState(state: RunnerState): void {
    this.state = state;
  }
}
