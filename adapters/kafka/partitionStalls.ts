/**
 * What keeps signaling from advancing, for `/readyz` and `/metrics`: a partition whose batch
 * fails again and again at the same offset (a lane the store keeps refusing, a dead letter the
 * broker keeps refusing), and a consumer that fails again and again without a fetch going
 * through (a batch it cannot decompress, a crash). A partition counts as stalled from its
 * `threshold`-th failure in a row at one offset until it advances; the consumer, from its
 * `threshold`-th failure in a row until a fetch goes through. The failures in a row also set how
 * long to wait before starting a new consumer (restartDelayMs): one that connects but cannot
 * fetch never spins.
 */
import type { KafkaMetrics } from './kafkaMetrics.js';

export interface PartitionStall {
  readonly partition: number;
  /** The offset it cannot get past. */
  readonly offset: string;
  /** Failures in a row at that offset. */
  readonly failures: number;
  /** When the first of them happened (ms since the epoch). */
  readonly since: number;
  readonly error: string;
}

/** The wait before a new consumer after `inARow` failures in a row: 1 s, doubling up to 30 s. */
export const restartDelayMs = (inARow: number): number => Math.min(30_000, 1_000 * 2 ** Math.max(0, Math.min(inARow, 16) - 1));

export interface ReadFailures {
  /** Failures (crashes, batches that cannot be decompressed) since the last fetch that went through. */
  readonly inARow: number;
  readonly since: number;
  readonly error: string;
}

export class PartitionStalls {
  private readonly failing = new Map<number, PartitionStall>();
  private failures: ReadFailures = { inARow: 0, since: 0, error: '' };

  constructor(
    private readonly threshold: number,
    private readonly clock: () => number,
    private readonly metrics: KafkaMetrics | undefined,
  ) {}

  /** Handling `partition` from `offset` failed. */
  failed(partition: number, offset: string, error: string): void {
    const current = this.failing.get(partition);
    const next: PartitionStall =
      current?.offset === offset ? { ...current, failures: current.failures + 1, error } : { partition, offset, failures: 1, since: this.clock(), error };
    this.failing.set(partition, next);
    if (next.failures === this.threshold) this.metrics?.partitionStalls.inc();
    this.gauge();
  }

  /** `partition` got past where it was. */
  advanced(partition: number): void {
    if (this.failing.delete(partition)) this.gauge();
  }

  /** Only these partitions are this consumer's now (a new generation of the group). */
  keepOnly(partitions: readonly number[]): void {
    for (const partition of this.failing.keys()) if (!partitions.includes(partition)) this.failing.delete(partition);
    this.gauge();
  }

  /** The consumer crashed; answers the failures in a row. */
  crashed(error: string): number {
    this.metrics?.consumerCrashes.inc();
    return this.readFailed(error);
  }

  /** A fetch failed (a batch that cannot be decompressed fails its whole fetch); answers the failures in a row. */
  readFailed(error: string): number {
    this.failures = { inARow: this.failures.inARow + 1, since: this.failures.inARow === 0 ? this.clock() : this.failures.since, error };
    return this.failures.inARow;
  }

  /** A fetch went through: the consumer reads again. */
  fetched(): void {
    if (this.failures.inARow > 0) this.failures = { inARow: 0, since: 0, error: '' };
  }

  failuresInARow(): number {
    return this.failures.inARow;
  }

  /** The partitions that cannot advance, by partition. */
  stalled(): PartitionStall[] {
    return [...this.failing.values()].filter((stall) => stall.failures >= this.threshold).sort((a, b) => a.partition - b.partition);
  }

  /** Why signaling does not advance, in words (undefined when it does). */
  describe(topic: string): string | undefined {
    const reasons = this.stalled().map(
      (stall) => `signaling partition ${topic}/${stall.partition} cannot advance past offset ${stall.offset}: ${stall.error} (${stall.failures} failures in a row since ${new Date(stall.since).toISOString()})`,
    );
    const { inARow, since, error } = this.failures;
    if (inARow >= this.threshold) reasons.push(`the signaling consumer of ${topic} failed ${inARow} times in a row since ${new Date(since).toISOString()} without a fetch going through: ${error}`);
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  private gauge(): void {
    this.metrics?.stalledPartitions.set({}, this.stalled().length);
  }
}
