/**
 * Signaling in: a kafkajs consumer group on the signaling topic. Each record is decoded with the
 * signaling codecs; what decodes becomes a command (`toCommand`) sent to the command handler, the
 * one way in; what does not goes to the dead-letter topic with its reason, and the stream flows on.
 *
 * Batches. kafkajs hands over what one fetch brought for a partition (eachBatch); the batch is
 * read whole (signalingBatch.ts) and handled in lanes (tenantLanes.ts): each tenant's commands
 * are decided together, in offset order, and recorded by one append (CommandHandler.handleBatch),
 * one tenant's lanes of the partitions' batches under way joined in one call (tenantBatcher.ts),
 * every tenant's at the same time, so one store transaction (one sync of the WAL) carries them
 * all (sqlite/groupCommit.ts); the batch's dead letters go in one send (more when they would not
 * fit one record batch). A lone record is a batch of one and waits for nothing else.
 *
 * Delivery. A batch's offsets are resolved only after its commands' events are stored (the
 * handler answers after the append is durable) and its dead letters acknowledged, up to the first
 * record that was not, and committed by hand (autoCommit off) in the background: at once after
 * a batch of 200 records or more, else within a second (partitionCommits.ts): at least once. The record's `eventId` is the command id, so a record delivered again (after a
 * crash, a rebalance, a broker restart) answers the first outcome and records nothing:
 * effectively once. A domain rejection is an outcome like any other: it is recorded, and its
 * directive published, by the handler and the directive publisher.
 *
 * Order and concurrency. Records are keyed by Call-ID, so one call's records share a partition,
 * and a call belongs to one tenant, so its records keep their order in the tenant's lane.
 * Partitions are consumed concurrently.
 *
 * Back-pressure (backPressure.ts): a bounded number of lanes in flight, and the partitions
 * paused while the store is slow.
 *
 * One file of about 490 lines: the consumer's run loop, its recovery, the per-partition lanes
 * and the commit pacing share the consumer's state (what each partition has handed, committed
 * and dead-lettered); the parts that stand alone are apart already (partitionCommits.ts,
 * partitionStalls.ts, tenantLanes.ts, signalingBatch.ts, signalingDecoding.ts, deadLetter.ts).
 */
