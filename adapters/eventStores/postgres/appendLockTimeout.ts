/**
 * An append waited longer than `lock_timeout` for the log's append lock (another instance held it:
 * a long commit, or a stalled process until the server ends its transaction). Nothing was
 * written; trying again later is safe (the append's event ids make a retry idempotent).
 */
export class AppendLockTimeout extends Error {
  override readonly name = 'AppendLockTimeout';
  readonly retryable = true;
  constructor(readonly lockTimeoutMs: number) {
    super(`The event log's append lock was not free within ${lockTimeoutMs} ms: nothing was written; try again.`);
  }
}

/** PostgreSQL's `lock_not_available`, what `lock_timeout` raises. */
export const isLockTimeout = (error: unknown): boolean => (error as { code?: unknown }).code === '55P03';
