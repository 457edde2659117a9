/**
 * Leases as PostgreSQL session-level advisory locks, held on a connection of their own. A lease
 * is held while its lock is; the lock lives as long as the session, so:
 *
 * - an instance that dies (SIGKILL included) loses its locks as soon as the server sees its socket
 *   closed, which the kernel does at once, and another instance takes them at its next try
 *   (every `retryMs`, 250 ms by default): one query tries every lease not held, so a try costs
 *   one round trip however many leases there are (a projection's each, a shard of the ring-back
 *   scheduler's each), and the works of the leases taken are started together;
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
  /** How often to try for the leases not held, and to check the connection (250 ms). */
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
  /** The group whose leases the instances share out evenly, if any. */
  readonly group: string | undefined;
  held: boolean;
}

/** Where a lease's advisory lock shows in pg_locks: a bigint key is split into classid (high half) and objid (low half), objsubid 1. */
const lockOf = (key: string): string =>
  `l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted AND l.classid = ((${key} >> 32) & 4294967295)::oid AND l.objid = (${key} & 4294967295)::oid`;

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
  /** The groups this instance counts itself a member of, on the current connection. */
  private joined = new Set<string>();
  /** For each group, whether the last try saw some of its leases held by nobody. */
  private readonly sawFree = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: PostgresLeasesOptions) {
    this.retryMs = options.retryMs ?? 250;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
    this.log = options.log ?? silentLeaseLog;
  }

  /**
   * Run `work` whenever this instance holds the lease `name`. Leases of one `group` (the shards of
   * some work) are shared out: every instance holding the group counts itself a member (a shared
   * advisory lock on the group's key), takes at most its fair share of them (the group's size over
   * the members, rounded up) while they are free, and gives up what it holds beyond its share,
   * one lease a try, while none is free and another member holds less than its own; so that a
   * dead instance's share is spread over the others, and a new instance gets a share. A lease
   * seen free at two tries in a row is taken whatever the share (a member that does not take
   * its share, starting or stalled, leaves nothing unheld for longer than a try).
   */
  hold(name: string, work: LeasedWork, options: { readonly group?: string } = {}): void {
    if (this.entries.has(name)) throw new Error(`The lease ${name} is already held for some work.`);
    this.entries.set(name, { name, key: leaseKey(name, this.options.namespace), work, group: options.group, held: false });
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
      const alone = [...this.entries.values()].filter((entry) => entry.group === undefined && !entry.held);
      const groups = new Set([...this.entries.values()].flatMap((entry) => (entry.group === undefined ? [] : [entry.group])));
      if (alone.length === 0 && groups.size === 0) {
        await client.query({ text: 'SELECT 1', query_timeout: this.checkTimeoutMs } as pg.QueryConfig);
        return;
      }
      // One round trip for every lease not held (it checks the connection too), two per group.
      const taken = [...(alone.length > 0 ? await this.tryFor(client, alone, alone.length) : [])];
      for (const group of groups) taken.push(...(await this.tryGroup(client, group)));
      // close() is under way: it drops the connection, and with it what this try took.
      if (this.closed) return;
      for (const entry of taken) entry.held = true;
      if (taken.length > 0) this.log.info({ leases: taken.map((entry) => entry.name) }, 'leases taken: starting their work');
      // Started together: one lease's start does not wait for another's.
      const failures = await Promise.all(taken.map((entry) => this.startWork(client, entry)));
      const failure = failures.find((outcome) => outcome !== undefined);
      if (failures.some((outcome) => outcome === undefined)) this.listeners.tell(this.held());
      if (strict && failure !== undefined) throw new WorkFailed(failure.error);
    } catch (error) {
      const cause = error instanceof WorkFailed ? error.cause : error;
      await this.loseAll(error instanceof WorkFailed ? 'giving up at start' : `the leases' connection failed: ${messageOf(error)}`);
      if (strict) throw cause;
    }
  }

  /** Try the locks of at most `most` of `candidates` that no session holds, in random order: answers those taken. */
  private async tryFor(client: pg.Client, candidates: readonly Entry[], most: number): Promise<Entry[]> {
    if (most <= 0 || candidates.length === 0) return [];
    const { rows } = await client.query<{ key: string; locked: boolean }>({
      text: `WITH free AS (
               SELECT key FROM unnest($1::bigint[]) AS key
                WHERE NOT EXISTS (SELECT 1 FROM pg_locks l WHERE ${lockOf('key')})
                ORDER BY random() LIMIT $2)
             SELECT key::text AS key, pg_try_advisory_lock(key) AS locked FROM free`,
      values: [candidates.map((entry) => entry.key), most],
      query_timeout: this.checkTimeoutMs,
    } as pg.QueryConfig);
    const locked = new Set(rows.filter((row) => row.locked).map((row) => row.key));
    return candidates.filter((entry) => locked.has(entry.key));
  }

  /** Join the group if not yet, give up what is beyond this instance's share, and try for what is missing of it. */
  private async tryGroup(client: pg.Client, group: string): Promise<Entry[]> {
    const entries = [...this.entries.values()].filter((entry) => entry.group === group);
    const memberKey = leaseKey(`group:${group}`, this.options.namespace);
    if (!this.joined.has(group)) {
      await client.query({ text: 'SELECT pg_advisory_lock_shared($1::bigint)', values: [memberKey], query_timeout: this.checkTimeoutMs } as pg.QueryConfig);
      this.joined.add(group);
    }
    const { rows } = await client.query<{ members: string; held: string }>({
      text: `SELECT (SELECT count(*) FROM pg_locks l WHERE ${lockOf('$1::bigint')}) AS members,
                    (SELECT count(*) FROM unnest($2::bigint[]) AS key JOIN pg_locks l ON ${lockOf('key')}) AS held`,
      values: [memberKey, entries.map((entry) => entry.key)],
      query_timeout: this.checkTimeoutMs,
    } as pg.QueryConfig);
    const members = Math.max(1, Number(rows[0]?.members ?? 1));
    const heldByAll = Number(rows[0]?.held ?? 0);
    const share = Math.ceil(entries.length / members);
    const mine = entries.filter((entry) => entry.held);
    const free = entries.length - heldByAll;
    // Leases left free since the last try (a member that does not take its share: starting, stalled) are taken whatever the share.
    const stillFree = free > 0 && this.sawFree.get(group) === true;
    this.sawFree.set(group, free > 0);
    // Another member holds less than its share: hand over what is beyond this one's.
    if (free === 0 && mine.length > share && heldByAll - mine.length < (members - 1) * share) {
      // One at a time: the member that is short takes it at its next try.
      const excess = mine.slice(share, share + 1);
      this.log.info({ leases: excess.map((entry) => entry.name), members, share }, 'leases beyond this instance\'s share: giving them up');
      for (const entry of excess) await this.giveUp(client, entry);
      return [];
    }
    return this.tryFor(
      client,
      entries.filter((entry) => !entry.held),
      stillFree ? free : share - mine.length,
    );
  }

  /** Stop a lease's work, then let its lock go. */
  private async giveUp(client: pg.Client, entry: Entry): Promise<void> {
    entry.held = false;
    await entry.work.stop().catch((error: unknown) => this.log.warn({ lease: entry.name, err: error }, 'the work of a lease given up failed to stop'));
    this.listeners.tell(this.held());
    await client.query({ text: 'SELECT pg_advisory_unlock($1::bigint)', values: [entry.key], query_timeout: this.checkTimeoutMs } as pg.QueryConfig);
  }

  /** Start a lease's work; when it fails, give the lease up (it is tried again) and answer the failure. */
  private async startWork(client: pg.Client, entry: Entry): Promise<{ error: unknown } | undefined> {
    const startedAt = Date.now();
    try {
      await entry.work.start();
      this.log.info({ lease: entry.name, startMs: Date.now() - startedAt }, 'lease work started');
      return undefined;
    } catch (error) {
      entry.held = false;
      await client.query({ text: 'SELECT pg_advisory_unlock($1::bigint)', values: [entry.key] });
      this.log.warn({ lease: entry.name, err: error }, 'the work of a lease failed to start: the lease is given up and tried again');
      return { error };
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
    this.joined = new Set();
    await client?.end().catch(() => undefined);
  }
}
