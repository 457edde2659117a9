/**
 * How big an append is, as EventStoreDB counts it against its maximum append size
 * (`Event.SizeOnDisk`: the data, the metadata and twice the type's length), for events sent as
 * JSON. Every store of the port counts the same way, so a writer that splits its batches by this
 * measure fits every one of them.
 */
import type { EventData } from '../../domain/eventStore.js';

const jsonBytes = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8'));

/** The size of one event, as it counts towards an append's. */
export const eventSize = (event: EventData): number => jsonBytes(event.data ?? null) + jsonBytes(event.metadata) + event.type.length * 2;

export const appendSize = (events: readonly EventData[]): number => events.reduce((total, event) => total + eventSize(event), 0);

/** 1 MiB: EventStoreDB's default `MaxAppendSize`, and every store's default. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;
