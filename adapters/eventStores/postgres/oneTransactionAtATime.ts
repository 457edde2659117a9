/**
 * The writer behind the PostgreSQL store's group commit (sqlite/groupCommit.ts forms the
 * batches): one transaction at a time per store, since every transaction waits for the log's
 * append lock anyway. Batches formed while one is being written wait, and are then written
 * together, in the order formed, as one transaction (up to MAX_REQUESTS_PER_TRANSACTION): under
 * load each commit carries everything that came in during the one before. Each request keeps its
 * own outcome.
 */
import type { AppendOutcome, WriteRequest } from '../sqlite/appendWriter.js';

interface Waiting {
  readonly requests: readonly WriteRequest[];
  readonly resolve: (outcomes: AppendOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

/** The most requests one transaction carries (each append is at most the store's maximum append size). */
export const MAX_REQUESTS_PER_TRANSACTION = 512;

export const oneTransactionAtATime = (write: (requests: readonly WriteRequest[]) => Promise<AppendOutcome[]>): ((requests: readonly WriteRequest[]) => Promise<AppendOutcome[]>) => {
  let waiting: Waiting[] = [];
  let writing = false;

  const writeWaiting = async (): Promise<void> => {
    writing = true;
    while (waiting.length > 0) {
      let taken = 0;
      let requests = 0;
      while (taken < waiting.length && (taken === 0 || requests + waiting[taken]!.requests.length <= MAX_REQUESTS_PER_TRANSACTION)) requests += waiting[taken++]!.requests.length;
      const batches = waiting.slice(0, taken);
      waiting = waiting.slice(taken);
      try {
        const outcomes = await write(batches.flatMap((batch) => batch.requests));
        let from = 0;
        for (const batch of batches) {
          batch.resolve(outcomes.slice(from, from + batch.requests.length));
          from += batch.requests.length;
        }
      } catch (error) {
        for (const batch of batches) batch.reject(error);
      }
    }
    writing = false;
  };

  return (requests) =>
    new Promise<AppendOutcome[]>((resolve, reject) => {
      waiting.push({ requests, resolve, reject });
      if (!writing) void writeWaiting();
    });
};
