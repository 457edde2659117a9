/**
 * The ring-back scheduler: sends `RingBackDue` and `RingBackFailed` through the command
 * handler when the timers of the ring-back-timers projection come due.
 *
 * - It holds the timers due within its horizon (60 s by default) in a min-heap, and arms one
 *   timer, for the earliest. It reads more when the horizon moves on (every `refreshIntervalMs`)
 *   and when the projection's runner commits a batch (`runner.onApplied`); another process's
 *   runner is heard at the next refresh.
 * - The horizon moves on in small steps (a second's worth of timers), read in small pages with a
 *   turn of the event loop between two: the ring backs coming due meanwhile, and the appends
 *   carrying them, wait for one page at most, not for the next five seconds' timers.
 * - A timer that came due while the service was down is in the table: it fires right after start.
 * - A timer's command has an id made of its session and attempt (timerCommand.ts): repeated by
 *   this process, another one or after a restart, it records nothing new. A session that moved
 *   on (retrieved first, say) makes the command a no-op in the domain, not an error.
 * - It fires in rounds, at most one every `roundMs` (20 ms): every timer due by then goes to the
 *   handler in the same turn, so the SQLite store commits them in one transaction (one sync of
 *   the WAL) instead of one each. At 1,667 ring backs a second, one commit per timer cost more
 *   of the thread than the appends themselves; a round costs a timer at most `roundMs` of delay.
 * - At most `maxConcurrent` commands are in flight; the rest wait in the heap, earliest first.
 * - A command that fails is logged and tried again with growing pauses, never thrown.
 * - Lateness (the clock when the command is sent, minus the due time) goes to `observeLateness`.
 * - Sharded (`shards` given, shards.ts): it fires the timers of the tenants of the shards it owns
 *   only, those whose leases this instance holds. `own(shard)` reads the table again for them
 *   (the overdue ones fire at once; shards taken together are read once); `release(shard)` drops
 *   them and resolves once their commands in flight are answered, so that the shard's lease is
 *   given up only when nothing of it is being sent here. Without `shards`, it fires every timer.
 *
 * One file of about 560 lines: the heap, the armed timer, the rounds and the shards all read and
 * change the same few fields in one turn of the event loop; its parts that stand alone are apart
 * already (timerQueue.ts, timerFeed.ts, timerCommand.ts, shards.ts, clock.ts).
 */
import type { CommandOutcome } from '../commands/commandHandler.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { RecordedEvent } from '../../domain/eventStore.js';
import type { ReadStore } from '../../projections/readStore.js';
import type { AppliedBatch } from '../../projections/runner.js';
import { decodeRecorded, timerEffectOf, type RingBackTimer, type TimerKind } from '../../projections/ringBackTimers.js';
import { systemClock, type SchedulerClock, type TimerHandle } from './clock.js';
import { timerCommand, timerCommandId } from './timerCommand.js';
import { TimerFeed } from './timerFeed.js';
import { TimerQueue } from './timerQueue.js';
import { shardOf } from './shards.js';

/** The one way in. */
export interface CommandPort {
  handle(command: CallParkCommand): Promise<CommandOutcome>;
}

/** The runner of the ring-back-timers projection, to be told when it has applied a batch. */
export interface AppliedBatches {
  onApplied(listener: (batch: AppliedBatch) => void): () => void;
}

