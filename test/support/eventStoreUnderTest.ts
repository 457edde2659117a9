/**
 * Which event store the service tests start the service on: SQLite under the data folder (the
 * default), or PostgreSQL when `CALLPARK_TEST_EVENT_STORE=postgres` (the test database,
 * DATABASE_URL_TEST, in a schema of the test's own, dropped by `cleanup`).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { postgresTestUrl } from './services.js';

export interface EventStoreUnderTest {
  /** The variables that point the service at the store (none for SQLite). */
  readonly environment: Record<string, string>;
  cleanup(): Promise<void>;
}

export const postgresEventStoreUnderTest = (): EventStoreUnderTest => {
  const schema = `test_service_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  return {
    environment: { EVENTSTORE_CONNECTION_STRING: postgresTestUrl(), EVENTSTORE_POSTGRES_SCHEMA: schema },
    cleanup: async () => {
      const client = new pg.Client({ connectionString: postgresTestUrl() });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
};

export const eventStoreUnderTest = (): EventStoreUnderTest =>
  process.env.CALLPARK_TEST_EVENT_STORE === 'postgres' ? postgresEventStoreUnderTest() : { environment: {}, cleanup: async () => undefined };
