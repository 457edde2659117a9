/**
 * Reads a subscription ahead of the runner, into a bounded buffer, so that the runner can take
 * every event that is ready at once, without a promise per event, and can tell "nothing more is
 * ready" from "more is coming". Reading pauses while the buffer is full: the subscription's
 * back-pressure still holds.
 */
import type { RecordedEvent, Subscription } from '../domain/eventStore.js';

export class SubscriptionBuffer {
  private events: RecordedEvent[] = [];
  private next = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private dataWaiter: (() => void) | undefined;
  private spaceWaiter: (() => void) | undefined;
  private readonly reading: Promise<void>;

  constructor(
    private readonly subscription: Subscription,
    private readonly capacity: number,
  ) {
    this.reading = this.read();
  }

  /** Events ready, not taken yet. */
  get size(): number {
    return this.events.length - this.next;
  }

  /** True once the subscription has ended (closed) or failed and every event has been taken. */
  get drained(): boolean {
    return this.ended && this.size === 0;
  }

  /** The oldest event ready, if any. */
  peek(): RecordedEvent | undefined {
    return this.events[this.next];
  }

  /** Take up to `max` ready events, in order; throws the subscription's failure once nothing precedes it. */
  take(max: number): RecordedEvent[] {
    const end = Math.min(this.events.length, this.next + max);
    const taken = this.events.slice(this.next, end);
    this.next = end;
    if (this.next === this.events.length) {
      this.events = [];
      this.next = 0;
    }
    if (taken.length === 0 && this.failure) throw this.failure.error;
    const resume = this.spaceWaiter;
    this.spaceWaiter = undefined;
    resume?.();
    return taken;
  }

  /** Resolves when an event is ready or the subscription has ended. */
  whenReady(): Promise<void> {
    if (this.size > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => (this.dataWaiter = resolve));
  }

  /** Close the subscription and wait for the reading to stop. Events ready stay ready. */
  async close(): Promise<void> {
    await this.subscription.close();
    const resume = this.spaceWaiter;
    this.spaceWaiter = undefined;
    resume?.();
    await this.reading;
  }

  private async read(): Promise<void> {
    try {
      for await (const event of this.subscription) {
        this.events.push(event);
        this.wake();
        if (this.size >= this.capacity) await new Promise<void>((resolve) => (this.spaceWaiter = resolve));
      }
    } catch (error) {
      this.failure = { error };
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    const waiter = this.dataWaiter;
    this.dataWaiter = undefined;
    waiter?.();
  }
}
