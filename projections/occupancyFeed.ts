/**
 * The live occupancy board's feed: after each batch the occupancy projection commits (the
 * runner's `onApplied`), the changes it made, per tenant, to whoever subscribed to that tenant.
 *
 * A subscriber is sent a snapshot of the tenant's policies first, then every change after it, in
 * order. It subscribes before the snapshot is read, so nothing committed in between is missed:
 * changes that the snapshot already shows are sent too, and change nothing (see
 * occupancyChanges.ts). A policy created, changed or removed is followed by a fresh snapshot.
 *
 * A snapshot is read once for everyone who waits for it: a tenant has at most one read under way
 * and one waiting to start, which every subscriber that needs a snapshot from then on shares (a
 * read that started before a subscriber needed it could miss a change, so it waits for the next),
 * and the last read is given to whoever subscribes before the tenant's board changes again.
 * Every subscriber is handed the same update object, so a transport can encode it once. Each
 * subscriber has its own queue, so a slow one delays nobody else; what it does about being slow
 * (drop the client, who reconnects and gets a snapshot) is the transport's call.
 */
import type { PolicyOccupancy } from '../domain/occupancy.js';
import { callParkStreamPrefix } from '../domain/callPark.js';
import { decodeEvents } from './callParkEvents.js';
import { occupancyChange, type OccupancyChange } from './occupancyChanges.js';
import type { AppliedBatch, ProjectionRunner } from './runner.js';

export type SnapshotUpdate = { readonly kind: 'snapshot'; readonly tenantId: string; readonly policies: readonly PolicyOccupancy[] };
export type ChangeUpdate = {
  readonly kind: 'change';
  readonly change: OccupancyChange;
  /** The log position of the batch, as text. */
  readonly position: string;
  /** When the batch was committed (ms). */
  readonly committedAt: number;
};
export type OccupancyUpdate = SnapshotUpdate | ChangeUpdate;

type Item = { readonly kind: 'snapshot'; readonly read: Promise<SnapshotUpdate> } | ChangeUpdate;

class Subscriber {
  private queue: Item[] = [];
  private pumping = false;
  closed = false;

  constructor(
    readonly tenantId: string,
    private readonly send: (update: OccupancyUpdate) => void,
    private readonly fail: (error: unknown) => void,
  ) {}

  push(item: Item): void {
    if (this.closed) return;
    // A snapshot read from now on shows everything still waiting in the queue: it replaces them.
    if (item.kind === 'snapshot') this.queue = [item];
    else this.queue.push(item);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue[0]!;
        const update = item.kind === 'snapshot' ? await item.read : item;
        // A newer snapshot may have replaced the queue while this one was read.
        if (this.queue[0] !== item) continue;
        this.queue.shift();
        if (!this.closed) this.send(update);
      }
    } catch (error) {
      this.closed = true;
      this.fail(error);
    } finally {
      this.pumping = false;
    }
  }
}

/**
 * A tenant's subscribers and its snapshot reads: one under way at most, and one waiting to start
 * that everyone joins; and the last one, which those who join before the tenant's board changes
 * again are given too (it shows all there is).
 */
class Tenant {
  readonly subscribers = new Set<Subscriber>();
  /** Counts the batches that changed the tenant's board. */
  private version = 0;
  private running: Promise<unknown> | undefined;
  private waiting: Promise<SnapshotUpdate> | undefined;
  private latest: { readonly version: number; readonly read: Promise<SnapshotUpdate> } | undefined;

  constructor(
    private readonly tenantId: string,
    private readonly read: (tenantId: string) => Promise<SnapshotUpdate>,
  ) {}

  /** A batch changed the board: a snapshot read before it does not show all there is. */
  changed(): void {
    this.version++;
  }

