/**
 * Bad input: malformed JSON, unknown or missing fields, wrong types, oversized bodies, the wrong
 * content type, bad path parameters and headers. Each gets a 4xx problem document naming the path
 * of what is wrong, and nothing is recorded.
 */
import { describe, expect, it } from 'vitest';
import { alice, json, startService, tokens, type Service } from './httpFixtures.js';

const PROBLEM = 'application/problem+json';

interface Case {
  readonly name: string;
  readonly send: (service: Service) => ReturnType<Service['request']>;
  readonly status: number;
  /** The path every error names (one of them, when several). */
  readonly path: string;
}

const park = (service: Service, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...service.message('park.requested', { callId: 'call-1', parker: alice, media: 'audio' }),
  ...over,
});

const post = (service: Service, url: string, payload: string | object, contentType = 'application/json', token: string = tokens.signaling) =>
  service.request({ method: 'POST', url, token, body: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': contentType } });

const cases: readonly Case[] = [
  { name: 'malformed JSON', send: (s) => post(s, '/v1/signaling', '{"type": "park.requested",'), status: 400, path: '$' },
  { name: 'an empty body', send: (s) => post(s, '/v1/signaling', ''), status: 400, path: '$' },
  { name: 'a JSON array', send: (s) => post(s, '/v1/signaling', '[]'), status: 400, path: '$' },
  { name: 'a JSON string', send: (s) => post(s, '/v1/signaling', '"park"'), status: 400, path: '$' },
  { name: 'an unknown field', send: (s) => s.signal(park(s, { colour: 'blue' })), status: 400, path: '$.colour' },
  { name: 'an unknown nested field', send: (s) => s.signal(park(s, { parker: { ...alice, phone: '+1' } })), status: 400, path: '$.parker.phone' },
  { name: 'a missing field', send: (s) => s.signal(park(s, { callId: undefined })), status: 400, path: '$.callId' },
  { name: 'a wrong type', send: (s) => s.signal(park(s, { media: 7 })), status: 400, path: '$.media' },
  { name: 'an unknown endpoint', send: (s) => s.signal(park(s, { parker: { ...alice, endpoint: 'fax' } })), status: 400, path: '$.parker.endpoint' },
  { name: 'a timestamp without an offset', send: (s) => s.signal(park(s, { occurredAt: '2026-11-22 09:30' })), status: 400, path: '$.occurredAt' },
  { name: 'an unknown message type', send: (s) => s.signal(park(s, { type: 'park.later' })), status: 400, path: '$.type' },
  { name: 'another type on a per-type route', send: (s) => s.request({ method: 'POST', url: '/v1/calls/retrieve', token: tokens.signaling, body: park(s) }), status: 400, path: '$.type' },
  { name: 'a SIP status that is not a failure', send: (s) => s.signal({ ...s.message('ringback.failed', { callId: 'call-1' }), sipStatus: 200 }), status: 400, path: '$.sipStatus' },
  { name: 'an oversized body', send: (s) => s.signal(park(s, { caller: 'x'.repeat(70 * 1024) })), status: 413, path: '$' },
  { name: 'text/plain', send: (s) => post(s, '/v1/signaling', 'park please', 'text/plain'), status: 415, path: '$headers.content-type' },
  { name: 'form data', send: (s) => post(s, '/v1/signaling', 'type=park.requested', 'application/x-www-form-urlencoded'), status: 415, path: '$headers.content-type' },
  { name: 'an Idempotency-Key that is too long', send: (s) => s.signal(park(s, { eventId: undefined }), tokens.signaling, { 'idempotency-key': 'k'.repeat(300) }), status: 400, path: '$headers.idempotency-key' },
  { name: 'an unknown setting', send: (s) => s.admin('PATCH', '/policies/Global', { allowCallParking: true }), status: 400, path: '$.allowCallParking' },
  { name: 'a setting of the wrong type', send: (s) => s.admin('PATCH', '/policies/Global', { parkTimeoutSeconds: '300' }), status: 400, path: '$.parkTimeoutSeconds' },
  { name: 'a new policy without an identity', send: (s) => s.admin('POST', '/policies', { allowCallPark: true }), status: 400, path: '$.identity' },
  { name: 'a policy identity that is no identity', send: (s) => s.admin('PATCH', '/policies/%24%24%24', { allowCallPark: true }), status: 400, path: '$path.identity' },
  { name: 'an unknown endpoint in the path', send: (s) => s.admin('PUT', '/endpoints/fax', { park: true, retrieve: true, ringBack: true }), status: 400, path: '$path.endpoint' },
  { name: 'a capabilities row with a missing member', send: (s) => s.admin('PUT', '/endpoints/mobile', { park: true, retrieve: true }), status: 400, path: '$.ringBack' },
  { name: 'a grant without a policy', send: (s) => s.admin('PUT', '/grants/alice@contoso.com', {}), status: 400, path: '$.policy' },
];

describe('bad input', () => {
  it.each(cases)('$name: a $status problem naming $path, and nothing recorded', async ({ send, status, path }) => {
    const service = await startService();
    await service.allowPark();
    const recorded = await service.storeSize();
    const response = await send(service);
    expect(response.statusCode).toBe(status);
    expect(String(response.headers['content-type']).startsWith(PROBLEM)).toBe(true);
    const problem = json(response);
    expect(problem).toMatchObject({ status, type: expect.stringMatching(/^urn:callpark:problem:/), title: expect.any(String), detail: expect.any(String) });
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.any(String) })]));
    expect(await service.storeSize()).toBe(recorded);
  });

  it('names every error of a message at once', async () => {
    const service = await startService();
    const response = await service.signal(park(service, { media: 'fax', callId: '', extra: 1 }));
    expect(response.statusCode).toBe(400);
    const paths = (json(response).errors as { path: string }[]).map((error) => error.path);
    expect(paths).toContain('$.extra');
  });

  it('answers a setting outside its range with the domain reason invalid-setting (422), recording nothing', async () => {
    const service = await startService();
    const recorded = await service.storeSize();
    const response = await service.admin('PATCH', '/policies/Global', { parkTimeoutSeconds: 5 });
    expect(response.statusCode).toBe(422);
    expect(json(response)).toMatchObject({ reason: 'invalid-setting', detail: expect.stringContaining('parkTimeoutSeconds') });
    expect(await service.storeSize()).toBe(recorded);
  });

  it('answers a route that does not exist with a 404 problem', async () => {
    const service = await startService();
    const response = await service.request({ url: '/v1/nowhere', token: tokens.admin });
    expect(response.statusCode).toBe(404);
    expect(json(response)).toMatchObject({ type: 'urn:callpark:problem:route-not-found' });
  });
});
