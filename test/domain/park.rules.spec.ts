import { describe, expect, it } from 'vitest';
import { callParkDecider } from '../../domain/callPark.js';
import { defaultCapabilities, endpoints } from '../../domain/endpoint.js';
import type { ParkRejected } from '../../domain/events.js';
import { defaultSettings } from '../../domain/parkPolicy.js';
import { specificationFor } from '../support/deciderSpecification.js';
import { TENANT, alice, at, bob, granted, on, parkAllowed, parkCommand, parkedEvent, policyCreated, retrieveCommand, retriever } from '../support/callParkFixtures.js';

const { given } = specificationFor(callParkDecider);
const allowed = { ...defaultSettings, allowCallPark: true };

const refusedPark = (reason: ParkRejected['reason'], over: Partial<ParkRejected> = {}): ParkRejected => ({
  type: 'ParkRejected',
  tenantId: TENANT,
  callId: 'call-1',
  parker: alice,
  media: 'audio',
  reason,
  at: at(0),
  policy: 'Global',
  ...over,
});

describe('parking a call', () => {
  it('parks on the first orbit of the range, with the settings it was parked with and its ring back due time', () => {
    given([parkAllowed()]).when(parkCommand()).then([parkedEvent({ orbit: 10, settings: allowed })]);
  });

  it('is refused, and the refusal recorded, when the policy does not allow call park (the default)', () => {
    given([]).when(parkCommand()).thenRejects('call-park-not-allowed', refusedPark('call-park-not-allowed'));
  });

  it.each(['video', 'im', 'conference'] as const)('refuses a %s call: only audio calls can be parked', (media) => {
    given([parkAllowed()]).when(parkCommand({ media })).thenRejects('media-not-parkable', refusedPark('media-not-parkable', { media }));
  });

  it('refuses a call that is already parked (I3)', () => {
    given([parkAllowed(), parkedEvent()]).when(parkCommand({ sessionId: 'session-2', parker: bob })).thenRejects('call-already-parked');
  });

  it('parks the same call again once its session has ended', () => {
    const retrieved = given([parkAllowed(), parkedEvent()]).when(retrieveCommand('10', retriever(bob), 5)).decision;
    expect(retrieved._tag).toBe('Right');
    const events = retrieved._tag === 'Right' ? retrieved.right : [];
    given([parkAllowed({ orbitReuseQuarantineSeconds: 0 }), parkedEvent({ settings: { ...allowed, orbitReuseQuarantineSeconds: 0 } }), ...events])
      .when(parkCommand({ sessionId: 'session-2', seconds: 6 }))
      .then([parkedEvent({ sessionId: 'session-2', orbit: 11, seconds: 6, settings: { ...allowed, orbitReuseQuarantineSeconds: 0 } })]);
  });

  it('answers no-free-orbit when every orbit of the range holds a call', () => {
    const range = { pickupRangeStart: 10, pickupRangeEnd: 11 };
    const settings = { ...allowed, ...range };
    given([parkAllowed(range), parkedEvent({ settings, orbit: 10 }), parkedEvent({ settings, orbit: 11, sessionId: 'session-2', callId: 'call-2' })])
      .when(parkCommand({ sessionId: 'session-3', callId: 'call-3' }))
      .thenRejects('no-free-orbit', refusedPark('no-free-orbit', { callId: 'call-3' }));
  });

  describe('the endpoint matrix, park column', () => {
    it.each(endpoints.map((endpoint) => [endpoint, defaultCapabilities[endpoint].park] as const))('%s may park: %s', (endpoint, mayPark) => {
      const spec = given([parkAllowed()]).when(parkCommand({ parker: on(alice, endpoint) }));
      if (mayPark) spec.then([parkedEvent({ parker: on(alice, endpoint) })]);
      else spec.thenRejects('endpoint-cannot-park', refusedPark('endpoint-cannot-park', { parker: on(alice, endpoint) }));
    });

    it('follows the tenant override of a row', () => {
      const override = { type: 'EndpointCapabilitiesSet' as const, tenantId: TENANT, endpoint: 'pbx-phone' as const, capabilities: { park: true, retrieve: true, ringBack: true }, at: at(-50) };
      given([parkAllowed(), override]).when(parkCommand({ parker: on(alice, 'pbx-phone') })).then([parkedEvent({ parker: on(alice, 'pbx-phone') })]);
      const revoked = { ...override, endpoint: 'teams-desktop' as const, capabilities: { park: false, retrieve: true, ringBack: true } };
      given([parkAllowed(), revoked]).when(parkCommand()).thenRejects('endpoint-cannot-park');
    });
  });

  describe('the policy the parker is granted', () => {
    it('parks under the granted policy, in its own orbit range', () => {
      const sales = policyCreated('Sales', { allowCallPark: true, pickupRangeStart: 500, pickupRangeEnd: 520 });
      given([sales, granted(alice.userId, 'Sales')])
        .when(parkCommand())
        .then([parkedEvent({ policy: 'Sales', orbit: 500, settings: sales.settings })]);
    });

    it('falls back to Global for users granted no policy', () => {
      given([policyCreated('Sales', { allowCallPark: true }), granted(bob.userId, 'Sales')]).when(parkCommand()).thenRejects('call-park-not-allowed');
    });

    it('writes Lync-style orbit codes with the prefix', () => {
      const lync = { pickupRangeStart: 3000, pickupRangeEnd: 3999, orbitPrefix: '*' as const };
      given([parkAllowed(lync)]).when(parkCommand()).then([parkedEvent({ orbit: 3000, orbitCode: '*3000', settings: { ...allowed, ...lync } })]);
    });
  });

  describe('directed park (the parker names the orbit)', () => {
    const directed = { ...allowed, allowDirectedPark: true };

    it('parks on the named orbit', () => {
      given([parkAllowed({ allowDirectedPark: true })]).when(parkCommand({ orbit: '42' })).then([parkedEvent({ orbit: 42, directed: true, settings: directed })]);
    });

    it('is refused when the policy does not allow it', () => {
      given([parkAllowed()]).when(parkCommand({ orbit: '42' })).thenRejects('directed-park-not-allowed', refusedPark('directed-park-not-allowed', { orbitCode: '42' }));
    });

    it('is refused on an orbit that holds a call', () => {
      given([parkAllowed({ allowDirectedPark: true }), parkedEvent({ orbit: 42, directed: true, settings: directed, callId: 'call-0', sessionId: 'session-0' })])
        .when(parkCommand({ orbit: '42' }))
        .thenRejects('orbit-occupied');
    });

    it('is refused outside the policy range', () => {
      given([parkAllowed({ allowDirectedPark: true })]).when(parkCommand({ orbit: '100' })).thenRejects('orbit-outside-your-policy');
    });

    it('is refused for something that is no orbit code', () => {
      given([parkAllowed({ allowDirectedPark: true })]).when(parkCommand({ orbit: 'forty' })).thenRejects('invalid-orbit-code');
    });

    it('does not move the sequential cursor', () => {
      given([parkAllowed({ allowDirectedPark: true }), parkedEvent({ orbit: 42, directed: true, settings: directed, callId: 'call-0', sessionId: 'session-0' })])
        .when(parkCommand())
        .then([parkedEvent({ orbit: 10, settings: directed })]);
    });
  });
});

