/**
 * The read side over HTTP, on the HTTP API's own server: occupancy (and its live stream), the
 * audit search, CSV export, refusals and time travel; who may read what; the OpenAPI fragment
 * against the routes; the supervisors' page.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { componentSchemas } from '../../adapters/http/openapiSchemas.js';
import { readSideOpenApi } from '../../adapters/http/readSideOpenApi.js';
import { registeredRoutes } from '../../adapters/http/server.js';
import { parseCsv, sessionCsvHeader } from '../../projections/auditCsv.js';
import { alice, bob, CONTOSO, FABRIKAM, tokens } from '../http/httpFixtures.js';
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

const get = (url: string, token?: string) => service.app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
const json = <T = Record<string, unknown>>(response: { json(): unknown }): T => response.json() as T;

const signal = async (type: string, fields: Record<string, unknown>, tenantId = CONTOSO): Promise<Record<string, unknown>> => {
  const response = await service.app.inject({
    method: 'POST',
    url: '/v1/signaling',
    headers: { authorization: `Bearer ${tenantId === CONTOSO ? tokens.signaling : tokens.fabrikamSignaling}` },
    payload: { type, eventId: `evt-${++events}`, occurredAt: new Date().toISOString(), tenantId, ...fields },
  });
  return json(response);
};
const park = (callId: string, parker: object = alice) => signal('park.requested', { callId, parker, media: 'audio' });
const retrieve = (orbit: string, retriever: object = bob) => signal('retrieve.requested', { callId: `dialog-${events + 1}`, retriever, orbit });
const allowPark = async (tenantId = CONTOSO): Promise<void> => {
  const response = await service.app.inject({
    method: 'PATCH',
    url: `/v1/tenants/${tenantId}/policies/Global`,
    headers: { authorization: `Bearer ${tenantId === CONTOSO ? tokens.admin : tokens.fabrikamAdmin}` },
    payload: { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 19 },
  });
  expect(response.statusCode).toBe(200);
};

describe('the occupancy of every policy', () => {
  it('shows what is parked, from the projection, once it has caught up', async () => {
    await allowPark();
    await park('call-1');
    await service.catchUp();
    const response = await get(`/v1/tenants/${CONTOSO}/occupancy`, tokens.supervisor);
    expect(response.statusCode).toBe(200);
    const body = json<{ policies: { policy: string; occupied: number; free: number; total: number; orbits: { status: string; parkedBy?: unknown }[] }[] }>(response);
    expect(body.policies).toHaveLength(1);
    expect(body.policies[0]).toMatchObject({ policy: 'Global', occupied: 1, free: 9, total: 10 });
    expect(body.policies[0]!.orbits.find((orbit) => orbit.status === 'parked')).toMatchObject({ code: '10', callId: 'call-1', parkedBy: alice, attempt: 0 });
  });

  it("answers a tenant with no event yet with its Global policy at the defaults", async () => {
    const response = await get(`/v1/tenants/${CONTOSO}/occupancy`, tokens.reporting);
    expect(json<{ policies: unknown[] }>(response).policies).toEqual([expect.objectContaining({ policy: 'Global', rangeStart: 10, rangeEnd: 99, free: 90, total: 90, occupied: 0 })]);
  });
});

describe('the live occupancy stream', () => {
  it('sends a snapshot, then each park and retrieval as it is stored, a fresh snapshot after a policy change, and heartbeats', async () => {
    await allowPark();
    await park('call-1');
    await service.catchUp();
    const stream = await connectSse(`${service.url}/v1/tenants/${CONTOSO}/occupancy/stream?access_token=${tokens.supervisor}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const snapshot = JSON.parse((await stream.next('snapshot')).data) as { tenantId: string; policies: { occupied: number }[] };
    expect(snapshot).toMatchObject({ tenantId: CONTOSO, policies: [{ policy: 'Global', occupied: 1 }] });

    const parked = await park('call-2', bob);
    const change = JSON.parse((await stream.next('change')).data) as Record<string, unknown>;
    expect(change).toMatchObject({ kind: 'parked', tenantId: CONTOSO, policy: 'Global', orbit: { code: (parked.orbit as { code: string }).code, status: 'parked', callId: 'call-2', parkedBy: bob } });

    await retrieve('10');
    expect(JSON.parse((await stream.next('change')).data)).toMatchObject({ kind: 'freed', policy: 'Global', orbit: 10 });

    // A policy change sends the board afresh.
    await service.app.inject({ method: 'PATCH', url: `/v1/tenants/${CONTOSO}/policies/Global`, headers: { authorization: `Bearer ${tokens.admin}` }, payload: { pickupRangeEnd: 11 } });
    // It lists the orbit that holds a call, and the one freed with when: the rest of the range is free.
    expect(JSON.parse((await stream.next('snapshot')).data)).toMatchObject({
      policies: [{ policy: 'Global', total: 2, occupied: 1, orbits: [{ code: '11', status: 'parked', callId: 'call-2' }], freed: [[10, expect.stringMatching(/^\d{4}-\d\d-\d\dT/)]] }],
    });
    await stream.untilComments(1);
    stream.close();
  });

  it('keeps tenants apart: a tenant sees only its own changes', async () => {
    await allowPark();
    await allowPark(FABRIKAM);
    const stream = await connectSse(`${service.url}/v1/tenants/${CONTOSO}/occupancy/stream`, { authorization: `Bearer ${tokens.supervisor}` });
    await stream.next('snapshot');
    await park('contoso-1', alice);
    await signal('park.requested', { callId: 'fabrikam-1', parker: alice, media: 'audio' }, FABRIKAM);
    await park('contoso-2');
    const first = JSON.parse((await stream.next('change')).data) as { tenantId: string; orbit: { callId: string } };
    const second = JSON.parse((await stream.next('change')).data) as { tenantId: string; orbit: { callId: string } };
    expect([first.orbit.callId, second.orbit.callId]).toEqual(['contoso-1', 'contoso-2']);
    expect([first.tenantId, second.tenantId]).toEqual([CONTOSO, CONTOSO]);
    stream.close();
  });

  it('refuses without a token, with a wrong one, with the wrong role or tenant; and ends when the server closes', async () => {
    const base = `${service.url}/v1/tenants/${CONTOSO}/occupancy/stream`;
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(`${base}?access_token=not-a-token-anyone-issued`)).status).toBe(401);
    expect((await fetch(`${base}?access_token=${tokens.signaling}`)).status).toBe(403);
    expect((await fetch(`${base}?access_token=${tokens.fabrikamAdmin}`)).status).toBe(403);
    expect((await fetch(`${base}?access_token=${tokens.supervisor}&since=1`)).status).toBe(400);

    const stream = await connectSse(`${base}?access_token=${tokens.supervisor}`);
    await stream.next('snapshot');
    const closed = service.app.close();
    await expect(stream.next('change', 2_000)).rejects.toThrow(/ended/);
    await closed;
  });
});

describe('the audit', () => {
  const iso = (millis: number): string => new Date(millis).toISOString();

  it('finds sessions by user, orbit, call and outcome, pages through them, exports them as CSV, and lists refusals', async () => {
    await allowPark();
    for (let i = 1; i <= 5; i++) await park(`call-${i}`, i % 2 === 0 ? bob : alice);
    await retrieve('10', bob);
    await retrieve('11', { ...alice, endpoint: 'mobile' });
    await retrieve('12', { ...bob, federated: true });
    await service.catchUp();

    const search = async (query: string) => json<{ items: Record<string, unknown>[]; nextCursor?: string }>(await get(`/v1/tenants/${CONTOSO}/audit/sessions${query}`, tokens.supervisor));
    const all = await search('');
    expect(all.items.map((session) => session.callId)).toEqual(['call-5', 'call-4', 'call-3', 'call-2', 'call-1']);
    expect(all.items.at(-1)).toMatchObject({ orbitCode: '10', outcome: 'retrieved', retriever: bob, parker: alice });
    expect(typeof all.items.at(-1)!.timeToRetrieveMs).toBe('number');

    expect((await search('?user=bob@contoso.com')).items.map((session) => session.callId)).toEqual(['call-4', 'call-2', 'call-1']);
    expect((await search('?orbit=11')).items.map((session) => session.callId)).toEqual(['call-2']);
    expect((await search('?call=call-3')).items.map((session) => session.orbitCode)).toEqual(['12']);
    expect((await search('?outcome=retrieved')).items.map((session) => session.callId)).toEqual(['call-1']);
    expect((await search(`?from=${iso(Date.now() + 60_000)}`)).items).toEqual([]);

    const first = await search('?limit=2');
    expect(first.items).toHaveLength(2);
    const second = await search(`?limit=2&cursor=${first.nextCursor}`);
    const third = await search(`?limit=2&cursor=${second.nextCursor}`);
    expect([...first.items, ...second.items, ...third.items]).toEqual(all.items);
    expect(third.nextCursor).toBeUndefined();

    const csv = await get(`/v1/tenants/${CONTOSO}/audit/sessions.csv?user=alice@contoso.com`, tokens.reporting);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="callpark-sessions-contoso.csv"');
    expect(csv.body.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv.body);
    expect(rows[0]).toEqual([...sessionCsvHeader]);
    expect(rows.slice(1).map((row) => row[2])).toEqual(['call-5', 'call-3', 'call-1']);

    const refusals = json<{ items: Record<string, unknown>[] }>(await get(`/v1/tenants/${CONTOSO}/audit/refusals`, tokens.supervisor));
    expect(refusals.items.map((refusal) => refusal.reason)).toEqual(['federated-user', 'endpoint-cannot-retrieve']);
    expect(refusals.items[0]).toMatchObject({ type: 'RetrievalRejected', orbitCode: '12', user: bob, federated: true, message: 'Users of another organisation cannot retrieve parked calls.' });
    const byReason = json<{ items: unknown[] }>(await get(`/v1/tenants/${CONTOSO}/audit/refusals?reason=endpoint-cannot-retrieve`, tokens.supervisor));
    expect(byReason.items).toHaveLength(1);

    // The session the HTTP API reads (its SessionReads port) comes from the same projection.
    const sessionId = all.items.at(-1)!.sessionId as string;
    const session = json<{ timeline: { type: string }[] }>(await get(`/v1/tenants/${CONTOSO}/sessions/${sessionId}`, tokens.supervisor));
    expect(session.timeline.map((entry) => entry.type)).toEqual(['Parked', 'Retrieved']);
  });

  it('names what is wrong with a search, and lets no one else read it', async () => {
    const problem = async (query: string) => {
      const response = await get(`/v1/tenants/${CONTOSO}/audit/sessions${query}`, tokens.supervisor);
      return { status: response.statusCode, type: response.headers['content-type'], errors: json<{ errors: { path: string }[] }>(response).errors.map((error) => error.path) };
    };
    expect(await problem('?limit=0')).toEqual({ status: 400, type: 'application/problem+json; charset=utf-8', errors: ['$query.limit'] });
    expect((await problem('?outcome=won')).errors).toEqual(['$query.outcome']);
    expect((await problem('?from=yesterday')).errors).toEqual(['$query.from']);
    expect((await problem('?cursor=nonsense')).errors).toEqual(['$query.cursor']);
    expect((await problem('?colour=blue')).errors).toEqual(['$query.colour']);
    expect((await problem('?user=a&user=b')).errors).toEqual(['$query.user']);
    // The token in the query is for the stream alone.
    expect((await problem(`?access_token=${tokens.supervisor}`)).errors).toEqual(['$query.access_token']);

    expect((await get(`/v1/tenants/${CONTOSO}/audit/sessions`)).statusCode).toBe(401);
    expect((await get(`/v1/tenants/${CONTOSO}/audit/sessions`, tokens.signaling)).statusCode).toBe(403);
    expect((await get(`/v1/tenants/${CONTOSO}/audit/sessions.csv`, tokens.fabrikamAdmin)).statusCode).toBe(403);
    expect((await get(`/v1/tenants/${CONTOSO}/audit/refusals`, tokens.fabrikamAdmin)).statusCode).toBe(403);
    expect((await get(`/v1/tenants/nobody/audit/sessions`, tokens.allAdmin)).statusCode).toBe(404);
  });
});

describe('the occupancy at a past instant', () => {
  it('is rebuilt from the log: before the park, while parked, after the retrieval', async () => {
    await allowPark();
    // Each instant a millisecond of its own: the clock moves past one before the next step.
    const pastMillisecond = async (instant: number): Promise<void> => {
      while (Date.now() <= instant) await new Promise((resolve) => setImmediate(resolve));
    };
    const before = Date.now();
    await pastMillisecond(before);
    await park('call-1');
    await pastMillisecond(Date.now());
    const during = Date.now();
    await pastMillisecond(during);
    await retrieve('10');
    const at = async (instant: number, policy = 'Global') => get(`/v1/tenants/${CONTOSO}/policies/${policy}/occupancy/at?instant=${new Date(instant).toISOString()}`, tokens.supervisor);

    expect(json(await at(before))).toMatchObject({ instant: new Date(before).toISOString(), occupancy: { policy: 'Global', occupied: 0 } });
    const then = json<{ occupancy: { occupied: number; orbits: Record<string, unknown>[] } }>(await at(during));
    expect(then.occupancy.occupied).toBe(1);
    expect(then.occupancy.orbits.find((orbit) => orbit.status === 'parked')).toMatchObject({ code: '10', callId: 'call-1', parkedBy: alice });
    expect(json(await at(Date.now()))).toMatchObject({ occupancy: { occupied: 0 } });

    const missing = await at(during, 'Sales');
    expect(missing.statusCode).toBe(404);
    expect(json(missing)).toMatchObject({ reason: 'policy-not-found' });
    expect(json(await get(`/v1/tenants/${CONTOSO}/policies/Global/occupancy/at`, tokens.supervisor))).toMatchObject({ errors: [{ path: '$query.instant' }] });
  });
});

describe("the read side's part of the OpenAPI document", () => {
  it('describes exactly the routes the plugin registers, with their query parameters, and every $ref resolves', async () => {
    const fragment = readSideOpenApi();
    const documented = Object.entries(fragment.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    const theirs = new Set(['/v1/tenants/{tenantId}/sessions/{sessionId}', '/v1/tenants/{tenantId}/policies/{identity}/occupancy', '/v1/signaling']);
    const registered = registeredRoutes(service.app)
      .map((route) => `${route.method} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
      .filter((key) => key.includes('/occupancy') || key.includes('/audit/') || key.includes('/supervisor') || key.includes('/presence'))
      .filter((key) => !theirs.has(key.split(' ')[1]!));
    expect(documented.sort()).toEqual(registered.sort());

    const search = fragment.paths['/v1/tenants/{tenantId}/audit/sessions']!.get as { parameters: { name: string; in: string }[]; 'x-roles': string[] };
    expect(search.parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name)).toEqual(['user', 'orbit', 'call', 'policy', 'outcome', 'from', 'to', 'limit', 'cursor']);
    expect(search['x-roles']).toEqual(['supervisor', 'reporting', 'admin']);
    const stream = fragment.paths['/v1/tenants/{tenantId}/occupancy/stream']!.get as { security: unknown[]; responses: Record<string, { content: Record<string, unknown> }> };
    expect(stream.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(stream.responses[200]!.content)).toEqual(['text/event-stream']);

    const schemas = { ...componentSchemas, ...fragment.schemas };
    const refs = JSON.stringify(fragment).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const ref of refs) expect(schemas, ref).toHaveProperty([ref.split('/').at(-1)!]);
    for (const name of Object.keys(fragment.schemas)) expect(componentSchemas).not.toHaveProperty([name]);
  });
});

describe("the supervisors' page", () => {
  it('is served with its script and style sheet, under a policy that lets it load only itself', async () => {
    const page = await get('/supervisor');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script type="module" src="/supervisor/board.js">');
    expect((await get('/supervisor/board.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('/supervisor/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get('/supervisor/..%2Fserver.ts')).statusCode).toBe(404);
    expect((await get('/supervisor/secrets.json')).statusCode).toBe(404);
  });
});
