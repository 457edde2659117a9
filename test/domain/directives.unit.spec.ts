/**
 * The directives each ending of a ring back calls for: whatever ends it, the media tier is told
 * to stop ringing the parker for the attempt that was ringing, before anything else. The events
 * are decided by the real decider from a history in which the parker is being rung back.
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { callParkDecider } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { directivesFor, type Directive } from '../../domain/directives.js';
import type { Abandoned, CallParkEvent, Expired, Retrieved } from '../../domain/events.js';
import { defaultSettings, type PolicySettings } from '../../domain/parkPolicy.js';
import { at, bob, hangUpCommand, parkAllowed, parkedEvent, retrieveCommand, retriever, ringBackAnsweredCommand, ringBackDueCommand, ringBackFailedCommand } from '../support/callParkFixtures.js';

const settings: PolicySettings = { ...defaultSettings, allowCallPark: true, parkTimeoutSeconds: 300, ringBackSeconds: 30, maxRingBackAttempts: 2, fallback: 'voicemail' };

/** Decide `commands` one after another from a parked call, and answer the events of the last. */
const decided = (...commands: CallParkCommand[]): CallParkEvent[] => {
  let state = callParkDecider.initialState();
  for (const event of [parkAllowed(settings), parkedEvent({ settings })]) state = callParkDecider.evolve(state, event);
  let last: readonly CallParkEvent[] = [];
  for (const command of commands) {
    const decision = callParkDecider.decide(command, state);
    if (E.isLeft(decision)) throw new Error(`${command.type} was refused: ${decision.left.reason}`);
    last = decision.right;
    for (const event of last) state = callParkDecider.evolve(state, event);
  }
  return [...last];
};

const directivesOf = (events: readonly CallParkEvent[]): Directive[] => events.flatMap(directivesFor);
const typesOf = (directives: readonly Directive[]): string[] => directives.map((directive) => directive.type);
const stopsOf = (directives: readonly Directive[]) => directives.filter((directive) => directive.type === 'stop-ringing');

/** The second ring back is ringing: attempt 1 went unanswered, attempt 2 started. */
const secondRingBack = [ringBackDueCommand(300), ringBackFailedCommand(330, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' }), ringBackDueCommand(630, 2)];

describe('every ending of a ring back stops it, naming the attempt that was ringing', () => {
  it('retrieved by its orbit: stop ringing, connect the caller to the retriever, release the orbit', () => {
    const directives = directivesOf(decided(...secondRingBack, retrieveCommand('10', retriever(bob), 640)));
    expect(typesOf(directives)).toEqual(['stop-ringing', 'connect-caller', 'release-orbit']);
    expect(stopsOf(directives)).toEqual([expect.objectContaining({ sessionId: 'session-1', callId: 'call-1', attempt: 2, at: at(640) })]);
  });

  it('answered by the parker: stop ringing the attempt, connect the caller to the parker, release the orbit', () => {
    const directives = directivesOf(decided(...secondRingBack, ringBackAnsweredCommand(640)));
    expect(typesOf(directives)).toEqual(['stop-ringing', 'connect-caller', 'release-orbit']);
    expect(stopsOf(directives)).toEqual([expect.objectContaining({ attempt: 2 })]);
  });

  it('the caller hung up: stop ringing the attempt, release the orbit', () => {
    const directives = directivesOf(decided(...secondRingBack, hangUpCommand(640)));
    expect(typesOf(directives)).toEqual(['stop-ringing', 'release-orbit']);
    expect(stopsOf(directives)).toEqual([expect.objectContaining({ attempt: 2 })]);
  });

  it('expired after the last attempt went unanswered: stop ringing it, send the call to its fallback, release the orbit', () => {
    const directives = directivesOf(decided(...secondRingBack, ringBackFailedCommand(660, { sessionId: 'session-1', attempt: 2, cause: 'no-answer' })));
    expect(typesOf(directives)).toEqual(['stop-ringing', 'send-to-fallback', 'release-orbit']);
    expect(stopsOf(directives)).toEqual([expect.objectContaining({ attempt: 2 })]);
  });

  it('an unanswered attempt with attempts left stops ringing that attempt', () => {
    expect(directivesOf(decided(ringBackDueCommand(300), ringBackFailedCommand(330, { sessionId: 'session-1', attempt: 1, cause: 'busy' })))).toEqual([
      expect.objectContaining({ type: 'stop-ringing', attempt: 1 }),
    ]);
  });
});

describe('an ending with nothing ringing stops nothing', () => {
  it('retrieved, hung up or expired while parked', () => {
    expect(typesOf(directivesOf(decided(retrieveCommand('10', retriever(bob), 10))))).toEqual(['connect-caller', 'release-orbit']);
    expect(typesOf(directivesOf(decided(ringBackDueCommand(300), ringBackFailedCommand(330, { sessionId: 'session-1', attempt: 1, cause: 'no-answer' }), hangUpCommand(400))))).toEqual([
      'release-orbit',
    ]);
  });
});

describe('events stored before they named the attempt ringing', () => {
  const base = { tenantId: 'contoso', policy: 'Global', sessionId: 'session-1', callId: 'call-1', orbit: 10, orbitCode: '10', parker: bob, at: at(640) };

  it('still stop a ring back they say was ringing, never naming an attempt that did not exist', () => {
    const abandoned: Abandoned = { type: 'Abandoned', ...base, phase: 'ringing-back' };
    const answered: Retrieved = { type: 'Retrieved', ...base, retriever: bob, via: 'ring-back', parkedAt: at(0) };
    for (const event of [abandoned, answered]) {
      const stops = stopsOf(directivesFor(event));
      expect(stops).toHaveLength(1);
      expect(stops[0]).not.toHaveProperty('attempt');
    }
  });

  it('an old expiry after an unanswered ring back stops its last attempt; one that could not ring stops nothing', () => {
    const expired: Expired = { type: 'Expired', ...base, attempts: 2, cause: 'no-answer', fallback: 'voicemail' };
    expect(stopsOf(directivesFor(expired))).toEqual([expect.objectContaining({ attempt: 2 })]);
    expect(stopsOf(directivesFor({ ...expired, attempts: 0, cause: 'cannot-ring-back' }))).toEqual([]);
  });
});
