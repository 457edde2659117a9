/**
 * Rebuilding a projection: replay the whole log into a fresh copy of its tables, built under a
 * table-name prefix next to the live ones, then swap the copy in, in one transaction:
 * - the live checkpoint row is updated first (in PostgreSQL that waits for, then holds off, a
 *   live runner's batch);
 * - each live table is dropped and the shadow table renamed to its name;
 * - the live checkpoint takes the shadow's position, version and log (the one the rebuild read),
 *   and the shadow's migration records become the live ones. This is how a read store that
 *   followed another log is made this log's (logFollowed.ts).
 * Readers see the old tables or the new ones, never a mix. A live runner of the same version
 * carries on from the rebuilt checkpoint (its compare-and-set fails once if the position
 * differs, and it reloads); one of an older version finds the version changed and stops as
 * superseded.
 *
 * The SQL is the same for both dialects: `ALTER TABLE … RENAME TO …` and `DROP TABLE` are
 * transactional in SQLite and in PostgreSQL. Index names keep the prefix of the build that made
 * them, which is why each rebuild has a prefix of its own.
 */
import type { EventStore, Position } from '../domain/eventStore.js';
import { deleteCheckpoint, putCheckpoint, readCheckpoint } from './checkpoints.js';
import { buildName, migrationScope, tablesOf, type Projection, type Tables } from './projection.js';
import type { ReadStore } from './readStore.js';
import { ProjectionRunner, type RunnerOptions } from './runner.js';

export interface ShadowBuild {
  readonly prefix: string;
  /** The shadow's table names, to compare or inspect them before the swap. */
  readonly tables: Tables;
  /** The position the shadow reflects. */
  readonly checkpoint: Position | undefined;
  /** Make the shadow tables the live ones, atomically. */
  swap(): Promise<void>;
  /** Drop the shadow tables and forget the build. */
  discard(): Promise<void>;
}

export interface RebuildOptions {
  /** The shadow tables' prefix; a new one (`rb` + the time in base 36 + `_`) by default. */
  readonly prefix?: string;
  readonly runner?: Omit<RunnerOptions, 'tablePrefix'>;
  readonly clock?: () => number;
}

type Deps = { readonly eventStore: EventStore; readonly readStore: ReadStore };

/** Replay the log, up to its head at the time of the call, into shadow tables. */
export const buildShadow = async (deps: Deps, projection: Projection, options: RebuildOptions = {}): Promise<ShadowBuild> => {
  const clock = options.clock ?? Date.now;
  const prefix = options.prefix ?? `rb${clock().toString(36)}_`;
  if (prefix === '') throw new Error('A rebuild needs a table prefix: the live tables have none.');
  const runner = new ProjectionRunner(deps, projection, { ...options.runner, tablePrefix: prefix, clock });
  await runner.start();
  try {
    await runner.catchUp();
  } finally {
    await runner.stop();
  }
  const { checkpoint, state, lastError } = runner.status();
  if (state !== 'stopped') throw new Error(`The rebuild of ${projection.name} ended ${state}: ${lastError ?? ''}`);
  return {
    prefix,
    tables: tablesOf(projection, prefix),
    checkpoint,
    swap: () => swapIn(deps.readStore, projection, prefix, clock()),
    discard: () => discard(deps.readStore, projection, prefix),
  };
};

/** Rebuild and swap in one go. */
export const rebuild = async (deps: Deps, projection: Projection, options: RebuildOptions = {}): Promise<ShadowBuild> => {
  const shadow = await buildShadow(deps, projection, options);
  await shadow.swap();
  return shadow;
};

const swapIn = (readStore: ReadStore, projection: Projection, prefix: string, now: number): Promise<void> =>
  readStore.transaction(async (tx) => {
    const live = tablesOf(projection);
    const shadow = tablesOf(projection, prefix);
    const liveName = buildName(projection);
    const shadowName = buildName(projection, prefix);
    // First, so a live runner's batch is either committed before the swap or refused after it.
    await tx.execute('UPDATE projection_checkpoints SET updated_at = $1 WHERE name = $2', [now, liveName]);
    const built = await readCheckpoint(tx, shadowName);
    if (built === undefined) throw new Error(`No shadow build ${shadowName} to swap in (already swapped or discarded?).`);
    for (const base of projection.tables) {
      await tx.execute(`DROP TABLE IF EXISTS ${live(base)}`);
      await tx.execute(`ALTER TABLE ${shadow(base)} RENAME TO ${live(base)}`);
    }
    await putCheckpoint(tx, { name: liveName, position: built.position, version: built.version, ...(built.logId === undefined ? {} : { logId: built.logId }) }, now);
    await deleteCheckpoint(tx, shadowName);
    await tx.execute('DELETE FROM schema_migrations WHERE scope = $1', [migrationScope(projection)]);
    await tx.execute('UPDATE schema_migrations SET scope = $1 WHERE scope = $2', [migrationScope(projection), migrationScope(projection, prefix)]);
  });

const discard = (readStore: ReadStore, projection: Projection, prefix: string): Promise<void> =>
  readStore.transaction(async (tx) => {
    const shadow = tablesOf(projection, prefix);
    for (const base of projection.tables) await tx.execute(`DROP TABLE IF EXISTS ${shadow(base)}`);
    await deleteCheckpoint(tx, buildName(projection, prefix));
    await tx.execute('DELETE FROM schema_migrations WHERE scope = $1', [migrationScope(projection, prefix)]);
  });
