/**
 * The live occupancy board's feed: after each batch the occupancy projection commits (the
 * runner's `onApplied`), the changes it made, per tenant, to whoever subscribed to that tenant.
 *
 * A subscriber is sent a snapshot of the tenant's policies first, then every change after it, in
 * order. It subscribes before the snapshot is read, so nothing committed in between is missed:
 * changes that the snapshot already shows are sent too, and change nothing (see
 * occupancyChanges.ts). A policy created, changed or removed is followed by a fresh snapshot.
 * Each subscriber has its own queue, so a slow one delays nobody else; what it does about being
 * slow (drop the client, who reconnects and gets a snapshot) is the transport's call.
 */
import type { PolicyOccupancy } from '../domain/occupancy.js';
import { callParkStreamPrefix } from '../domain/callPark.js';
import { decodeEvents } from './callParkEvents.js';
import { occupancyChange, type OccupancyChange } from './occupancyChanges.js';
import type { AppliedBatch, ProjectionRunner } from './runner.js';

export type OccupancyUpdate =
  | { readonly kind: 'snapshot'; readonly tenantId: string; readonly policies: readonly PolicyOccupancy[] }
  | { readonly kind: 'change'; readonly change: OccupancyChange; /** The log position of the batch, as text. */ readonly position: string; /** When the batch was committed (ms). */ readonly committedAt: number };

type Item = { readonly kind: 'snapshot' } | Extract<OccupancyUpdate, { kind: 'change' }>;

class Subscriber {
  private readonly queue: Item[] = [];
  private pumping = false;
  closed = false;

  constructor(
    readonly tenantId: string,
    private readonly read: (tenantId: string) => Promise<PolicyOccupancy[]>,
    private readonly send: (update: OccupancyUpdate) => void,
    private readonly fail: (error: unknown) => void,
  ) {}

  push(item: Item): void {
    if (this.closed) return;
    // A snapshot still waiting in the queue will show this too; one is enough.
    if (item.kind === 'snapshot' && this.queue.some((queued) => queued.kind === 'snapshot')) return;
    this.queue.push(item);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift()!;
        if (item.kind === 'snapshot') this.send({ kind: 'snapshot', tenantId: this.tenantId, policies: await this.read(this.tenantId) });
        else this.send(item);
      }
    } catch (error) {
      this.closed = true;
      this.fail(error);
    } finally {
      this.pumping = false;
    }
  }
}

export interface FeedSubscription {
  close(): void;
}

export class OccupancyFeed {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly detach: () => void;

  constructor(
    runner: Pick<ProjectionRunner, 'onApplied'>,
    private readonly read: (tenantId: string) => Promise<PolicyOccupancy[]>,
  ) {
    this.detach = runner.onApplied((batch) => this.applied(batch));
  }

  /** How many subscribers are listening, over all tenants. */
  get size(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }

  /**
   * Follow a tenant's board: `send` is called with a snapshot, then with each change, in order;
   * `fail` once if a snapshot cannot be read (the subscription is then over).
   */
  subscribe(tenantId: string, send: (update: OccupancyUpdate) => void, fail: (error: unknown) => void = () => undefined): FeedSubscription {
    const subscriber = new Subscriber(tenantId, this.read, send, (error) => {
      this.remove(subscriber);
      fail(error);
    });
    const set = this.subscribers.get(tenantId) ?? new Set<Subscriber>();
    set.add(subscriber);
    this.subscribers.set(tenantId, set);
    subscriber.push({ kind: 'snapshot' });
    return { close: () => this.remove(subscriber) };
  }

  /** Stop following the runner and drop every subscriber. */
  close(): void {
    this.detach();
    for (const set of this.subscribers.values()) for (const subscriber of set) subscriber.closed = true;
    this.subscribers.clear();
  }

  private remove(subscriber: Subscriber): void {
    subscriber.closed = true;
    const set = this.subscribers.get(subscriber.tenantId);
    set?.delete(subscriber);
    if (set?.size === 0) this.subscribers.delete(subscriber.tenantId);
  }

  private applied(batch: AppliedBatch): void {
    if (this.subscribers.size === 0) return;
    const position = batch.checkpoint.commit.toString();
    const relevant = batch.events.filter((event) => this.subscribers.has(event.streamName.slice(callParkStreamPrefix.length)));
    if (relevant.length === 0) return;
    for (const { event } of decodeEvents(relevant)) {
      const change = occupancyChange(event);
      const subscribers = this.subscribers.get(event.tenantId);
      if (change === undefined || subscribers === undefined) continue;
      for (const subscriber of subscribers) {
        subscriber.push(change.kind === 'policy-changed' ? { kind: 'snapshot' } : { kind: 'change', change, position, committedAt: batch.committedAt });
      }
    }
  }
}
