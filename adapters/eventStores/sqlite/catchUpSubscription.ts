/**
 * The catch-up subscription over the SQLite log: it reads the log in windows of positions,
 * history first and then live, and waits between reads for an append of this process (a prompt
 * wake-up) or for the poll interval to pass (appends of other processes, which cannot wake it).
 *
 * Positions become visible in increasing order (see connection.ts), so reading the window
 * `(cursor, min(head, cursor + pageSize)]` and then moving the cursor to its end misses nothing
 * and never reads a window twice. The filter is applied by SQL inside each window, so a filter
 * that matches little costs one bounded scan a window, and never a rescan of what it skipped.
 */
import type Database from 'better-sqlite3';
import type { RecordedEvent, SubscribeOptions, Subscription, SubscriptionFilter } from '../../../domain/eventStore.js';
import { storedEventColumns, toRecordedEvent, type StoredEventRow } from './storedEvent.js';

/** Wakes the subscriptions of this process when an append has been committed. */
export class AppendSignal {
  private readonly waiters = new Set<() => void>();

  /** Resolves at the next notify or after `timeoutMs`, whichever comes first; `cancel` resolves it now. */
  next(timeoutMs: number): { readonly promise: Promise<void>; readonly cancel: () => void } {
    let cancel = (): void => {};
    const promise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => cancel(), timeoutMs);
      cancel = () => {
        clearTimeout(timer);
        this.waiters.delete(cancel);
        resolve();
      };
      this.waiters.add(cancel);
    });
    return { promise, cancel };
  }

  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export interface LogSource {
  readonly db: Database.Database;
  readonly signal: AppendSignal;
  /** The last position of the log; 0 when it is empty (positions start at 1). */
  head(): bigint;
  isOpen(): boolean;
  /** A row as the event it records (the store's own appends without parsing them again, recentAppends.ts); parsed when absent. */
  readonly recordedEvent?: (row: StoredEventRow) => RecordedEvent;
}

export interface CatchUpSettings {
  readonly pageSize: number;
  readonly pollIntervalMs: number;
}

/** `column` starts with one of the prefixes: `instr` compares exactly (`LIKE` would ignore case and treat `%` and `_` as wildcards). */
const startsWithAny = (column: string, prefixes: readonly string[]): string =>
  prefixes.length === 0 ? '0' : `(${prefixes.map(() => `instr(${column}, ?) = 1`).join(' OR ')})`;

const windowQuery = (filter: SubscriptionFilter | undefined): { readonly sql: string; readonly parameters: readonly string[] } => {
  const conditions = ['position > ?', 'position <= ?'];
  const parameters: string[] = [];
  if (filter?.streamNamePrefixes !== undefined) {
    conditions.push(startsWithAny('stream_name', filter.streamNamePrefixes));
    parameters.push(...filter.streamNamePrefixes);
  }
  if (filter?.eventTypePrefixes !== undefined) {
    conditions.push(startsWithAny('type', filter.eventTypePrefixes));
    parameters.push(...filter.eventTypePrefixes);
  }
  return { sql: `SELECT ${storedEventColumns} FROM events WHERE ${conditions.join(' AND ')} ORDER BY position`, parameters };
};

/**
 * The iterator is written out rather than as an async generator: an event already read from the
 * file is handed over in one resolved promise, which keeps a catch-up over a long history cheap.
 * Each `for await` over the subscription starts its own iterator from `after`.
 */
export const catchUpSubscription = (source: LogSource, options: SubscribeOptions, settings: CatchUpSettings): Subscription => {
  const { sql, parameters } = windowQuery(options.filter);
  const window = source.db.prepare<unknown[], StoredEventRow>(sql).raw().safeIntegers();
  const pageSize = BigInt(settings.pageSize);
  const waits = new Set<() => void>();
  const recordedEvent = source.recordedEvent ?? toRecordedEvent;
  let open = true;
  const running = (): boolean => open && source.isOpen();
  const ended: IteratorResult<RecordedEvent> = { done: true, value: undefined };

  const iterator = (): AsyncIterator<RecordedEvent> => {
    let cursor = options.after?.commit ?? 0n;
    let head = cursor;
    let rows: StoredEventRow[] = [];
    let index = 0;
    let finished = false;
    let reading: Promise<void> | undefined;

    /** Read windows of the log, waiting for appends when caught up, until one holds events for us or the subscription ends. */
    const readMore = async (): Promise<void> => {
      while (running()) {
        if (cursor >= head) head = source.head();
        if (cursor >= head) {
          const wait = source.signal.next(settings.pollIntervalMs);
          waits.add(wait.cancel);
          await wait.promise;
          waits.delete(wait.cancel);
          continue;
        }
        const upTo = head < cursor + pageSize ? head : cursor + pageSize;
        rows = window.all(cursor, upTo, ...parameters);
        index = 0;
        cursor = upTo;
        if (rows.length > 0) return;
      }
    };

    const next = (): Promise<IteratorResult<RecordedEvent>> => {
      if (finished || !running()) return Promise.resolve(ended);
      const row = rows[index];
      if (row !== undefined) {
        index++;
        return Promise.resolve({ done: false, value: recordedEvent(row) });
      }
      reading ??= readMore().finally(() => {
        reading = undefined;
      });
      return reading.then(next);
    };

    return {
      next,
      return: async () => {
        finished = true;
        return ended;
      },
    };
  };

  return {
    [Symbol.asyncIterator]: iterator,
    close: async () => {
      open = false;
      for (const stop of waits) stop();
    },
  };
};
