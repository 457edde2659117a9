/**
 * Every error the service sends is a problem document with a stable `reason`, including those
 * Fastify and Node's HTTP parser raise before a route runs: no route, an over-long path
 * parameter, a bad percent-encoding, the wrong media type, a body too large or not as long as it
 * says, a body that is not UTF-8, a request that is not HTTP. And every id the API accepts in a
 * body is accepted in a path.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_PATH_PARAMETER_LENGTH } from '../../adapters/http/server.js';
import { json, startService, tokens, type Service } from './httpFixtures.js';

const PROBLEM = /^application\/problem\+json/;

interface Case {
  readonly name: string;
  readonly send: (service: Service) => ReturnType<Service['request']>;
  readonly status: number;
  readonly reason: string;
}

const cases: readonly Case[] = [
  { name: 'no such route', send: (s) => s.request({ url: '/v1/nowhere', token: tokens.admin }), status: 404, reason: 'route-not-found' },
  {
    name: 'a path parameter longer than any identifier and the router allow',
    send: (s) => s.admin('PUT', `/grants/${'u'.repeat(MAX_PATH_PARAMETER_LENGTH + 1)}`, { policy: 'Global' }),
    status: 414,
    reason: 'path-parameter-too-long',
  },
  { name: 'a path parameter that is not valid percent-encoded UTF-8', send: (s) => s.admin('PUT', '/grants/%FF', { policy: 'Global' }), status: 400, reason: 'malformed-url' },
  {
    name: 'a body that is not JSON by its media type',
    send: (s) => s.request({ method: 'POST', url: '/v1/signaling', token: tokens.signaling, body: 'x', headers: { 'content-type': 'text/plain' } }),
    status: 415,
    reason: 'unsupported-media-type',
  },
  {
    name: 'a body larger than the limit',
    send: (s) => s.request({ method: 'POST', url: '/v1/signaling', token: tokens.signaling, body: `"${'x'.repeat(70 * 1024)}"`, headers: { 'content-type': 'application/json' } }),
    status: 413,
    reason: 'body-too-large',
  },
  {
    name: 'a body that is not JSON',
    send: (s) => s.request({ method: 'POST', url: '/v1/signaling', token: tokens.signaling, body: '{"type":', headers: { 'content-type': 'application/json' } }),
    status: 400,
    reason: 'malformed-json',
  },
  { name: 'a body that does not decode', send: (s) => s.signal({ type: 'park.requested' }), status: 400, reason: 'invalid-request' },
];

describe('errors raised before a route runs', () => {
  it.each(cases)('$name: $status, a problem document with reason $reason', async ({ send, status, reason }) => {
    const service = await startService();
    const response = await send(service);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(json(response)).toMatchObject({ status, reason, type: `urn:callpark:problem:${reason}`, title: expect.any(String), detail: expect.any(String) });
  });

  it('answers a request that is not HTTP with a problem document too', async () => {
    const service = await startService();
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = service.app.server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(address.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 /);
      expect(head).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(body!)).toMatchObject({ status: 400, reason: 'bad-request' });
    } finally {
      await service.app.close();
    }
  });
});

describe('ids in a path', () => {
  it('grants a policy to a user whose id is as long as a body accepts (256 characters)', async () => {
    const service = await startService();
    expect((await service.admin('POST', '/policies', { identity: 'Sales', allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 199 })).statusCode).toBe(201);
    const user = `${'u'.repeat(244)}@contoso.com`;
    expect(user).toHaveLength(256);
    const response = await service.admin('PUT', `/grants/${encodeURIComponent(user)}`, { policy: 'Sales' });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({ outcome: 'granted', userId: user, policy: 'Sales' });
    expect(json(await service.park('call-1', { userId: user, endpoint: 'teams-desktop' }))).toMatchObject({ policy: 'Sales', orbit: { code: '100' } });
  });

  it('names a path id one longer than any body accepts by its path, as a body would be', async () => {
    const service = await startService();
    const response = await service.admin('PUT', `/grants/${'u'.repeat(257)}`, { policy: 'Global' });
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ reason: 'invalid-request', errors: [expect.objectContaining({ path: '$path.userId' })] });
  });
});
