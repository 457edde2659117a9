/**
 * The tables of the PostgreSQL event store, in a schema of their own (`callpark_events` unless
 * configured), made when a store first opens the database, under a transaction-scoped advisory
 * lock so that several processes starting at once make them once:
 *
 * - `events`: the log. `position` is the global position, given under the append lock
 *   (appendBatch.ts) so positions are dense and become visible in increasing order; `(stream_name,
 *   revision)` and `event_id` are unique (the index of event ids answers retried appends and
 *   `findEvent`). Data and metadata are `json`: the text as written, read back as it was.
 * - `snapshots`: the newest snapshot per stream (ADR 0003), apart from the log.
 * - `log_identity`: the id of the log (domain/logIdentity.ts) and the schema's version.
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';

export const SCHEMA_VERSION = 1;

/** The schema name, checked before it is ever put into SQL (it is an identifier, not a parameter). */
export const checkSchemaName = (schema: string): string => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`"${schema}" is not a schema name the event store takes: lowercase letters, digits and _, at most 63.`);
  return schema;
};

const digest = (text: string): Buffer => createHash('sha1').update(text, 'utf8').digest();

/** The advisory lock that serialises appends to the log of `schema` (one per schema, so two logs in one database never wait for each other). */
export const appendLockKey = (schema: string): bigint => digest(`callpark-event-log-append:${schema}`).readBigInt64BE(0);

/** The lock that serialises making the tables. */
const migrationLockKey = (schema: string): bigint => digest(`callpark-event-log-migrate:${schema}`).readBigInt64BE(0);

/** The channel on which appends to the log of `schema` are announced after they commit. */
export const notificationChannel = (schema: string): string => `callpark_log_${digest(schema).toString('hex').slice(0, 16)}`;

const tables = `
  CREATE TABLE IF NOT EXISTS events (
    position BIGINT PRIMARY KEY,
    stream_name TEXT NOT NULL,
    revision BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    data JSON NOT NULL,
    metadata JSON NOT NULL,
    recorded_at BIGINT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream_name, revision);
  CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (event_id);
  CREATE TABLE IF NOT EXISTS snapshots (stream_name TEXT PRIMARY KEY, revision BIGINT NOT NULL, data JSON NOT NULL);
  CREATE TABLE IF NOT EXISTS log_identity (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    id TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    created_at BIGINT NOT NULL
  );
`;

/**
 * Make the schema and its tables when missing, and answer the id of the log they hold. A schema
 * of a later version than this build knows is refused, naming what to do.
 */
export const prepareSchema = async (client: pg.ClientBase, schema: string): Promise<string> => {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey(schema).toString()]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query(tables);
    await client.query('INSERT INTO log_identity (one, id, schema_version, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (one) DO NOTHING', [
      randomUUID(),
      SCHEMA_VERSION,
      Date.now(),
    ]);
    const { rows } = await client.query<{ id: string; schema_version: number }>('SELECT id, schema_version FROM log_identity WHERE one = 1');
    const { id, schema_version: version } = rows[0]!;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `The event store in schema ${schema} is of schema version ${version}, newer than this build knows (${SCHEMA_VERSION}): run a newer build, or point EVENTSTORE_POSTGRES_SCHEMA at another schema.`,
      );
    }
    await client.query('COMMIT');
    return id;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
};
