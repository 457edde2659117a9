/** An event as a row of the PostgreSQL `events` table, and back (bigints come as text; json as parsed values). */
import type { RecordedEvent } from '../../../domain/eventStore.js';
import { positionAt } from '../sqlite/storedEvent.js';

export const storedEventColumns = 'position, stream_name, revision, event_id, type, data, metadata, recorded_at';

export interface StoredEventRow {
  readonly position: string;
  readonly stream_name: string;
  readonly revision: string;
  readonly event_id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recorded_at: string;
}

export const toRecordedEvent = (row: StoredEventRow): RecordedEvent => ({
  id: row.event_id,
  streamName: row.stream_name,
  revision: Number(row.revision),
  position: positionAt(BigInt(row.position)),
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  recordedAt: Number(row.recorded_at),
});
