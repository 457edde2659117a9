/** PostgreSQL event stores for the tests: each in a schema of its own, dropped at cleanup. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresEventStore, type PostgresEventStoreOptions } from '../../adapters/eventStores/postgres/postgresEventStore.js';
import { postgresTestUrl } from './services.js';

export interface PostgresLog {
  readonly schema: string;
  readonly connectionString: string;
  /** Another store on the same log (another process's view). */
  open(options?: Partial<PostgresEventStoreOptions>): Promise<PostgresEventStore>;
  /** Cut every connection of this log's stores (their pooled and listening ones). */
  dropConnections(): Promise<void>;
  /** A connection of the test's own, with the log's schema as its search path. */
  rawClient(): Promise<pg.Client>;
  /** Close the stores and clients opened here and drop the schema. */
  cleanup(): Promise<void>;
}

export const freshPostgresLog = (label = 'es'): PostgresLog => {
  const schema = `test_${label}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const connectionString = postgresTestUrl();
  const stores: PostgresEventStore[] = [];
  const clients: pg.Client[] = [];
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    schema,
    connectionString,
    open: async (options = {}) => {
      const store = await PostgresEventStore.open({ connectionString, schema, ...options });
      stores.push(store);
      return store;
    },
    dropConnections: () =>
      admin(async (client) => {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [`callpark-event-store/${schema}`.slice(0, 63)]);
      }),
    rawClient: async () => {
      const client = new pg.Client({ connectionString, options: `-c search_path=${schema}` });
      await client.connect();
      clients.push(client);
      return client;
    },
    cleanup: async () => {
      await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
      await admin((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
};
