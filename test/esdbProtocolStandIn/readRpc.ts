/**
 * Streams.Read: one server-streaming RPC for four things, told apart by the request's options.
 * - a stream, forwards or backwards, from the start, the end or a revision, up to a count; a stream
 *   without events is answered by a `stream_not_found` message (not a gRPC error);
 * - `$all`, forwards from a position (inclusive) or backwards from one (exclusive), up to a count,
 *   optionally filtered;
 * - a subscription to `$all` (see subscriptionRpc.ts);
 * - a subscription to one stream, which the stand-in does not implement (UNIMPLEMENTED).
 */
import { status, type handleServerStreamingCall } from '@grpc/grpc-js';
import { ReadReq, ReadResp } from './generatedProtocol.js';
import { eventFilterOf } from './eventFilter.js';
import { readEventBytes, streamIdentifier, type UuidFormat } from './recordedEventMessage.js';
import { ResponseWriter } from './responseWriter.js';
import { rpcError } from './rpcErrors.js';
import { serveSubscriptionToAll } from './subscriptionRpc.js';
import type { ReadResponse } from './readResponse.js';
import type { AllStart, Direction, StoredEvent, StreamStart, TransactionLog } from './transactionLog.js';

const { StreamOptionCase, CountOptionCase, ReadDirection } = ReadReq.Options;
const RevisionCase = ReadReq.Options.StreamOptions.RevisionOptionCase;
const AllCase = ReadReq.Options.AllOptions.AllOptionCase;

const streamStart = (options: InstanceType<typeof ReadReq.Options.StreamOptions>): StreamStart => {
  switch (options.getRevisionOptionCase()) {
    case RevisionCase.END:
      return 'end';
    case RevisionCase.REVISION:
      return Number(options.getRevision());
    default:
      return 'start';
  }
};

const allStart = (options: InstanceType<typeof ReadReq.Options.AllOptions>): AllStart => {
  const position = options.getPosition();
  switch (options.getAllOptionCase()) {
    case AllCase.END:
      return 'end';
    case AllCase.POSITION:
      return { commit: BigInt(position!.getCommitPosition()), prepare: BigInt(position!.getPreparePosition()) };
    default:
      return 'start';
  }
};

const sendEvents = async (
  writer: ResponseWriter<ReadReq, ReadResponse>,
  events: Iterable<StoredEvent>,
  options: { count: number; uuidFormat: UuidFormat; matches: (event: StoredEvent) => boolean },
): Promise<void> => {
  let sent = 0;
  for (const event of events) {
    if (sent >= options.count) break;
    if (!options.matches(event)) continue;
    sent++;
    if (!(await writer.write(readEventBytes(event, options.uuidFormat)))) return;
  }
};

export const readRpc =
  (log: TransactionLog): handleServerStreamingCall<ReadReq, ReadResponse> =>
  (call) => {
    const writer = new ResponseWriter(call);
    const options = call.request.getOptions();
    if (!options) {
      call.emit('error', rpcError(status.INVALID_ARGUMENT, 'A read carries its options.'));
      return;
    }
    const uuidFormat: UuidFormat = options.getUuidOption()?.hasStructured() ? 'structured' : 'string';
    const direction: Direction = options.getReadDirection() === ReadDirection.BACKWARDS ? 'backwards' : 'forwards';
    const isSubscription = options.getCountOptionCase() === CountOptionCase.SUBSCRIPTION;
    const count = options.getCountOptionCase() === CountOptionCase.COUNT ? Number(options.getCount()) : Number.POSITIVE_INFINITY;
    const filter = eventFilterOf(options);

    const serve = async (): Promise<void> => {
      if (options.getStreamOptionCase() === StreamOptionCase.ALL) {
        const from = allStart(options.getAll()!);
        if (isSubscription) return serveSubscriptionToAll(log, { from, filter, uuidFormat }, writer);
        return sendEvents(writer, log.readAll(from, direction), { count, uuidFormat, matches: filter?.matches ?? (() => true) });
      }
      const streamOptions = options.getStream();
      if (isSubscription || streamOptions === undefined) {
        call.emit('error', rpcError(status.UNIMPLEMENTED, 'The EventStoreDB protocol stand-in implements subscriptions to $all only.'));
        return;
      }
      const identifier = streamOptions.getStreamIdentifier();
      const streamName = Buffer.from(identifier?.getStreamName_asU8() ?? []).toString('utf8');
      const events = log.readStream(streamName, streamStart(streamOptions), direction);
      if (events === undefined) {
        await writer.write(new ReadResp().setStreamNotFound(new ReadResp.StreamNotFound().setStreamIdentifier(streamIdentifier(streamName))));
        return;
      }
      return sendEvents(writer, events, { count, uuidFormat, matches: () => true });
    };
    serve().then(
      () => writer.end(),
      (error: unknown) => call.emit('error', rpcError(status.INTERNAL, error instanceof Error ? error.message : String(error))),
    );
  };
