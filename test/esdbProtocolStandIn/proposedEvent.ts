/**
 * A proposed message of Append or BatchAppend, checked as EventStoreDB checks it: a UUID id and
 * the required metadata entries `type` and `content-type`.
 */
import type { ServiceError } from '@grpc/grpc-js';
import type { UuidMessage } from './generatedProtocol.js';
import { parseUuid } from './recordedEventMessage.js';
import { malformedRequest, requiredMetadataPropertyMissing } from './rpcErrors.js';
import type { ExpectedVersion, ProposedEvent } from './transactionLog.js';

interface ProposedMessage {
  getId(): UuidMessage | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

export const proposedEvent = (message: ProposedMessage): ProposedEvent | ServiceError => {
  const id = parseUuid(message.getId());
  if (id === undefined) return malformedRequest('the event id is not a UUID');
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  if (type === undefined) return requiredMetadataPropertyMissing('type');
  const contentType = metadata.get('content-type');
  if (contentType === undefined) return requiredMetadataPropertyMissing('content-type');
  return { id, type, contentType, data: message.getData_asU8(), customMetadata: message.getCustomMetadata_asU8() };
};

export const isServiceError = (value: ProposedEvent | ServiceError): value is ServiceError => value instanceof Error;

/** An expected stream revision from the wire: a uint64 carried as a decimal string. */
export const expectedRevision = (revision: string): ExpectedVersion => ({ kind: 'revision', revision: Number(revision) });
