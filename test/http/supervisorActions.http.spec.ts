/**
 * A supervisor's actions over HTTP: send a parked call to its fallback now, ring the parker now.
 * Role supervisor (or admin) for the tenant; the supervisor is recorded on the event; a call that
 * has moved on is a 409 call-not-parked; the Idempotency-Key replays the first answer.
 */
import { describe, expect, it } from 'vitest';
import { json, startService, tokens, type Service } from './httpFixtures.js';

const SAM = 'sam@contoso.com';

const act = (service: Service, action: 'send-to-fallback' | 'ring-parker', sessionId: string, token: string = tokens.supervisor, headers: Record<string, string> = {}) =>
  service.request({ method: 'POST', url: `/v1/tenants/contoso/sessions/${sessionId}/${action}`, token, body: { supervisor: SAM }, headers });

describe("a supervisor's actions over HTTP", () => {
  it('sends a parked call to its fallback now, recording who did it; a second try is told the call moved on', async () => {
    const service = await startService();
    await service.allowPark({ fallback: 'sip:reception@contoso.com' });
    const { sessionId } = json(await service.park('call-1'));
    service.advance(40);

    const sent = await act(service, 'send-to-fallback', String(sessionId), tokens.supervisor, { 'idempotency-key': 'sup-1' });
    expect(sent.statusCode).toBe(200);
    expect(json(sent)).toMatchObject({ outcome: 'expired', cause: 'sent-by-supervisor', sentBy: SAM, fallback: 'sip:reception@contoso.com' });
    expect((await service.events()).at(-1)).toMatchObject({ type: 'Expired', sentBy: SAM, cause: 'sent-by-supervisor' });

    const replay = await act(service, 'send-to-fallback', String(sessionId), tokens.supervisor, { 'idempotency-key': 'sup-1' });
    expect([replay.statusCode, replay.headers['idempotent-replayed'], json(replay).sentBy]).toEqual([200, 'true', SAM]);
    const again = await act(service, 'send-to-fallback', String(sessionId));
    expect(again.statusCode).toBe(409);
    expect(json(again)).toMatchObject({ reason: 'call-not-parked' });
  });

  it('rings the parker now, then refuses while the ring back is in progress', async () => {
    const service = await startService();
    await service.allowPark({ ringBackSeconds: 20 });
    const { sessionId } = json(await service.park('call-1'));
    service.advance(10);
    const rung = await act(service, 'ring-parker', String(sessionId));
    expect(json(rung)).toMatchObject({ outcome: 'ringing-back', attempt: 1, requestedBy: SAM, unansweredAt: new Date(service.now() + 20_000).toISOString() });
    const twice = await act(service, 'ring-parker', String(sessionId));
    expect([twice.statusCode, json(twice).reason]).toEqual([409, 'ring-back-in-progress']);
  });

  it('takes the supervisor or admin role of the tenant, and a body naming the supervisor', async () => {
    const service = await startService();
    await service.allowPark();
    const { sessionId } = json(await service.park('call-1'));
    expect((await act(service, 'ring-parker', String(sessionId), tokens.signaling)).statusCode).toBe(403);
    expect((await act(service, 'ring-parker', String(sessionId), tokens.fabrikamAdmin)).statusCode).toBe(403);
    const nameless = await service.request({ method: 'POST', url: `/v1/tenants/contoso/sessions/${String(sessionId)}/ring-parker`, token: tokens.supervisor, body: {} });
    expect(nameless.statusCode).toBe(400);
    expect(json(nameless)).toMatchObject({ errors: [{ path: '$.supervisor' }] });
    expect((await act(service, 'ring-parker', String(sessionId), tokens.admin)).statusCode).toBe(200);
  });
});
