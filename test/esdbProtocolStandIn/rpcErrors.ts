/**
 * The gRPC errors EventStoreDB raises (its `RpcExceptions`): a status code, a message, and the
 * `exception` trailer from which the client picks its error class. Expected outcomes such as a
 * wrong expected version or a missing stream are not errors on these RPCs: they are messages.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

export const rpcError = (code: status, details: string, trailers: Readonly<Record<string, string>> = {}): ServiceError => {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
};

export const maximumAppendSizeExceeded = (maxAppendSize: number): ServiceError =>
  rpcError(status.INVALID_ARGUMENT, `Maximum Append Size of ${maxAppendSize} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(maxAppendSize),
  });

export const requiredMetadataPropertyMissing = (property: string): ServiceError =>
  rpcError(status.INVALID_ARGUMENT, `Required Metadata Property '${property}' is missing`, {
    exception: 'missing-required-metadata-property',
    'required-metadata-properties': 'type,content-type',
  });

/** What EventStoreDB answers to a request it cannot parse (an unhandled exception on its side). */
export const malformedRequest = (what: string): ServiceError => rpcError(status.UNKNOWN, `Exception was thrown by handler: ${what}`);
