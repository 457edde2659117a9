/**
 * Which log an event store holds (domain/logIdentity.ts): the same id for the life of a log, from
 * every connection and process that opens it, a copy of an SQLite file included; another id for
 * another log. The EventStoreDB adapter runs against the in-process protocol stand-in.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEventStoreDb } from '../../adapters/eventStores/eventStoreDb/eventStoreDbEventStore.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { SqliteEventStore } from '../../adapters/eventStores/sqlite/sqliteEventStore.js';
import { logIdentityOf } from '../../domain/logIdentity.js';
import { startEsdbProtocolStandIn, type EsdbProtocolStandIn } from '../esdbProtocolStandIn/standInServer.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the identity of an event log', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'callpark-log-identity-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('in memory: one per store', async () => {
    const one = new InMemoryEventStore();
    expect(await logIdentityOf(one)).toMatch(UUID);
    expect(await logIdentityOf(one)).toBe(await logIdentityOf(one));
    expect(await logIdentityOf(one)).not.toBe(await logIdentityOf(new InMemoryEventStore()));
  });

  it('SQLite: made with the file, kept in it, the same for every connection and for a copy of the file; another file is another log', async () => {
    const file = join(folder, 'events.sqlite');
    const first = new SqliteEventStore(file);
    const second = new SqliteEventStore(file);
    const id = await logIdentityOf(first);
    expect(id).toMatch(UUID);
    expect(await logIdentityOf(second)).toBe(id);
    await first.appendToStream('callpark-contoso', [{ id: 'e-1', type: 'Parked', data: {} }]);
    await Promise.all([first.close(), second.close()]);

    await copyFile(file, join(folder, 'backup.sqlite'));
    const reopened = new SqliteEventStore(file);
    const restored = new SqliteEventStore(join(folder, 'backup.sqlite'));
    const other = new SqliteEventStore(join(folder, 'other.sqlite'));
    try {
      expect(await logIdentityOf(reopened)).toBe(id);
      expect(await logIdentityOf(restored)).toBe(id);
      expect(await logIdentityOf(other)).not.toBe(id);
      // The identity is not an event of the log.
      expect((await reopened.headPosition())?.commit).toBe(1n);
    } finally {
      await Promise.all([reopened.close(), restored.close(), other.close()]);
    }
  });

  describe('EventStoreDB adapter (protocol stand-in)', () => {
    let standIn: EsdbProtocolStandIn;
    beforeAll(async () => {
      standIn = await startEsdbProtocolStandIn();
    });
    afterAll(async () => {
      await standIn.stop();
    });

    it('written once in the metadata of a well-known stream: every client, asking at once or later, reads the same; the head of the log does not see it', async () => {
      const clients = [connectEventStoreDb(standIn.connectionString), connectEventStoreDb(standIn.connectionString), connectEventStoreDb(standIn.connectionString)];
      try {
        expect(await clients[0]!.headPosition()).toBeUndefined();
        const ids = await Promise.all(clients.map((client) => logIdentityOf(client)));
        expect(ids[0]).toMatch(UUID);
        expect(new Set(ids).size).toBe(1);
        const later = connectEventStoreDb(standIn.connectionString);
        clients.push(later);
        expect(await logIdentityOf(later)).toBe(ids[0]);
        expect(await clients[0]!.headPosition()).toBeUndefined();
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    });
  });
});
