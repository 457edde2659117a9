/**
 * Orbit state out: busy lamps for the signaling tier (DOMAIN.md: "A third topic carries orbit
 * state"). A checkpointed projection of the event log that publishes, for each event that changes
 * an orbit, the orbit's state after it (domain/orbitPresence.ts) on a log-compacted topic keyed by
 * tenant, policy and orbit: a consumer that reads the topic from the start knows every orbit's
 * state now.
 *
 * It is a supervised publisher, as the directive publisher is (supervisedPublisher.ts): each batch
 * is produced inside the projection runner's transaction, which moves the checkpoint only once
 * Kafka acknowledged every record. Its table, `orbit_presence`, holds the busy orbits (since
 * when, which session, ringing back or not), so a ring back changes an orbit's state from what it
 * was, across batches and restarts. One record per changing event, in log order, so in order per orbit (one key, one
 * partition); a record published again after a crash carries the same `changeId` (the event's id).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from 'kafkajs';
import { callParkStreamPrefix } from '../../domain/callPark.js';
import { decode } from '../../domain/codec/codec.js';
import type { RecordedEvent } from '../../domain/eventStore.js';
import { OrbitBusy, OrbitState, orbitKey, orbitStateAfter } from '../../domain/orbitPresence.js';
import type { Tables } from '../../projections/projection.js';
import type { SqlExecutor } from '../../projections/readStore.js';
import { decodeRecorded } from '../../projections/ringBackTimers.js';
import { SupervisedPublisher, type PublisherOptions } from './supervisedPublisher.js';

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

/** The checkpoint's name: one per orbit state topic. */
export const orbitStatePublisherName = (topic: string): string => `kafka-orbit-state:${topic}`;

export class OrbitStatePublisher extends SupervisedPublisher {
  constructor(options: PublisherOptions) {
    super(options, {
      label: 'orbit state publisher',
      name: orbitStatePublisherName(options.topic),
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
      records: orbitStateChanges,
    });
  }
}
