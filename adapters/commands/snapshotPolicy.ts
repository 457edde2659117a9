/**
 * When the handler keeps a snapshot of a tenant: every `snapshotEvery` events, scaled
 * - by the calls it holds parked: a snapshot holds every one, so a tenant with many (a thousand
 *   calls held at once) makes large ones; spaced at least one event per parked call, writing and
 *   encoding them never costs more than the events between them, and a cold load's tail stays as
 *   long as its snapshot;
 * - by a fixed share (up to half again) drawn from the tenant's id, so tenants that grew the same
 *   history together do not all stop to snapshot in the same moment.
 * The snapshot is encoded at once (the state goes on changing) and written without holding up
 * the command; the store keeps the newest only.
 */
import type { EventStore } from '../../domain/eventStore.js';
import { encodeTenantSnapshot, writeTenantSnapshot } from './tenantSnapshots.js';
import type { LoadedTenant } from './loadedTenant.js';

const spreadOf = (tenantId: string): number => {
  let hash = 0;
  for (let i = 0; i < tenantId.length; i++) hash = (Math.imul(hash, 31) + tenantId.charCodeAt(i)) | 0;
  return 1 + ((hash >>> 0) % 1024) / 2048;
};

export class SnapshotPolicy {
  constructor(
    private readonly store: EventStore,
    /** Keep a snapshot every this many events; 0 keeps none. */
    readonly snapshotEvery: number,
    private readonly onError: (error: unknown) => void,
    /** Told once a snapshot is stored (what waits for one waits on this, not on time). */
    private readonly onStored: (tenantId: string, revision: number) => void = () => undefined,
  ) {}

  /** Keep a snapshot of the tenant if enough events passed since its last one. */
  consider(tenantId: string, tenant: LoadedTenant): void {
    const { revision } = tenant;
    if (this.snapshotEvery <= 0 || revision === undefined) return;
    const scale = Math.max(1, tenant.state.sessions.size / this.snapshotEvery) * spreadOf(tenantId);
    if (revision - tenant.snapshotRevision < this.snapshotEvery * scale) return;
    tenant.snapshotRevision = revision;
    let stored;
    try {
      stored = encodeTenantSnapshot({ revision, latestAt: tenant.latestAt, state: tenant.state });
    } catch (error) {
      this.onError(error);
      return;
    }
    writeTenantSnapshot(this.store, tenantId, stored).then(() => this.onStored(tenantId, revision), this.onError);
  }
}
