/**
 * Who may do what: every role against a representative route of each kind, tenant isolation,
 * and the open routes. Every refusal is a 401 (with WWW-Authenticate: Bearer) or a 403 problem,
 * and records nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenRegistry, sha256 } from '../../adapters/http/auth.js';
import { CONTOSO, FABRIKAM, alice, json, startService, tokens, type Service } from './httpFixtures.js';

type Who = 'none' | 'unknown' | 'signaling' | 'supervisor' | 'reporting' | 'admin' | 'fabrikamAdmin' | 'allAdmin' | 'allReporting';

const tokenOf: Record<Who, string | undefined> = {
  none: undefined,
  unknown: 'not-a-token-anybody-issued-0000',
  signaling: tokens.signaling,
  supervisor: tokens.supervisor,
  reporting: tokens.reporting,
  admin: tokens.admin,
  fabrikamAdmin: tokens.fabrikamAdmin,
  allAdmin: tokens.allAdmin,
  allReporting: tokens.allReporting,
};

interface RouteCase {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly body?: (service: Service) => unknown;
  /** Who gets past authorization (everyone else: 401 without a valid token, else 403). */
  readonly allowed: readonly Who[];
}

const routes: readonly RouteCase[] = [
  {
    name: 'park (signaling)',
    method: 'POST',
    url: '/v1/calls/park',
    body: (service) => service.message('park.requested', { callId: `call-${Math.random()}`, parker: alice, media: 'audio' }),
    allowed: ['signaling', 'admin', 'allAdmin'],
  },
  { name: 'the session (audit)', method: 'GET', url: `/v1/tenants/${CONTOSO}/sessions/session-1`, allowed: ['supervisor', 'admin', 'allAdmin'] },
  { name: 'occupancy', method: 'GET', url: `/v1/tenants/${CONTOSO}/policies/Global/occupancy`, allowed: ['supervisor', 'reporting', 'admin', 'allAdmin', 'allReporting'] },
  { name: 'Get- policies', method: 'GET', url: `/v1/tenants/${CONTOSO}/policies`, allowed: ['admin', 'allAdmin'] },
  { name: 'New- policy', method: 'POST', url: `/v1/tenants/${CONTOSO}/policies`, body: () => ({ identity: `P${Math.floor(Math.random() * 1e9)}` }), allowed: ['admin', 'allAdmin'] },
  { name: 'Grant- policy', method: 'PUT', url: `/v1/tenants/${CONTOSO}/grants/bob@contoso.com`, body: () => ({ policy: null }), allowed: ['admin', 'allAdmin'] },
  { name: 'endpoint override', method: 'PUT', url: `/v1/tenants/${CONTOSO}/endpoints/mobile`, body: () => ({ park: false, retrieve: false, ringBack: false }), allowed: ['admin', 'allAdmin'] },
  { name: 'the endpoint matrix', method: 'GET', url: `/v1/tenants/${CONTOSO}/endpoints`, allowed: ['admin', 'allAdmin'] },
  { name: 'metrics', method: 'GET', url: '/metrics', allowed: ['allReporting', 'allAdmin'] },
];

const everyone = Object.keys(tokenOf) as Who[];

