/**
 * Streams.BatchAppend: the bidirectional append the client prefers when the server lists it in
 * its supported methods (EventStoreDB 21.10 and later do). Requests carry a correlation id; the
 * first of a batch carries its options (stream, expected position, deadline), each carries some
 * proposed messages, and the last is marked final. Each batch is answered by one response with
 * the same correlation id: `success`, or `error` as a google.rpc.Status whose details pack the
 * reason (WrongExpectedVersion, MaximumAppendSizeExceeded, Timeout, BadRequest) as EventStoreDB does.
 */
import { status, type handleBidiStreamingCall } from '@grpc/grpc-js';
import {
  AllStreamPosition,
  BadRequest,
  BatchAppendReq,
  BatchAppendResp,
  MaximumAppendSizeExceeded,
  Status,
  Timeout,
  WrongExpectedVersion,
  googleEmpty,
  packAny,
} from './generatedProtocol.js';
import { expectedRevision, isServiceError, proposedEvent } from './proposedEvent.js';
import { parseUuid, streamIdentifier } from './recordedEventMessage.js';
import { sizeOnDisk, type ExpectedVersion, type ProposedEvent, type WriteOutcome } from './transactionLog.js';
import type { AppendSettings } from './appendRpc.js';

interface PendingBatch {
  readonly streamName: string;
  readonly expected: ExpectedVersion;
  readonly deadline: number;
  readonly events: ProposedEvent[];
  size: number;
}

const Case = BatchAppendReq.Options.ExpectedStreamPositionCase;

const expectedVersionOf = (options: InstanceType<typeof BatchAppendReq.Options>): ExpectedVersion | undefined => {
  switch (options.getExpectedStreamPositionCase()) {
    case Case.ANY:
      return { kind: 'any' };
    case Case.NO_STREAM:
      return { kind: 'no_stream' };
    case Case.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    case Case.STREAM_POSITION:
      return expectedRevision(options.getStreamPosition());
    default:
      return undefined;
  }
};

const errorStatus = (code: status, message: string, details: { serializeBinary(): Uint8Array }, detailsName: string): Status =>
  new Status().setCode(Number(code)).setMessage(message).setDetails(packAny(details, detailsName));

const wrongExpectedVersion = (currentRevision: number | undefined, expected: ExpectedVersion): Status => {
  const details = new WrongExpectedVersion();
  if (currentRevision === undefined) details.setCurrentNoStream(googleEmpty());
  else details.setCurrentStreamRevision(String(currentRevision));
  switch (expected.kind) {
    case 'any':
      details.setExpectedAny(googleEmpty());
      break;
    case 'no_stream':
      details.setExpectedNoStream(googleEmpty());
      break;
    case 'stream_exists':
      details.setExpectedStreamExists(googleEmpty());
      break;
    case 'revision':
      details.setExpectedStreamPosition(String(expected.revision));
      break;
  }
  return errorStatus(status.ALREADY_EXISTS, 'WrongExpectedVersion', details, 'event_store.client.WrongExpectedVersion');
};

const outcomeResponse = (outcome: WriteOutcome, expected: ExpectedVersion): BatchAppendResp => {
  const response = new BatchAppendResp();
  switch (outcome.kind) {
    case 'written':
    case 'idempotent': {
      const position = new AllStreamPosition().setCommitPosition(outcome.logPosition.toString()).setPreparePosition(outcome.logPosition.toString());
      return response.setSuccess(new BatchAppendResp.Success().setCurrentRevision(String(outcome.lastRevision)).setPosition(position));
    }
    case 'nothing_to_write': {
      const success = new BatchAppendResp.Success().setNoPosition(googleEmpty());
      if (outcome.currentRevision === undefined) success.setNoStream(googleEmpty());
      else success.setCurrentRevision(String(outcome.currentRevision));
      return response.setSuccess(success);
    }
    case 'wrong_expected_version':
      return response.setError(wrongExpectedVersion(outcome.currentRevision, expected));
  }
};

export const batchAppendRpc =
  ({ log, maxAppendSize }: AppendSettings): handleBidiStreamingCall<BatchAppendReq, BatchAppendResp> =>
  (call) => {
    const pending = new Map<string, PendingBatch>();

    const answer = (request: BatchAppendReq, streamName: string, response: BatchAppendResp): void => {
      response.setCorrelationId(request.getCorrelationId()).setStreamIdentifier(streamIdentifier(streamName));
      call.write(response);
    };
    const fail = (request: BatchAppendReq, streamName: string, error: Status): void =>
      answer(request, streamName, new BatchAppendResp().setError(error));

    call.on('data', (request: BatchAppendReq) => {
      const correlationId = parseUuid(request.getCorrelationId()) ?? '';
      const options = request.getOptions();
      if (options) {
        const streamName = Buffer.from(options.getStreamIdentifier()?.getStreamName_asU8() ?? []).toString('utf8');
        const expected = expectedVersionOf(options);
        if (!options.hasStreamIdentifier() || expected === undefined) {
          fail(request, streamName, errorStatus(status.INVALID_ARGUMENT, 'BadRequest', new BadRequest().setMessage('Required field StreamIdentifier not set.'), 'event_store.client.BadRequest'));
          return;
        }
        const deadline = options.getDeadline()?.toDate().getTime() ?? Number.POSITIVE_INFINITY;
        if (deadline <= Date.now()) {
          fail(request, streamName, errorStatus(status.DEADLINE_EXCEEDED, 'Timeout', new Timeout(), 'event_store.client.Timeout'));
          return;
        }
        if (!pending.has(correlationId)) pending.set(correlationId, { streamName, expected, deadline, events: [], size: 0 });
      }
      const batch = pending.get(correlationId);
      if (!batch) return;
      for (const message of request.getProposedMessagesList()) {
        const event = proposedEvent(message);
        if (isServiceError(event)) {
          pending.delete(correlationId);
          fail(request, batch.streamName, errorStatus(status.INVALID_ARGUMENT, 'BadRequest', new BadRequest().setMessage(event.details), 'event_store.client.BadRequest'));
          return;
        }
        batch.events.push(event);
        batch.size += sizeOnDisk(event);
      }
      if (batch.size > maxAppendSize) {
        pending.delete(correlationId);
        const details = new MaximumAppendSizeExceeded().setMaxappendsize(maxAppendSize);
        fail(request, batch.streamName, errorStatus(status.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', details, 'event_store.client.MaximumAppendSizeExceeded'));
        return;
      }
      if (!request.getIsFinal()) return;
      pending.delete(correlationId);
      if (batch.deadline <= Date.now()) {
        fail(request, batch.streamName, errorStatus(status.DEADLINE_EXCEEDED, 'Timeout', new Timeout(), 'event_store.client.Timeout'));
        return;
      }
      answer(request, batch.streamName, outcomeResponse(log.write(batch.streamName, batch.expected, batch.events), batch.expected));
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  };
