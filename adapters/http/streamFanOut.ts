/**
 * Writing to many open streams without holding up the service: a message for every stream of a
 * tenant (a snapshot of thousands of orbits, to thousands of supervisors' pages) is queued, and
 * written a slice of time at a time, so the requests that arrive meanwhile (`/healthz`, a park)
 * are answered between slices. One queue for every stream keeps each stream's messages in order.
 * A message is written as one Buffer shared by every stream it goes to: encoded once, and held
 * once in memory however many clients have not taken it yet.
 */
import { performance } from 'node:perf_hooks';

export interface StreamSink {
  /** Write the chunk, or drop it (the stream is over). */
  deliver(chunk: Buffer): void;
}

export class StreamFanOut {
  private queue: ({ readonly sink: StreamSink; readonly chunk: Buffer } | undefined)[] = [];
  private head = 0;
  private scheduled = false;
  private idlers: (() => void)[] = [];

  /** @param sliceMs how long one turn of the event loop may spend writing. */
  constructor(private readonly sliceMs = 2) {}

  /** How many writes wait. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Resolves once every write queued so far is written. */
  idle(): Promise<void> {
    return this.scheduled ? new Promise((resolve) => this.idlers.push(resolve)) : Promise.resolve();
  }

  write(sink: StreamSink, chunk: Buffer): void {
    this.queue.push({ sink, chunk });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    const until = performance.now() + this.sliceMs;
    while (this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      next.sink.deliver(next.chunk);
      if (performance.now() >= until) break;
    }
    if (this.head < this.queue.length) {
      // Forget what was written, now and then rather than at each write.
      if (this.head > 4096) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      setImmediate(this.drain);
    } else {
      this.queue = [];
      this.head = 0;
      this.scheduled = false;
      for (const resolve of this.idlers.splice(0)) resolve();
    }
  };
}