describe('who may do what', () => {
  let service: Service;
  beforeAll(async () => {
    service = await startService();
    await service.allowPark();
    await service.park('call-1');
  });

  describe.each(routes)('$name', (route) => {
    it.each(everyone)('as %s', async (who) => {
      const recorded = await service.storeSize();
      const body = route.body?.(service);
      const response = await service.request({ method: route.method, url: route.url, ...(tokenOf[who] ? { token: tokenOf[who] } : {}), ...(body === undefined ? {} : { body }) });
      if (route.allowed.includes(who)) {
        expect([401, 403], response.body).not.toContain(response.statusCode);
        expect(response.statusCode, response.body).toBeLessThan(300);
        return;
      }
      const expected = who === 'none' || who === 'unknown' ? 401 : 403;
      expect(response.statusCode, response.body).toBe(expected);
      expect(String(response.headers['content-type']).startsWith('application/problem+json')).toBe(true);
      expect(json(response)).toMatchObject({ status: expected, type: `urn:callpark:problem:${expected === 401 ? 'unauthorized' : 'forbidden'}` });
      if (expected === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(await service.storeSize()).toBe(recorded);
    });
  });

  it.each(['/healthz', '/readyz', '/openapi.json'])('%s is open', async (url) => {
    expect((await service.request({ url })).statusCode).toBe(200);
  });

  it('says why an unknown token is refused, and asks for a bearer token when none is sent', async () => {
    const unknown = await service.request({ url: `/v1/tenants/${CONTOSO}/policies`, token: tokenOf.unknown });
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="callpark", error="invalid_token"');
    const basic = await service.request({ url: `/v1/tenants/${CONTOSO}/policies`, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(basic.statusCode).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Bearer realm="callpark"');
  });
});

describe('tenant isolation', () => {
  it('a token of one tenant neither reads nor changes anything of another, and nothing is recorded', async () => {
    const service = await startService();
    await service.allowPark({}, CONTOSO);
    await service.park('call-1');
    const recorded = await service.storeSize();
    const asFabrikam = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
      service.request({ method, url: `/v1/tenants/${CONTOSO}${path}`, token: tokens.fabrikamAdmin, ...(body === undefined ? {} : { body }) });
    for (const response of [
      await asFabrikam('GET', '/policies'),
      await asFabrikam('GET', '/policies/Global'),
      await asFabrikam('GET', '/policies/Global/occupancy'),
      await asFabrikam('GET', '/sessions/session-1'),
      await asFabrikam('PATCH', '/policies/Global', { allowCallPark: false }),
      await asFabrikam('DELETE', '/policies/Global'),
      await asFabrikam('PUT', '/grants/alice@contoso.com', { policy: null }),
      await asFabrikam('DELETE', '/endpoints/mobile'),
      // A message body naming another tenant than the token's.
      await service.signal(service.message('retrieve.requested', { callId: 'x', retriever: alice, orbit: '10' }, CONTOSO), tokens.fabrikamSignaling),
      await service.signal(service.message('call.ended', { callId: 'call-1' }, CONTOSO), tokens.fabrikamAdmin),
    ]) {
      expect(response.statusCode, response.body).toBe(403);
      expect(json(response).detail).toContain(CONTOSO);
    }
    expect(await service.storeSize()).toBe(recorded);
    // And the same calls within its own tenant work.
    await service.allowPark({}, FABRIKAM);
    expect((await service.park('call-1', alice, {}, FABRIKAM)).statusCode).toBe(201);
  });

  it('a tenant nobody knows is a 404, for a token of every tenant too', async () => {
    const service = await startService();
    const recorded = await service.storeSize();
    const unknown = await service.request({ url: '/v1/tenants/northwind/policies', token: tokens.allAdmin });
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown)).toMatchObject({ type: 'urn:callpark:problem:tenant-not-found', errors: [{ path: '$path.tenantId' }] });
    const inBody = await service.signal(service.message('call.ended', { callId: 'c' }, 'northwind'), tokens.allAdmin);
    expect(inBody.statusCode).toBe(404);
    expect(json(inBody)).toMatchObject({ errors: [{ path: '$.tenantId' }] });
    expect(await service.storeSize()).toBe(recorded);
  });

  it('a tenant is known once it has events, though no token names it', async () => {
    const service = await startService();
    await service.schedule({ type: 'SetPolicy', commandId: 'seed', at: service.now(), tenantId: 'northwind', policy: 'Global', settings: { allowCallPark: true } });
    expect((await service.request({ url: '/v1/tenants/northwind/policies', token: tokens.allAdmin })).statusCode).toBe(200);
  });
});

describe('the token registry', () => {
  it('keeps only hashes, accepts a grant given by its sha256, and joins the grants of one token', () => {
    const registry = createTokenRegistry([
      { token: 'a-long-enough-token-0001', role: 'signaling', tenant: 'contoso' },
      { token: 'a-long-enough-token-0001', role: 'supervisor', tenant: 'fabrikam' },
      { sha256: sha256('hashed-only-token-000002').toString('hex'), role: 'admin', tenant: '*' },
    ]);
    expect(registry.authenticate('a-long-enough-token-0001')).toEqual({
      grants: [
        { role: 'signaling', tenant: 'contoso' },
        { role: 'supervisor', tenant: 'fabrikam' },
      ],
    });
    expect(registry.authenticate('hashed-only-token-000002')).toEqual({ grants: [{ role: 'admin', tenant: '*' }] });
    expect(registry.authenticate('a-long-enough-token-0002')).toBeUndefined();
    expect(registry.namesTenant('contoso')).toBe(true);
    expect(registry.namesTenant('*')).toBe(false);
  });
});
