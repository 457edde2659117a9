/**
 * The catch-up subscription over the PostgreSQL log. Positions become visible in increasing order
 * (appendBatch.ts: given and committed under the log's append lock, ADR 0004), so reading the
 * window `(cursor, min(head, cursor + pageSize)]` and moving the cursor to its end misses nothing
 * and reads nothing twice. Caught up, it waits for a wake-up: an append of this store, a NOTIFY
 * of another process's commit (notifications.ts), or, as a fallback only, the poll interval. The
 * head a notification or a commit of this store announced spares the query for the head.
 * A read that fails because the connection was lost is tried again from the same cursor.
 */
import type pg from 'pg';
import type { RecordedEvent, SubscribeOptions, Subscription, SubscriptionFilter } from '../../../domain/eventStore.js';
import type { AppendSignal } from '../sqlite/catchUpSubscription.js';
import { storedEventColumns, toRecordedEvent, type StoredEventRow } from './storedEvent.js';

export interface PgLogSource {
  readonly pool: pg.Pool;
  readonly signal: AppendSignal;
  /** Resolves once the schema is ready. */
  readonly ready: Promise<unknown>;
  /** The highest position known committed without asking the database (from NOTIFY payloads and this store's commits); 0 when none. */
  knownHead(): bigint;
  isOpen(): boolean;
}

export interface PgCatchUpSettings {
  readonly pageSize: number;
  readonly pollIntervalMs: number;
  /** How long to wait before reading again after a lost connection. */
  readonly retryDelayMs: number;
}

/** Errors of a lost or refused connection (SQLSTATE class 08, an administrator's termination, a socket error): worth reading again. */
export const isConnectionLoss = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code))) return true;
  return error instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
};

const windowQuery = (filter: SubscriptionFilter | undefined): { readonly sql: string; readonly parameters: readonly unknown[] } => {
  const conditions = ['position > $1', 'position <= $2'];
  const parameters: unknown[] = [];
  if (filter?.streamNamePrefixes !== undefined) {
    parameters.push(filter.streamNamePrefixes);
    conditions.push(`EXISTS (SELECT 1 FROM unnest($${parameters.length + 2}::text[]) AS prefix WHERE starts_with(stream_name, prefix))`);
  }
  if (filter?.eventTypePrefixes !== undefined) {
    parameters.push(filter.eventTypePrefixes);
    conditions.push(`EXISTS (SELECT 1 FROM unnest($${parameters.length + 2}::text[]) AS prefix WHERE starts_with(type, prefix))`);
  }
  return { sql: `SELECT ${storedEventColumns} FROM events WHERE ${conditions.join(' AND ')} ORDER BY position`, parameters };
};

export const pgCatchUpSubscription = (source: PgLogSource, options: SubscribeOptions, settings: PgCatchUpSettings): Subscription => {
  const { sql, parameters } = windowQuery(options.filter);
  const pageSize = BigInt(settings.pageSize);
  const waits = new Set<() => void>();
  let open = true;
  const running = (): boolean => open && source.isOpen();

  const wait = async (ms: number): Promise<void> => {
    if (!running()) return;
    const next = source.signal.next(ms);
    waits.add(next.cancel);
    await next.promise;
    waits.delete(next.cancel);
  };

  async function* deliver(): AsyncGenerator<RecordedEvent> {
    await source.ready;
    let cursor = options.after?.commit ?? 0n;
    let head = cursor;
    while (running()) {
      try {
        if (cursor >= head) {
          const known = source.knownHead();
          if (known > cursor) head = known;
          else {
            const { rows } = await source.pool.query<{ head: string | null }>('SELECT max(position)::text AS head FROM events');
            head = rows[0]?.head === null || rows[0]?.head === undefined ? 0n : BigInt(rows[0].head);
          }
        }
        if (cursor >= head) {
          await wait(settings.pollIntervalMs);
          continue;
        }
        const upTo = head < cursor + pageSize ? head : cursor + pageSize;
        const { rows } = await source.pool.query<StoredEventRow>(sql, [cursor.toString(), upTo.toString(), ...parameters]);
        cursor = upTo;
        for (const row of rows) {
          if (!running()) return;
          yield toRecordedEvent(row);
        }
      } catch (error) {
        if (!running()) return;
        if (!isConnectionLoss(error)) throw error;
        await wait(settings.retryDelayMs);
      }
    }
  }

  return {
    [Symbol.asyncIterator]: deliver,
    close: async () => {
      open = false;
      for (const stop of waits) stop();
    },
  };
};
