/**
 * The Teams and Lync scenarios of DOMAIN.md, through HTTP, over the real command handler.
 */
import { describe, expect, it } from 'vitest';
import { at } from '../support/callParkFixtures.js';
import { CONTOSO, alice, bob, carol, json, startService, tokens } from './httpFixtures.js';

const PROBLEM = 'application/problem+json';

describe('parking and retrieving over HTTP', () => {
  it('parks a call and answers its orbit, session and ring-back due time; someone else retrieves it by the orbit', async () => {
    const service = await startService();
    await service.allowPark();

    const parked = await service.park('call-1');
    expect(parked.statusCode).toBe(201);
    expect(parked.headers['content-type']).toMatch(/^application\/json/);
    expect(json(parked)).toMatchObject({
      outcome: 'parked',
      orbit: { code: '10', number: 10 },
      sessionId: 'session-1',
      callId: 'call-1',
      policy: 'Global',
      directed: false,
      ringBackDueAt: new Date(at(300)).toISOString(),
    });
    expect(parked.headers.location).toBe(`/v1/tenants/${CONTOSO}/sessions/session-1`);

    const retrieved = await service.retrieve('10', bob, 'bob-dialog');
    expect(retrieved.statusCode).toBe(200);
    expect(json(retrieved)).toMatchObject({
      outcome: 'retrieved',
      via: 'orbit',
      sessionId: 'session-1',
      callId: 'call-1',
      orbit: { code: '10', number: 10 },
      retriever: bob,
      parker: alice,
      retrieverCallId: 'bob-dialog',
    });
    expect((await service.events()).map((event) => event.type)).toEqual(['PolicySettingsChanged', 'Parked', 'Retrieved']);
  });

  it('parks on Lync orbits (*3000..*3999) and retrieves by the code, with or without the prefix', async () => {
    const service = await startService();
    await service.allowPark({ orbitPrefix: '*', pickupRangeStart: 3000, pickupRangeEnd: 3999 });
    expect(json(await service.park('call-1'))).toMatchObject({ orbit: { code: '*3000', number: 3000 } });
    expect(json(await service.park('call-2'))).toMatchObject({ orbit: { code: '*3001', number: 3001 } });
    expect(json(await service.retrieve('*3000', carol))).toMatchObject({ outcome: 'retrieved', callId: 'call-1', retriever: carol });
    expect(json(await service.retrieve('3001', carol))).toMatchObject({ outcome: 'retrieved', callId: 'call-2' });
  });

  it.each([
    ['a federated user', { ...bob, federated: true }, 'federated-user'],
    ['a mobile phone', { userId: bob.userId, endpoint: 'mobile' }, 'endpoint-cannot-retrieve'],
    ['a PSTN phone', { userId: bob.userId, endpoint: 'pstn' }, 'endpoint-cannot-retrieve'],
    ['a Skype for Business IP phone', { userId: bob.userId, endpoint: 'sfb-ip-phone' }, 'endpoint-cannot-retrieve'],
  ])('refuses a retrieval from %s with 403 and its reason, and records the refusal for the audit', async (_who, retriever, reason) => {
    const service = await startService();
    await service.allowPark();
    await service.park('call-1');
    const refused = await service.retrieve('10', retriever);
    expect(refused.statusCode).toBe(403);
    expect(String(refused.headers['content-type']).startsWith(PROBLEM)).toBe(true);
    const problem = json(refused);
    expect(problem).toMatchObject({ type: `urn:callpark:problem:${reason}`, status: 403, reason });
    expect(String(problem.title).length).toBeGreaterThan(3);
    expect(String(problem.detail).length).toBeGreaterThan(20);
    expect((await service.events()).at(-1)).toMatchObject({ type: 'RetrievalRejected', reason });
    // The call is still there for someone who may pick it up.
    expect((await service.retrieve('10', carol)).statusCode).toBe(200);
  });

  it('lets a common area phone retrieve but not park', async () => {
    const service = await startService();
    await service.allowPark();
    const phone = { userId: 'lobby@contoso.com', endpoint: 'common-area-phone' };
    expect(json(await service.park('call-1', phone))).toMatchObject({ status: 403, reason: 'endpoint-cannot-park' });
    await service.park('call-2');
    expect(json(await service.retrieve('10', phone))).toMatchObject({ outcome: 'retrieved', retriever: phone });
  });

  it('refuses parks the policy or the media forbid, each with its reason and status', async () => {
    const service = await startService();
    expect(json(await service.park('call-1'))).toMatchObject({ status: 403, reason: 'call-park-not-allowed' });
    await service.allowPark();
    expect(json(await service.signal(service.message('park.requested', { callId: 'video-1', parker: alice, media: 'video' })))).toMatchObject({ status: 422, reason: 'media-not-parkable' });
    expect(json(await service.park('call-2', { userId: 'm@contoso.com', endpoint: 'mobile' }))).toMatchObject({ status: 403, reason: 'endpoint-cannot-park' });
    expect((await service.park('call-3')).statusCode).toBe(201);
    expect(json(await service.park('call-3'))).toMatchObject({ status: 409, reason: 'call-already-parked' });
    expect(json(await service.park('call-4', alice, { orbit: '42' }))).toMatchObject({ status: 403, reason: 'directed-park-not-allowed' });
  });

  it('parks on the orbit the parker names when the policy allows it, and refuses an occupied one', async () => {
    const service = await startService();
    await service.allowPark({ allowDirectedPark: true });
    expect(json(await service.park('call-1', alice, { orbit: '42' }))).toMatchObject({ orbit: { code: '42' }, directed: true });
    const occupied = await service.park('call-2', bob, { orbit: '42' });
    expect(occupied.statusCode).toBe(409);
    expect(json(occupied)).toMatchObject({ reason: 'orbit-occupied' });
    expect(json(await service.park('call-3', bob, { orbit: '4x' }))).toMatchObject({ status: 422, reason: 'invalid-orbit-code' });
  });

  it('answers no-free-orbit with 503 and Retry-After when every orbit of the range holds a call', async () => {
    const service = await startService();
    await service.allowPark({ pickupRangeStart: 10, pickupRangeEnd: 11 });
    expect((await service.park('call-1')).statusCode).toBe(201);
    expect((await service.park('call-2')).statusCode).toBe(201);
    const full = await service.park('call-3');
    expect(full.statusCode).toBe(503);
    expect(full.headers['retry-after']).toBe('5');
    expect(json(full)).toMatchObject({ reason: 'no-free-orbit', status: 503 });
    expect(String(json(full).detail)).toContain('10 to 11');
  });

  it('refuses a retrieval across policies: orbit-outside-your-policy, 403', async () => {
    const service = await startService();
    await service.allowPark();
    expect((await service.admin('POST', '/policies', { identity: 'Sales', allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 199 })).statusCode).toBe(201);
    expect((await service.admin('PUT', `/grants/${carol.userId}`, { policy: 'Sales' })).statusCode).toBe(200);
    expect(json(await service.park('call-1'))).toMatchObject({ orbit: { code: '10' }, policy: 'Global' });
    const refused = await service.retrieve('10', carol);
    expect(refused.statusCode).toBe(403);
    expect(json(refused)).toMatchObject({ reason: 'orbit-outside-your-policy' });
    // Carol's own namespace works.
    expect(json(await service.park('call-2', carol))).toMatchObject({ orbit: { code: '100' }, policy: 'Sales' });
    expect(json(await service.retrieve('10', bob))).toMatchObject({ outcome: 'retrieved' });
  });

  it('ends the session when the caller hangs up; a later retrieval finds no call on the orbit', async () => {
    const service = await startService();
    await service.allowPark();
    await service.park('call-1');
    const hungUp = await service.request({ method: 'POST', url: '/v1/calls/ended', token: tokens.signaling, body: service.message('call.ended', { callId: 'call-1', sipMethod: 'BYE' }) });
    expect(hungUp.statusCode).toBe(200);
    expect(json(hungUp)).toMatchObject({ outcome: 'abandoned', sessionId: 'session-1', phase: 'parked', orbit: { code: '10' } });
    const late = await service.retrieve('10');
    expect(late.statusCode).toBe(404);
    expect(json(late)).toMatchObject({ reason: 'no-call-on-orbit' });
    const again = await service.request({ method: 'POST', url: '/v1/calls/ended', token: tokens.signaling, body: service.message('call.ended', { callId: 'call-1' }) });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toMatchObject({ reason: 'call-not-parked' });
  });

  it('rings the parker back when nobody retrieves; the parker answers, or after the last unanswered attempt the call goes to its fallback', async () => {
    const service = await startService();
    await service.allowPark({ maxRingBackAttempts: 2, parkTimeoutSeconds: 60 });
    await service.park('call-1');
    await service.park('call-2');
    const early = await service.request({ method: 'POST', url: '/v1/calls/ringback-answered', token: tokens.signaling, body: service.message('ringback.answered', { callId: 'call-1' }) });
    expect(early.statusCode).toBe(409);
    expect(json(early)).toMatchObject({ reason: 'no-ring-back-in-progress' });

    // The scheduler's commands go straight to the handler.
    service.advance(60);
    for (const [callId, sessionId] of [['call-1', 'session-1'], ['call-2', 'session-2']] as const) {
      await service.schedule({ type: 'RingBackDue', commandId: `timer-${sessionId}-1`, at: service.now(), tenantId: CONTOSO, callId, sessionId, attempt: 1 });
    }
    const answered = await service.request({ method: 'POST', url: '/v1/calls/ringback-answered', token: tokens.signaling, body: service.message('ringback.answered', { callId: 'call-1' }) });
    expect(json(answered)).toMatchObject({ outcome: 'retrieved', via: 'ring-back', retriever: alice, sessionId: 'session-1' });

    const busy = await service.request({ method: 'POST', url: '/v1/calls/ringback-failed', token: tokens.signaling, body: service.message('ringback.failed', { callId: 'call-2', sipStatus: 486 }) });
    expect(json(busy)).toMatchObject({ outcome: 'ring-back-unanswered', attempt: 1, cause: 'busy', nextRingBackDueAt: new Date(service.now() + 60_000).toISOString() });
    service.advance(60);
    await service.schedule({ type: 'RingBackDue', commandId: 'timer-session-2-2', at: service.now(), tenantId: CONTOSO, callId: 'call-2', sessionId: 'session-2', attempt: 2 });
    const declined = await service.signal(service.message('ringback.failed', { callId: 'call-2', sipStatus: 603 }));
    expect(declined.statusCode).toBe(200);
    expect(json(declined)).toMatchObject({ outcome: 'expired', attempts: 2, cause: 'declined', fallback: 'voicemail' });
  });

  it('writes one log line per command with tenant, session, command, outcome, reason, latency and the duplicate flag', async () => {
    const service = await startService();
    await service.allowPark();
    const lines = (): Record<string, unknown>[] => service.logLines.filter((line) => line.msg === 'command');
    const before = lines().length;
    await service.park('call-1');
    await service.retrieve('10', { ...bob, federated: true });
    const logged = lines().slice(before);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ tenant: CONTOSO, session: 'session-1', command: 'ParkCall', outcome: 'accepted', duplicate: false });
    expect(logged[0]!.latencyMs).toEqual(expect.any(Number));
    expect(logged[1]).toMatchObject({ tenant: CONTOSO, command: 'RetrieveCall', outcome: 'rejected', reason: 'federated-user', duplicate: false });
    expect(service.logLines.filter((line) => line.msg !== 'command')).toEqual([]);
  });
});
