/**
 * Group commit. Every append queued during one turn of the event loop is written by one
 * transaction (`setImmediate`): 32 concurrent appenders pay for one commit, not 32. The batches
 * go to the writer (on its own thread, see appendThread.ts) as soon as they are formed, without
 * waiting for the one before to be answered: the writer takes whatever has queued up for it while
 * it was committing into its next transaction, so under load each commit carries everything that
 * came in during the one before, and no commit waits for a round trip between the threads. Each
 * append still gets its own answer or its own refusal, and batches are written in the order formed.
 */
import type { AppendResult } from '../../../domain/eventStore.js';
import type { AppendOutcome, AppendRequest, SnapshotRequest, WriteRequest } from './appendWriter.js';

interface Pending {
  readonly request: WriteRequest;
  readonly resolve: (result: AppendResult | undefined) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly write: (requests: readonly WriteRequest[]) => Promise<AppendOutcome[]>,
    /** Called after a batch that wrote something has been committed. */
    private readonly onCommitted: () => void,
  ) {}

  submit(request: AppendRequest): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => this.queue({ request, resolve: (result) => resolve(result!), reject }));
  }

  /** Keep a snapshot, in the same transactions as the appends (so on the writer thread too). */
  keepSnapshot(request: SnapshotRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => this.queue({ request, resolve: () => resolve(), reject }));
  }

  private queue(pending: Pending): void {
    this.pending.push(pending);
    this.scheduled ??= setImmediate(this.flush);
  }

  /** Write everything queued; resolves when nothing is queued or being written. */
  async drain(): Promise<void> {
    this.flush();
    while (this.writing.size > 0) await Promise.all(this.writing);
  }

  private readonly flush = (): void => {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const writing = this.commit(batch).finally(() => this.writing.delete(writing));
    this.writing.add(writing);
  };

  private async commit(batch: readonly Pending[]): Promise<void> {
    let outcomes: AppendOutcome[];
    try {
      outcomes = await this.write(batch.map((pending) => pending.request));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.accepted) pending.resolve(outcome.result);
      else pending.reject(outcome.error);
    });
    if (outcomes.some((outcome, index) => outcome.accepted && batch[index]!.request.kind === 'append')) this.onCommitted();
  }
}
