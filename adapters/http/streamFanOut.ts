/**
 * Writing to many open streams without holding up the service: a message for every stream of a
 * tenant (a snapshot of thousands of orbits, to thousands of supervisors' pages) is queued, and
 * written a slice of time at a time, so the requests that arrive meanwhile (`/healthz`, a park)
 * are answered between slices. What a stream is sent within `gatherMs` goes to it in one write
 * (one system call, however many changes), in order. A message is one Buffer shared by every
 * stream it goes to: encoded once, and held once in memory however many clients have not taken
 * it yet.
 */
import { performance } from 'node:perf_hooks';

export interface StreamSink {
  /** Write the chunks, in order, at once; or drop them (the stream is over). */
  deliver(chunks: readonly Buffer[]): void;
}

export interface FanOutOptions {
  /** How long one turn of the event loop may spend writing (2 ms by default). */
  readonly sliceMs?: number;
  /** How long messages are gathered before they are written (20 ms by default). */
  readonly gatherMs?: number;
}

export class StreamFanOut {
  /** The streams with something to write, in the order their first message came, and what. */
  private pendingBySink = new Map<StreamSink, Buffer[]>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private idlers: (() => void)[] = [];
  private readonly sliceMs: number;
  private readonly gatherMs: number;

  constructor(options: FanOutOptions = {}) {
    this.sliceMs = options.sliceMs ?? 2;
    this.gatherMs = options.gatherMs ?? 20;
  }

  /** How many streams wait for a write. */
  get pending(): number {
    return this.pendingBySink.size;
  }

  /** Resolves once every write queued so far is written. */
  idle(): Promise<void> {
    return this.timer === undefined ? Promise.resolve() : new Promise((resolve) => this.idlers.push(resolve));
  }

  write(sink: StreamSink, chunk: Buffer): void {
    const chunks = this.pendingBySink.get(sink);
    if (chunks === undefined) this.pendingBySink.set(sink, [chunk]);
    else chunks.push(chunk);
    this.timer ??= setTimeout(this.drain, this.gatherMs);
  }

  private readonly drain = (): void => {
    const until = performance.now() + this.sliceMs;
    for (const [sink, chunks] of this.pendingBySink) {
      this.pendingBySink.delete(sink);
      sink.deliver(chunks);
      if (performance.now() >= until) break;
    }
    if (this.pendingBySink.size > 0) {
      this.timer = setImmediate(this.drain);
      return;
    }
    this.timer = undefined;
    for (const resolve of this.idlers.splice(0)) resolve();
  };
}