describe('choosing the orbit', () => {
  const settingsWith = (change: Partial<typeof allowed>) => ({ ...allowed, ...change });
  const occupied = (orbit: number, n: number, settings = allowed, seconds = 0) =>
    parkedEvent({ orbit, sessionId: `session-o${n}`, callId: `call-o${n}`, settings, seconds });
  const ended = (n: number, orbit: number, seconds: number) => ({
    type: 'Abandoned' as const,
    tenantId: TENANT,
    policy: 'Global',
    sessionId: `session-o${n}`,
    callId: `call-o${n}`,
    orbit,
    orbitCode: String(orbit),
    parker: alice,
    at: at(seconds),
    phase: 'parked' as const,
  });

  it('sequential: the next orbit after the one issued last, wrapping round the range', () => {
    const range = { pickupRangeStart: 10, pickupRangeEnd: 12, orbitReuseQuarantineSeconds: 0 };
    const settings = settingsWith(range);
    given([parkAllowed(range), occupied(10, 1, settings), occupied(11, 2, settings), ended(1, 10, 1)])
      .when(parkCommand({ seconds: 2 }))
      .then([parkedEvent({ orbit: 12, seconds: 2, settings })]);
    given([parkAllowed(range), occupied(10, 1, settings), occupied(11, 2, settings), occupied(12, 3, settings), ended(1, 10, 1)])
      .when(parkCommand({ seconds: 2 }))
      .then([parkedEvent({ orbit: 10, seconds: 2, settings })]);
  });

  it('lowest-free: the lowest free orbit', () => {
    const change = { orbitAllocation: 'lowest-free' as const, orbitReuseQuarantineSeconds: 0 };
    const settings = settingsWith(change);
    given([parkAllowed(change), occupied(10, 1, settings), occupied(11, 2, settings), ended(1, 10, 1)])
      .when(parkCommand({ seconds: 2 }))
      .then([parkedEvent({ orbit: 10, seconds: 2, settings })]);
  });

  it('random: the draw that comes with the command picks among the free orbits', () => {
    const change = { orbitAllocation: 'random' as const, pickupRangeStart: 10, pickupRangeEnd: 19 };
    const settings = settingsWith(change);
    given([parkAllowed(change)]).when(parkCommand({ random: 0 })).then([parkedEvent({ orbit: 10, settings })]);
    given([parkAllowed(change)]).when(parkCommand({ random: 0.55 })).then([parkedEvent({ orbit: 15, settings })]);
    given([parkAllowed(change)]).when(parkCommand({ random: 0.999 })).then([parkedEvent({ orbit: 19, settings })]);
  });

  it('keeps a freed orbit out of rotation for the quarantine while others are free (I8)', () => {
    const change = { orbitAllocation: 'lowest-free' as const, orbitReuseQuarantineSeconds: 60 };
    const settings = settingsWith(change);
    const history = [parkAllowed(change), occupied(10, 1, settings), ended(1, 10, 5)];
    given(history).when(parkCommand({ seconds: 30 })).then([parkedEvent({ orbit: 11, seconds: 30, settings })]);
    given(history).when(parkCommand({ seconds: 65 })).then([parkedEvent({ orbit: 10, seconds: 65, settings })]);
  });

  it('issues a quarantined orbit, the one freed longest ago, when no other is free', () => {
    const change = { pickupRangeStart: 10, pickupRangeEnd: 12, orbitReuseQuarantineSeconds: 600 };
    const settings = settingsWith(change);
    given([parkAllowed(change), occupied(10, 1, settings), occupied(11, 2, settings), occupied(12, 3, settings), ended(2, 11, 5), ended(1, 10, 7)])
      .when(parkCommand({ seconds: 8 }))
      .then([parkedEvent({ orbit: 11, seconds: 8, settings })]);
  });
});
