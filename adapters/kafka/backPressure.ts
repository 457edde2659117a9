/**
 * Back-pressure between the signaling topic and the store. Two limits:
 * - at most `maxInFlight` commands are being handled at once (across every partition of this
 *   consumer); a message waits for a slot before it is handled;
 * - when the handler's latency, as a moving average, passes `slowMillis`, the store is slow: the
 *   consumer pauses the partitions that notice it (no more fetches for them), lets the commands
 *   under way finish, and resumes them after `pauseMillis` (or twice the average latency, when that
 *   is longer), measuring the store afresh. A store that is still slow pauses them again.
 */
export interface BackPressureOptions {
  readonly maxInFlight: number;
  readonly slowMillis: number;
  readonly pauseMillis: number;
}

/** How many samples the average needs before it can call the store slow. */
const MIN_SAMPLES = 3;
/** The weight of the newest sample in the moving average. */
const ALPHA = 0.3;

export class BackPressure {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private average = 0;
  private samples = 0;

  constructor(private readonly options: BackPressureOptions) {
    if (options.maxInFlight < 1) throw new Error('maxInFlight must be at least 1.');
  }

  /** Wait for a slot. Every admit is followed by exactly one `release` or `cancel`. */
  admit(): Promise<void> {
    if (this.inFlight < this.options.maxInFlight) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.inFlight++;
        resolve();
      }),
    );
  }

  /** A command finished after `latencyMillis`. */
  release(latencyMillis: number): void {
    this.average = this.samples === 0 ? latencyMillis : ALPHA * latencyMillis + (1 - ALPHA) * this.average;
    this.samples++;
    this.free();
  }

  /** A slot given back without handling anything. */
  cancel(): void {
    this.free();
  }

  get slow(): boolean {
    return this.samples >= MIN_SAMPLES && this.average > this.options.slowMillis;
  }

  /** How long to pause a partition for. */
  pauseMillis(): number {
    return Math.min(30_000, Math.max(this.options.pauseMillis, 2 * this.average));
  }

  /** Measure the store afresh (after a pause). */
  forget(): void {
    this.average = 0;
    this.samples = 0;
  }

  snapshot(): { readonly inFlight: number; readonly waiting: number; readonly averageMillis: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length, averageMillis: Math.round(this.average * 10) / 10 };
  }

  private free(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }
}
