/**
 * The application command handler: the one way in. HTTP, Kafka and the ring-back scheduler all
 * send their commands here. It is put together from pieces that each read alone:
 * - commands/tenantQueue.ts: a tenant's work one piece at a time, a busy tenant's commands batched;
 * - commands/tenantCache.ts and commands/tenantLoader.ts: tenants kept in memory, else loaded from
 *   their snapshot and the events after it;
 * - commands/snapshotPolicy.ts: when a tenant's snapshot is kept (out of the log, the newest only);
 * - idempotencyWindow.ts and commands/idempotencyLookup.ts: a command id seen before answers with
 *   its first outcome and records nothing new (I6, ADR 0003);
 * - commands/decideAndAppend.ts: decide, fold, append with the expected revision (split to fit the
 *   store's maximum append size), decide again with jittered back-off when another process wrote
 *   first. A single command is a batch of one.
 */
import type { CallParkState } from '../../domain/callParkState.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { EventStore } from '../../domain/eventStore.js';
import type { CommandOutcome } from './commandOutcome.js';
import { DecideAndAppend } from './decideAndAppend.js';
import { SnapshotPolicy } from './snapshotPolicy.js';
import { TenantCache } from './tenantCache.js';
import { TenantLoader } from './tenantLoader.js';
import { TenantQueue } from './tenantQueue.js';

export { CommandTooLarge, ConcurrencyExhausted, type CommandOutcome } from './commandOutcome.js';

export interface CommandHandlerOptions {
  readonly store: EventStore;
  /** How many times to decide again after another writer got in first. */
  readonly maxAttempts?: number;
  /** How long a command id is remembered (against the time of the tenant's latest event). */
  readonly idempotencyWindowMillis?: number;
  /** Keep a snapshot every this many events; 0 keeps none. */
  readonly snapshotEvery?: number;
  /** Keep tenants' states in memory between commands (the service does; a benchmark of cold loads does not). */
  readonly cache?: boolean;
  readonly maxCachedTenants?: number;
  readonly sleep?: (millis: number) => Promise<void>;
  readonly random?: () => number;
  readonly onSnapshotError?: (error: unknown) => void;
  /** Told when a tenant's snapshot has been stored. */
  readonly onSnapshotStored?: (tenantId: string, revision: number) => void;
}

export class CommandHandler {
  private readonly loader: TenantLoader;
  private readonly recorder: DecideAndAppend;
  private readonly queue: TenantQueue<CallParkCommand, CommandOutcome>;

  constructor(options: CommandHandlerOptions) {
    const { store } = options;
    const windowMillis = options.idempotencyWindowMillis ?? 60 * 60 * 1000;
    const caching = options.cache ?? true;
    const cache = new TenantCache(caching, options.maxCachedTenants ?? 10_000);
    // A cold load folds the events since the latest snapshot: a few, like a new tenant's history.
    const snapshots = new SnapshotPolicy(store, options.snapshotEvery ?? 16, options.onSnapshotError ?? (() => undefined), options.onSnapshotStored);
    this.loader = new TenantLoader(store, cache, snapshots, windowMillis);
    this.recorder = new DecideAndAppend({
      store,
      loader: this.loader,
      cache,
      caching,
      snapshots,
      windowMillis,
      maxAttempts: options.maxAttempts ?? 40,
      sleep: options.sleep ?? ((millis) => new Promise((resolve) => setTimeout(resolve, millis))),
      random: options.random ?? Math.random,
    });
    this.queue = new TenantQueue((tenantId, commands) => this.recorder.record(tenantId, commands));
  }

  /**
   * Decide and record a command. Commands of one tenant are taken one at a time in this process;
   * those that arrive while it is busy go next as one batch. Each is answered as it would have
   * been alone.
   */
  handle(command: CallParkCommand): Promise<CommandOutcome> {
    return this.queue.submit(command);
  }

  /**
   * Decide several commands of one tenant, in the order given, and record what they decided in as
   * few appends as the store's maximum append size allows: the way in for a batch of signaling
   * records. Each command gets the outcome `handle` would have given it had they come one after
   * the other. Every outcome of a decided command carries the position of its append's last event.
   */
  handleBatch(tenantId: string, commands: readonly CallParkCommand[]): Promise<CommandOutcome[]> {
    if (commands.length === 0) return Promise.resolve([]);
    return this.queue.exclusive(tenantId, () => this.recorder.record(tenantId, commands));
  }

  /** Read a tenant's current state, caught up with the store (another process's writes included), without changing it. */
  query<T>(tenantId: string, read: (state: CallParkState) => T): Promise<T> {
    return this.queue.exclusive(tenantId, async () => read((await this.loader.current(tenantId)).state));
  }
}
