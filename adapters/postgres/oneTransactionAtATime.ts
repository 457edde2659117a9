/**
 * The writer behind the PostgreSQL store's group commit (sqlite/groupCommit.ts forms the
 * batches): one transaction at a time per store, since every transaction waits for the log's
 * append lock anyway. Batches formed while one is being written wait, and are then written
 * together, in the order formed, as one transaction: under load each commit carries everything
 * that came in during the one before. Each request keeps its own outcome.
 */
import type { AppendOutcome, WriteRequest } from '../sqlite/appendWriter.js';

interface Waiting {
  readonly requests: readonly WriteRequest[];
  readonly resolve: (outcomes: AppendOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

export const oneTransactionAtATime = (write: (requests: readonly WriteRequest[]) => Promise<AppendOutcome[]>): ((requests: readonly WriteRequest[]) => Promise<AppendOutcome[]>) => {
  let waiting: Waiting[] = [];
  let writing = false;

  const writeWaiting = async (): Promise<void> => {
    writing = true;
    while (waiting.length > 0) {
      const batches = waiting;
      waiting = [];
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
