/**
 * Which leases a deployment uses. On the PostgreSQL read store (`DATABASE_URL`), which several
 * instances share, advisory locks on that database (postgresLeases.ts); on the embedded SQLite
 * read store, which is the instance's own, every lease is this instance's (SoleLeases).
 */
import type { Config } from '../config/config.js';
import { SoleLeases, type LeaseLog, type Leases } from './lease.js';
import { PostgresLeases } from './postgresLeases.js';

/** The lease of a projection build's runner. */
export const projectionLease = (build: string): string => `projection:${build}`;

/** The lease of the ring-back scheduler. */
export const schedulerLease = 'ring-back-scheduler';

export interface DeploymentLeases extends Leases {
  /**
   * Resolves once every lease has been tried once: with SoleLeases every piece of work has
   * started; with PostgreSQL, those whose lock was free have. A failure to start, or to reach
   * PostgreSQL, rejects.
   */
  started(): Promise<void>;
}

export const projectionLeases = (stores: Pick<Config, 'readStore'>, log?: LeaseLog): DeploymentLeases => {
  if (stores.readStore.kind === 'postgres') {
    const leases = new PostgresLeases({ connectionString: stores.readStore.url, namespace: stores.readStore.schema ?? '', ...(log ? { log } : {}) });
    return Object.assign(leases, { started: () => leases.firstTry() });
  }
  const leases = new SoleLeases();
  return Object.assign(leases, { started: () => leases.startAll() });
};
