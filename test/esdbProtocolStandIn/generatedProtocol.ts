/**
 * The EventStoreDB gRPC protocol exactly as `@eventstore/db-client` speaks it: the service
 * definitions and message classes generated from EventStoreDB's .proto files, which the client
 * ships in its `generated/` folder. The stand-in serves these very definitions, so both ends
 * share one wire format and a drift in the client shows up here first.
 *
 * The generated files are CommonJS whose exports no ES module loader can list, hence the default
 * imports. The Any and Empty well-known types come from the same google-protobuf the generated
 * code loads (resolved from the client's own location, not from this project's dependencies).
 */
import { createRequire } from 'node:module';
import serverFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type { Any as AnyMessage } from 'google-protobuf/google/protobuf/any_pb.js';
import type { Empty as WellKnownEmpty } from 'google-protobuf/google/protobuf/empty_pb.js';

export const { StreamsService } = streamsGrpc;
export const { ServerFeaturesService } = serverFeaturesGrpc;
export const { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, ReadReq, ReadResp } = streamsPb;
export const { SupportedMethod, SupportedMethods } = serverFeaturesPb;
export const { UUID: UuidMessage, Empty, StreamIdentifier, AllStreamPosition, WrongExpectedVersion, MaximumAppendSizeExceeded, BadRequest, Timeout } = sharedPb;
export const { Status } = statusPb;

// Each message class doubles as the type of its instances.
export type AppendReq = InstanceType<typeof AppendReq>;
export type AppendResp = InstanceType<typeof AppendResp>;
export type BatchAppendReq = InstanceType<typeof BatchAppendReq>;
export type BatchAppendResp = InstanceType<typeof BatchAppendResp>;
export type ReadReq = InstanceType<typeof ReadReq>;
export type ReadResp = InstanceType<typeof ReadResp>;
export type UuidMessage = InstanceType<typeof UuidMessage>;
export type Status = InstanceType<typeof Status>;
export type Empty = InstanceType<typeof Empty>;

const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
const { Any } = requireFromClient('google-protobuf/google/protobuf/any_pb.js') as { Any: typeof AnyMessage };
const { Empty: GoogleEmpty } = requireFromClient('google-protobuf/google/protobuf/empty_pb.js') as { Empty: typeof WellKnownEmpty };

/** google.protobuf.Empty, which BatchAppend uses where the other RPCs use EventStoreDB's own Empty. */
export const googleEmpty = (): WellKnownEmpty => new GoogleEmpty();

/** Pack a message into google.protobuf.Any under its full protobuf name, as EventStoreDB does. */
export const packAny = (message: { serializeBinary(): Uint8Array }, fullName: string): AnyMessage => {
  const any = new Any();
  any.pack(message.serializeBinary(), fullName);
  return any;
};
