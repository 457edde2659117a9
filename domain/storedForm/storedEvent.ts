/**
 * The stored form of call park events: the event's type, its encoded data, and metadata that
 * says which command recorded it (I6) and in which schema version.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { DecodeError, closed, decode } from '../codec/codec.js';
import { EVENT_SCHEMA_VERSION, eventCodecFor, type CallParkEvent } from '../events.js';
import { CommandId } from '../identifiers.js';
import { quickPathOff } from '../codec/quickDecode.js';

export const EventMetadata = closed(
  'EventMetadata',
  { commandId: CommandId, schemaVersion: t.number },
  { correlationId: t.string, causationId: t.string, rejectionMessage: t.string },
);
export type EventMetadata = t.TypeOf<typeof EventMetadata>;

export interface StoredForm {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

/**
 * What each stored form this service encoded was encoded from, by its data object: a store that
 * hands the same objects back (the SQLite store, to a subscription of its own appends) has them
 * read back without a second decoding. Weak: gone with the objects.
 */
const encodedFrom = new WeakMap<object, { readonly type: string; readonly metadata: unknown; readonly decoded: DecodedEvent }>();

export const toStoredForm = (event: CallParkEvent, metadata: Omit<EventMetadata, 'schemaVersion'>): StoredForm => {
  const form = { type: event.type, data: eventCodecFor(event.type)!.encode(event), metadata: { ...metadata, schemaVersion: EVENT_SCHEMA_VERSION } };
  if (typeof form.data === 'object' && form.data !== null) encodedFrom.set(form.data, { type: form.type, metadata: form.metadata, decoded: { event, metadata: form.metadata } });
  return form;
};

export interface DecodedEvent {
  readonly event: CallParkEvent;
  readonly metadata: EventMetadata;
}

const within = (prefix: string) => (error: DecodeError): DecodeError =>
  new DecodeError(error.issues.map((issue) => ({ path: issue.path.replace(/^\$/, prefix), message: issue.message })));

/** Read a stored event back, naming the path of anything that does not fit. */
export const fromStoredForm = (type: string, data: unknown, metadata: unknown): E.Either<DecodeError, DecodedEvent> => {
  const known = typeof data === 'object' && data !== null && !quickPathOff() ? encodedFrom.get(data) : undefined;
  if (known !== undefined && known.type === type && known.metadata === metadata) return E.right(known.decoded);
  const codec = eventCodecFor(type);
  if (codec === undefined) return E.left(new DecodeError([{ path: '$.type', message: `unknown event type "${type}"` }]));
  const decodedMetadata = E.mapLeft(within('$.metadata'))(decode(EventMetadata, metadata));
  if (E.isLeft(decodedMetadata)) return decodedMetadata;
  const { schemaVersion } = decodedMetadata.right;
  if (schemaVersion > EVENT_SCHEMA_VERSION) {
    return E.left(new DecodeError([{ path: '$.metadata.schemaVersion', message: `version ${schemaVersion} is newer than this service reads (${EVENT_SCHEMA_VERSION})` }]));
  }
  const decodedEvent = E.mapLeft(within('$.data'))(decode(codec, data));
  if (E.isLeft(decodedEvent)) return decodedEvent;
  return E.right({ event: decodedEvent.right, metadata: decodedMetadata.right });
};
