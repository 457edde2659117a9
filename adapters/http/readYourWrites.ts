/**
 * Read your writes across instances. Every command's answer carries the position of what it
 * recorded in the `Callpark-Position` header (`commit.prepare`; one number when both are equal,
 * as in SQLite). A read that sends that header back is answered once the read side's projections
 * reflect that position, whichever instance ran them: the wait is on the checkpoints in the read
 * store, which every instance shares on PostgreSQL. It is bounded: past `maxWaitMs` the answer is
 * a `projection-behind` problem (503, Retry-After), never a stale read; and at most `maxWaiters`
 * requests wait at once (the next ones get the same answer at once).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { comparePositions, type Position } from '../../domain/eventStore.js';
import type { SqlExecutor } from '../../projections/readStore.js';
import { toBigInt } from '../../projections/readStore.js';
import { ProblemError, problems } from './problem.js';

export const POSITION_HEADER = 'callpark-position';

/** The token of a position, as answers carry it. */
export const positionToken = (position: Position): string =>
  position.commit === position.prepare ? String(position.commit) : `${position.commit}.${position.prepare}`;

const TOKEN = /^(\d{1,19})(?:\.(\d{1,19}))?$/;

/** A position from its token, or undefined when it is not one. */
export const parsePositionToken = (token: string): Position | undefined => {
  const match = TOKEN.exec(token);
  if (match === null) return undefined;
  const commit = BigInt(match[1]!);
  return { commit, prepare: match[2] === undefined ? commit : BigInt(match[2]) };
};

export interface ReadYourWritesOptions {
  /** The read store holding the checkpoints. */
  readonly readStore: SqlExecutor;
  /** The builds whose tables answer reads. */
  readonly builds: readonly string[];
  /** The longest a read waits (5,000 ms). */
  readonly maxWaitMs?: number;
  /** How often the checkpoints are read while someone waits (10 ms). */
  readonly pollMs?: number;
  /** Reads waiting at once, at most (10,000). */
  readonly maxWaiters?: number;
}

interface Waiter {
  readonly position: Position;
  readonly resolve: (reached: boolean) => void;
  readonly until: number;
}

/** Waits, for every read that asks, until the builds' checkpoints reach a position. */
export class CheckpointWait {
  private readonly waiters = new Set<Waiter>();
  private readonly maxWaitMs: number;
  private readonly pollMs: number;
  private readonly maxWaiters: number;
  private timer: NodeJS.Timeout | undefined;
  /** The least position every build has reached, as last read. */
  private reached: Position | undefined;

  constructor(private readonly options: ReadYourWritesOptions) {
    this.maxWaitMs = options.maxWaitMs ?? 5_000;
    this.pollMs = options.pollMs ?? 10;
    this.maxWaiters = options.maxWaiters ?? 10_000;
  }

  /** Resolves true once every build reflects `position`, false when `maxWaitMs` passed first or too many wait. */
  async until(position: Position): Promise<boolean> {
    if (this.reached !== undefined && comparePositions(this.reached, position) >= 0) return true;
    if (this.waiters.size >= this.maxWaiters) return false;
    return new Promise<boolean>((resolve) => {
      this.waiters.add({ position, resolve, until: Date.now() + this.maxWaitMs });
      if (this.timer === undefined) this.poll();
    });
  }

  get maxWait(): number {
    return this.maxWaitMs;
  }

  private poll(): void {
    this.timer = setTimeout(() => void this.look(), 0);
  }

  private async look(): Promise<void> {
    try {
      this.reached = await this.least();
    } catch {
      // A read store that does not answer: the waiters wait until their time is up.
    }
    const now = Date.now();
    for (const waiter of this.waiters) {
      const reached = this.reached !== undefined && comparePositions(this.reached, waiter.position) >= 0;
      if (!reached && waiter.until > now) continue;
      this.waiters.delete(waiter);
      waiter.resolve(reached);
    }
    this.timer = this.waiters.size === 0 ? undefined : setTimeout(() => void this.look(), this.pollMs);
  }

  private async least(): Promise<Position | undefined> {
    const { builds, readStore } = this.options;
    const rows = await readStore.query<{ name: string; commit_position: unknown; prepare_position: unknown }>(
      `SELECT name, commit_position, prepare_position FROM projection_checkpoints WHERE name IN (${builds.map((_, index) => `$${index + 1}`).join(', ')})`,
      [...builds],
    );
    if (rows.length < builds.length) return undefined;
    let least: Position | undefined;
    for (const row of rows) {
      if (row.commit_position === null) return undefined;
      const position = { commit: toBigInt(row.commit_position), prepare: toBigInt(row.prepare_position) };
      if (least === undefined || comparePositions(position, least) < 0) least = position;
    }
    return least;
  }
}

/** Make every GET that carries `Callpark-Position` wait for the read side to reach it. */
export const readYourWrites = (app: FastifyInstance, wait: CheckpointWait): void => {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    if (request.method !== 'GET') return;
    const header = request.headers[POSITION_HEADER];
    if (header === undefined) return;
    const token = Array.isArray(header) ? header[0] ?? '' : header;
    const position = parsePositionToken(token.trim());
    if (position === undefined) throw new ProblemError(problems.invalidPosition(POSITION_HEADER));
    if (!(await wait.until(position))) throw new ProblemError(problems.projectionBehind(token, wait.maxWait), { 'retry-after': '1' });
  });
};
