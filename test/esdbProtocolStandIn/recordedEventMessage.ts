/**
 * Stored events as EventStoreDB sends them in a ReadResp: the recorded event with its id, stream,
 * revision, both positions, the metadata entries the client reads (`type`, `content-type`,
 * `created`), the custom metadata and the data; plus the commit position on the envelope. Every
 * event written through gRPC commits itself, so EventStoreDB 23.10 and later know its position in
 * stream reads as well as in `$all` reads (older servers sent -1 there).
 */
import { ReadResp, StreamIdentifier, UuidMessage } from './generatedProtocol.js';
import type { StoredEvent } from './transactionLog.js';

export type UuidFormat = 'string' | 'structured';

const HEX_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The canonical form of a UUID the client sent, or undefined when it is not one (EventStoreDB rejects it). */
export const parseUuid = (uuid: UuidMessage | undefined): string | undefined => {
  if (uuid === undefined) return undefined;
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured()!;
    const bytes = Buffer.alloc(16);
    bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
    bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const text = uuid.getString();
  return HEX_UUID.test(text) ? text.toLowerCase() : undefined;
};

export const uuidMessage = (id: string, format: UuidFormat): UuidMessage => {
  const message = new UuidMessage();
  if (format === 'string') return message.setString(id);
  const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
  const structured = new UuidMessage.Structured()
    .setMostSignificantBits(bytes.readBigInt64BE(0).toString())
    .setLeastSignificantBits(bytes.readBigInt64BE(8).toString());
  return message.setStructured(structured);
};

export const streamIdentifier = (streamName: string): InstanceType<typeof StreamIdentifier> =>
  new StreamIdentifier().setStreamName(Buffer.from(streamName, 'utf8'));

/**
 * The serialized ReadResp of a stored event, built once per event and id format: reads and
 * subscriptions send the same bytes again and again (the Read service's response serializer lets
 * bytes through, see standInServer.ts).
 */
const wireCache: Record<UuidFormat, WeakMap<StoredEvent, Uint8Array>> = { string: new WeakMap(), structured: new WeakMap() };

export const readEventBytes = (event: StoredEvent, uuidFormat: UuidFormat): Uint8Array => {
  const cache = wireCache[uuidFormat];
  let bytes = cache.get(event);
  if (bytes === undefined) {
    bytes = readEventMessage(event, uuidFormat).serializeBinary();
    cache.set(event, bytes);
  }
  return bytes;
};

export const readEventMessage = (event: StoredEvent, uuidFormat: UuidFormat): ReadResp => {
  const recorded = new ReadResp.ReadEvent.RecordedEvent()
    .setId(uuidMessage(event.id, uuidFormat))
    .setStreamIdentifier(streamIdentifier(event.streamName))
    .setStreamRevision(String(event.revision))
    .setCommitPosition(event.logPosition.toString())
    .setPreparePosition(event.logPosition.toString())
    .setCustomMetadata(event.customMetadata)
    .setData(event.data);
  recorded
    .getMetadataMap()
    .set('type', event.type)
    .set('content-type', event.contentType)
    .set('created', event.created.toString());
  return new ReadResp().setEvent(new ReadResp.ReadEvent().setEvent(recorded).setCommitPosition(event.logPosition.toString()));
};
