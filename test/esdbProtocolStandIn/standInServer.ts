/**
 * An in-process stand-in for EventStoreDB's gRPC protocol: a @grpc/grpc-js server that serves the
 * service definitions `@eventstore/db-client` ships, on 127.0.0.1 and an ephemeral port, without TLS.
 *
 * It is NOT EventStoreDB. It implements only what the callpark adapter uses, faithfully to
 * EventStoreDB for that much: Streams.Append, Streams.BatchAppend, Streams.Read (streams, `$all`,
 * subscriptions to `$all`) and ServerFeatures.GetSupportedMethods. Everything else (deletes,
 * stream subscriptions, persistent subscriptions, projections, users, gossip, ACLs, TLS) answers
 * UNIMPLEMENTED or does not exist. The real server still has to be tested against: the contract
 * suite runs against it whenever one is reachable.
 *
 * A single-node connection string (`esdb://host:port?tls=false`) makes the client talk to that node
 * directly: it asks no gossip, so the stand-in needs none.
 */
import { Server, ServerCredentials, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { appendRpc } from './appendRpc.js';
import { batchAppendRpc } from './batchAppendRpc.js';
import { ServerFeaturesService, StreamsService } from './generatedProtocol.js';
import { readRpc } from './readRpc.js';
import { rpcError } from './rpcErrors.js';
import { readMethod } from './readResponse.js';
import { serverFeaturesRpc } from './serverFeaturesRpc.js';
import { seedSystemEvents } from './systemEvents.js';
import { DEFAULT_MAX_APPEND_SIZE, TransactionLog } from './transactionLog.js';

export interface EsdbProtocolStandInOptions {
  /** Serve and list Streams.BatchAppend, as EventStoreDB 21.10 and later do (default true); otherwise the client appends with Append. */
  readonly batchAppend?: boolean;
  /** Serve ServerFeatures.GetSupportedMethods (default true); without it the client assumes an old server. */
  readonly serverFeatures?: boolean;
  /** The largest append accepted, in bytes as EventStoreDB counts them (default 1 MiB, EventStoreDB's default). */
  readonly maxAppendSize?: number;
  /** Start with a few system events in `$all`, as a fresh node has (default true). */
  readonly seedSystemEvents?: boolean;
}

export type AppendFault = 'not-leader' | 'drop-after-write';

export interface EsdbProtocolStandIn {
  /** A single-node, insecure connection string for `@eventstore/db-client`. */
  readonly connectionString: string;
  /** Cut every open connection (GOAWAY, then reset), failing the calls in flight; the server keeps listening. */
  dropConnections(): Promise<void>;
  /**
   * Make the next appends (unary Append, as the client sends them with `batchAppend: false`) fail,
   * one fault each, in order: `not-leader` answers NotLeader naming this server as the leader
   * (nothing written); `drop-after-write` writes the events, then cuts every connection before
   * answering, so the client never hears of the write.
   */
  injectAppendFaults(faults: readonly AppendFault[]): void;
  /** How many calls each RPC received so far, by method name (`append`, `batchAppend`, `read`, `getSupportedMethods`). */
  calls(): Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export const startEsdbProtocolStandIn = async (options: EsdbProtocolStandInOptions = {}): Promise<EsdbProtocolStandIn> => {
  const { batchAppend = true, serverFeatures = true, maxAppendSize = DEFAULT_MAX_APPEND_SIZE } = options;
  const log = new TransactionLog();
  if (options.seedSystemEvents ?? true) seedSystemEvents(log);

  const calls: Record<string, number> = {};
  const counted = <Handler extends (call: never, ...rest: never[]) => void>(name: string, handler: Handler): Handler =>
    ((call: never, ...rest: never[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      handler(call, ...rest);
    }) as Handler;

  const server = new Server();
  const faults: AppendFault[] = [];
  const where = { address: '' };
  const append = appendRpc({ log, maxAppendSize });
  const faulty: typeof append = (call, callback) => {
    const fault = faults.shift();
    if (fault === undefined) return append(call, callback);
    if (fault === 'not-leader') {
      const [host, port] = where.address.split(':') as [string, string];
      call.on('data', () => undefined);
      call.on('end', () => callback(rpcError(status.NOT_FOUND, 'Leader info available', { exception: 'not-leader', 'leader-endpoint-host': host, 'leader-endpoint-port': port })));
      return;
    }
    append(call, (error, response) => {
      if (error) return callback(error, response);
      server.drain(where.address, 0);
    });
  };
  const streams: UntypedServiceImplementation = {
    read: counted('read', readRpc(log)),
    append: counted('append', faulty),
  };
  if (batchAppend) streams.batchAppend = counted('batchAppend', batchAppendRpc({ log, maxAppendSize }));
  server.addService({ ...StreamsService, read: readMethod }, streams);
  if (serverFeatures) {
    const served = [StreamsService.read, StreamsService.append, ...(batchAppend ? [StreamsService.batchAppend] : []), ServerFeaturesService.getSupportedMethods];
    server.addService(ServerFeaturesService, { getSupportedMethods: counted('getSupportedMethods', serverFeaturesRpc(served)) });
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${HOST}:0`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const address = `${HOST}:${port}`;
  where.address = address;

  return {
    connectionString: `esdb://${address}?tls=false`,
    dropConnections: async () => {
      server.drain(address, 0);
      // Let the resets reach the sockets before the caller carries on.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
    injectAppendFaults: (next) => void faults.push(...next),
    calls: () => ({ ...calls }),
    stop: async () => {
      server.forceShutdown();
    },
  };
};
