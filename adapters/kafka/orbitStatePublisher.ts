/**
 * Orbit state out: busy lamps for the signaling tier (DOMAIN.md: "A third topic carries orbit
 * state"). A checkpointed projection of the event log that publishes, for each event that changes
 * an orbit, the orbit's state after it (domain/orbitPresence.ts) on a log-compacted topic keyed by
 * tenant, policy and orbit: a consumer that reads the topic from the start knows every orbit's
 * state now.
 *
 * It follows the directive publisher (directivePublisher.ts): each batch is produced inside the
 * projection runner's transaction, which moves the checkpoint only once Kafka acknowledged every
 * record. Its table, `orbit_presence`, holds the busy orbits (since when, which session, ringing
 * back or not), so a ring back changes an orbit's state from what it was, across batches and
 * restarts. One record per changing event, in log order, so in order per orbit (one key, one
 * partition); a record published again after a crash carries the same `changeId` (the event's id).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message, Producer } from 'kafkajs';
import { callParkStreamPrefix } from '../../domain/callPark.js';
import { decode } from '../../domain/codec/codec.js';
import type { EventStore, Position, RecordedEvent } from '../../domain/eventStore.js';
import { OrbitBusy, OrbitState, orbitKey, orbitStateAfter } from '../../domain/orbitPresence.js';
import type { BatchProjection, Tables } from '../../projections/projection.js';
import type { ReadStore, SqlExecutor } from '../../projections/readStore.js';
import { ProjectionRunner, type RunnerStatus } from '../../projections/runner.js';
import { decodeRecorded } from '../../projections/ringBackTimers.js';
import { messageOf, type BridgeLogger } from './bridgeLogger.js';
import { defaultDirectivePublisherTuning, type DirectivePublisherTuning } from './directivePublisher.js';
import { sendsOf } from './recordSize.js';

const TABLE = 'orbit_presence';

export const orbitStateHeader = { changeId: 'callpark.orbit.change-id', state: 'callpark.orbit.state', tenantId: 'callpark.tenant.id', eventType: 'callpark.event.type' } as const;

/** The value of a record: the state, with the id of the change (the event's id) and the event that made it. */
export interface OrbitStateRecord {
  readonly changeId: string;
  readonly eventType: string;
  readonly orbit: OrbitState;
}

export const orbitStateRecord = (changeId: string, eventType: string, state: OrbitState): Message => ({
  key: orbitKey(state),
  value: JSON.stringify({ changeId, eventType, orbit: OrbitState.encode(state) }),
  headers: { [orbitStateHeader.changeId]: changeId, [orbitStateHeader.state]: state.state, [orbitStateHeader.tenantId]: state.tenantId, [orbitStateHeader.eventType]: eventType },
});

const busyBefore = async (tx: SqlExecutor, table: string, state: { tenantId: string; policy: string; orbit: number }): Promise<OrbitBusy | undefined> => {
  const [row] = await tx.query<{ busy: string }>(`SELECT busy FROM ${table} WHERE tenant_id = $1 AND policy = $2 AND orbit = $3`, [state.tenantId, state.policy, state.orbit]);
  if (row === undefined) return undefined;
  const decoded = decode(OrbitBusy, JSON.parse(row.busy));
  if (E.isLeft(decoded)) throw new Error(`${table} holds an orbit state that cannot be read (${state.tenantId} ${state.policy} ${state.orbit}): ${decoded.left.message}`);
  return decoded.right;
};

/**
 * The records of one batch, with the busy orbits written back: each event's state is computed
 * from its orbit's state before it, the batch's own changes first, then the table's.
 */
