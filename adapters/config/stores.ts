/** The stores the configuration names: the event store and the read store. */
import { join } from 'node:path';
import type { EventStore } from '../../domain/eventStore.js';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import type { ReadStore } from '../../projections/readStore.js';
import { SqliteReadStore } from '../../projections/sqliteReadStore.js';
import type { Config } from './config.js';
import { connectEventStoreDb } from '../eventStores/eventStoreDb/eventStoreDbEventStore.js';
import { PostgresEventStore } from '../eventStores/postgres/postgresEventStore.js';
import { SqliteEventStore } from '../eventStores/sqlite/sqliteEventStore.js';

/** SQLite under the data folder (the embedded default), EventStoreDB or PostgreSQL. */
export const openEventStore = (config: Pick<Config, 'dataDir' | 'eventStore'>): EventStore => {
  const { eventStore } = config;
  const limit = eventStore.maxAppendSize === undefined ? {} : { maxAppendSize: eventStore.maxAppendSize };
  switch (eventStore.kind) {
    case 'eventstoredb':
      return connectEventStoreDb(eventStore.connectionString, limit);
    case 'postgres':
      return new PostgresEventStore({ connectionString: eventStore.connectionString, schema: eventStore.schema, ...limit });
    case 'sqlite':
      return new SqliteEventStore(join(config.dataDir, 'events.sqlite'), { synchronous: eventStore.synchronous, ...limit });
    default: {
      const unknown: never = eventStore;
      throw new Error(`Unknown event store ${JSON.stringify(unknown)}`);
    }
  }
};

/** SQLite under the data folder (the embedded default), or PostgreSQL. */
export const openReadStore = (config: Pick<Config, 'dataDir' | 'readStore'>): Promise<ReadStore> =>
  config.readStore.kind === 'postgres'
    ? PostgresReadStore.open({ connectionString: config.readStore.url, ...(config.readStore.schema ? { schema: config.readStore.schema } : {}) })
    : SqliteReadStore.open(join(config.dataDir, 'read.sqlite'));
