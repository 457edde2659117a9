/**
 * Orbit presence from the events alone: what each session event leaves its orbit showing.
 */
import { describe, expect, it } from 'vitest';
import type { CallParkEvent } from '../../domain/events.js';
import { orbitKey, orbitStateAfter, type OrbitBusy, type OrbitState } from '../../domain/orbitPresence.js';
import { TENANT, alice, at, parkAllowed, parkedEvent } from '../support/callParkFixtures.js';

const facts = (seconds: number, sessionId = 'session-1') => ({ tenantId: TENANT, policy: 'Global', sessionId, callId: 'call-1', orbit: 10, orbitCode: '10', parker: alice, at: at(seconds) });

/** Fold the events as the orbit state publisher does: each from the state before it. */
const fold = (events: readonly CallParkEvent[]): (OrbitState | undefined)[] => {
  let busy: OrbitBusy | undefined;
  return events.map((event) => {
    const after = orbitStateAfter(event, busy);
    if (after !== undefined) busy = after.state === 'busy' ? after : undefined;
    return after;
  });
};

describe('orbit presence', () => {
  it('busy from the park, ringing back while the parker is rung, since the park throughout; free once the call is gone', () => {
    const states = fold([
      parkedEvent(),
      { type: 'RingBackStarted', ...facts(300), attempt: 1, unansweredAt: at(330) },
      { type: 'RingBackUnanswered', ...facts(330), attempt: 1, cause: 'busy', nextRingBackDueAt: at(630) },
      { type: 'Abandoned', ...facts(400), phase: 'parked' },
    ]);
    expect(states).toEqual([
      { state: 'busy', tenantId: TENANT, policy: 'Global', orbit: 10, orbitCode: '10', changedAt: at(0), sessionId: 'session-1', callId: 'call-1', parker: alice, since: at(0), ringingBack: false, attempt: 0 },
      expect.objectContaining({ state: 'busy', changedAt: at(300), since: at(0), ringingBack: true, attempt: 1 }),
      expect.objectContaining({ state: 'busy', changedAt: at(330), since: at(0), ringingBack: false, attempt: 1 }),
      { state: 'free', tenantId: TENANT, policy: 'Global', orbit: 10, orbitCode: '10', changedAt: at(400), sessionId: 'session-1' },
    ]);
  });

  it('a ring back of a session the orbit does not hold, and events about no orbit, change nothing', () => {
    expect(orbitStateAfter({ type: 'RingBackStarted', ...facts(300, 'session-other'), attempt: 1, unansweredAt: at(330) }, undefined)).toBeUndefined();
    expect(orbitStateAfter(parkAllowed(), undefined)).toBeUndefined();
  });

  it('keys an orbit by tenant, policy and number, so two policies with orbit 10 are two lamps', () => {
    expect(orbitKey({ tenantId: TENANT, policy: 'Global', orbit: 10 })).not.toBe(orbitKey({ tenantId: TENANT, policy: 'Sales', orbit: 10 }));
  });
});
