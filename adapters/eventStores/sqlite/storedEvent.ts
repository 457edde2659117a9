/**
 * An event as a row of the `events` table, and back. Data and metadata are JSON text; the
 * position is read as a bigint (statements that return it use `safeIntegers`).
 */
import type { EventData, Position, RecordedEvent } from '../../../domain/eventStore.js';

/** The columns of a stored event, in the order of `StoredEventRow`. */
export const storedEventColumns = 'position, stream_name, revision, event_id, type, data, metadata, recorded_at';

/** A row read with `raw()` and `safeIntegers()`: [position, stream_name, revision, event_id, type, data, metadata, recorded_at]. */
export type StoredEventRow = [bigint, string, bigint, string, string, string, string, bigint];

/** An event ready to insert: its JSON already written, so a value JSON cannot hold fails the append before it is queued. */
export interface SerializedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

export const positionAt = (sequence: bigint): Position => ({ commit: sequence, prepare: sequence });

export const serializeEvent = (event: EventData): SerializedEvent => ({
  id: event.id,
  type: event.type,
  data: JSON.stringify(event.data ?? null),
  metadata: JSON.stringify(event.metadata ?? {}),
});

export const toRecordedEvent = (row: StoredEventRow): RecordedEvent => {
  const [position, streamName, revision, id, type, data, metadata, recordedAt] = row;
  return {
    id,
    streamName,
    revision: Number(revision),
    position: positionAt(position),
    type,
    data: JSON.parse(data) as unknown,
    metadata: JSON.parse(metadata) as unknown,
    recordedAt: Number(recordedAt),
  };
};
