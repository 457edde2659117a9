/**
 * ServerFeatures.GetSupportedMethods: how the client learns what the server can do. The client
 * asks before its first append and uses BatchAppend when it is listed, Append otherwise (also
 * when this RPC answers UNIMPLEMENTED, as EventStoreDB 20.x does). The stand-in lists exactly the
 * methods it serves, in EventStoreDB's lowercase form.
 */
import type { handleUnaryCall, MethodDefinition } from '@grpc/grpc-js';
import { SupportedMethod, SupportedMethods, type Empty } from './generatedProtocol.js';

/** What the stand-in reports as its version: it is not an EventStoreDB release. */
export const STAND_IN_VERSION = '0.0.0-esdb-protocol-stand-in';

export const supportedMethod = (method: Pick<MethodDefinition<unknown, unknown>, 'path'>): InstanceType<typeof SupportedMethod> => {
  const [, serviceName = '', methodName = ''] = method.path.toLowerCase().split('/');
  return new SupportedMethod().setServiceName(serviceName).setMethodName(methodName);
};

export const serverFeaturesRpc =
  (methods: readonly Pick<MethodDefinition<unknown, unknown>, 'path'>[]): handleUnaryCall<Empty, InstanceType<typeof SupportedMethods>> =>
  (_call, callback) => {
    callback(null, new SupportedMethods().setEventStoreServerVersion(STAND_IN_VERSION).setMethodsList(methods.map(supportedMethod)));
  };
