/**
 * Leases as PostgreSQL session-level advisory locks, held on a connection of their own. A lease
 * is held while its lock is; the lock lives as long as the session, so:
 *
 * - an instance that dies (SIGKILL included) loses its locks as soon as the server sees its socket
 *   closed, which the kernel does at once, and another instance takes them at its next try
 *   (every `retryMs`, one second by default);
 * - an instance that loses its connection (the server restarted, a partition) stops every piece of
 *   work it runs under a lease before trying again, since the server may have let the locks go.
 *   Every `retryMs` the connection is checked with a query bounded by `checkTimeoutMs`.
 *
 * A lock's key is the first 8 bytes of SHA-256 of `callpark:<namespace>:<name>`, so instances agree on it
 * without a table.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { LeaseListeners, silentLeaseLog, type LeasedWork, type LeaseLog, type Leases } from './lease.js';

export interface PostgresLeasesOptions {
  readonly connectionString: string;
  /** Set apart the leases of deployments sharing a database (their schema); advisory locks are the database's. */
  readonly namespace?: string;
  /** How often to try for the leases not held, and to check the connection (1,000 ms). */
  readonly retryMs?: number;
  /** The longest a check of the connection may take before the leases are given up (2,000 ms). */
  readonly checkTimeoutMs?: number;
  readonly log?: LeaseLog;
  /** The connection's `application_name` (`callpark-leases`). */
  readonly applicationName?: string;
}

interface Entry {
  readonly name: string;
  readonly key: string;
  readonly work: LeasedWork;
  held: boolean;
}

/** The advisory lock key of a lease: a signed 64-bit integer, as text. */
export const leaseKey = (name: string, namespace = ''): string => createHash('sha256').update(`callpark:${namespace}:${name}`).digest().readBigInt64BE(0).toString();

class WorkFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(messageOf(cause));
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class PostgresLeases implements Leases {
  private readonly entries = new Map<string, Entry>();
  private readonly retryMs: number;
  private readonly checkTimeoutMs: number;
  private readonly log: LeaseLog;
  private readonly listeners = new LeaseListeners();
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: PostgresLeasesOptions) {
    this.retryMs = options.retryMs ?? 1_000;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
    this.log = options.log ?? silentLeaseLog;
  }

  hold(name: string, work: LeasedWork): void {
    if (this.entries.has(name)) throw new Error(`The lease ${name} is already held for some work.`);
    this.entries.set(name, { name, key: leaseKey(name, this.options.namespace), work, held: false });
    this.schedule(0);
  }

  held(): readonly string[] {
    return [...this.entries.values()].filter((entry) => entry.held).map((entry) => entry.name);
  }

  onChange(listener: (held: readonly string[]) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Resolves after one more try for every lease. */
  tried(): Promise<void> {
    return this.inTurn(false);
  }

  /**
   * The first try, at start: rejects when the connection cannot be made or a lease's work taken
   * here fails to start (a read store that follows another log), giving every lease up, so that
   * the service refuses to start and says why rather than trying again in the background.
   */
  firstTry(): Promise<void> {
    return this.inTurn(true);
  }

  /** One try after those under way: tries never overlap (a session's advisory locks are re-entrant). */
  private inTurn(strict: boolean): Promise<void> {
    const attempt = this.round.then(() => this.tryAll(strict));
    this.round = attempt.catch(() => undefined);
    return attempt;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.round;
    await this.loseAll('closing');
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.inTurn(false).finally(() => this.schedule(this.retryMs));
    }, delayMs);
  }

  private async tryAll(strict: boolean): Promise<void> {
    if (this.closed) return;
    try {
      const client = await this.connected();
      await client.query({ text: 'SELECT 1', query_timeout: this.checkTimeoutMs } as pg.QueryConfig);
      for (const entry of this.entries.values()) {
        if (entry.held || this.closed) continue;
        const { rows } = await client.query<{ locked: boolean }>({ text: 'SELECT pg_try_advisory_lock($1::bigint) AS locked', values: [entry.key], query_timeout: this.checkTimeoutMs } as pg.QueryConfig);
        if (rows[0]?.locked !== true) continue;
        entry.held = true;
        this.log.info({ lease: entry.name }, 'lease taken: starting its work');
        try {
          await entry.work.start();
          this.listeners.tell(this.held());
        } catch (error) {
          entry.held = false;
          await client.query({ text: 'SELECT pg_advisory_unlock($1::bigint)', values: [entry.key] });
          if (strict) throw new WorkFailed(error);
          this.log.warn({ lease: entry.name, err: error }, 'the work of a lease failed to start: the lease is given up and tried again');
        }
      }
    } catch (error) {
      const cause = error instanceof WorkFailed ? error.cause : error;
      await this.loseAll(error instanceof WorkFailed ? 'giving up at start' : `the leases' connection failed: ${messageOf(error)}`);
      if (strict) throw cause;
    }
  }

  private async connected(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    const client = new pg.Client({ connectionString: this.options.connectionString, keepAlive: true, application_name: this.options.applicationName ?? 'callpark-leases' });
    client.on('error', (error) => {
      if (this.client !== client) return;
      this.round = this.round.then(() => this.loseAll(`the leases' connection failed: ${error.message}`));
    });
    this.client = client;
    try {
      await client.connect();
    } catch (error) {
      this.client = undefined;
      throw error;
    }
    return client;
  }

  /** Stop the work of every lease held, and drop the connection (which lets the locks go). */
  private async loseAll(reason: string): Promise<void> {
    const held = [...this.entries.values()].filter((entry) => entry.held);
    if (held.length > 0) this.log.warn({ leases: held.map((entry) => entry.name), reason }, 'leases lost: stopping their work');
    for (const entry of held) {
      entry.held = false;
      await entry.work.stop().catch((error: unknown) => this.log.warn({ lease: entry.name, err: error }, 'the work of a lost lease failed to stop'));
    }
    if (held.length > 0) this.listeners.tell(this.held());
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
