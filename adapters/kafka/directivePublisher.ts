/**
 * Directives out: a checkpointed subscription to the event log that publishes, for each stored
 * call park event, the directives it calls for (domain/directives.ts) on the directives topic.
 *
 * It runs as a projection of the projection runner (projections/runner.ts) with no tables of its
 * own: each batch is produced to Kafka inside the runner's transaction, which moves the
 * checkpoint only when the batch handler returns, i.e. after Kafka acknowledged every record
 * (acks from all in-sync replicas, idempotent producer, one request in flight). So:
 * - never a directive for an event that was not stored: it reads only the stored log;
 * - never a lost one: a batch whose produce fails is rolled back and read again;
 * - duplicates are possible, when the process dies between Kafka's acknowledgement and the
 *   checkpoint's commit, or when a batch of several sends fails after its first ones were
 *   acknowledged (the batch is read and sent again whole); each carries its deterministic
 *   `directiveId` (event id + index).
 * A second publisher on the same read store (another replica) finds the checkpoint moved and
 * skips the batch (the runner's compare-and-set comes before the produce).
 *
 * When a produce keeps failing (the broker is down), the runner gives up after its retries; the
 * publisher then starts it again from its checkpoint, every `superviseEveryMs`, until it runs.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Producer } from 'kafkajs';
import { callParkStreamPrefix } from '../../domain/callPark.js';
import type { EventStore, Position, RecordedEvent } from '../../domain/eventStore.js';
import { fromStoredForm } from '../../domain/storedForm/storedEvent.js';
import type { BatchProjection } from '../../projections/projection.js';
import type { ReadStore } from '../../projections/readStore.js';
import { ProjectionRunner, type RunnerStatus } from '../../projections/runner.js';
import type { Metrics } from '../observability/metrics.js';
import { messageOf, type BridgeLogger } from './bridgeLogger.js';
import { directiveHeader, directiveRecords } from './directiveRecord.js';
import { kafkaMetricsOf } from './kafkaMetrics.js';
import { sendsOf } from './recordSize.js';

export interface DirectivePublisherTuning {
  /** The most events read in one batch (2,000). */
  readonly maxBatchSize: number;
  /**
   * The most bytes of records in one send (900,000): under the broker's default limit of a record
   * batch (`message.max.bytes`, 1 MiB) even when every record of the send lands on one partition.
   */
  readonly maxSendBytes: number;
  /** The longest a batch is collected, in ms (50). */
  readonly maxBatchMs: number;
  /** How long Kafka may take to acknowledge a batch, in ms (10,000). */
  readonly produceTimeoutMs: number;
  /** How often a runner that gave up is started again, in ms (1,000). */
  readonly superviseEveryMs: number;
  /** Failed batches retried by the runner before it gives up (6, from 100 ms doubling). */
  readonly retry: { readonly attempts: number; readonly delayMs: number };
}

export const defaultDirectivePublisherTuning: DirectivePublisherTuning = {
  maxBatchSize: 2_000,
  maxSendBytes: 900_000,
  maxBatchMs: 50,
  produceTimeoutMs: 10_000,
  superviseEveryMs: 1_000,
  retry: { attempts: 6, delayMs: 100 },
};

export interface DirectivePublisherOptions {
  /** An idempotent producer (`idempotent: true`, `maxInFlightRequests: 1`), connected. */
  readonly producer: Producer;
  readonly topic: string;
  readonly store: EventStore;
  readonly readStore: ReadStore;
  readonly logger: BridgeLogger;
  readonly metrics?: Metrics;
  readonly clock?: () => number;
  readonly tuning?: Partial<DirectivePublisherTuning>;
}

export interface DirectivePublisherStatus extends RunnerStatus {
  readonly published: number;
  readonly restarts: number;
}

/** The checkpoint's name: one per directives topic. */
export const directivePublisherName = (topic: string): string => `kafka-directives:${topic}`;

const decodeRecorded = (recorded: RecordedEvent) => {
  const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
  // Never skip an event: publishing stops here until the event can be read (a newer schema needs a newer service).
  if (E.isLeft(decoded)) throw new Error(`Event ${recorded.id} (${recorded.streamName}@${recorded.revision}) cannot be read: ${decoded.left.message}`);
  return decoded.right;
};

export class DirectivePublisher {
  private readonly runner: ProjectionRunner;
  private readonly tuning: DirectivePublisherTuning;
  private supervisor: NodeJS.Timeout | undefined;
  private published = 0;
  private restarts = 0;

  constructor(private readonly options: DirectivePublisherOptions) {
    this.tuning = { ...defaultDirectivePublisherTuning, ...options.tuning };
    const kafkaMetrics = kafkaMetricsOf(options.metrics);
    const { producer, topic } = options;
    const projection: BatchProjection = {
      name: directivePublisherName(topic),
      version: 1,
      tables: [],
      migrations: () => [],
      filter: { streamNamePrefixes: [callParkStreamPrefix] },
      handle: async (events) => {
        const messages = events.flatMap((recorded) => directiveRecords(recorded.id, decodeRecorded(recorded)));
        if (messages.length === 0) return;
        const started = performance.now();
        for (const part of sendsOf(messages, this.tuning.maxSendBytes)) await producer.send({ topic, messages: part, acks: -1, timeout: this.tuning.produceTimeoutMs });
        options.logger.debug({ events: events.length, directives: messages.length, produceMs: Math.round(performance.now() - started), lagMs: Date.now() - events[0]!.recordedAt }, 'directives published');
        this.published += messages.length;
        if (kafkaMetrics) for (const message of messages) kafkaMetrics.directives.inc({ type: String(message.headers?.[directiveHeader.directiveType]) });
      },
    };
    this.runner = new ProjectionRunner({ eventStore: options.store, readStore: options.readStore }, projection, {
      maxBatchSize: this.tuning.maxBatchSize,
      maxBatchMs: this.tuning.maxBatchMs,
      retry: this.tuning.retry,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }

  async start(): Promise<void> {
    await this.runner.start();
    this.supervisor = setInterval(() => void this.supervise(), this.tuning.superviseEveryMs);
    this.supervisor.unref();
  }

  /** Finish the batch under way and stop; what is not published yet is published after the next start. */
  async stop(): Promise<void> {
    clearInterval(this.supervisor);
    this.supervisor = undefined;
    await this.runner.stop();
  }

  status(): DirectivePublisherStatus {
    return { ...this.runner.status(), published: this.published, restarts: this.restarts };
  }

  /** Resolves once the directives of every event up to `position` are acknowledged. */
  waitFor(position: Position): Promise<void> {
    return this.runner.waitFor(position);
  }

  /** Resolves once the directives of the log as it is now are acknowledged. */
  catchUp(): Promise<void> {
    return this.runner.catchUp();
  }

  private async supervise(): Promise<void> {
    const status = this.runner.status();
    if (status.state === 'superseded') {
      this.options.logger.error({ publisher: status.build, error: status.lastError }, 'directive publisher superseded');
      clearInterval(this.supervisor);
      return;
    }
    if (status.state !== 'failed') return;
    this.restarts++;
    this.options.logger.warn({ publisher: status.build, error: status.lastError, restarts: this.restarts }, 'directive publisher gave up on a batch; starting it again from its checkpoint');
    try {
      await this.runner.start();
    } catch (error) {
      this.options.logger.error({ publisher: status.build, error: messageOf(error) }, 'directive publisher could not start again');
    }
  }
}
