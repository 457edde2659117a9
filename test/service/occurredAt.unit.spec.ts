/**
 * `occurredAt`, the media tier's clock, is optional on every signaling message: checked when given,
 * never needed, and never what the service decides by (docs/domain.md, "Whose clock").
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { SignalingMessage, toCommand } from '../../domain/signaling.js';

const messages = [
  { type: 'park.requested', eventId: 'e1', tenantId: 'contoso', callId: 'c1', parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' }, media: 'audio' },
  { type: 'retrieve.requested', eventId: 'e2', tenantId: 'contoso', callId: 'c2', retriever: { userId: 'bob@contoso.com', endpoint: 'teams-desktop' }, orbit: '10' },
  { type: 'call.ended', eventId: 'e3', tenantId: 'contoso', callId: 'c1' },
  { type: 'ringback.answered', eventId: 'e4', tenantId: 'contoso', callId: 'c1' },
  { type: 'ringback.failed', eventId: 'e5', tenantId: 'contoso', callId: 'c1', sipStatus: 486 },
] as const;

describe('occurredAt on signaling messages', () => {
  it.each(messages)('accepts $type without it', (message) => {
    expect(E.isRight(SignalingMessage.decode(message))).toBe(true);
  });

  it.each(messages)('still refuses $type with an instant that has no offset', (message) => {
    expect(E.isLeft(SignalingMessage.decode({ ...message, occurredAt: '2026-11-22 09:30' }))).toBe(true);
  });

  it('decides at the service’s instant whatever the media tier’s clock said', () => {
    const admission = { at: Date.parse('2026-11-22T09:30:00Z'), sessionId: 's1', random: 0.5 };
    const without = SignalingMessage.decode(messages[0]);
    const withSkewedClock = SignalingMessage.decode({ ...messages[0], occurredAt: '1999-01-01T00:00:00Z' });
    if (E.isLeft(without) || E.isLeft(withSkewedClock)) throw new Error('expected both to decode');
    expect(toCommand(withSkewedClock.right, admission)).toEqual(toCommand(without.right, admission));
    expect(toCommand(without.right, admission)).toMatchObject({ at: admission.at });
  });
});
