/**
 * I6 over HTTP: a repeated command id (the message's eventId, or the Idempotency-Key header)
 * answers the first answer again (same status, same body) with Idempotent-Replayed: true, and
 * records nothing new.
 */
import { describe, expect, it } from 'vitest';
import { alice, bob, json, startService, tokens } from './httpFixtures.js';

describe('a retried request', () => {
  it('with the same eventId gets the first answer and records nothing new', async () => {
    const service = await startService();
    await service.allowPark();
    const message = service.message('park.requested', { callId: 'call-1', parker: alice, media: 'audio' });
    const first = await service.signal(message);
    const recorded = await service.storeSize();
    service.advance(5);
    const again = await service.signal(message);
    expect(again.statusCode).toBe(first.statusCode);
    expect(again.body).toBe(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await service.storeSize()).toBe(recorded);
  });

  it('through a per-type route and through /v1/signaling is the same command', async () => {
    const service = await startService();
    await service.allowPark();
    const message = service.message('park.requested', { callId: 'call-1', parker: alice, media: 'audio' });
    const first = await service.request({ method: 'POST', url: '/v1/calls/park', token: tokens.signaling, body: message });
    const again = await service.signal(message);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
  });

  it('with an Idempotency-Key header instead of the eventId gets the first answer and records nothing new', async () => {
    const service = await startService();
    await service.allowPark();
    await service.park('call-1');
    const { eventId: _eventId, ...withoutId } = service.message('retrieve.requested', { callId: 'bob-1', retriever: bob, orbit: '10' });
    const first = await service.signal(withoutId, tokens.signaling, { 'idempotency-key': 'retrieve-7f3a' });
    expect(first.statusCode).toBe(200);
    expect(json(first)).toMatchObject({ commandId: 'retrieve-7f3a', outcome: 'retrieved' });
    const recorded = await service.storeSize();
    const again = await service.signal(withoutId, tokens.signaling, { 'idempotency-key': 'retrieve-7f3a' });
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // The key written as a Structured Field string is the same key.
    const quoted = await service.signal(withoutId, tokens.signaling, { 'idempotency-key': '"retrieve-7f3a"' });
    expect(quoted.body).toBe(first.body);
    expect(await service.storeSize()).toBe(recorded);
  });

  it('replays a refusal as it was first answered, Retry-After included', async () => {
    const service = await startService();
    await service.allowPark({ pickupRangeStart: 10, pickupRangeEnd: 11 });
    await service.park('call-1');
    await service.park('call-2');
    const message = service.message('park.requested', { callId: 'call-3', parker: alice, media: 'audio' });
    const first = await service.signal(message);
    expect(first.statusCode).toBe(503);
    await service.retrieve('10');
    const recorded = await service.storeSize();
    const again = await service.signal(message);
    expect([again.statusCode, again.headers['retry-after'], again.body]).toEqual([503, first.headers['retry-after'], first.body]);
    expect(await service.storeSize()).toBe(recorded);
    // A new attempt (a new eventId) parks on the orbit that was freed.
    expect((await service.park('call-3')).statusCode).toBe(201);
  });

  it('refuses an eventId and an Idempotency-Key that differ, and a message with neither, naming $.eventId', async () => {
    const service = await startService();
    await service.allowPark();
    const recorded = await service.storeSize();
    const message = service.message('park.requested', { callId: 'call-1', parker: alice, media: 'audio' });
    const differ = await service.signal(message, tokens.signaling, { 'idempotency-key': 'something-else' });
    expect(differ.statusCode).toBe(400);
    expect(json(differ).errors).toEqual([{ path: '$.eventId', message: expect.stringContaining('Idempotency-Key') }]);
    const { eventId: _eventId, ...withoutId } = message;
    const neither = await service.signal(withoutId);
    expect(neither.statusCode).toBe(400);
    expect(json(neither).errors).toEqual([{ path: '$.eventId', message: expect.stringContaining('missing') }]);
    expect(await service.storeSize()).toBe(recorded);
  });

  it('refuses a command id used before for a different request with 422, recording nothing', async () => {
    const service = await startService();
    await service.allowPark();
    const first = service.message('park.requested', { callId: 'call-1', parker: alice, media: 'audio' });
    await service.signal(first);
    const recorded = await service.storeSize();
    const other = await service.signal({ ...service.message('park.requested', { callId: 'call-2', parker: bob, media: 'audio' }), eventId: first.eventId });
    expect(other.statusCode).toBe(422);
    expect(json(other)).toMatchObject({ type: 'urn:callpark:problem:idempotency-key-reused', status: 422 });
    const anotherKind = await service.signal({ ...service.message('call.ended', { callId: 'call-1' }), eventId: first.eventId });
    expect(anotherKind.statusCode).toBe(422);
    expect(await service.storeSize()).toBe(recorded);
  });

  it('of an administration command with an Idempotency-Key gets the first answer; without one it is a new command', async () => {
    const service = await startService();
    const create = () =>
      service.request({ method: 'POST', url: '/v1/tenants/contoso/policies', token: tokens.admin, body: { identity: 'Sales', allowCallPark: true }, headers: { 'idempotency-key': 'new-sales-1' } });
    const first = await create();
    expect(first.statusCode).toBe(201);
    const recorded = await service.storeSize();
    const again = await create();
    expect([again.statusCode, again.body, again.headers['idempotent-replayed']]).toEqual([201, first.body, 'true']);
    expect(await service.storeSize()).toBe(recorded);
    const fresh = await service.admin('POST', '/policies', { identity: 'Sales', allowCallPark: true });
    expect(fresh.statusCode).toBe(409);
    expect(json(fresh)).toMatchObject({ reason: 'policy-already-exists' });
  });
});
