import { describe, it } from 'vitest';
import { callParkDecider } from '../../domain/callPark.js';
import type { Abandoned, CallParkEvent, Expired, Retrieved, RingBackStarted, RingBackUnanswered } from '../../domain/events.js';
import { defaultSettings, type PolicySettings } from '../../domain/parkPolicy.js';
import { specificationFor } from '../support/deciderSpecification.js';
import {
  TENANT,
  alice,
  at,
  bob,
  hangUpCommand,
  on,
  parkAllowed,
  parkedEvent,
  retrieveCommand,
  retriever,
  ringBackAnsweredCommand,
  ringBackDueCommand,
  ringBackFailedCommand,
  setPolicyCommand,
} from '../support/callParkFixtures.js';

const { given } = specificationFor(callParkDecider);

const settings: PolicySettings = { ...defaultSettings, allowCallPark: true, parkTimeoutSeconds: 300, ringBackSeconds: 30, maxRingBackAttempts: 2, fallback: 'sip:reception@contoso.com' };
const facts = (seconds: number) => ({
  tenantId: TENANT,
  policy: 'Global',
  sessionId: 'session-1',
  callId: 'call-1',
  orbit: 10,
  orbitCode: '10',
  parker: alice,
  at: at(seconds),
});
const parked = [parkAllowed(settings), parkedEvent({ settings })];
const ringing = (attempt: number, seconds: number): RingBackStarted => ({ type: 'RingBackStarted', ...facts(seconds), attempt, unansweredAt: at(seconds + 30) });
const unanswered = (attempt: number, seconds: number, cause: RingBackUnanswered['cause'] = 'no-answer'): RingBackUnanswered => ({
  type: 'RingBackUnanswered',
  ...facts(seconds),
  attempt,
  cause,
  nextRingBackDueAt: at(seconds + 300),
});
/** Expired after its last ring back went unanswered: that attempt was ringing. */
const expired = (attempts: number, seconds: number, cause: Expired['cause'] = 'no-answer', fallback = settings.fallback): Expired => ({
  type: 'Expired',
  ...facts(seconds),
  attempts,
  cause,
  fallback,
  ringingAttempt: attempts,
});
const history = (...events: CallParkEvent[]): CallParkEvent[] => [...parked, ...events];
/** The same ending, when nothing was ringing. */
const withoutRinging = <E extends { ringingAttempt?: number }>({ ringingAttempt: _ringing, ...event }: E): Omit<E, 'ringingAttempt'> => event;