export const orbitStateChanges = async (events: readonly RecordedEvent[], tx: SqlExecutor, tables: Tables): Promise<Message[]> => {
  const table = tables(TABLE);
  const latest = new Map<string, OrbitState>();
  const messages: Message[] = [];
  for (const recorded of events) {
    const event = decodeRecorded(recorded);
    if (!('orbit' in event) || !('sessionId' in event)) continue;
    const key = orbitKey(event);
    const known = latest.has(key) ? latest.get(key) : await busyBefore(tx, table, event);
    const after = orbitStateAfter(event, known?.state === 'busy' ? known : undefined);
    if (after === undefined) continue;
    latest.set(key, after);
    messages.push(orbitStateRecord(recorded.id, event.type, after));
  }
  for (const state of latest.values()) {
    if (state.state === 'busy') {
      await tx.execute(
        `INSERT INTO ${table} (tenant_id, policy, orbit, busy) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, policy, orbit) DO UPDATE SET busy = excluded.busy`,
        [state.tenantId, state.policy, state.orbit, JSON.stringify(OrbitBusy.encode(state))],
      );
    } else {
      await tx.execute(`DELETE FROM ${table} WHERE tenant_id = $1 AND policy = $2 AND orbit = $3`, [state.tenantId, state.policy, state.orbit]);
    }
  }
  return messages;
};

export interface OrbitStatePublisherOptions {
  /** An idempotent producer (`idempotent: true`, `maxInFlightRequests: 1`), connected. */
  readonly producer: Producer;
  readonly topic: string;
  readonly store: EventStore;
  readonly readStore: ReadStore;
  readonly logger: BridgeLogger;
  readonly clock?: () => number;
  readonly tuning?: Partial<DirectivePublisherTuning>;
}

export interface OrbitStatePublisherStatus extends RunnerStatus {
  readonly published: number;
  readonly restarts: number;
}

/** The checkpoint's name: one per orbit state topic. */
export const orbitStatePublisherName = (topic: string): string => `kafka-orbit-state:${topic}`;

export class OrbitStatePublisher {
  private readonly runner: ProjectionRunner;
  private readonly tuning: DirectivePublisherTuning;
  private supervisor: NodeJS.Timeout | undefined;
  private published = 0;
  private restarts = 0;

  constructor(private readonly options: OrbitStatePublisherOptions) {
    this.tuning = { ...defaultDirectivePublisherTuning, ...options.tuning };
    const { producer, topic } = options;
    const projection: BatchProjection = {
      name: orbitStatePublisherName(topic),
      version: 1,
      tables: [TABLE],
      migrations: (t) => [
        {
          id: 1,
          name: `create ${TABLE}`,
          sql: [`CREATE TABLE ${t(TABLE)} (tenant_id TEXT NOT NULL, policy TEXT NOT NULL, orbit INTEGER NOT NULL, busy TEXT NOT NULL, PRIMARY KEY (tenant_id, policy, orbit))`],
        },
      ],
      filter: { streamNamePrefixes: [callParkStreamPrefix], eventTypePrefixes: ['Parked', 'RingBack', 'Retrieved', 'Expired', 'Abandoned'] },
      handle: async (events, tx, tables) => {
        const messages = await orbitStateChanges(events, tx, tables);
        if (messages.length === 0) return;
        for (const part of sendsOf(messages, this.tuning.maxSendBytes)) await producer.send({ topic, messages: part, acks: -1, timeout: this.tuning.produceTimeoutMs });
        this.published += messages.length;
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

  async stop(): Promise<void> {
    clearInterval(this.supervisor);
    this.supervisor = undefined;
    await this.runner.stop();
  }

  status(): OrbitStatePublisherStatus {
    return { ...this.runner.status(), published: this.published, restarts: this.restarts };
  }

  /** Resolves once the orbit states of every event up to `position` are acknowledged. */
  waitFor(position: Position): Promise<void> {
    return this.runner.waitFor(position);
  }

  catchUp(): Promise<void> {
    return this.runner.catchUp();
  }

  /** A runner that gave up (the broker is down) starts again from its checkpoint. */
  private async supervise(): Promise<void> {
    const status = this.runner.status();
    if (status.state !== 'failed') return;
    this.restarts++;
    this.options.logger.warn({ publisher: status.build, error: status.lastError, restarts: this.restarts }, 'orbit state publisher gave up on a batch; starting it again from its checkpoint');
    try {
      await this.runner.start();
    } catch (error) {
      this.options.logger.error({ publisher: status.build, error: messageOf(error) }, 'orbit state publisher could not start again');
    }
  }
}
