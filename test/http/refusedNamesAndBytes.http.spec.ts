/**
 * Names and bytes that are refused: a tenant id CALLPARK_TOKENS gives a meaning to (`*` is every
 * tenant; its compact form cannot hold `,`, `=`, `@` or white space), in a body or a path; and a
 * JSON body that is not UTF-8, which would otherwise be read with its bad bytes replaced, so that
 * two different event ids could share one idempotency record.
 */
import { describe, expect, it } from 'vitest';
import { json, startService, tokens } from './httpFixtures.js';

const reserved = ['*', 'a,b', 'a=b', 'admin@b', 'two words'];

describe('reserved tenant ids', () => {
  it.each(reserved)('refuses a park in tenant %j with a 400 naming $.tenantId, and records nothing', async (tenantId) => {
    const service = await startService();
    const before = await service.storeSize();
    const response = await service.signal(service.message('park.requested', { callId: 'call-1', parker: { userId: 'a@b.c', endpoint: 'teams-desktop' }, media: 'audio' }, tenantId), tokens.allAdmin);
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ reason: 'invalid-request', errors: [expect.objectContaining({ path: '$.tenantId', message: expect.stringContaining('CALLPARK_TOKENS') })] });
    expect(await service.storeSize()).toBe(before);
  });

  it.each(reserved)('refuses a policy for tenant %j with a 400 naming $path.tenantId, and records nothing', async (tenantId) => {
    const service = await startService();
    const before = await service.storeSize();
    const response = await service.request({ method: 'PATCH', url: `/v1/tenants/${encodeURIComponent(tenantId)}/policies/Global`, token: tokens.allAdmin, body: { allowCallPark: true } });
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ errors: [expect.objectContaining({ path: '$path.tenantId' })] });
    expect(await service.storeSize()).toBe(before);
  });

  it('still accepts the ordinary ones', async () => {
    const service = await startService();
    const response = await service.request({ method: 'PATCH', url: '/v1/tenants/contoso.example-1/policies/Global', token: tokens.allAdmin, body: { allowCallPark: true } });
    expect(response.statusCode).toBe(200);
  });
});

describe('bodies that are not UTF-8', () => {
  it('refuses an eventId holding the bytes FF FE with a 400 instead of reading them as U+FFFD, and records nothing', async () => {
    const service = await startService();
    await service.allowPark();
    const before = await service.storeSize();
    const message = JSON.stringify(service.message('park.requested', { callId: 'call-1', parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' }, media: 'audio', eventId: 'XXe' }));
    const bytes = Buffer.from(message, 'utf8');
    const at = bytes.indexOf('XXe');
    bytes[at] = 0xff;
    bytes[at + 1] = 0xfe;
    const response = await service.app.inject({ method: 'POST', url: '/v1/signaling', headers: { authorization: `Bearer ${tokens.signaling}`, 'content-type': 'application/json' }, payload: bytes });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(response)).toMatchObject({ reason: 'invalid-utf-8', errors: [{ path: '$', message: expect.any(String) }] });
    expect(await service.storeSize()).toBe(before);
  });

  it('reads UTF-8 as it is', async () => {
    const service = await startService();
    await service.allowPark();
    const response = await service.signal(service.message('park.requested', { callId: 'appel-é-☎', parker: { userId: 'zoë@contoso.com', endpoint: 'teams-desktop' }, media: 'audio' }));
    expect(response.statusCode).toBe(201);
    expect((await service.events()).at(-1)).toMatchObject({ callId: 'appel-é-☎' });
  });
});
