/**
 * A clock the test moves by hand. Moving it runs each timer at its own instant, in order, and
 * lets the work that timer started settle before the next one runs.
 */
import type { SchedulerClock, TimerHandle } from '../../adapters/scheduler/clock.js';

interface Armed {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

export class ManualClock implements SchedulerClock {
  private readonly timers = new Map<number, Armed>();
  private nextId = 1;

  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, delayMs), order: id, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Move to `to`, running every timer due by then at its instant, and `settle` after each. */
  async advanceTo(to: number, settle: () => Promise<void>): Promise<void> {
    await settle();
    for (;;) {
      let next: [number, Armed] | undefined;
      for (const entry of this.timers) {
        const [, armed] = entry;
        if (armed.at > to) continue;
        if (next === undefined || armed.at < next[1].at || (armed.at === next[1].at && armed.order < next[1].order)) next = entry;
      }
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
      await settle();
    }
    this.time = Math.max(this.time, to);
    await settle();
  }
}