import type { Batch, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { CallParkCommand } from '../../domain/commands.js';
import type { CommandHandler, CommandOutcome } from '../commands/commandHandler.js';
import type { TopicNames } from './topics.js';
import type { Metrics } from '../observability/metrics.js';
import { BackPressure } from './backPressure.js';
import { messageOf, type BridgeLogger } from './bridgeLogger.js';
import { deadLetterMessage, defaultDeadLetterLimits } from './deadLetter.js';
import { kafkaMetricsOf, type KafkaMetrics } from './kafkaMetrics.js';
import { PartitionCommits } from './partitionCommits.js';
import { onDecompressionFailure } from './compressionCodecs.js';
import { PartitionStalls, restartDelayMs, type PartitionStall } from './partitionStalls.js';
import { sendsOf } from './recordSize.js';
import { isCommandLane, laneOf, readSignalingRecord, type CommandItem, type DeadLetterItem, type SignalingItem } from './signalingBatch.js';
import { TenantBatcher } from './tenantBatcher.js';
import { runLanes } from './tenantLanes.js';

/** The command handler, as far as signaling uses it: the one way in, a tenant's commands of a batch at a time. */
export type SignalingCommands = Pick<CommandHandler, 'handleBatch'>;

/** An error that says it will not pass on retry (CommandTooLarge, AppendTooLarge). */
const isNotRetryable = (error: unknown): boolean => typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false;

export interface SignalingConsumerTuning {
  /** Partitions handled at the same time by this consumer (6). */
  readonly partitionsConsumedConcurrently: number;
  /** Lanes (one tenant's commands of a batch, or a batch's dead letters) in flight at once, over all partitions (1,024). */
  readonly maxInFlight: number;
  /** The store's average latency (a lane's wait with the event loop idle) above which it counts as slow, in ms (250). */
  readonly slowMillis: number;
  /** The shortest pause of a partition while the store is slow, in ms (500). */
  readonly pauseMillis: number;
  /**
   * Commit a partition's offset as soon as a batch brings this many handled records since its last
   * commit (200: under load, every batch)…
   */
  readonly commitEveryRecords: number;
  /** …else at most this long after, in ms (1,000), in the background (partitionCommits.ts): a trickle of small batches costs one commit a second, not one each. */
  readonly commitIntervalMs: number;
  /** The first wait before a failed command is tried again, in ms (100); it doubles up to 5 s. */
  readonly retryDelayMs: number;
  /**
   * How long the group waits for a member's heartbeat before it hands the member's partitions to
   * the others (10,000 ms; KAFKA_SESSION_TIMEOUT_MS): a SIGKILLed instance's partitions wait this
   * long, and a restarted one joins once the group has given its former self up.
   */
  readonly sessionTimeoutMs: number;
  /** A tenth of the session timeout (1,000 ms), at most 3 s. */
  readonly heartbeatIntervalMs: number;
  readonly maxBytesPerPartition: number;
  /** The longest a fetch waits for records, in ms (1,000). */
  readonly maxWaitTimeMs: number;
  /** Where a new group starts: the earliest retained record (true), so nothing produced before it joined is missed. */
  readonly fromBeginning: boolean;
  /** The largest record batch of dead letters, in bytes (1,000,000: under the broker's default 1,048,588; KAFKA_DEAD_LETTER_MAX_BYTES). */
  readonly deadLetterMaxBytes: number;
  /** Failures in a row at one offset after which a partition counts as stalled, and crashes in a row after which the consumer does (3). */
  readonly stallAfterFailures: number;
}

export const defaultSignalingConsumerTuning: SignalingConsumerTuning = {
  partitionsConsumedConcurrently: 6,
  maxInFlight: 1_024,
  slowMillis: 250,
  pauseMillis: 500,
  commitEveryRecords: 200,
  commitIntervalMs: 1_000,
  retryDelayMs: 100,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  maxBytesPerPartition: 1_048_576,
  maxWaitTimeMs: 1_000,
  fromBeginning: true,
  deadLetterMaxBytes: defaultDeadLetterLimits.maxBytes,
  stallAfterFailures: 3,
};

export interface SignalingConsumerOptions {
  readonly kafka: Kafka;
  readonly config: { readonly groupId: string } & Pick<TopicNames, 'signalingTopic' | 'deadLetterTopic'>;
  readonly handler: SignalingCommands;
  /** Produces the dead letters (the bridge's idempotent producer). */
  readonly producer: Producer;
  readonly clock: () => number;
  readonly logger: BridgeLogger;
  readonly metrics?: Metrics;
  /** A draw in [0, 1) for random orbit allocation (Math.random). */
  readonly random?: () => number;
  readonly tuning?: Partial<SignalingConsumerTuning>;
}

export interface SignalingConsumerStatus {
  readonly running: boolean;
  readonly joined: boolean;
  readonly memberId: string | undefined;
  readonly assigned: readonly number[];
  readonly paused: readonly number[];
  /** Records handled since start: commands (whatever their outcome) and dead letters. */
  readonly handled: number;
  readonly deadLettered: number;
  readonly duplicates: number;
  readonly pauses: number;
  readonly retries: number;
  readonly crashes: number;
  /** New consumers started after kafkajs gave up on one. */
  readonly recoveries: number;
  readonly inFlight: number;
  readonly averageLatencyMs: number;
  readonly lastError: string | undefined;
  /** The partitions that cannot advance (partitionStalls.ts). */
  readonly stalled: readonly PartitionStall[];
  /** Failures (crashes, batches that cannot be decompressed) since the last fetch that went through. */
  readonly failuresInARow: number;
}

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

export class SignalingConsumer {
  private readonly tuning: SignalingConsumerTuning;
  private readonly backPressure: BackPressure;
  private readonly kafkaMetrics: KafkaMetrics | undefined;
  private readonly random: () => number;
  private readonly tenants: TenantBatcher;
  private readonly stalls: PartitionStalls;
  private consumer: Consumer | undefined;
  private running = false;
  private joined = false;
  private memberId: string | undefined;
  private assigned: number[] = [];
  private readonly paused = new Map<number, NodeJS.Timeout>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly counts = { handled: 0, deadLettered: 0, duplicates: 0, pauses: 0, retries: 0, crashes: 0, recoveries: 0 };
  private recovery: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private commits: PartitionCommits | undefined;
  private latestPayload: EachBatchPayload | undefined;

  constructor(private readonly options: SignalingConsumerOptions) {
    this.tuning = { ...defaultSignalingConsumerTuning, ...options.tuning };
    this.backPressure = new BackPressure(this.tuning);
    this.kafkaMetrics = kafkaMetricsOf(options.metrics);
    this.random = options.random ?? Math.random;
    this.tenants = new TenantBatcher((tenantId, commands) => options.handler.handleBatch(tenantId, commands));
    this.stalls = new PartitionStalls(this.tuning.stallAfterFailures, options.clock, this.kafkaMetrics);
  }

  /** Join the group and consume in the background. */
  async start(): Promise<void> {
    if (this.running) throw new Error('The signaling consumer is already started.');
    this.running = true;
    try {
      await this.open();
    } catch (error) {
      this.running = false;
      throw error;
    }
  }

  /** Finish the commands under way, commit their offsets, and leave the group. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.recovery);
    for (const timer of this.paused.values()) clearTimeout(timer);
    this.paused.clear();
    this.kafkaMetrics?.pausedPartitions.set({}, 0);
    // The offsets resolved since the last commits, while still a member (a batch under way commits its own as it ends).
    if (this.joined) await this.commits?.flushAll().catch((error: unknown) => this.options.logger.debug({ error: messageOf(error) }, 'last offset commits failed'));
    await this.close();
  }

  status(): SignalingConsumerStatus {
    const load = this.backPressure.snapshot();
    return {
      running: this.running,
      joined: this.joined,
      memberId: this.memberId,
      assigned: [...this.assigned],
      paused: [...this.paused.keys()].sort((a, b) => a - b),
      ...this.counts,
      inFlight: load.inFlight,
      averageLatencyMs: load.averageMillis,
      lastError: this.lastError,
      stalled: this.stalls.stalled(),
      failuresInARow: this.stalls.failuresInARow(),
    };
  }

  /** Why signaling does not advance, naming the partitions (undefined while it does). */
  stuck(): string | undefined {
    return this.stalls.describe(this.options.config.signalingTopic);
  }

  private watch(consumer: Consumer): void {
    const { events } = consumer;
    this.unsubscribe.push(
      // kafkajs retries such a fetch, and crashes at last: meanwhile readiness says why.
      onDecompressionFailure((error) => {
        this.lastError = error.message;
        this.stalls.readFailed(error.message);
        this.options.logger.warn({ error: error.message, inARow: this.stalls.failuresInARow() }, 'a signaling fetch failed: a record batch cannot be decompressed');
      }),
      consumer.on(events.GROUP_JOIN, ({ payload }) => {
        // A new generation: offsets are what the group holds now.
        this.commits?.clear();
        this.joined = true;
        this.memberId = payload.memberId;
        this.assigned = [...(payload.memberAssignment[this.options.config.signalingTopic] ?? [])].sort((a, b) => a - b);
        this.stalls.keepOnly(this.assigned);
        this.options.logger.info({ groupId: payload.groupId, memberId: payload.memberId, partitions: this.assigned }, 'signaling consumer joined its group');
      }),
      consumer.on(events.CRASH, ({ payload }) => {
        this.joined = false;
        this.counts.crashes++;
        this.lastError = messageOf(payload.error);
        const inARow = this.stalls.crashed(this.lastError);
        this.options.logger.warn({ error: this.lastError, restart: payload.restart, inARow }, 'signaling consumer crashed');
        // Waits longer after each crash in a row: a consumer that connects but cannot fetch never spins.
        if (!payload.restart) this.recover(inARow);
      }),
      // A fetch whose records could all be read (kafkajs reports it only then).
      consumer.on(events.FETCH, () => this.stalls.fetched()),
      consumer.on(events.STOP, () => {
        this.joined = false;
      }),
    );
  }

  private unwatch(): void {
    for (const remove of this.unsubscribe.splice(0)) remove();
  }

  /** A kafkajs consumer in the group, consuming. */
  private async open(): Promise<void> {
    const { kafka, config } = this.options;
    const t = this.tuning;
    const consumer = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: t.sessionTimeoutMs,
      heartbeatInterval: t.heartbeatIntervalMs,
      maxBytesPerPartition: t.maxBytesPerPartition,
      maxWaitTimeInMs: t.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.consumer = consumer;
    this.watch(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [config.signalingTopic], fromBeginning: t.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: t.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.joined = false;
    if (consumer === undefined) return;
    try {
      await consumer.disconnect();
    } finally {
      this.unwatch();
    }
  }

  /**
   * kafkajs restarts a consumer after a crash it deems retriable, and gives up on the others: then
   * a new consumer takes its place, after a pause, for as long as this one is meant to run.
   */
  private recover(attempt: number): void {
    if (!this.running) return;
    const delay = restartDelayMs(attempt);
    this.options.logger.warn({ attempt, retryInMs: delay, error: this.lastError }, 'signaling consumer stopped after a crash; starting a new one');
    this.recovery = setTimeout(() => {
      void (async () => {
        try {
          await this.close().catch(() => undefined);
          if (!this.running) return;
          this.counts.recoveries++;
          await this.open();
        } catch (error) {
          this.lastError = messageOf(error);
          this.recover(attempt + 1);
        }
      })();
    }, delay);
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const commits = this.commitsFor(payload).of(partition);
    const proceed = (): boolean => this.running && isRunning() && !isStale() && !this.paused.has(partition);
    const startedAt = performance.now();
    const at = this.options.clock();
    const items = batch.messages.map((message) => readSignalingRecord(message, { at, random: this.random }));

    const { handled, failure } = await runLanes<SignalingItem>({
      messages: items,
      keyOf: laneOf,
      handle: async (_lane, lane) => {
        await this.backPressure.admit();
        if (!proceed()) {
          this.backPressure.cancel();
          return false;
        }
        const loop = performance.eventLoopUtilization();
        try {
          if (isCommandLane(lane)) await this.decideLane(lane, payload);
          else await this.deadLetter(batch, lane as readonly DeadLetterItem[]);
        } finally {
          // The store is judged by how long the lane waited while this process had nothing else to
          // do: a lane shares its batch's transaction and the event loop with every other lane and
          // with the directive publisher, and the time spent computing here is not the store's.
          this.backPressure.release(performance.eventLoopUtilization(loop).idle);
        }
        if (this.backPressure.slow) this.pause(partition);
        return true;
      },
    });
    if (handled > 0) {
      const offset = batch.messages[handled - 1]!.offset;
      resolveOffset(offset);
      commits.resolve(offset, handled);
      this.stalls.advanced(partition);
    }
    if (failure) {
      this.lastError = messageOf(failure.error);
      this.stalls.failed(partition, batch.messages[handled]?.offset ?? batch.firstOffset() ?? '', this.lastError);
      // Keep what was stored: commit it before kafkajs retries the batch (best effort, it may be rebalancing).
      await commits.flush().catch(() => undefined);
      throw failure.error;
    }
    // The commit follows in the background, unless the consumer is stopping: then it is made now.
    if (!this.running || !isRunning()) await commits.flush();
    this.options.logger.debug({ topic, partition, records: batch.messages.length, resolved: handled, ms: Math.round(performance.now() - startedAt) }, 'signaling batch done');
  }

  /** The committer of this consumer, committing through the payload's function (kafkajs binds it to the group's generation). */
  private commitsFor(payload: EachBatchPayload): PartitionCommits {
    this.latestPayload = payload;
    this.commits ??= new PartitionCommits(
      (partition, offset) => this.latestPayload!.commitOffsetsIfNecessary({ topics: [{ topic: this.options.config.signalingTopic, partitions: [{ partition, offset }] }] }),
      { records: this.tuning.commitEveryRecords, ms: this.tuning.commitIntervalMs },
      (error) => this.options.logger.debug({ error: messageOf(error) }, 'offset commit failed; the records after the last commit will be delivered again'),
    );
    return this.commits;
  }

  /** A batch's dead letters, in as few sends as fit the maximum size of a record batch. */
  private async deadLetter(batch: Batch, lane: readonly DeadLetterItem[]): Promise<void> {
    const { topic, partition } = batch;
    const context = { groupId: this.options.config.groupId, at: this.options.clock() };
    const limits = { maxBytes: this.tuning.deadLetterMaxBytes };
    const messages = lane.map(({ message, failure }) => deadLetterMessage({ topic, partition, message }, failure, context, limits));
    for (const send of sendsOf(messages, limits.maxBytes)) await this.options.producer.send({ topic: this.options.config.deadLetterTopic, messages: send });
    for (const { message, failure } of lane) {
      this.counts.handled++;
      this.counts.deadLettered++;
      this.kafkaMetrics?.deadLetters.inc({ reason: failure.reason });
      this.kafkaMetrics?.signaling.inc({ outcome: 'dead-letter' });
      this.options.logger.warn({ topic, partition, offset: message.offset, reason: failure.reason, issueCount: failure.issues.length, issues: failure.issues.slice(0, 5) }, 'signaling record dead-lettered');
    }
  }

  /** One tenant's commands of a batch, decided together and recorded by one append. Failures of the store are retried. */
  private async decideLane(lane: readonly CommandItem[], payload: EachBatchPayload): Promise<void> {
    const commands = lane.map((item) => item.command);
    const started = performance.now();
    let outcomes: (CommandOutcome | undefined)[];
    try {
      outcomes = await this.handleWithRetries(commands, payload);
    } catch (error) {
      if (!isNotRetryable(error)) throw error;
      outcomes = await this.oneByOne(lane, payload);
    }
    const seconds = (performance.now() - started) / 1000;
    outcomes.forEach((outcome, index) => {
      if (outcome === undefined) return;
      const command = commands[index]!;
      const result = outcome.duplicate ? 'duplicate' : outcome.kind;
      this.counts.handled++;
      if (outcome.duplicate) this.counts.duplicates++;
      this.kafkaMetrics?.signaling.inc({ outcome: result });
      this.options.metrics?.recordCommand(command, result, seconds, { events: outcome.events, ...(outcome.rejection ? { reason: outcome.rejection.reason } : {}) });
      if (outcome.rejection) this.options.logger.debug({ commandId: command.commandId, type: command.type, reason: outcome.rejection.reason }, 'signaling command refused');
    });
  }

  private async handleWithRetries(commands: readonly CallParkCommand[], payload: EachBatchPayload): Promise<CommandOutcome[]> {
    const { metrics, logger } = this.options;
    const { tenantId } = commands[0]!;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        return await this.tenants.submit(tenantId, commands);
      } catch (error) {
        for (const command of commands) metrics?.recordCommand(command, 'error', (performance.now() - started) / 1000);
        this.kafkaMetrics?.signaling.inc({ outcome: 'error' }, commands.length);
        this.lastError = messageOf(error);
        // A failure that will not pass on retry must not stall the lane (see oneByOne).
        if (!this.running || !payload.isRunning() || isNotRetryable(error)) throw error;
        this.stalls.failed(payload.batch.partition, payload.batch.firstOffset() ?? '', this.lastError);
        this.counts.retries++;
        const delay = Math.min(5_000, this.tuning.retryDelayMs * 2 ** (attempt - 1));
        logger.warn({ tenantId, commands: commands.length, firstCommandId: commands[0]!.commandId, attempt, retryInMs: delay, error: this.lastError }, 'signaling commands failed; trying again');
        await sleep(delay);
        // Keeps the membership while the store is down; throws when the group rebalances.
        await payload.heartbeat();
      }
    }
  }

  /**
   * A lane that failed for a reason no retry changes (a command the store can never take, such as
   * one over its maximum append size): each command alone, and the ones that fail so go to the
   * dead-letter topic with the reason, so that the lane, and its partition, go on.
   */
  private async oneByOne(lane: readonly CommandItem[], payload: EachBatchPayload): Promise<(CommandOutcome | undefined)[]> {
    const outcomes: (CommandOutcome | undefined)[] = [];
    const dead: DeadLetterItem[] = [];
    for (const item of lane) {
      try {
        outcomes.push((await this.handleWithRetries([item.command], payload))[0]);
      } catch (error) {
        if (!isNotRetryable(error)) throw error;
        outcomes.push(undefined);
        dead.push({ kind: 'dead-letter', message: item.message, failure: { reason: 'unrecordable', issues: [{ path: '$', message: messageOf(error) }] } });
      }
    }
    if (dead.length > 0) await this.deadLetter(payload.batch, dead);
    return outcomes;
  }

  /** Stop fetching a partition while the store is slow; resume it after a pause, measuring afresh. */
  private pause(partition: number): void {
    const consumer = this.consumer;
    if (!consumer || this.paused.has(partition) || !this.running) return;
    const topic = this.options.config.signalingTopic;
    const millis = this.backPressure.pauseMillis();
    consumer.pause([{ topic, partitions: [partition] }]);
    this.counts.pauses++;
    this.kafkaMetrics?.pauses.inc();
    const timer = setTimeout(() => {
      this.paused.delete(partition);
      this.kafkaMetrics?.pausedPartitions.set({}, this.paused.size);
      this.backPressure.forget();
      if (this.running) consumer.resume([{ topic, partitions: [partition] }]);
    }, millis);
    this.paused.set(partition, timer);
    this.kafkaMetrics?.pausedPartitions.set({}, this.paused.size);
    this.options.logger.warn({ topic, partition, pauseMs: Math.round(millis), ...this.backPressure.snapshot() }, 'store is slow: signaling partition paused');
  }
}
