/**
 * Where and in which form the command handler keeps a tenant's snapshots: its state at a revision
 * and its idempotency window (see ADR 0001), kept by the store apart from the log (the port's
 * `writeSnapshot`: the newest of each only). Two kinds, each under a name of its own:
 * - a full snapshot (`callpark-full-snapshot-{tenant}`), rarely: the state and the whole window;
 * - a snapshot (`callpark-snapshot-{tenant}`), often: the state and only the commands recorded
 *   since a full snapshot (`window.after`), so writing one does not copy the whole window again.
 * A cold load reads the newest of each. Neither is a source of truth: the log alone rebuilds both.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import type { EventStore } from '../domain/eventStore.js';
import { SNAPSHOT_SCHEMA_VERSION } from '../domain/snapshot.js';

export const snapshotStream = (tenantId: string): string => `callpark-snapshot-${tenantId}`;
export const fullSnapshotStream = (tenantId: string): string => `callpark-full-snapshot-${tenantId}`;

export const StoredSnapshot = t.type({
  schemaVersion: t.literal(SNAPSHOT_SCHEMA_VERSION),
  /** The revision of the last event folded in. */
  revision: t.number,
  /** The time of the tenant's latest event, which the window is measured against. */
  latestAt: t.number,
  /** The state, in domain/snapshot.ts's stored form (decoded there). */
  state: t.unknown,
  /** The window's lines (idempotencyWindow.ts) of the commands first recorded after revision `after`; -1 in a full snapshot. */
  window: t.type({ after: t.number, lines: t.string }),
});
export type StoredSnapshot = t.TypeOf<typeof StoredSnapshot>;

/** The newest snapshot kept under a name; one of an older schema, or unreadable, counts as none. */
export const latestSnapshot = async (store: EventStore, streamName: string): Promise<StoredSnapshot | undefined> => {
  const snapshot = await store.readSnapshot(streamName);
  if (snapshot === undefined) return undefined;
  const decoded = StoredSnapshot.decode(snapshot.data);
  return E.isRight(decoded) ? decoded.right : undefined;
};
