/**
 * Group commit. better-sqlite3 is synchronous, so appends made while the event loop is busy
 * would each wait for their own transaction and their own sync of the WAL. Instead an append is
 * queued, and every append queued during one turn of the event loop is written by one
 * transaction at the end of the turn (`setImmediate`): 32 concurrent appenders pay for one
 * commit, not 32. Each append still gets its own answer or its own refusal.
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

  constructor(
    private readonly write: (requests: readonly AppendRequest[]) => AppendOutcome[],
    /** Called after a batch that wrote something has been committed. */
    private readonly onCommitted: () => void,
  ) {}

  submit(request: AppendRequest): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      this.scheduled ??= setImmediate(this.flush);
    });
  }

  /** Write everything queued, now. */
  readonly flush = (): void => {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes: AppendOutcome[];
    try {
      outcomes = this.write(batch.map((pending) => pending.request));
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
  };
}