/** The part of a pino logger the scheduler uses. */
export interface SchedulerLog {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

export interface RingBackSchedulerOptions {
  /** Hold the timers due within this many ms from now (60,000). */
  readonly horizonMs?: number;
  /** Move the horizon on, and look for timers set by other processes, this often (1,000 ms). */
  readonly refreshIntervalMs?: number;
  /** After the runner applies a batch, look for the timers it set this much later, gathering batches (10 ms). */
  readonly changeDelayMs?: number;
  /** Fire the timers that came due at most this often (20 ms), so that one commit carries them all. */
  readonly roundMs?: number;
  /** Commands in flight at once (256): enough for a store that commits in groups to fill its groups. */
  readonly maxConcurrent?: number;
  /** Timers held at most; beyond, the horizon waits until the heap drains (250,000). */
  readonly maxQueued?: number;
  /** Rows read at a time (250): one page is the most the feed does in one turn of the event loop. */
  readonly pageSize?: number;
  /** Pauses between tries of a failed command: the first, doubling up to the last (100 ms, 30,000 ms). */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
  /** How long a fired timer is remembered, so a late copy of its row does not fire it again (600,000 ms). */
  readonly rememberFiredMs?: number;
}

export interface RingBackSchedulerDeps {
  readonly handler: CommandPort;
  /** The read store the ring-back-timers projection writes. */
  readonly readStore: ReadStore;
  /** The runner of that projection (optional: without it, only the periodic refresh finds new timers). */
  readonly runner?: AppliedBatches;
  readonly clock?: SchedulerClock;
  /** Told the lateness of each timer, in ms, when its command is first sent. */
  readonly observeLateness?: (ms: number) => void;
  readonly log?: SchedulerLog;
  readonly random?: () => number;
  readonly options?: RingBackSchedulerOptions;
  /** Split the tenants into this many shards, and fire only those of the shards owned (`own`); every timer when absent. */
  readonly shards?: number;
}

export interface RingBackSchedulerStatus {
  readonly state: 'idle' | 'running' | 'stopping' | 'stopped';
  /** Timers held, waiting to come due (or to be tried again). */
  readonly queued: number;
  readonly inFlight: number;
  /** Commands sent, tries again included. */
  readonly sent: number;
  readonly failures: number;
  /** Every timer due by this instant has been read from the table. */
  readonly loadedUntil: number | undefined;
  readonly lastError: string | undefined;
  /** The shards owned, when sharded. */
  readonly shards?: readonly number[];
}

interface Pending {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly callId: string;
  readonly kind: TimerKind;
  readonly attempt: number;
  readonly dueAt: number;
  /** Tenant and session: the heap holds at most one live timer per session. */
  readonly session: string;
  /** Tenant and command id: one timer, whoever reads it. */
  readonly id: string;
  fireAt: number;
  tries: number;
}

const consoleLog: SchedulerLog = {
  warn: (details, message) => console.warn(message, details),
  error: (details, message) => console.error(message, details),
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sessionKey = (tenantId: string, sessionId: string): string => `${tenantId}\u0000${sessionId}`;
const ENDINGS = new Set(['Retrieved', 'Expired', 'Abandoned']);

export class RingBackScheduler {
  private readonly handler: CommandPort;
  private readonly clock: SchedulerClock;
  private readonly observeLateness: (ms: number) => void;
  private readonly log: SchedulerLog;
  private readonly random: () => number;
  private readonly horizonMs: number;
  private readonly refreshIntervalMs: number;
  private readonly changeDelayMs: number;
  private readonly roundMs: number;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly retry: { readonly firstMs: number; readonly maxMs: number };
  private readonly rememberFiredMs: number;
  private readonly feed: TimerFeed;

  private readonly queue = new TimerQueue<Pending>();
  /** Session → its live timer; a heap entry that is not here is forgotten and skipped. */
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly tenantIds = new Map<string, string>();
  /** Tenant → its shard (as many entries as tenantIds). */
  private readonly shardOfTenant = new Map<string, number>();
  private readonly shardCount: number | undefined;
  private readonly owned = new Set<number>();
  /** A read of the whole horizon for shards just owned, queued and not yet begun. */
  private rereading: Promise<void> | undefined;
  /** Timer id → when its command was answered. */
  private readonly fired = new Map<string, number>();

  private state: RingBackSchedulerStatus['state'] = 'idle';
  private armed: { handle: TimerHandle; at: number } | undefined;
  /** When the last round sent a timer's command. */
  private lastRoundAt = Number.NEGATIVE_INFINITY;
  private refreshTimer: TimerHandle | undefined;
  private changeTimer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Reads of the table, one at a time, in order. */
  private reads: Promise<void> = Promise.resolve();
  private changesQueued = false;
  private horizonFull = false;
  private sent = 0;
  private failures = 0;
  private lastError: string | undefined;

  constructor(private readonly deps: RingBackSchedulerDeps) {
    const options = deps.options ?? {};
    this.handler = deps.handler;
    this.clock = deps.clock ?? systemClock;
    this.observeLateness = deps.observeLateness ?? (() => undefined);
    this.log = deps.log ?? consoleLog;
    this.random = deps.random ?? Math.random;
    this.horizonMs = options.horizonMs ?? 60_000;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 1_000;
    this.changeDelayMs = options.changeDelayMs ?? 10;
    this.roundMs = options.roundMs ?? 20;
    this.maxConcurrent = options.maxConcurrent ?? 256;
    this.maxQueued = options.maxQueued ?? 250_000;
    this.retry = options.retry ?? { firstMs: 100, maxMs: 30_000 };
    this.rememberFiredMs = options.rememberFiredMs ?? 600_000;
    if (this.refreshIntervalMs >= this.horizonMs) throw new Error('refreshIntervalMs must be shorter than horizonMs, or timers would come due before they are read.');
    if (this.maxConcurrent < 1) throw new Error('maxConcurrent must be at least 1.');
    if (deps.shards !== undefined && !(Number.isInteger(deps.shards) && deps.shards >= 1)) throw new Error(`shards must be a whole number of at least 1, got ${deps.shards}.`);
    this.shardCount = deps.shards;
    this.feed = new TimerFeed(
      deps.readStore,
      { deliver: (timers) => this.offerAll(timers), hasRoom: () => this.pending.size < this.maxQueued, pause: () => this.yieldNow() },
      options.pageSize ?? 250,
    );
  }

  /**
   * Read the timers due within the horizon (those overdue included, which then fire at once) and
   * keep following the table. Start the projection's runner first: it creates the table. A
   * failed read is logged and tried again at the next refresh.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`The ring-back scheduler is ${this.state}: make a new one to start again.`);
    this.state = 'running';
    this.unsubscribe = this.deps.runner?.onApplied((batch) => this.onApplied(batch));
    await this.refresh();
  }

  /**
   * Fire the timers of this shard's tenants too (its lease was taken): read them from the table,
   * the overdue ones firing at once. Starts following the table if the scheduler is idle. Shards
   * owned together are read together.
   */
  async own(shard: number): Promise<void> {
    if (this.shardCount === undefined || !Number.isInteger(shard) || shard < 0 || shard >= this.shardCount) throw new Error(`No shard ${shard} here (shards: ${this.shardCount ?? 'none'}).`);
    if (this.state === 'stopping' || this.state === 'stopped') throw new Error(`The ring-back scheduler is ${this.state}: it owns no more shards.`);
    this.owned.add(shard);
    if (this.state === 'idle') {
      this.state = 'running';
      this.unsubscribe = this.deps.runner?.onApplied((batch) => this.onApplied(batch));
    }
    await this.reread();
  }

  /** Fire nothing more of this shard's tenants; resolves once their commands in flight are answered. */
  async release(shard: number): Promise<void> {
    if (!this.owned.delete(shard)) return;
    for (const [session, entry] of this.pending) if (this.shardOfTenant.get(entry.tenantId) === shard) this.pending.delete(session);
    const tenantOf = (id: string): string => id.slice(0, id.indexOf('\u0000'));
    await Promise.all([...this.inFlight].filter(([id]) => this.shardOfTenant.get(tenantOf(id)) === shard).map(([, answered]) => answered));
  }

  /** Fire nothing more, and wait for the commands in flight to be answered. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.unsubscribe?.();
    this.disarm();
    if (this.refreshTimer !== undefined) this.clock.clearTimeout(this.refreshTimer);
    if (this.changeTimer !== undefined) this.clock.clearTimeout(this.changeTimer);
    this.refreshTimer = this.changeTimer = undefined;
    await this.reads;
    await Promise.all(this.inFlight.values());
    this.state = 'stopped';
  }

  /** Move the horizon on and read the timers set since the last look, now (also done every `refreshIntervalMs`). */
  refresh(): Promise<void> {
    return this.read(async () => {
      await this.changes();
      this.horizonFull = !(await this.feed.extend(this.clock.now() + this.horizonMs));
      this.forgetOldFired();
    }, true);
  }

  status(): RingBackSchedulerStatus {
    return {
      ...(this.shardCount === undefined ? {} : { shards: [...this.owned].sort((a, b) => a - b) }),
      state: this.state,
      queued: this.pending.size,
      inFlight: this.inFlight.size,
      sent: this.sent,
      failures: this.failures,
      loadedUntil: this.feed.until,
      lastError: this.lastError,
    };
  }

  /** Resolves once nothing is in flight and no read is under way (tests and benchmarks). */
  async settled(): Promise<void> {
    for (;;) {
      const reads = this.reads;
      await reads;
      await Promise.all(this.inFlight.values());
      if (this.reads === reads && this.inFlight.size === 0) return;
    }
  }

  /** Read the whole horizon again (for shards just owned); one read for every call made before it begins. */
  private reread(): Promise<void> {
    if (this.rereading !== undefined) return this.rereading;
    const rereading = this.read(async () => {
      this.rereading = undefined;
      this.feed.restart();
      await this.changes();
      this.horizonFull = !(await this.feed.extend(this.clock.now() + this.horizonMs));
    }, true);
    this.rereading = rereading;
    return rereading;
  }

  /** Whether the timers of this tenant are this scheduler's to fire. */
  private owns(tenantId: string): boolean {
    if (this.shardCount === undefined) return true;
    let shard = this.shardOfTenant.get(tenantId);
    if (shard === undefined) {
      shard = shardOf(tenantId, this.shardCount);
      this.shardOfTenant.set(tenantId, shard);
    }
    return this.owned.has(shard);
  }

  private onApplied(batch: AppliedBatch): void {
    if (this.state !== 'running') return;
    this.forgetEnded(batch.events);
    if (this.changesQueued) return;
    this.changesQueued = true;
    this.changeTimer = this.clock.setTimeout(() => {
      this.changeTimer = undefined;
      void this.read(async () => {
        this.changesQueued = false;
        if ((await this.changes()) === 'rebuilt') void this.refresh();
      }, false);
    }, this.changeDelayMs);
  }

  private async changes(): Promise<'rebuilt' | undefined> {
    const outcome = await this.feed.changes();
    if (outcome === 'rebuilt') this.log.warn({}, 'The ring-back timers table was rebuilt: reading it again.');
    return outcome;
  }

  /** A session that ended needs no timer: forget it now rather than send a command that does nothing. */
  private forgetEnded(events: readonly RecordedEvent[]): void {
    for (const recorded of events) {
      if (!ENDINGS.has(recorded.type)) continue;
      try {
        const effect = timerEffectOf(decodeRecorded(recorded));
        if (effect?.effect === 'clear') this.pending.delete(sessionKey(effect.tenantId, effect.sessionId));
      } catch {
        // The projection reports what it cannot read; here it only costs a command that does nothing.
      }
    }
  }

  /** Run a read of the table after the ones before it; a failure is logged, and the next refresh tries again. */
  private read(work: () => Promise<void>, periodic: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.state !== 'running') return;
      try {
        await work();
      } catch (error) {
        this.lastError = messageOf(error);
        this.log.warn({ err: error }, 'Reading the ring-back timers failed; trying again at the next refresh.');
      } finally {
        if (periodic) this.scheduleRefresh();
        this.pump();
      }
    };
    const next = this.reads.then(run);
    this.reads = next;
    return next;
  }

