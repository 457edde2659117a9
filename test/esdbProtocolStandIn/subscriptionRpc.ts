/**
 * A subscription to `$all` (Streams.Read with subscription options): first a confirmation with a
 * subscription id, then the history after the requested position (exclusive, as in EventStoreDB),
 * then `caught_up`, then live events as they are written, in log order, until the client cancels
 * or the connection drops. Filtered subscriptions interleave checkpoints. The stand-in reads the
 * log itself at the pace the client consumes, so it never has to report `fell_behind`.
 */
import { randomUUID } from 'node:crypto';
import { ReadResp, type ReadReq } from './generatedProtocol.js';
import type { EventFilter } from './eventFilter.js';
import type { ReadResponse } from './readResponse.js';
import { readEventBytes, type UuidFormat } from './recordedEventMessage.js';
import type { ResponseWriter } from './responseWriter.js';
import type { LogPosition, TransactionLog } from './transactionLog.js';

export interface SubscriptionRequest {
  readonly from: 'start' | 'end' | LogPosition;
  readonly filter: EventFilter | undefined;
  readonly uuidFormat: UuidFormat;
}

const checkpoint = (logPosition: bigint): ReadResp =>
  new ReadResp().setCheckpoint(new ReadResp.Checkpoint().setCommitPosition(logPosition.toString()).setPreparePosition(logPosition.toString()));

export const serveSubscriptionToAll = async (
  log: TransactionLog,
  request: SubscriptionRequest,
  writer: ResponseWriter<ReadReq, ReadResponse>,
): Promise<void> => {
  const { from, filter, uuidFormat } = request;
  let next = from === 'end' ? log.length : log.indexAfter(from);
  if (!(await writer.write(new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID()))))) return;

  let caughtUp = false;
  let considered = 0;
  while (!writer.isStopped) {
    const event = log.eventAt(next);
    if (event !== undefined) {
      next++;
      considered++;
      if ((filter === undefined || filter.matches(event)) && !(await writer.write(readEventBytes(event, uuidFormat)))) return;
      if (filter !== undefined && considered % filter.checkpointInterval === 0 && !(await writer.write(checkpoint(event.logPosition)))) return;
      continue;
    }
    if (!caughtUp) {
      caughtUp = true;
      if (!(await writer.write(new ReadResp().setCaughtUp(new ReadResp.CaughtUp())))) return;
      continue;
    }
    const nextWrite = log.nextWrite();
    await Promise.race([nextWrite.written, writer.whenStopped]);
    nextWrite.cancel();
  }
};
