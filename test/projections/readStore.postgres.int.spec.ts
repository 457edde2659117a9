import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { readCheckpoint } from '../../projections/checkpoints.js';
import type { ReadStore, SqlValue } from '../../projections/readStore.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { countingProjection } from './countingProjection.js';
import { describeReadStore } from './readStoreBehaviour.js';
import { postgresAvailable, postgresFactory, sqliteFactory, type ReadStoreFactory } from './readStores.js';
import { append, history } from './runnerBehaviour.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeReadStore('PostgreSQL', postgresFactory);

  describe('SQLite and PostgreSQL', () => {
    const factories: ReadStoreFactory[] = [];
    const stores: ReadStore[] = [];

    beforeAll(async () => {
      const eventStore = new InMemoryEventStore();
      await append(eventStore, history(2_000, 37));
      const projection = countingProjection();
      for (const factory of [sqliteFactory, postgresFactory]) {
        const stores_ = await factory();
        factories.push(stores_);
        const readStore = await stores_.open();
        stores.push(readStore);
        const runner = new ProjectionRunner({ eventStore, readStore }, projection, { maxBatchSize: 128 });
        await runner.start();
        await runner.catchUp();
        await runner.stop();
      }
    });
    afterAll(async () => {
      for (const factory of factories) await factory.cleanup();
    });

    // ORDER BY on TEXT relies on the database's collation being C (see docs/adr/0002-read-store-sql.md).
    const queries: [string, SqlValue[]][] = [
      ['SELECT stream, events, last_revision, last_type FROM stream_counts ORDER BY stream', []],
      ['SELECT last_type, COUNT(*) AS streams, SUM(events) AS events, MAX(last_revision) AS top FROM stream_counts GROUP BY last_type ORDER BY last_type', []],
      ['SELECT type, events FROM type_counts WHERE events >= $1 ORDER BY events DESC, type', [100]],
      ['SELECT COUNT(*) AS n, SUM(events) AS total, MIN(events) AS least, MAX(events) AS most FROM stream_counts', []],
      ['SELECT s.stream, s.events, t.events AS type_events FROM stream_counts s JOIN type_counts t ON t.type = s.last_type WHERE s.stream LIKE $1 ORDER BY s.stream', ['orbit-1%']],
      ["SELECT stream, CASE WHEN events > $1 THEN 'busy' ELSE 'quiet' END AS load, events / 3 AS thirds, events % 3 AS rest FROM stream_counts ORDER BY stream", [54]],
      [
        'SELECT t.type, COALESCE(s.n, 0) AS streams FROM type_counts t LEFT JOIN (SELECT last_type, COUNT(*) AS n FROM stream_counts GROUP BY last_type) s ON s.last_type = t.type ORDER BY t.type',
        [],
      ],
      ['SELECT stream, events FROM stream_counts ORDER BY events DESC, stream LIMIT $1 OFFSET $2', [5, 3]],
      ["SELECT stream || ':' || CAST(events AS TEXT) AS summary, CAST($1 AS BIGINT) * events AS scaled FROM stream_counts WHERE events BETWEEN $2 AND $3 ORDER BY stream", [3, 50, 56]],
    ];

    it.each(queries)('give the same answer to %s', async (sql, params) => {
      const [sqlite, postgres] = await Promise.all(stores.map((store) => store.query(sql, params)));
      expect(sqlite!.length).toBeGreaterThan(0);
      expect(postgres).toEqual(sqlite);
    });

    it('hold the same checkpoint', async () => {
      const [sqlite, postgres] = await Promise.all(stores.map((store) => readCheckpoint(store, 'counting')));
      expect(sqlite?.position).toEqual({ commit: 1_999n, prepare: 1_999n });
      expect(postgres?.position).toEqual(sqlite?.position);
    });
  });
});
