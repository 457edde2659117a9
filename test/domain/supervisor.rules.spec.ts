/**
 * A supervisor's actions on a parked call (DOMAIN.md, "Supervisors' actions"): send it to its
 * fallback now, ring the parker now. Each is recorded with who did it, and refused with
 * `call-not-parked` when the call has moved on.
 */
import { describe, expect, it } from 'vitest';
import { callParkDecider } from '../../domain/callPark.js';
import type { RingParkerNow, SendToFallbackNow } from '../../domain/commands.js';
import { directivesFor } from '../../domain/directives.js';
import type { CallParkEvent, Expired, RingBackStarted, RingBackUnanswered } from '../../domain/events.js';
import { defaultSettings, type PolicySettings } from '../../domain/parkPolicy.js';
import { specificationFor } from '../support/deciderSpecification.js';
import { TENANT, alice, at, hangUpCommand, nextId, on, parkAllowed, parkedEvent, ringBackDueCommand, ringBackFailedCommand } from '../support/callParkFixtures.js';

const { given } = specificationFor(callParkDecider);

const SAM = 'sam@contoso.com';
const settings: PolicySettings = { ...defaultSettings, allowCallPark: true, parkTimeoutSeconds: 300, ringBackSeconds: 30, maxRingBackAttempts: 2, fallback: 'sip:reception@contoso.com' };
const facts = (seconds: number) => ({ tenantId: TENANT, policy: 'Global', sessionId: 'session-1', callId: 'call-1', orbit: 10, orbitCode: '10', parker: alice, at: at(seconds) });
const parked = [parkAllowed(settings), parkedEvent({ settings })];
const history = (...events: CallParkEvent[]): CallParkEvent[] => [...parked, ...events];
const ringing = (attempt: number, seconds: number): RingBackStarted => ({ type: 'RingBackStarted', ...facts(seconds), attempt, unansweredAt: at(seconds + 30) });
const unanswered = (attempt: number, seconds: number): RingBackUnanswered => ({ type: 'RingBackUnanswered', ...facts(seconds), attempt, cause: 'no-answer', nextRingBackDueAt: at(seconds + 300) });

const sendToFallback = (seconds: number, sessionId = 'session-1'): SendToFallbackNow => ({ type: 'SendToFallbackNow', commandId: nextId('sup'), at: at(seconds), tenantId: TENANT, sessionId, supervisor: SAM });
const ringParker = (seconds: number, sessionId = 'session-1'): RingParkerNow => ({ type: 'RingParkerNow', commandId: nextId('sup'), at: at(seconds), tenantId: TENANT, sessionId, supervisor: SAM });
const sentOn = (seconds: number, attempts: number, ringingAttempt?: number): Expired => ({
  type: 'Expired',
  ...facts(seconds),
  attempts,
  cause: 'sent-by-supervisor',
  fallback: settings.fallback,
  ...(ringingAttempt === undefined ? {} : { ringingAttempt }),
  sentBy: SAM,
});

describe('a supervisor sends a parked call to its fallback now', () => {
  it('ends the session as Expired, with who sent it', () => {
    given(parked).when(sendToFallback(40)).then([sentOn(40, 0)]);
  });

  it('while the parker is being rung back, names the attempt that was ringing so it stops', () => {
    given(history(ringing(1, 300))).when(sendToFallback(310)).then([sentOn(310, 1, 1)]);
  });

  it('refuses with call-not-parked when the call has moved on', () => {
    given(history({ type: 'Abandoned', ...facts(20), phase: 'parked' })).when(sendToFallback(40)).thenRejects('call-not-parked');
    given(parked).when(sendToFallback(40, 'session-other')).thenRejects('call-not-parked');
    given(history(sentOn(40, 0))).when(sendToFallback(41)).thenRejects('call-not-parked');
  });

  it('the call is gone for every later ending: the caller hanging up is told so', () => {
    given(history(sentOn(40, 0))).when(hangUpCommand(50)).thenRejects('call-not-parked');
  });

  it('sends the call to its fallback and releases the orbit; nothing stops ringing when nothing rang', () => {
    expect(directivesFor(sentOn(700, 1)).map((directive) => directive.type)).toEqual(['send-to-fallback', 'release-orbit']);
    expect(directivesFor(sentOn(310, 1, 1)).map((directive) => directive.type)).toEqual(['stop-ringing', 'send-to-fallback', 'release-orbit']);
  });
});

describe('a supervisor rings the parker now', () => {
  const rungNow = (attempt: number, seconds: number): RingBackStarted => ({ ...ringing(attempt, seconds), requestedBy: SAM });

  it('starts the next attempt at once, whatever is left of the wait', () => {
    given(parked).when(ringParker(45)).then([rungNow(1, 45)]);
    given(history(ringing(1, 300), unanswered(1, 330))).when(ringParker(400)).then([rungNow(2, 400)]);
  });

  it('the park timeout that comes due afterwards finds the attempt taken and does nothing', () => {
    given(history(rungNow(1, 45))).when(ringBackDueCommand(300, 1)).thenNothing();
  });

  it('the attempt it started goes unanswered like any other', () => {
    given(history(rungNow(1, 45)))
      .when(ringBackFailedCommand(75, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' }))
      .then([unanswered(1, 75)].map((event) => ({ ...event, nextRingBackDueAt: at(375) })));
  });

  it('refuses while the parker is being rung already, and when the call has moved on', () => {
    given(history(ringing(1, 300))).when(ringParker(310)).thenRejects('ring-back-in-progress');
    given(parked).when(ringParker(45, 'session-other')).thenRejects('call-not-parked');
    given(history({ type: 'Abandoned', ...facts(20), phase: 'parked' })).when(ringParker(45)).thenRejects('call-not-parked');
  });

  it("refuses when the parker's endpoint cannot be rung back", () => {
    const fromPhone = [parkAllowed(settings), parkedEvent({ settings, parker: on(alice, 'pbx-phone') })];
    given(fromPhone).when(ringParker(45)).thenRejects('endpoint-cannot-ring-back');
  });

  it('rings the parker, as a due ring back does', () => {
    expect(directivesFor(rungNow(1, 45))).toEqual([{ type: 'ring-parker', tenantId: TENANT, callId: 'call-1', at: at(45), sessionId: 'session-1', orbitCode: '10', parker: alice, attempt: 1, ringUntil: at(75) }]);
  });
});
