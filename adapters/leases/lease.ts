/**
 * Leases: work that one instance at a time should do (a projection's runner, the ring-back
 * scheduler), when several service instances share one deployment. An instance runs a piece of
 * work while it holds that work's lease, and stops it as soon as it may have lost the lease; when
 * an instance dies, another one takes its leases over within a few seconds.
 *
 * A lease is an optimisation of who works, not what keeps the records exact: a projection's
 * checkpoint moves by compare-and-set in the transaction that writes its rows, and a timer's
 * command id is deterministic, so two instances that both believe they hold a lease for a moment
 * (a network partition) still record nothing twice.
 */

/** Work run while a lease is held: started when it is taken, stopped when it is lost or given up. */
export interface LeasedWork {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Leases {
  /**
   * Run `work` whenever this instance holds the lease called `name`. The leases of one `group`
   * (the shards of a piece of work) are shared out evenly among the instances that hold them.
   */
  hold(name: string, work: LeasedWork, options?: { readonly group?: string }): void;
  /** The names of the leases this instance holds now. */
  held(): readonly string[];
  /**
   * Tell `listener` the leases held each time this instance has taken one (its work started) or
   * lost some (their work stopped); answers the function that stops telling it.
   */
  onChange(listener: (held: readonly string[]) => void): () => void;
  /** Stop every piece of work and give every lease up. */
  close(): Promise<void>;
}

/** Where a lease's life is told (a pino logger fits). */
export interface LeaseLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export const silentLeaseLog: LeaseLog = { info: () => undefined, warn: () => undefined };

/** Who listens to the changes of a Leases (`onChange`). */
export class LeaseListeners {
  private readonly listeners = new Set<(held: readonly string[]) => void>();

  add(listener: (held: readonly string[]) => void): () => void {
    const own = (held: readonly string[]): void => listener(held);
    this.listeners.add(own);
    return () => void this.listeners.delete(own);
  }

  tell(held: readonly string[]): void {
    for (const listener of [...this.listeners]) listener(held);
  }
}

/**
 * The embedded deployment: one instance owns its data folder, so it holds every lease from the
 * start. `hold` starts the work at once; a failure to start is the caller's (as before leases).
 */
export class SoleLeases implements Leases {
  private readonly works = new Map<string, LeasedWork>();
  private readonly listeners = new LeaseListeners();

  hold(name: string, work: LeasedWork): void {
    // One instance: every group is all its own.
    this.works.set(name, work);
  }

  /** Start every piece of work, together; rejects with the first one's failure once all have settled. */
  async startAll(): Promise<void> {
    const outcomes = await Promise.allSettled([...this.works.values()].map((work) => work.start()));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    this.listeners.tell(this.held());
  }

  held(): readonly string[] {
    return [...this.works.keys()];
  }

  onChange(listener: (held: readonly string[]) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    for (const work of this.works.values()) await work.stop();
    this.works.clear();
    this.listeners.tell([]);
  }
}