  /** A snapshot read after the last change, shared with everyone else who asks for one before the next. */
  snapshot(): Promise<SnapshotUpdate> {
    if (this.latest?.version === this.version) return this.latest.read;
    if (this.waiting !== undefined) return this.waiting;
    const start = (): Promise<SnapshotUpdate> => {
      this.waiting = undefined;
      const read = this.read(this.tenantId);
      const running = read.then(
        () => undefined,
        () => undefined,
      );
      this.running = running;
      void running.then(() => {
        if (this.running === running) this.running = undefined;
      });
      return read;
    };
    const previous = this.running;
    const next = previous === undefined ? start() : previous.then(start);
    if (previous !== undefined) this.waiting = next;
    const latest = { version: this.version, read: next };
    this.latest = latest;
    // A read that failed is not given to anyone else.
    next.catch(() => {
      if (this.latest === latest) this.latest = undefined;
    });
    return next;
  }
}

export interface FeedSubscription {
  close(): void;
}

export class OccupancyFeed {
  private readonly tenants = new Map<string, Tenant>();
  private readonly detach: () => void;
  private snapshotReads = 0;

  constructor(
    runner: Pick<ProjectionRunner, 'onApplied'>,
    private readonly read: (tenantId: string) => Promise<PolicyOccupancy[]>,
  ) {
    this.detach = runner.onApplied((batch) => this.applied(batch));
  }

  /** How many subscribers are listening, over all tenants. */
  get size(): number {
    let count = 0;
    for (const tenant of this.tenants.values()) count += tenant.subscribers.size;
    return count;
  }

  /** How many times a tenant's occupancy was read for snapshots, since the feed began. */
  get reads(): number {
    return this.snapshotReads;
  }

  /**
   * Follow a tenant's board: `send` is called with a snapshot, then with each change, in order;
   * `fail` once if a snapshot cannot be read (the subscription is then over).
   */
  subscribe(tenantId: string, send: (update: OccupancyUpdate) => void, fail: (error: unknown) => void = () => undefined): FeedSubscription {
    const subscriber = new Subscriber(tenantId, send, (error) => {
      this.remove(subscriber);
      fail(error);
    });
    let tenant = this.tenants.get(tenantId);
    if (tenant === undefined) {
      tenant = new Tenant(tenantId, (id) => this.readSnapshot(id));
      this.tenants.set(tenantId, tenant);
    }
    tenant.subscribers.add(subscriber);
    subscriber.push({ kind: 'snapshot', read: tenant.snapshot() });
    return { close: () => this.remove(subscriber) };
  }

  /** Stop following the runner and drop every subscriber. */
  close(): void {
    this.detach();
    for (const tenant of this.tenants.values()) for (const subscriber of tenant.subscribers) subscriber.closed = true;
    this.tenants.clear();
  }

  private async readSnapshot(tenantId: string): Promise<SnapshotUpdate> {
    this.snapshotReads++;
    return { kind: 'snapshot', tenantId, policies: await this.read(tenantId) };
  }

  private remove(subscriber: Subscriber): void {
    subscriber.closed = true;
    const tenant = this.tenants.get(subscriber.tenantId);
    tenant?.subscribers.delete(subscriber);
    if (tenant?.subscribers.size === 0) this.tenants.delete(subscriber.tenantId);
  }

  private applied(batch: AppliedBatch): void {
    if (this.tenants.size === 0) return;
    const position = batch.checkpoint.commit.toString();
    const relevant = batch.events.filter((event) => this.tenants.has(event.streamName.slice(callParkStreamPrefix.length)));
    if (relevant.length === 0) return;
    // The batch is committed: one snapshot read from now on shows every policy change of it.
    const snapshots = new Map<Tenant, Item>();
    const changed = new Set<Tenant>();
    for (const { event } of decodeEvents(relevant)) {
      const change = occupancyChange(event);
      const tenant = this.tenants.get(event.tenantId);
      if (change === undefined || tenant === undefined) continue;
      if (!changed.has(tenant)) {
        changed.add(tenant);
        tenant.changed();
      }
      // One item for every subscriber of the tenant: one read, one object to encode.
      let item: Item;
      if (change.kind === 'policy-changed') {
        item = snapshots.get(tenant) ?? { kind: 'snapshot', read: tenant.snapshot() };
        snapshots.set(tenant, item);
      } else item = { kind: 'change', change, position, committedAt: batch.committedAt };
      for (const subscriber of tenant.subscribers) subscriber.push(item);
    }
  }
}
