/**
 * The events this store appended last, as the objects it was given: a subscription in the same
 * thread that reads one of them back (the directive publisher, right after the bridge appended it)
 * takes those objects instead of parsing the row's JSON again, and the domain then knows them
 * for what they were encoded from (domain/storedForm/storedEvent.ts) and does not decode them a second time.
 *
 * Only a row whose JSON text is the text written for the remembered event is answered from here,
 * so what a subscriber gets is what it would have parsed. The objects are shared by the
 * subscribers of this store: stored events are read, never changed. Bounded by count and by
 * bytes (the JSON texts kept, which the objects parsed from them mirror): the oldest is forgotten
 * beyond `capacity` events or `maxBytes`, so that large events or long ids cannot make it hold
 * more than about that; another thread's or process's appends, and older ones, are parsed as before.
 */
import type { RecordedEvent } from '../../../domain/eventStore.js';
import { toRecordedEvent, type SerializedEvent, type StoredEventRow } from './storedEvent.js';

interface Remembered {
  readonly serialized: SerializedEvent;
  readonly data: unknown;
  readonly metadata: unknown;
}

/** What an event's texts take, about (UTF-16 code units, as V8 keeps most of them). */
const sizeOf = (serialized: SerializedEvent): number => serialized.data.length + serialized.metadata.length + serialized.id.length + serialized.type.length;

export class RecentAppends {
  private readonly byId = new Map<string, Remembered>();
  private bytes = 0;

  constructor(
    private readonly capacity = 4_096,
    private readonly maxBytes = 1_048_576,
  ) {}

  remember(serialized: SerializedEvent, data: unknown, metadata: unknown): void {
    this.forget(serialized.id);
    this.byId.set(serialized.id, { serialized, data: data ?? null, metadata: metadata ?? {} });
    this.bytes += sizeOf(serialized);
    while (this.byId.size > this.capacity || (this.bytes > this.maxBytes && this.byId.size > 0)) this.forget(this.byId.keys().next().value!);
  }

  /** How many events it holds, and the bytes of their JSON texts. */
  get held(): { readonly events: number; readonly bytes: number } {
    return { events: this.byId.size, bytes: this.bytes };
  }

  private forget(id: string): void {
    const remembered = this.byId.get(id);
    if (remembered === undefined) return;
    this.byId.delete(id);
    this.bytes -= sizeOf(remembered.serialized);
  }

  /** The row as a recorded event: with the remembered objects when its JSON is theirs, else parsed. */
  recordedEvent(row: StoredEventRow): RecordedEvent {
    const remembered = this.byId.get(row[3]);
    if (remembered === undefined || remembered.serialized.data !== row[5] || remembered.serialized.metadata !== row[6] || remembered.serialized.type !== row[4]) return toRecordedEvent(row);
    const [position, streamName, revision, id, type, , , recordedAt] = row;
    return { ...toRecordedEvent([position, streamName, revision, id, type, 'null', '{}', recordedAt]), data: remembered.data, metadata: remembered.metadata };
  }
}
