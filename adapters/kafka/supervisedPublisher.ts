/**
 * What the directive publisher (directivePublisher.ts) and the orbit state publisher
 * (orbitStatePublisher.ts) share: a checkpointed projection of the event log whose batches become
 * Kafka records, and a supervisor that starts it again when it gives up.
 *
 * Each batch is produced inside the projection runner's transaction (projections/runner.ts), which
 * moves the checkpoint only when the batch handler returns, i.e. after Kafka acknowledged every
 * record (acks from all in-sync replicas, idempotent producer, one request in flight). So:
 * - never a record for an event that was not stored: it reads only the stored log;
 * - never a lost one: a batch whose produce fails is rolled back and read again;
 * - duplicates are possible, when the process dies between Kafka's acknowledgement and the
 *   checkpoint's commit, or when a batch of several sends fails after its first ones were
 *   acknowledged (the batch is read and sent again whole): each publisher gives its records a
 *   deterministic id made from the event's.
 * A second publisher on the same read store (another replica) finds the checkpoint moved and
 * skips the batch (the runner's compare-and-set comes before the produce); a runner superseded
 * for good is logged and left stopped.
 *
 * When a produce keeps failing (the broker is down), the runner gives up after its retries; the
 * supervisor then starts it again from its checkpoint, every `superviseEveryMs`, until it runs.
 */
import type { Message, Producer } from 'kafkajs';
import type { EventStore, Position, RecordedEvent } from '../../domain/eventStore.js';
import type { BatchProjection, Tables } from '../../projections/projection.js';
import type { ReadStore, SqlExecutor } from '../../projections/readStore.js';
import { ProjectionRunner, type RunnerStatus } from '../../projections/runner.js';
import { messageOf, type BridgeLogger } from './bridgeLogger.js';
import { sendsOf } from './recordSize.js';

export interface PublisherTuning {
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

export const defaultPublisherTuning: PublisherTuning = {
  maxBatchSize: 2_000,
  maxSendBytes: 900_000,
  maxBatchMs: 50,
  produceTimeoutMs: 10_000,
  superviseEveryMs: 1_000,
  retry: { attempts: 6, delayMs: 100 },
};

/** Where a publisher sends, what it reads, and how. */
export interface PublisherOptions {
  /** An idempotent producer (`idempotent: true`, `maxInFlightRequests: 1`), connected. */
  readonly producer: Producer;
  readonly topic: string;
  readonly store: EventStore;
  readonly readStore: ReadStore;
  readonly logger: BridgeLogger;
  readonly clock?: () => number;
  readonly tuning?: Partial<PublisherTuning>;
}

/** What one publisher makes of the log: its projection, without a handler, and the records of a batch. */
export interface PublishedRecords extends Omit<BatchProjection, 'handle' | 'apply'> {
  /** How its log lines name it ("directive publisher"). */
  readonly label: string;
  /** The records of a batch of events, in log order; it may read and write its own tables with `tx`. */
  readonly records: (events: readonly RecordedEvent[], tx: SqlExecutor, tables: Tables) => Message[] | Promise<Message[]>;
  /** Told of a batch's records once Kafka acknowledged them all. */
  readonly onPublished?: (messages: readonly Message[]) => void;
}

export interface PublisherStatus extends RunnerStatus {
  readonly published: number;
  readonly restarts: number;
}

export class SupervisedPublisher {
  private readonly runner: ProjectionRunner;
  private readonly tuning: PublisherTuning;
  private readonly logger: BridgeLogger;
  private readonly label: string;
  private supervisor: NodeJS.Timeout | undefined;
  private published = 0;
  private restarts = 0;

  constructor(options: PublisherOptions, { label, records, onPublished, ...projection }: PublishedRecords) {
    const tuning = { ...defaultPublisherTuning, ...options.tuning };
    const { producer, topic, logger } = options;
    this.tuning = tuning;
    this.logger = logger;
    this.label = label;
    const publishing: BatchProjection = {
      ...projection,
      handle: async (events, tx, tables) => {
        const messages = await records(events, tx, tables);
        if (messages.length === 0) return;
        const started = performance.now();
        for (const part of sendsOf(messages, tuning.maxSendBytes)) await producer.send({ topic, messages: part, acks: -1, timeout: tuning.produceTimeoutMs });
        logger.debug({ publisher: projection.name, events: events.length, records: messages.length, produceMs: Math.round(performance.now() - started), lagMs: Date.now() - events[0]!.recordedAt }, `${label}: records published`);
        this.published += messages.length;
        onPublished?.(messages);
      },
    };
    this.runner = new ProjectionRunner({ eventStore: options.store, readStore: options.readStore }, publishing, {
      maxBatchSize: tuning.maxBatchSize,
      maxBatchMs: tuning.maxBatchMs,
      retry: tuning.retry,
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

  status(): PublisherStatus {
    return { ...this.runner.status(), published: this.published, restarts: this.restarts };
  }

  /** Resolves once the records of every event up to `position` are acknowledged. */
  waitFor(position: Position): Promise<void> {
    return this.runner.waitFor(position);
  }

  /** Resolves once the records of the log as it is now are acknowledged. */
  catchUp(): Promise<void> {
    return this.runner.catchUp();
  }

  /** A runner that gave up (the broker is down) starts again from its checkpoint; a superseded one is left stopped. */
  private async supervise(): Promise<void> {
    const status = this.runner.status();
    if (status.state === 'superseded') {
      this.logger.error({ publisher: status.build, error: status.lastError }, `${this.label} superseded`);
      clearInterval(this.supervisor);
      return;
    }
    if (status.state !== 'failed') return;
    this.restarts++;
    this.logger.warn({ publisher: status.build, error: status.lastError, restarts: this.restarts }, `${this.label} gave up on a batch; starting it again from its checkpoint`);
    try {
      await this.runner.start();
    } catch (error) {
      this.logger.error({ publisher: status.build, error: messageOf(error) }, `${this.label} could not start again`);
    }
  }
}