describe('ringing the parker back', () => {
  it('rings the parker back when parkTimeoutSeconds have passed', () => {
    given(parked).when(ringBackDueCommand(300)).then([ringing(1, 300)]);
  });

  it('a due timer that fires late (the service was down) still rings, from when it fired', () => {
    given(parked).when(ringBackDueCommand(900)).then([ringing(1, 900)]);
  });

  it('an early, stale or repeated timer does nothing', () => {
    given(parked).when(ringBackDueCommand(299)).thenNothing();
    given(parked).when(ringBackDueCommand(300, 2)).thenNothing();
    given(history(ringing(1, 300))).when(ringBackDueCommand(301, 1)).thenNothing();
    given(parked).when(ringBackDueCommand(300, 1, 'session-other')).thenNothing();
  });

  it('after the last unanswered attempt the call goes to its fallback, naming the attempt that was ringing', () => {
    given(history(ringing(1, 300))).when(ringBackFailedCommand(330, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' })).then([unanswered(1, 330)]);
    given(history(ringing(1, 300), unanswered(1, 330))).when(ringBackDueCommand(630, 2)).then([ringing(2, 630)]);
    given(history(ringing(1, 300), unanswered(1, 330), ringing(2, 630)))
      .when(ringBackFailedCommand(660, { sessionId: 'session-1', attempt: 2, cause: 'no-answer' }))
      .then([expired(2, 660)]);
  });

  it('the endpoint declining (486/603) counts as unanswered, from the signaling tier', () => {
    given(history(ringing(1, 300))).when(ringBackFailedCommand(310, { cause: 'busy', sipStatus: 486 })).then([unanswered(1, 310, 'busy')]);
  });

  it('with one attempt (Lync MaxCallPickupAttempts 1) the first unanswered ring back expires the call to voicemail', () => {
    const one = { ...defaultSettings, allowCallPark: true };
    const oneFacts = [parkAllowed(), parkedEvent({ settings: one }), { ...ringing(1, 300), unansweredAt: at(330) }];
    given(oneFacts).when(ringBackFailedCommand(330, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' })).then([expired(1, 330, 'no-answer', 'voicemail')]);
  });

  it('the scheduler’s unanswered timer does nothing before ringBackSeconds, or for an attempt that is over', () => {
    given(history(ringing(1, 300))).when(ringBackFailedCommand(329, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' })).thenNothing();
    given(history(ringing(1, 300), unanswered(1, 310, 'busy'))).when(ringBackFailedCommand(330, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' })).thenNothing();
  });

  it('an endpoint that cannot be rung back sends the call straight to its fallback when due, with nothing ringing', () => {
    const pbx = { type: 'EndpointCapabilitiesSet' as const, tenantId: TENANT, endpoint: 'pbx-phone' as const, capabilities: { park: true, retrieve: true, ringBack: false }, at: at(-10) };
    const parkedFromPbx = [parkAllowed(settings), pbx, parkedEvent({ settings, parker: on(alice, 'pbx-phone') })];
    given(parkedFromPbx)
      .when(ringBackDueCommand(300))
      .then([{ ...withoutRinging(expired(0, 300, 'cannot-ring-back')), parker: on(alice, 'pbx-phone') }]);
  });

  it('the parker answering the ring back retrieves the call, naming the attempt answered', () => {
    const answered: Retrieved = { type: 'Retrieved', ...facts(310), retriever: alice, via: 'ring-back', parkedAt: at(0), ringingAttempt: 1 };
    given(history(ringing(1, 300))).when(ringBackAnsweredCommand(310)).then([answered]);
    given(history(ringing(1, 300), unanswered(1, 330), ringing(2, 630))).when(ringBackAnsweredCommand(640)).then([{ ...answered, at: at(640), ringingAttempt: 2 }]);
  });

  it('answering when no ring back is in progress is refused', () => {
    given(parked).when(ringBackAnsweredCommand(10)).thenRejects('no-ring-back-in-progress');
  });

  it('keeps the settings the call was parked with (I5): a policy change later does not touch it', () => {
    const later = setPolicyCommand('Global', { ringBackSeconds: 120, maxRingBackAttempts: 1, fallback: 'disconnect' }, 100);
    const changed = given(parked).when(later).decision;
    const changeEvents = changed._tag === 'Right' ? [...changed.right] : [];
    given(history(...changeEvents)).when(ringBackDueCommand(300)).then([ringing(1, 300)]);
    given(history(...changeEvents, ringing(1, 300), unanswered(1, 330), ringing(2, 630)))
      .when(ringBackFailedCommand(660, { sessionId: 'session-1', attempt: 2, cause: 'no-answer' }))
      .then([expired(2, 660)]);
  });
});

describe('the caller hanging up', () => {
  const abandoned = (seconds: number, phase: Abandoned['phase'], ringingAttempt?: number): Abandoned => ({
    type: 'Abandoned',
    ...facts(seconds),
    phase,
    ...(ringingAttempt === undefined ? {} : { ringingAttempt }),
  });

  it('while parked abandons the session, with nothing ringing', () => {
    given(parked).when(hangUpCommand(20)).then([abandoned(20, 'parked')]);
    given(history(ringing(1, 300), unanswered(1, 330))).when(hangUpCommand(400)).then([abandoned(400, 'parked')]);
  });

  it('while the parker is being rung back abandons it too, naming the attempt ringing', () => {
    given(history(ringing(1, 300))).when(hangUpCommand(310)).then([abandoned(310, 'ringing-back', 1)]);
    given(history(ringing(1, 300), unanswered(1, 330), ringing(2, 630))).when(hangUpCommand(640)).then([abandoned(640, 'ringing-back', 2)]);
  });

  it('after the call was retrieved is told the call is not parked', () => {
    given(history({ type: 'Retrieved', ...facts(5), retriever: bob, via: 'orbit', parkedAt: at(0) })).when(hangUpCommand(20)).thenRejects('call-not-parked');
  });
});

describe('races: the first ending recorded wins (I2)', () => {
  const retrievedByBob: Retrieved = { type: 'Retrieved', ...facts(300), retriever: bob, via: 'orbit', parkedAt: at(0) };

  it('a retrieval recorded first makes the ring-back timer a no-op', () => {
    given(history(retrievedByBob)).when(ringBackDueCommand(300)).thenNothing();
  });

  it('a retrieval recorded first makes the unanswered timer a no-op', () => {
    given(history(ringing(1, 300), { ...retrievedByBob, at: at(310) })).when(ringBackFailedCommand(330, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' })).thenNothing();
  });

  it('a retrieval by orbit while the parker is being rung back wins over the answer that comes after it, naming the attempt ringing', () => {
    given(history(ringing(1, 300))).when(retrieveCommand('10', retriever(bob), 305)).then([{ ...retrievedByBob, at: at(305), ringingAttempt: 1 }]);
    given(history(ringing(1, 300), { ...retrievedByBob, at: at(305), ringingAttempt: 1 })).when(ringBackAnsweredCommand(306)).thenRejects('call-not-parked');
  });

  it('a retrieval by orbit while parked, between ring backs, names nothing ringing', () => {
    given(history(ringing(1, 300), unanswered(1, 330))).when(retrieveCommand('10', retriever(bob), 400)).then([{ ...retrievedByBob, at: at(400) }]);
  });

  it('an expiry recorded first leaves the retrieval with no call on the orbit', () => {
    given(history(ringing(1, 300), unanswered(1, 330), ringing(2, 630), expired(2, 660))).when(retrieveCommand('10', retriever(bob), 661)).thenRejects('no-call-on-orbit');
  });

  it('a hang-up recorded first leaves the ring back with nothing to do', () => {
    given(history({ type: 'Abandoned', ...facts(100), phase: 'parked' })).when(ringBackDueCommand(300)).thenNothing();
    given(history({ type: 'Abandoned', ...facts(100), phase: 'parked' })).when(ringBackFailedCommand(330, { cause: 'busy' })).thenRejects('call-not-parked');
  });
});
