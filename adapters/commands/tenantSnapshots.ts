/**
 * How the command handler keeps a tenant's snapshot: its state at a revision, in
 * domain/storedForm/snapshot.ts's stored form, kept by the store apart from the log under the name of the
 * tenant's stream (the port's `writeSnapshot`: the newest one only, so what snapshots cost is
 * bounded per tenant whatever its history). It holds no idempotency window (ADR 0003): its size is
 * the tenant's state, not its traffic. It is never a source of truth: the log alone rebuilds it.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { callParkStream } from '../../domain/callPark.js';
import type { CallParkState } from '../../domain/callParkState.js';
import type { EventStore } from '../../domain/eventStore.js';
import { SNAPSHOT_SCHEMA_VERSION, decodeState, encodeState } from '../../domain/storedForm/snapshot.js';

export const StoredSnapshot = t.type({
  schemaVersion: t.literal(SNAPSHOT_SCHEMA_VERSION),
  /** The revision of the last event folded in. */
  revision: t.number,
  /** The time of the tenant's latest event (where the idempotency window ends). */
  latestAt: t.number,
  /** The state, in domain/storedForm/snapshot.ts's stored form (decoded there). */
  state: t.unknown,
});
export type StoredSnapshot = t.TypeOf<typeof StoredSnapshot>;

export interface TenantSnapshot {
  readonly revision: number;
  readonly latestAt: number;
  readonly state: CallParkState;
}

/** The tenant's snapshot; one of an older schema, or unreadable, counts as none. */
export const readTenantSnapshot = async (store: EventStore, tenantId: string): Promise<TenantSnapshot | undefined> => {
  const kept = await store.readSnapshot(callParkStream(tenantId));
  if (kept === undefined) return undefined;
  const stored = StoredSnapshot.decode(kept.data);
  if (E.isLeft(stored)) return undefined;
  const state = decodeState(stored.right.state);
  return E.isRight(state) ? { revision: stored.right.revision, latestAt: stored.right.latestAt, state: state.right } : undefined;
};

/** The stored form of the tenant's state now (encoded at once: the state goes on changing). */
export const encodeTenantSnapshot = (snapshot: TenantSnapshot): StoredSnapshot => ({
  schemaVersion: SNAPSHOT_SCHEMA_VERSION,
  revision: snapshot.revision,
  latestAt: snapshot.latestAt,
  state: encodeState(snapshot.state),
});

export const writeTenantSnapshot = (store: EventStore, tenantId: string, snapshot: StoredSnapshot): Promise<void> =>
  store.writeSnapshot(callParkStream(tenantId), { revision: snapshot.revision, data: snapshot });
