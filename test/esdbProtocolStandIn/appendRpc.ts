/**
 * Streams.Append: client streaming, an options message (stream and expected revision) followed by
 * the proposed messages. The answer is one AppendResp: `success` with the stream's revision and
 * the position of the last event, or `wrong_expected_version` with the stream's actual state:
 * a message, not a gRPC error.
 */
import type { handleClientStreamingCall, ServiceError } from '@grpc/grpc-js';
import { AppendReq, AppendResp, Empty } from './generatedProtocol.js';
import { expectedRevision, isServiceError, proposedEvent } from './proposedEvent.js';
import { malformedRequest, maximumAppendSizeExceeded } from './rpcErrors.js';
import { sizeOnDisk, type ExpectedVersion, type ProposedEvent, type TransactionLog, type WriteOutcome } from './transactionLog.js';

export interface AppendSettings {
  readonly log: TransactionLog;
  readonly maxAppendSize: number;
}

const Case = AppendReq.Options.ExpectedStreamRevisionCase;

const expectedVersionOf = (options: InstanceType<typeof AppendReq.Options>): ExpectedVersion | undefined => {
  switch (options.getExpectedStreamRevisionCase()) {
    case Case.ANY:
      return { kind: 'any' };
    case Case.NO_STREAM:
      return { kind: 'no_stream' };
    case Case.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    case Case.REVISION:
      return expectedRevision(options.getRevision());
    default:
      return undefined;
  }
};

export const appendResponse = (outcome: WriteOutcome, expected: ExpectedVersion): AppendResp => {
  switch (outcome.kind) {
    case 'written':
    case 'idempotent': {
      const position = new AppendResp.Position().setCommitPosition(outcome.logPosition.toString()).setPreparePosition(outcome.logPosition.toString());
      return new AppendResp().setSuccess(new AppendResp.Success().setCurrentRevision(String(outcome.lastRevision)).setPosition(position));
    }
    case 'nothing_to_write': {
      const success = new AppendResp.Success().setNoPosition(new Empty());
      if (outcome.currentRevision === undefined) success.setNoStream(new Empty());
      else success.setCurrentRevision(String(outcome.currentRevision));
      return new AppendResp().setSuccess(success);
    }
    case 'wrong_expected_version': {
      const wrong = new AppendResp.WrongExpectedVersion();
      if (outcome.currentRevision === undefined) wrong.setCurrentNoStream(new Empty());
      else wrong.setCurrentRevision(String(outcome.currentRevision));
      switch (expected.kind) {
        case 'any':
          wrong.setExpectedAny(new Empty());
          break;
        case 'no_stream':
          wrong.setExpectedNoStream(new Empty());
          break;
        case 'stream_exists':
          wrong.setExpectedStreamExists(new Empty());
          break;
        case 'revision':
          wrong.setExpectedRevision(String(expected.revision));
          break;
      }
      return new AppendResp().setWrongExpectedVersion(wrong);
    }
  }
};

export const appendRpc =
  ({ log, maxAppendSize }: AppendSettings): handleClientStreamingCall<AppendReq, AppendResp> =>
  (call, callback) => {
    let target: { streamName: string; expected: ExpectedVersion } | undefined;
    const events: ProposedEvent[] = [];
    let size = 0;
    let failure: ServiceError | undefined;

    call.on('data', (request: AppendReq) => {
      if (failure) return;
      if (target === undefined) {
        const options = request.getOptions();
        const expected = options && expectedVersionOf(options);
        if (!options || !expected) {
          failure = malformedRequest('the first message of an append carries its options');
          return;
        }
        target = { streamName: Buffer.from(options.getStreamIdentifier()?.getStreamName_asU8() ?? []).toString('utf8'), expected };
        return;
      }
      const message = request.getProposedMessage();
      if (!message) {
        failure = malformedRequest('only proposed messages follow the options');
        return;
      }
      const event = proposedEvent(message);
      if (isServiceError(event)) {
        failure = event;
        return;
      }
      size += sizeOnDisk(event);
      if (size > maxAppendSize) {
        failure = maximumAppendSizeExceeded(maxAppendSize);
        return;
      }
      events.push(event);
    });
    call.on('end', () => {
      if (failure) return callback(failure);
      if (!target) return callback(malformedRequest('an append without options'));
      callback(null, appendResponse(log.write(target.streamName, target.expected, events), target.expected));
    });
    call.on('error', () => undefined);
  };
