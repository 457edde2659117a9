/**
 * Reads over HTTP: one park session with its timeline, and the live occupancy of a policy.
 */
import { describe, expect, it } from 'vitest';
import { CONTOSO, alice, bob, json, startService, tokens } from './httpFixtures.js';

const iso = (millis: number): string => new Date(millis).toISOString();

describe('reading a park session', () => {
  it('answers its facts and its timeline, every event in order with its type, instant and details', async () => {
    const service = await startService();
    await service.allowPark({ parkTimeoutSeconds: 60 });
    const parkedAt = service.now();
    await service.park('call-1', alice, { caller: '+14255550100' });
    service.advance(60);
    await service.schedule({ type: 'RingBackDue', commandId: 'timer-1', at: service.now(), tenantId: CONTOSO, callId: 'call-1', sessionId: 'session-1', attempt: 1 });
    service.advance(10);
    await service.retrieve('10', bob, 'bob-dialog');

    const response = await service.request({ url: `/v1/tenants/${CONTOSO}/sessions/session-1`, token: tokens.supervisor });
    expect(response.statusCode).toBe(200);
    const session = json(response);
    expect(session).toMatchObject({
      tenantId: CONTOSO,
      sessionId: 'session-1',
      callId: 'call-1',
      policy: 'Global',
      orbit: 10,
      orbitCode: '10',
      parker: alice,
      caller: '+14255550100',
      parkedAt: iso(parkedAt),
      status: 'retrieved',
      attempts: 1,
      endedAt: iso(service.now()),
      retrievedBy: bob,
      via: 'orbit',
    });
    expect(session).not.toHaveProperty('dueAt');
    const timeline = session.timeline as { type: string; at: string; details: Record<string, unknown> }[];
    expect(timeline.map((entry) => [entry.type, entry.at])).toEqual([
      ['Parked', iso(parkedAt)],
      ['RingBackStarted', iso(parkedAt + 60_000)],
      ['Retrieved', iso(parkedAt + 70_000)],
    ]);
    expect(timeline[0]!.details).toMatchObject({ media: 'audio', ringBackDueAt: iso(parkedAt + 60_000) });
    expect(timeline[2]!.details).toMatchObject({ retriever: bob, via: 'orbit', retrieverCallId: 'bob-dialog' });
  });

  it('tells a session that is still parked, one the caller abandoned and one sent to its fallback', async () => {
    const service = await startService();
    await service.allowPark({ parkTimeoutSeconds: 60, fallback: 'sip:operator@contoso.com' });
    await service.park('call-1');
    await service.park('call-2');
    await service.park('call-3');
    const read = async (sessionId: string) => json(await service.request({ url: `/v1/tenants/${CONTOSO}/sessions/${sessionId}`, token: tokens.admin }));
    expect(await read('session-1')).toMatchObject({ status: 'parked', attempts: 0, dueAt: iso(service.now() + 60_000) });

    await service.signal(service.message('call.ended', { callId: 'call-2', sipMethod: 'CANCEL' }));
    expect(await read('session-2')).toMatchObject({ status: 'abandoned', endedAt: iso(service.now()) });

    service.advance(60);
    await service.schedule({ type: 'RingBackDue', commandId: 'timer-3', at: service.now(), tenantId: CONTOSO, callId: 'call-3', sessionId: 'session-3', attempt: 1 });
    expect(await read('session-3')).toMatchObject({ status: 'ringing-back', attempts: 1, dueAt: iso(service.now() + 30_000) });
    await service.signal(service.message('ringback.failed', { callId: 'call-3', sipStatus: 480 }));
    const expired = await read('session-3');
    expect(expired).toMatchObject({ status: 'expired', attempts: 1, fallback: 'sip:operator@contoso.com' });
    expect((expired.timeline as { type: string }[]).map((entry) => entry.type)).toEqual(['Parked', 'RingBackStarted', 'Expired']);
  });

  it('is a 404 problem for a session the tenant does not have', async () => {
    const service = await startService();
    const response = await service.request({ url: `/v1/tenants/${CONTOSO}/sessions/nope`, token: tokens.admin });
    expect(response.statusCode).toBe(404);
    expect(json(response)).toMatchObject({ type: 'urn:callpark:problem:session-not-found' });
  });
});

describe('the occupancy of a policy', () => {
  it('lists every orbit of the range with what it holds, and the free and total counts', async () => {
    const service = await startService();
    await service.allowPark({ pickupRangeStart: 10, pickupRangeEnd: 14, parkTimeoutSeconds: 60, orbitReuseQuarantineSeconds: 0 });
    const parkedAt = service.now();
    await service.park('call-1');
    await service.park('call-2', bob);
    await service.park('call-3');
    service.advance(60);
    await service.schedule({ type: 'RingBackDue', commandId: 'timer-2', at: service.now(), tenantId: CONTOSO, callId: 'call-2', sessionId: 'session-2', attempt: 1 });
    await service.retrieve('12', bob);

    const response = await service.request({ url: `/v1/tenants/${CONTOSO}/policies/Global/occupancy`, token: tokens.reporting });
    expect(response.statusCode).toBe(200);
    const occupancy = json(response);
    expect(occupancy).toMatchObject({ policy: 'Global', rangeStart: 10, rangeEnd: 14, orbitPrefix: '', free: 3, total: 5, occupied: 2 });
    expect(occupancy.orbits).toEqual([
      { orbit: 10, code: '10', status: 'parked', callId: 'call-1', sessionId: 'session-1', parkedAt: iso(parkedAt), parkedBy: alice, ringBackDueAt: iso(parkedAt + 60_000), attempt: 0 },
      { orbit: 11, code: '11', status: 'ringing-back', callId: 'call-2', sessionId: 'session-2', parkedAt: iso(parkedAt), parkedBy: bob, unansweredAt: iso(service.now() + 30_000), attempt: 1 },
      { orbit: 12, code: '12', status: 'free', freedAt: iso(service.now()) },
      { orbit: 13, code: '13', status: 'free' },
      { orbit: 14, code: '14', status: 'free' },
    ]);
  });

  it('keeps showing a call parked under an earlier range (I5), outside the current one', async () => {
    const service = await startService();
    await service.allowPark({ pickupRangeStart: 10, pickupRangeEnd: 19 });
    await service.park('call-1');
    await service.admin('PATCH', '/policies/Global', { pickupRangeStart: 100, pickupRangeEnd: 101 });
    const occupancy = json(await service.request({ url: `/v1/tenants/${CONTOSO}/policies/Global/occupancy`, token: tokens.supervisor }));
    expect(occupancy).toMatchObject({ free: 2, total: 2, occupied: 1 });
    expect((occupancy.orbits as { orbit: number; outsideRange?: boolean }[]).map((orbit) => [orbit.orbit, orbit.outsideRange ?? false])).toEqual([
      [10, true],
      [100, false],
      [101, false],
    ]);
  });

  it('is policy-not-found (404) for a policy the tenant does not have', async () => {
    const service = await startService();
    const response = await service.request({ url: `/v1/tenants/${CONTOSO}/policies/Sales/occupancy`, token: tokens.supervisor });
    expect(response.statusCode).toBe(404);
    expect(json(response)).toMatchObject({ reason: 'policy-not-found' });
  });
});
