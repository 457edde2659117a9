/**
 * Orbit presence over HTTP, for a phone system without Kafka: the state of one orbit, and the
 * stream of a tenant's orbit changes filtered by policy or by orbit list, each change the orbit's
 * whole state (busy with session, parker, since and ringing back; free once released).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alice, bob, CONTOSO, tokens } from '../http/httpFixtures.js';
import { sqliteFactory, type ReadStoreFactory } from './readStores.js';
import { startReadSideService, type ReadSideService } from './readSideService.js';
import { connectSse } from './sseClient.js';

let stores: ReadStoreFactory;
let service: ReadSideService;
let events = 0;

beforeAll(async () => {
  stores = await sqliteFactory();
});
afterAll(async () => {
  await stores.cleanup();
});
beforeEach(async () => {
  const fresh = await stores.fresh();
  service = await startReadSideService({ readStore: await fresh.open(), listen: true, heartbeatMs: 200 });
});
afterEach(async () => {
  await service.stop();
});

const inject = async (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) =>
  service.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
const signal = async (type: string, fields: Record<string, unknown>) =>
  (await inject('POST', '/v1/signaling', tokens.signaling, { type, eventId: `evt-${++events}`, occurredAt: new Date().toISOString(), tenantId: CONTOSO, ...fields })).json() as Record<string, unknown>;
const park = (callId: string) => signal('park.requested', { callId, parker: alice, media: 'audio' });
const presence = async (orbit: string, policy = 'Global') => inject('GET', `/v1/tenants/${CONTOSO}/policies/${policy}/orbits/${encodeURIComponent(orbit)}/presence`, tokens.supervisor);

beforeEach(async () => {
  expect((await inject('PATCH', `/v1/tenants/${CONTOSO}/policies/Global`, tokens.admin, { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 19 })).statusCode).toBe(200);
});

describe('the presence of one orbit', () => {
  it('is busy with the call waiting on it, ringing back or not, and free once it is released', async () => {
    const parked = await park('call-1');
    await service.catchUp();
    expect((await presence('10')).json()).toMatchObject({ state: 'busy', policy: 'Global', orbit: 10, orbitCode: '10', sessionId: parked.sessionId, callId: 'call-1', parker: alice, ringingBack: false, attempt: 0 });
    expect((await presence('11')).json()).toEqual({ state: 'free', tenantId: CONTOSO, policy: 'Global', orbit: 11, orbitCode: '11' });

    await inject('POST', `/v1/tenants/${CONTOSO}/sessions/${String(parked.sessionId)}/ring-parker`, tokens.supervisor, { supervisor: 'sam@contoso.com' });
    await service.catchUp();
    expect((await presence('10')).json()).toMatchObject({ state: 'busy', ringingBack: true, attempt: 1 });

    await signal('retrieve.requested', { callId: 'dialog-1', retriever: bob, orbit: '10' });
    await service.catchUp();
    expect((await presence('10')).json()).toMatchObject({ state: 'free', orbit: 10, freedAt: expect.any(String) });
  });

  it('says what is wrong: not an orbit code, no such policy', async () => {
    const wrong = await presence('ten');
    expect([wrong.statusCode, (wrong.json() as { errors: { path: string }[] }).errors[0]!.path]).toEqual([400, '$path.orbit']);
    expect((await presence('10', 'Sales')).statusCode).toBe(404);
  });
});

describe('the presence stream', () => {
  it('sends the busy orbits it is filtered to, then each change as the orbit whole state', async () => {
    await park('call-1');
    await service.catchUp();
    const stream = await connectSse(`${service.url}/v1/tenants/${CONTOSO}/presence/stream?orbits=10,11&access_token=${tokens.supervisor}`);
    expect(stream.status).toBe(200);
    expect(JSON.parse((await stream.next('snapshot')).data)).toMatchObject({ tenantId: CONTOSO, busy: [{ state: 'busy', orbit: 10, callId: 'call-1' }] });

    const second = await park('call-2');
    const busy = await stream.next('orbit');
    expect(JSON.parse(busy.data)).toMatchObject({ state: 'busy', orbit: 11, callId: 'call-2', parker: alice, ringingBack: false, since: expect.any(String) });
    expect(busy.id).toMatch(/^\d+/);
    await park('call-3'); // orbit 12: not one the stream asked for.
    await inject('POST', `/v1/tenants/${CONTOSO}/sessions/${String(second.sessionId)}/ring-parker`, tokens.supervisor, { supervisor: 'sam@contoso.com' });
    const ringing = JSON.parse((await stream.next('orbit')).data) as Record<string, unknown>;
    expect(ringing).toMatchObject({ state: 'busy', orbit: 11, ringingBack: true, attempt: 1, since: JSON.parse(busy.data).since });
    await signal('call.ended', { callId: 'call-2', sipMethod: 'BYE' });
    expect(JSON.parse((await stream.next('orbit')).data)).toMatchObject({ state: 'free', orbit: 11, sessionId: second.sessionId });
    stream.close();
  });

  it('refuses a wrong orbit list and a token that may not read the tenant', async () => {
    const bad = await inject('GET', `/v1/tenants/${CONTOSO}/presence/stream?orbits=10,x1`, tokens.supervisor);
    expect([bad.statusCode, (bad.json() as { errors: { path: string }[] }).errors[0]!.path]).toEqual([400, '$query.orbits']);
    expect((await inject('GET', `/v1/tenants/${CONTOSO}/presence/stream?policy=Global`, tokens.signaling)).statusCode).toBe(403);
  });
});
