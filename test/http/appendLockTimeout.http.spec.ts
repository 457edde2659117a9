/**
 * The PostgreSQL event store could not get the log's append lock in time (AppendLockTimeout: the
 * lock was held by another instance's commit): nothing was recorded, the client is told to try
 * again (503 `busy` with Retry-After), and the retry with the same eventId is recorded once.
 */
import { describe, expect, it } from 'vitest';
import { AppendLockTimeout } from '../../adapters/eventStores/postgres/appendLockTimeout.js';
import { alice, json, startService } from './httpFixtures.js';

describe('an append that timed out waiting for the log', () => {
  it('answers 503 busy with Retry-After, records nothing, and the retry goes through once', async () => {
    const service = await startService();
    await service.allowPark();
    const append = service.store.appendToStream.bind(service.store);
    let failing = true;
    service.store.appendToStream = (...args) => (failing ? Promise.reject(new AppendLockTimeout(5_000)) : append(...args));
    const before = await service.storeSize();
    const message = service.message('park.requested', { callId: 'call-1', parker: alice, media: 'audio' });

    const refused = await service.signal(message);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(json(refused)).toMatchObject({ type: expect.stringContaining('busy') });
    expect(await service.storeSize()).toBe(before);

    failing = false;
    const retried = await service.signal(message);
    expect(retried.statusCode).toBe(201);
    expect(await service.storeSize()).toBe(before + 1);
  });
});
