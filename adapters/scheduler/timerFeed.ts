/**
 * What the scheduler reads of the ring-back timers table: the timers coming due within its
 * horizon, and the timers set since it last looked. It keeps two marks:
 * - `loadedUntil`: every timer due at or before it has been delivered (as the table stood then);
 * - `seen`: every timer set by an event before this log position has been delivered, or is due
 *   after `loadedUntil`.
 * A timer set later has a later position, so `changes()` finds it whatever its due time; one due
 * later than `loadedUntil` is found by `extend()` when the horizon reaches it. The same timer
 * may be delivered twice; the scheduler keeps one.
 *
 * If the table's checkpoint moves backwards (a rebuild was swapped in), positions already seen
 * may be written again: the feed then starts over.
 */
import { readCheckpoint } from '../../projections/checkpoints.js';
import type { ReadStore } from '../../projections/readStore.js';
import { changedTimers, ringBackTimersProjection, timersDueAt, timersDueBetween, type RingBackTimer } from '../../projections/ringBackTimers.js';

export interface TimerSink {
  /** Take these timers. */
  deliver(timers: readonly RingBackTimer[]): void;
  /** Whether there is room for more: when there is not, `extend` stops at the last instant it delivered in full. */
  hasRoom(): boolean;
  /** Let other work in between two pages. */
  pause(): Promise<void>;
}

export class TimerFeed {
  private loadedUntil: number | undefined;
  private seen = -1n;
  private checkpoint: bigint | undefined;
  /** Set by `holdUntil` while `extend` delivers. */
  private heldAt: number | undefined;

  constructor(
    private readonly readStore: ReadStore,
    private readonly sink: TimerSink,
    private readonly pageSize: number,
  ) {}

  /** Every timer due at or before this instant has been delivered; undefined before the first load. */
  get until(): number | undefined {
    return this.loadedUntil;
  }

  /** Deliver the timers due up to `until` that were not yet; answers false when it stopped for want of room. */
  async extend(until: number): Promise<boolean> {
    if (this.loadedUntil !== undefined && until <= this.loadedUntil) return true;
    // Read before the first page: whatever changes while the pages are read is after it.
    if (this.loadedUntil === undefined) {
      const checkpoint = await this.checkpointNow();
      this.seen = checkpoint === 'rebuilt' ? -1n : checkpoint;
    }
    this.heldAt = undefined;
    for (;;) {
      const page = await timersDueBetween(this.readStore, this.loadedUntil, until, this.pageSize);
      const complete = page.length < this.pageSize;
      // A full page may end in the middle of an instant: take that instant whole, on its own.
      const reached = complete ? until : page[page.length - 1]!.dueAt;
      this.sink.deliver(complete ? page : page.filter((timer) => timer.dueAt < reached));
      if (!complete) this.sink.deliver(await timersDueAt(this.readStore, reached));
      this.loadedUntil = this.heldAt === undefined ? reached : Math.min(reached, this.heldAt);
      if (this.heldAt !== undefined) return false;
      if (complete) return true;
      if (!this.sink.hasRoom()) return false;
      await this.sink.pause();
    }
  }

  /** Forget what was delivered: the next `extend` delivers every timer due up to where it reaches (the sink took on more tenants). */
  restart(): void {
    this.loadedUntil = undefined;
    this.seen = -1n;
    this.heldAt = undefined;
  }

  /**
   * The sink let go of the timers due after `instant` for want of room: they count as not read,
   * and `extend` reads them again when it moves past `instant`.
   */
  holdUntil(instant: number): void {
    this.heldAt = Math.min(instant, this.heldAt ?? instant);
    if (this.loadedUntil !== undefined) this.loadedUntil = Math.min(this.loadedUntil, instant);
  }

  /**
   * Deliver the timers set since the last look that are due within what is loaded. The rows the
   * runner has written up to its checkpoint are all seen by then, delivered or not (those due
   * later are read by `extend` when the horizon reaches them), so each look reads only what
   * changed since the one before. Answers 'rebuilt' when the checkpoint moved backwards (a
   * rebuild that is behind was swapped in): the feed then starts over, and `extend` reads all.
   */
  async changes(): Promise<'rebuilt' | undefined> {
    const checkpoint = await this.checkpointNow();
    if (checkpoint === 'rebuilt') return 'rebuilt';
    if (this.loadedUntil === undefined) return undefined;
    const changed = await changedTimers(this.readStore, this.seen, this.loadedUntil);
    if (checkpoint > this.seen) this.seen = checkpoint;
    for (const timer of changed) if (timer.position > this.seen) this.seen = timer.position;
    this.sink.deliver(changed);
    return undefined;
  }

  /** The commit position of the runner's checkpoint (-1 before its first event), or 'rebuilt' when it moved backwards. */
  private async checkpointNow(): Promise<bigint | 'rebuilt'> {
    const checkpoint = await readCheckpoint(this.readStore, ringBackTimersProjection.name);
    const position = checkpoint?.position?.commit ?? -1n;
    const previous = this.checkpoint;
    this.checkpoint = position;
    if (previous === undefined || position >= previous) return position;
    this.loadedUntil = undefined;
    this.seen = -1n;
    return 'rebuilt';
  }
}
