/**
 * What keeps signaling from advancing, for `/readyz` and `/metrics`: a partition whose batch
 * fails again and again at the same offset (a lane the store keeps refusing, a dead letter the
 * broker keeps refusing), and a consumer that crashes again and again without a fetch going
 * through (a batch it cannot read). A partition counts as stalled from its `threshold`-th failure
 * in a row at one offset until it advances; the consumer, from its `threshold`-th crash in a row
 * until a fetch succeeds. The crashes in a row also set how long to wait before the next start.
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

export interface ConsumerCrashes {
  /** Crashes since the last fetch that went through. */
  readonly inARow: number;
  readonly since: number;
  readonly error: string;
}

export class PartitionStalls {
  private readonly failing = new Map<number, PartitionStall>();
  private crashes: ConsumerCrashes = { inARow: 0, since: 0, error: '' };

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

  /** The consumer crashed; answers the crashes in a row. */
  crashed(error: string): number {
    this.crashes = { inARow: this.crashes.inARow + 1, since: this.crashes.inARow === 0 ? this.clock() : this.crashes.since, error };
    this.metrics?.consumerCrashes.inc();
    return this.crashes.inARow;
  }

  /** A fetch went through: the consumer reads again. */
  fetched(): void {
    if (this.crashes.inARow > 0) this.crashes = { inARow: 0, since: 0, error: '' };
  }

  crashesInARow(): number {
    return this.crashes.inARow;
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
    const { inARow, since, error } = this.crashes;
    if (inARow >= this.threshold) reasons.push(`the signaling consumer of ${topic} crashed ${inARow} times in a row since ${new Date(since).toISOString()} without a fetch going through: ${error}`);
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  private gauge(): void {
    this.metrics?.stalledPartitions.set({}, this.stalled().length);
  }
}
