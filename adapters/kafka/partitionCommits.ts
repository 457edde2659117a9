/**
 * The committed offsets of the partitions a consumer holds. An offset is resolved only once its
 * record and every one before it are handled (tenantLanes.ts); the committer sends the latest
 * resolved offset of each partition in the background, one commit at a time per partition (so a
 * commit never goes back), once `records` records or `ms` milliseconds have passed since the
 * last one (a quiet partition's last records are committed by a timer). The bridge resolves once
 * per batch, counting its records, so under load each batch is committed as soon as it is stored
 * (while a commit is under way, the batches handled meanwhile go in the next one), and a trickle
 * of small batches costs one commit a pace. Neither the handling of records nor the next fetch
 * waits for the broker's answer, except when the consumer stops: then the batch waits for its
 * last commit.
 *
 * A commit that fails (a rebalance, a broker away) is only retried by the next one: the records
 * after the last committed offset are delivered again, and their event ids make that harmless.
 */
export interface CommitPace {
  readonly records: number;
  readonly ms: number;
}

type Commit = (partition: number, nextOffset: string) => Promise<void>;

class PartitionCommitter {
  private resolved: bigint | undefined;
  private committed: bigint | undefined;
  private inFlight: Promise<void> | undefined;
  private sinceCommit = 0;
  private lastCommitAt = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly partition: number,
    private readonly send: Commit,
    private readonly pace: CommitPace,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** `offset` and the `records` before it (1 by default) are handled. */
  resolve(offset: string, records = 1): void {
    this.resolved = BigInt(offset);
    this.sinceCommit += records;
    const wait = this.lastCommitAt + this.pace.ms - performance.now();
    if (this.sinceCommit >= this.pace.records || wait <= 0) this.commitSoon();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.commitSoon();
      }, wait);
      this.timer.unref();
    }
  }

  /** Commit what is resolved, in the background (one commit at a time). */
  commitSoon(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight !== undefined || this.resolved === undefined || this.resolved === this.committed) return;
    const offset = this.resolved;
    this.sinceCommit = 0;
    this.lastCommitAt = performance.now();
    this.inFlight = this.send(this.partition, (offset + 1n).toString())
      .then(() => {
        if (this.committed === undefined || offset > this.committed) this.committed = offset;
      })
      .catch(this.onError)
      .finally(() => {
        this.inFlight = undefined;
        // What was resolved meanwhile goes next.
        if (this.resolved !== this.committed) this.commitSoon();
      });
  }

  /** Drop a pending timed commit (the partition is no longer this consumer's to commit). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Commit what is resolved and wait for it. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight !== undefined) await this.inFlight;
    if (this.resolved === undefined || this.resolved === this.committed) return;
    const offset = this.resolved;
    await this.send(this.partition, (offset + 1n).toString());
    if (this.committed === undefined || offset > this.committed) this.committed = offset;
  }
}

export class PartitionCommits {
  private readonly partitions = new Map<number, PartitionCommitter>();

  constructor(
    private readonly send: Commit,
    private readonly pace: CommitPace,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  of(partition: number): PartitionCommitter {
    let committer = this.partitions.get(partition);
    if (committer === undefined) {
      committer = new PartitionCommitter(partition, this.send, this.pace, this.onError);
      this.partitions.set(partition, committer);
    }
    return committer;
  }

  /** Commit what every partition has resolved (before leaving the group). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.partitions.values()].map((committer) => committer.flush()));
  }

  /** Forget every partition (after a rebalance, offsets are read back from the group). */
  clear(): void {
    for (const committer of this.partitions.values()) committer.cancel();
    this.partitions.clear();
  }
}
