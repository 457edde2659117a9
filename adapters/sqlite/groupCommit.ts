/**
 * Group commit. Every append queued during one turn of the event loop is written by one
 * transaction at the end of the turn (`setImmediate`): 32 concurrent appenders pay for one
 * commit, not 32. While a transaction is being written (on the writer thread, see
 * appendThread.ts), the appends that arrive queue for the next one, so under load each commit
 * carries whatever came in during the one before. Each append still gets its own answer or its
 * own refusal.
 */
import type { AppendResult } from '../../domain/eventStore.js';
import type { AppendOutcome, AppendRequest } from './appendWriter.js';

interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly write: (requests: readonly AppendRequest[]) => Promise<AppendOutcome[]>,
    /** Called after a batch that wrote something has been committed. */
    private readonly onCommitted: () => void,
  ) {}

  submit(request: AppendRequest): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (this.writing === undefined) this.scheduled ??= setImmediate(this.flush);
    });
  }

  /** Write everything queued (one transaction at a time); resolves when nothing is queued or being written. */
  async drain(): Promise<void> {
    while (this.writing !== undefined || this.pending.length > 0) {
      this.flush();
      await this.writing;
    }
  }

  private readonly flush = (): void => {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.writing !== undefined || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.commit(batch).finally(() => {
      this.writing = undefined;
      // What queued up meanwhile goes at once: it has waited for a whole commit already.
      if (this.pending.length > 0) this.flush();
    });
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
    if (outcomes.some((outcome) => outcome.accepted)) this.onCommitted();
  }
}
