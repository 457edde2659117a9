/**
 * Administration mirroring the cmdlets: New-, Set-, Get-, Remove- and Grant-CsTeamsCallParkPolicy,
 * and the tenant's endpoint matrix.
 */
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../domain/parkPolicy.js';
import { alice, bob, json, startService, tokens } from './httpFixtures.js';

describe('administration over HTTP', () => {
  it('New-, Get-, Set-, Grant- and Remove-CsTeamsCallParkPolicy', async () => {
    const service = await startService();
    const created = await service.admin('POST', '/policies', { identity: 'Tag:Sales', allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 199 });
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/v1/tenants/contoso/policies/Sales');
    expect(json(created)).toMatchObject({ outcome: 'created', policy: { ...defaultSettings, identity: 'Sales', allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 199 } });

    const list = json(await service.admin('GET', '/policies'));
    expect((list.policies as { identity: string }[]).map((policy) => policy.identity)).toEqual(['Global', 'Sales']);
    expect(json(await service.admin('GET', '/policies/Tag:Sales'))).toEqual({ ...defaultSettings, identity: 'Sales', allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 199 });

    const changed = await service.admin('PATCH', '/policies/Sales', { parkTimeoutSeconds: 120, musicOnHold: false });
    expect(json(changed)).toMatchObject({ outcome: 'changed', changed: ['parkTimeoutSeconds', 'musicOnHold'], policy: { parkTimeoutSeconds: 120, musicOnHold: false } });
    const unchanged = await service.admin('PATCH', '/policies/Sales', { parkTimeoutSeconds: 120 });
    expect([unchanged.statusCode, json(unchanged).outcome]).toEqual([200, 'no-op']);

    expect(json(await service.admin('PUT', `/grants/${alice.userId}`, { policy: 'Sales' }))).toMatchObject({ outcome: 'granted', userId: alice.userId, policy: 'Sales' });
    expect(json(await service.park('call-1'))).toMatchObject({ policy: 'Sales', orbit: { code: '100' } });

    const busy = await service.admin('DELETE', '/policies/Sales');
    expect(busy.statusCode).toBe(409);
    expect(json(busy)).toMatchObject({ reason: 'policy-has-parked-calls' });
    await service.retrieve('100', alice);
    expect(json(await service.admin('DELETE', '/policies/Sales'))).toMatchObject({ outcome: 'removed', identity: 'Sales' });

    const gone = await service.admin('GET', '/policies/Sales');
    expect(gone.statusCode).toBe(404);
    expect(json(gone)).toMatchObject({ reason: 'policy-not-found' });
    expect(json(await service.admin('PATCH', '/policies/Sales', { allowCallPark: false }))).toMatchObject({ status: 404, reason: 'policy-not-found' });
    expect(json(await service.admin('PUT', `/grants/${bob.userId}`, { policy: 'Sales' }))).toMatchObject({ status: 404, reason: 'policy-not-found' });
  });

  it('lets an administrator of every tenant set up a new tenant with its first change; reads of an unknown tenant stay 404', async () => {
    const service = await startService();
    const read = () => service.request({ method: 'GET', url: '/v1/tenants/northwind/policies/Global', token: tokens.allAdmin });
    expect((await read()).statusCode).toBe(404);
    const created = await service.request({
      method: 'PATCH',
      url: '/v1/tenants/northwind/policies/Global',
      token: tokens.allAdmin,
      body: JSON.stringify({ allowCallPark: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect(created.statusCode).toBe(200);
    expect(json(await read())).toMatchObject({ identity: 'Global', allowCallPark: true });
    const stranger = await service.request({
      method: 'PATCH',
      url: '/v1/tenants/tailspin/policies/Global',
      token: tokens.admin,
      body: JSON.stringify({ allowCallPark: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect(stranger.statusCode).toBe(403);
  });

  it('patches with application/merge-patch+json too', async () => {
    const service = await startService();
    const response = await service.request({
      method: 'PATCH',
      url: '/v1/tenants/contoso/policies/Global',
      token: 'admin-contoso-0123456789abcd',
      body: JSON.stringify({ allowCallPark: true }),
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(json(response)).toMatchObject({ outcome: 'changed', changed: ['allowCallPark'] });
  });

  it("overrides a row of the endpoint matrix and resets it; the effective matrix shows which rows are the tenant's", async () => {
    const service = await startService();
    await service.allowPark();
    const before = json(await service.admin('GET', '/endpoints')).endpoints as { endpoint: string; park: boolean; overridden: boolean }[];
    expect(before.find((row) => row.endpoint === 'mobile')).toEqual({ endpoint: 'mobile', park: false, retrieve: false, ringBack: false, overridden: false });
    expect(before).toHaveLength(14);

    expect(json(await service.admin('PUT', '/endpoints/mobile', { park: true, retrieve: true, ringBack: true }))).toMatchObject({ outcome: 'overridden', endpoint: 'mobile', park: true });
    const after = json(await service.admin('GET', '/endpoints')).endpoints as { endpoint: string; park: boolean; overridden: boolean }[];
    expect(after.find((row) => row.endpoint === 'mobile')).toEqual({ endpoint: 'mobile', park: true, retrieve: true, ringBack: true, overridden: true });
    expect((await service.park('call-1', { userId: 'm@contoso.com', endpoint: 'mobile' })).statusCode).toBe(201);

    expect(json(await service.admin('DELETE', '/endpoints/mobile'))).toMatchObject({ outcome: 'reset', endpoint: 'mobile', park: false });
    expect(json(await service.admin('DELETE', '/endpoints/mobile'))).toMatchObject({ outcome: 'no-op' });
    expect(json(await service.park('call-2', { userId: 'm@contoso.com', endpoint: 'mobile' }))).toMatchObject({ reason: 'endpoint-cannot-park' });
  });
});
