/**
 * Which leases a deployment uses (the ring-back scheduler's, one per shard, are named in
 * adapters/scheduler/shards.ts). On the PostgreSQL read store (`DATABASE_URL`), which several
 * instances share, advisory locks on that database (postgresLeases.ts); on the embedded SQLite
 * read store, which is the instance's own, every lease is this instance's (SoleLeases).
 */
import { DEFAULT_LEASE_RETRY_MS, type Config } from '../config/config.js';
import { SoleLeases, type LeaseLog, type Leases } from './lease.js';
import { PostgresLeases } from './postgresLeases.js';

/** The lease of a projection build's runner. */
export const projectionLease = (build: string): string => `projection:${build}`;


export interface DeploymentLeases extends Leases {
  /**
   * Resolves once every lease has been tried once: with SoleLeases every piece of work has
   * started; with PostgreSQL, those whose lock was free have. A failure to start, or to reach
   * PostgreSQL, rejects.
   */
  started(): Promise<void>;
}

export const projectionLeases = (stores: Pick<Config, 'readStore' | 'leases'>, log?: LeaseLog): DeploymentLeases => {
  if (stores.readStore.kind === 'postgres') {
    const leases = new PostgresLeases({
      connectionString: stores.readStore.url,
      namespace: stores.readStore.schema ?? '',
      retryMs: stores.leases?.retryMs ?? DEFAULT_LEASE_RETRY_MS,
      ...(log ? { log } : {}),
    });
    return Object.assign(leases, { started: () => leases.firstTry() });
  }
  const leases = new SoleLeases();
  return Object.assign(leases, { started: () => leases.startAll() });
};
