/**
 * What the stand-in's Read handlers write: a ReadResp, or the bytes of one already serialized
 * (events are serialized once and sent many times). The Read method's response serializer is the
 * generated one, wrapped to let bytes through unchanged.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import { StreamsService, type ReadReq, type ReadResp } from './generatedProtocol.js';

export type ReadResponse = ReadResp | Uint8Array;

const serializeReadResponse = (response: ReadResponse): Buffer =>
  response instanceof Uint8Array ? Buffer.from(response.buffer, response.byteOffset, response.byteLength) : StreamsService.read.responseSerialize(response);

/** Streams.Read as generated, with a serializer that also takes serialized responses. */
export const readMethod: MethodDefinition<ReadReq, ReadResponse> = { ...StreamsService.read, responseSerialize: serializeReadResponse };
