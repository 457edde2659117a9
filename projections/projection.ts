/**
 * What a projection is: a name and version, the tables it owns and their migrations, and how it
 * applies events to them, a batch at a time (`handle`) or one by one (`apply`). Either way it runs
 * inside the runner's transaction, the one that also moves its checkpoint.
 *
 * A projection never writes a table name itself: it asks `tables('stream_counts')`. The live
 * build answers `stream_counts`; a rebuild answers a prefixed name (`rb1a2b3c_stream_counts`),
 * builds every table under it, and then swaps the two (see rebuild.ts).
 */
import type { RecordedEvent, SubscriptionFilter } from '../domain/eventStore.js';
import type { BatchMemory } from './batchMemory.js';
import { checkIdentifier, type Migration, type SqlExecutor } from './readStore.js';

/** The physical name of one of the projection's tables in the build at hand. */
export type Tables = (base: string) => string;

interface ProjectionBase {
  readonly name: string;
  /** Bumped when the handlers change what they write: the tables must then be rebuilt. */
  readonly version: number;
  /** The base names of the tables it owns, which a rebuild builds and swaps. */
  readonly tables: readonly string[];
  /** Its schema, numbered from 1; index names too should be made from `tables(…)`. */
  readonly migrations: (tables: Tables) => readonly Migration[];
  /** Only these events reach the handlers; the checkpoint moves past the others all the same. */
  readonly filter?: SubscriptionFilter;
}

export interface BatchProjection extends ProjectionBase {
  /** Apply a batch of events, in log order; `memory` holds what it kept from the batches before (batchMemory.ts). */
  readonly handle: (events: readonly RecordedEvent[], tx: SqlExecutor, tables: Tables, memory: BatchMemory) => Promise<void>;
  readonly apply?: never;
}

export interface EventProjection extends ProjectionBase {
  /** Apply one event. */
  readonly apply: (event: RecordedEvent, tx: SqlExecutor, tables: Tables) => Promise<void>;
  readonly handle?: never;
}

export type Projection = BatchProjection | EventProjection;

/** The table names of a build: `prefix` + base name, for the declared tables only. */
export const tablesOf = (projection: Projection, prefix = ''): Tables => {
  if (prefix !== '') checkIdentifier(prefix, 'table prefix');
  const names = new Map(projection.tables.map((base) => [base, checkIdentifier(prefix + base, 'table name')]));
  return (base) => {
    const name = names.get(base);
    if (name === undefined) throw new Error(`Projection ${projection.name} does not declare a table "${base}" (it declares ${projection.tables.join(', ')}).`);
    return name;
  };
};

/** Where a build's checkpoint and migrations are recorded: the projection's name, and the prefix of a rebuild. */
export const buildName = (projection: Projection, prefix = ''): string => (prefix === '' ? projection.name : `${projection.name}@${prefix}`);

export const migrationScope = (projection: Projection, prefix = ''): string => `projection:${buildName(projection, prefix)}`;
