/** The stores the configuration names: the event store and the read store. */
import { join } from 'node:path';
import type { EventStore } from '../../domain/eventStore.js';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import type { ReadStore } from '../../projections/readStore.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import type { Config } from './config.js';
import { connectEventStoreDb } from '../eventStores/eventStoreDb/eventStoreDbEventStore.js';
import { SqliteEventStore } from '../eventStores/sqlite/sqliteEventStore.js';

/** SQLite under the data folder (the embedded default), or EventStoreDB. */
export const openEventStore = (config: Pick<Config, 'dataDir' | 'eventStore'>): EventStore => {
  const { maxAppendSize } = config.eventStore;
  const limit = maxAppendSize === undefined ? {} : { maxAppendSize };
  return config.eventStore.kind === 'eventstoredb'
    ? connectEventStoreDb(config.eventStore.connectionString, limit)
    : new SqliteEventStore(join(config.dataDir, 'events.sqlite'), { synchronous: config.eventStore.synchronous, ...limit });
};

/** SQLite under the data folder (the embedded default), or PostgreSQL. */
export const openReadStore = (config: Pick<Config, 'dataDir' | 'readStore'>): Promise<ReadStore> =>
  config.readStore.kind === 'postgres'
    ? PostgresReadStore.open({ connectionString: config.readStore.url, ...(config.readStore.schema ? { schema: config.readStore.schema } : {}) })
    : SqliteReadStore.open(join(config.dataDir, 'read.sqlite'));