  private scheduleRefresh(): void {
    if (this.state !== 'running') return;
    if (this.refreshTimer !== undefined) this.clock.clearTimeout(this.refreshTimer);
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, this.refreshIntervalMs);
  }

  private offerAll(timers: readonly RingBackTimer[]): void {
    for (const timer of timers) this.offer(timer);
    this.keepWithinRoom();
    this.compact();
    this.pump();
  }

  /**
   * Beyond `maxQueued`, let go of the timers due latest (an instant is kept or let go whole), and
   * have the feed read them again when the heap has drained.
   */
  private keepWithinRoom(): void {
    if (this.pending.size <= this.maxQueued) return;
    const dues = Float64Array.from(this.pending.values(), (entry) => entry.dueAt).sort();
    const cut = dues[this.maxQueued - 1]!;
    for (const [session, entry] of this.pending) if (entry.dueAt > cut) this.pending.delete(session);
    this.feed.holdUntil(cut);
    this.horizonFull = true;
  }

  private offer(timer: RingBackTimer): void {
    if (!this.owns(timer.tenantId)) return;
    const id = `${timer.tenantId}\u0000${timerCommandId(timer)}`;
    if (this.fired.has(id) || this.inFlight.has(id)) return;
    const tenantId = this.tenantNamed(timer.tenantId);
    const session = sessionKey(tenantId, timer.sessionId);
    const current = this.pending.get(session);
    // The same timer again (or the one being tried again): keep what is held.
    if (current !== undefined && current.id === id) return;
    const entry: Pending = {
      tenantId,
      sessionId: timer.sessionId,
      callId: timer.callId,
      kind: timer.kind,
      attempt: timer.attempt,
      dueAt: timer.dueAt,
      session,
      id,
      fireAt: timer.dueAt,
      tries: 0,
    };
    this.pending.set(session, entry);
    this.queue.push(entry);
  }

  /** One copy of each tenant's id for all its timers, rather than one per row read. */
  private tenantNamed(tenantId: string): string {
    const known = this.tenantIds.get(tenantId);
    if (known !== undefined) return known;
    this.tenantIds.set(tenantId, tenantId);
    return tenantId;
  }

  /** Drop forgotten entries from the heap when they outnumber the live ones. */
  private compact(): void {
    if (this.queue.size > 2 * this.pending.size + 1_024) this.queue.retain((entry) => this.pending.get(entry.session) === entry);
  }

  /** Send what is due, as far as the concurrency allows; then arm the one timer for what comes next. */
  private pump(): void {
    if (this.state !== 'running') return;
    const now = this.clock.now();
    // The system clock stepped back: the last round is not a reason to wait.
    if (now < this.lastRoundAt) this.lastRoundAt = Number.NEGATIVE_INFINITY;
    // A new round takes what came due since the last one; between rounds, only what the last
    // round left for want of concurrency goes (as answers free it).
    const newRound = now >= this.lastRoundAt + this.roundMs;
    const sent = this.fireDueBy(newRound ? now : this.lastRoundAt, now);
    if (newRound && sent > 0) this.lastRoundAt = now;
    if (this.horizonFull && this.pending.size < this.maxQueued / 2) {
      this.horizonFull = false;
      void this.refresh();
    }
    this.arm();
  }

  /** Send the timers due by `dueBy`, earliest first, while the concurrency allows; answers how many. */
  private fireDueBy(dueBy: number, now: number): number {
    let sent = 0;
    while (this.inFlight.size < this.maxConcurrent) {
      const top = this.queue.peek();
      if (top === undefined) break;
      if (this.pending.get(top.session) !== top) {
        this.queue.pop();
        continue;
      }
      if (top.fireAt > dueBy) break;
      this.queue.pop();
      this.pending.delete(top.session);
      this.send(top, now);
      sent++;
    }
    return sent;
  }

  private arm(): void {
    const top = this.queue.peek();
    // At full concurrency the next answer pumps again; with nothing held, the next refresh does.
    if (top === undefined || this.inFlight.size >= this.maxConcurrent) {
      this.disarm();
      return;
    }
    const at = top.fireAt <= this.lastRoundAt ? top.fireAt : Math.max(top.fireAt, this.lastRoundAt + this.roundMs);
    if (this.armed?.at === at) return;
    this.disarm();
    const handle = this.clock.setTimeout(
      () => {
        if (this.armed?.handle === handle) this.armed = undefined;
        this.pump();
      },
      Math.max(0, at - this.clock.now()),
    );
    this.armed = { handle, at };
  }

  private disarm(): void {
    if (this.armed === undefined) return;
    this.clock.clearTimeout(this.armed.handle);
    this.armed = undefined;
  }

  private send(entry: Pending, now: number): void {
    if (entry.tries === 0) {
      try {
        this.observeLateness(now - entry.dueAt);
      } catch {
        // A metric that fails is not a reason to miss a ring back.
      }
    }
    this.sent++;
    let answer: Promise<CommandOutcome>;
    try {
      answer = this.handler.handle(timerCommand(entry, now));
    } catch (error) {
      answer = Promise.reject(error);
    }
    const answered = answer
      .then(
        (outcome) => this.answered(entry, outcome),
        (error: unknown) => this.failed(entry, error),
      )
      .finally(() => {
        this.inFlight.delete(entry.id);
        this.pump();
      });
    this.inFlight.set(entry.id, answered);
  }

  private answered(entry: Pending, outcome: CommandOutcome): void {
    // Most recently answered last, so the oldest are forgotten first.
    this.fired.delete(entry.id);
    this.fired.set(entry.id, this.clock.now());
    if (outcome.kind === 'rejected') {
      this.log.warn({ ...this.describe(entry), reason: outcome.rejection?.reason }, 'A ring-back timer command was refused.');
    }
  }

  private failed(entry: Pending, error: unknown): void {
    this.failures++;
    this.lastError = messageOf(error);
    entry.tries++;
    const pause = Math.min(this.retry.maxMs, this.retry.firstMs * 2 ** (entry.tries - 1));
    const retryInMs = Math.round(pause / 2 + (this.random() * pause) / 2);
    const details = { ...this.describe(entry), tries: entry.tries, retryInMs, err: error };
    if (entry.tries >= 10) this.log.error(details, 'A ring-back timer command keeps failing; trying again.');
    else this.log.warn(details, 'A ring-back timer command failed; trying again.');
    // A newer timer of the session read meanwhile supersedes this one.
    if (this.state !== 'running' || this.pending.has(entry.session) || !this.owns(entry.tenantId)) return;
    entry.fireAt = this.clock.now() + retryInMs;
    this.pending.set(entry.session, entry);
    this.queue.push(entry);
  }

  private describe(entry: Pending): Record<string, unknown> {
    return { tenantId: entry.tenantId, sessionId: entry.sessionId, callId: entry.callId, timer: entry.kind, attempt: entry.attempt, dueAt: entry.dueAt };
  }

  private forgetOldFired(): void {
    const before = this.clock.now() - this.rememberFiredMs;
    for (const [id, at] of this.fired) {
      if (at >= before) break;
      this.fired.delete(id);
    }
  }

  private yieldNow(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
}
