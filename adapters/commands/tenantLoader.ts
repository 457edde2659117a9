/**
 * Loading a tenant: from the cache, else from its snapshot and the events after it (or from its
 * whole stream when it has none).
 *
 * A tenant loaded from a snapshot has not folded the commands recorded before it, and some may
 * still be in the idempotency window (ADR 0003). A store with an index of event ids answers for
 * them when asked (idempotencyLookup.ts); on one without (EventStoreDB), the tenant's events are
 * read back from the snapshot to the window's start, once, here.
 */
import { callParkStream } from '../../domain/callPark.js';
import type { EventStore } from '../../domain/eventStore.js';
import { IdempotencyWindow } from './idempotencyWindow.js';
import { readTenantSnapshot, type TenantSnapshot } from './tenantSnapshots.js';
import { catchUp, decodeRecorded, emptyTenant, rejectionOf, type LoadedTenant } from './loadedTenant.js';
import type { SnapshotPolicy } from './snapshotPolicy.js';
import type { TenantCache } from './tenantCache.js';

export class TenantLoader {
  constructor(
    private readonly store: EventStore,
    private readonly cache: TenantCache,
    private readonly snapshots: SnapshotPolicy,
    private readonly windowMillis: number,
  ) {}

  /** The tenant as this process last knew it (the append's expected revision catches it if it is behind), else read. */
  async load(tenantId: string): Promise<LoadedTenant> {
    const cached = this.cache.take(tenantId);
    if (cached !== undefined) return cached;
    const snapshot = this.snapshots.snapshotEvery > 0 ? await readTenantSnapshot(this.store, tenantId) : undefined;
    const tenant = snapshot === undefined ? emptyTenant() : await this.fromSnapshot(tenantId, snapshot);
    await catchUp(this.store, tenantId, tenant, this.windowMillis);
    // A long fold is kept, even when the command then records nothing.
    this.snapshots.consider(tenantId, tenant);
    this.cache.keep(tenantId, tenant);
    return tenant;
  }

  /** The tenant caught up with the store: what another process wrote is in it. */
  async current(tenantId: string): Promise<LoadedTenant> {
    const tenant = await this.load(tenantId);
    await catchUp(this.store, tenantId, tenant, this.windowMillis);
    return tenant;
  }

  /** Fold in what was appended since the tenant's revision. */
  catchUp(tenantId: string, tenant: LoadedTenant): Promise<void> {
    return catchUp(this.store, tenantId, tenant, this.windowMillis);
  }

  private async fromSnapshot(tenantId: string, snapshot: TenantSnapshot): Promise<LoadedTenant> {
    const window = new IdempotencyWindow(snapshot.latestAt);
    if (this.store.findEvent === undefined) await this.readBackWindow(tenantId, snapshot, window);
    return { state: snapshot.state, revision: snapshot.revision, window, latestAt: snapshot.latestAt, snapshotRevision: snapshot.revision };
  }

  /** The commands of the window folded into the snapshot, read back from the stream (for a store that cannot find an event by its id). */
  private async readBackWindow(tenantId: string, snapshot: TenantSnapshot, window: IdempotencyWindow): Promise<void> {
    const notBefore = snapshot.latestAt - this.windowMillis;
    const read = [];
    for await (const recorded of this.store.readStream(callParkStream(tenantId), { direction: 'backwards', fromRevision: snapshot.revision })) {
      const decoded = decodeRecorded(recorded);
      if (decoded.event.at < notBefore) break;
      read.push({ ...decoded, recorded });
    }
    for (const { event, metadata, recorded } of read.reverse()) window.record(metadata.commandId, event, recorded.revision, recorded.position, rejectionOf({ event, metadata }));
    window.complete();
  }
}
