/**
 * A projection for testing the runner, with nothing of call park in it: per stream, how many
 * events, the last revision and type; per event type, how many. Its expected tables are a plain
 * fold of the log (`fold`), and its `apply` form checks, before each write, that the event is the
 * next of its stream: an event applied twice or out of order fails the batch at once.
 */
import type { RecordedEvent } from '../../domain/eventStore.js';
import type { Projection, Tables } from '../../projections/projection.js';
import { values, type SqlExecutor, type SqlValue } from '../../projections/readStore.js';

export interface StreamCount {
  stream: string;
  events: number;
  last_revision: number;
  last_type: string;
}

export interface TypeCount {
  type: string;
  events: number;
}

export interface Counts {
  streams: StreamCount[];
  types: TypeCount[];
}

/** Hooks a test uses to fail inside the transaction, before or after the projection's writes. */
export interface Faults {
  beforeWrite?(events: readonly RecordedEvent[]): void;
  afterWrite?(events: readonly RecordedEvent[]): void;
}

export interface CountingOptions {
  readonly name?: string;
  readonly version?: number;
  readonly mode?: 'batch' | 'event';
  readonly faults?: Faults;
}

const migrations = (t: Tables) => [
  {
    id: 1,
    name: 'create stream_counts',
    sql: [
      `CREATE TABLE ${t('stream_counts')} (
        stream TEXT PRIMARY KEY,
        events BIGINT NOT NULL,
        last_revision INTEGER NOT NULL,
        last_type TEXT NOT NULL
      )`,
    ],
  },
  {
    id: 2,
    name: 'create type_counts',
    sql: [`CREATE TABLE ${t('type_counts')} (type TEXT PRIMARY KEY, events BIGINT NOT NULL)`, `CREATE INDEX ${t('type_counts')}_by_events ON ${t('type_counts')} (events)`],
  },
];

/** The batch's effect per key, in order of first appearance: one row per key, as one multi-row upsert needs. */
const summarize = (events: readonly RecordedEvent[]): Counts => {
  const streams = new Map<string, StreamCount>();
  const types = new Map<string, TypeCount>();
  for (const event of events) {
    const stream = streams.get(event.streamName) ?? { stream: event.streamName, events: 0, last_revision: 0, last_type: '' };
    stream.events++;
    stream.last_revision = event.revision;
    stream.last_type = event.type;
    streams.set(event.streamName, stream);
    const type = types.get(event.type) ?? { type: event.type, events: 0 };
    type.events++;
    types.set(event.type, type);
  }
  return { streams: [...streams.values()], types: [...types.values()] };
};

const upsertStreams = (tx: SqlExecutor, t: Tables, rows: readonly StreamCount[]): Promise<unknown> =>
  tx.execute(
    `INSERT INTO ${t('stream_counts')} AS s (stream, events, last_revision, last_type) VALUES ${values(rows.length, 4)}
     ON CONFLICT (stream) DO UPDATE SET events = s.events + excluded.events, last_revision = excluded.last_revision, last_type = excluded.last_type`,
    rows.flatMap((row): SqlValue[] => [row.stream, row.events, row.last_revision, row.last_type]),
  );

const upsertTypes = (tx: SqlExecutor, t: Tables, rows: readonly TypeCount[]): Promise<unknown> =>
  tx.execute(
    `INSERT INTO ${t('type_counts')} AS c (type, events) VALUES ${values(rows.length, 2)}
     ON CONFLICT (type) DO UPDATE SET events = c.events + excluded.events`,
    rows.flatMap((row): SqlValue[] => [row.type, row.events]),
  );

export const countingProjection = ({ name = 'counting', version = 1, mode = 'batch', faults = {} }: CountingOptions = {}): Projection => {
  const base = { name, version, tables: ['stream_counts', 'type_counts'], migrations };
  if (mode === 'batch') {
    return {
      ...base,
      handle: async (events, tx, t) => {
        faults.beforeWrite?.(events);
        const { streams, types } = summarize(events);
        await upsertStreams(tx, t, streams);
        await upsertTypes(tx, t, types);
        faults.afterWrite?.(events);
      },
    };
  }
  return {
    ...base,
    apply: async (event, tx, t) => {
      faults.beforeWrite?.([event]);
      const [current] = await tx.query<{ events: number }>(`SELECT events FROM ${t('stream_counts')} WHERE stream = $1`, [event.streamName]);
      const seen = current?.events ?? 0;
      if (seen !== event.revision) throw new Error(`${event.streamName}@${event.revision} arrives after ${seen} event(s) of its stream: applied twice or out of order.`);
      const { streams, types } = summarize([event]);
      await upsertStreams(tx, t, streams);
      await upsertTypes(tx, t, types);
      faults.afterWrite?.([event]);
    },
  };
};

const byKey = <T>(key: (row: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The tables the projection should hold after `events`, folded plainly. */
export const fold = (events: readonly RecordedEvent[]): Counts => {
  const { streams, types } = summarize(events);
  return { streams: streams.sort(byKey((row) => row.stream)), types: types.sort(byKey((row) => row.type)) };
};

/** The projection's tables, sorted here: how TEXT sorts in PostgreSQL depends on the database's collation. */
export const readCounts = async (db: SqlExecutor, t: Tables): Promise<Counts> => ({
  streams: (await db.query<StreamCount & Record<string, unknown>>(`SELECT stream, events, last_revision, last_type FROM ${t('stream_counts')}`)).sort(
    byKey((row) => row.stream),
  ),
  types: (await db.query<TypeCount & Record<string, unknown>>(`SELECT type, events FROM ${t('type_counts')}`)).sort(byKey((row) => row.type)),
});
