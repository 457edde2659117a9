/**
 * The invariants of DOMAIN.md, held over random interleavings: parks (automatic and directed, by
 * several parkers in two or three policies with small ranges that fill up), retrievals, due ring
 * backs, answers, unanswered rings, hang-ups and policy changes, at increasing instants. Each
 * command is decided against the folded state and its events are folded in, as the handler does;
 * after every event the state is held against a model kept from the events alone.
 */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../../domain/callPark.js';
import { capabilities, evolve, initialState, policyOf, type CallParkState } from '../../domain/callParkState.js';
import type { CallParkCommand, ParkCall, RetrieveCall, UnansweredCause } from '../../domain/commands.js';
import { fold } from '../../domain/decider.js';
import type { Endpoint, Media } from '../../domain/endpoint.js';
import type { CallParkEvent, Parked } from '../../domain/events.js';
import type { OrbitAllocation, OrbitPrefix, PolicySettingsChange } from '../../domain/parkPolicy.js';
import { rejectionReasons } from '../../domain/rejection.js';
import type { Decision } from '../../domain/parkSession.js';
import { decodeState, encodeState } from '../../domain/storedForm/snapshot.js';
import { fromStoredForm, toStoredForm } from '../../domain/storedForm/storedEvent.js';
import { TENANT, T0, alice, at, bob, hangUpCommand, parkAllowed, parkCommand, retrieveCommand, retriever } from '../support/callParkFixtures.js';

const SECOND = 1000;
const users = ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'dave@contoso.com', 'erin@contoso.com'];
const policyNames = ['Global', 'Sales', 'Support'];
/** Endpoints parkers act from: most may park, pbx-phone and mobile may not. */
const parkEndpoints: Endpoint[] = ['teams-desktop', 'teams-mobile', 'lync-2013', 'teams-web', 'lync-2010-attendant', 'teams-desktop', 'pbx-phone', 'mobile'];
/** Endpoints retrievers act from: most may retrieve, pstn and sfb-ip-phone may not. */
const retrieveEndpoints: Endpoint[] = ['teams-desktop', 'teams-ip-phone', 'common-area-phone', 'lync-2010', 'teams-mac', 'pstn', 'sfb-ip-phone'];
const causes: UnansweredCause[] = ['no-answer', 'busy', 'unavailable', 'timeout', 'declined'];

// ---------------------------------------------------------------------------------------------
// What fast-check draws: the policies, and intents that are turned into commands against the
// state at the time (so a retrieval can aim at an orbit that holds a call, or at one that does not).

interface PolicySetup {
  readonly pickupRangeStart: number;
  readonly size: number;
  readonly orbitPrefix: OrbitPrefix;
  readonly orbitAllocation: OrbitAllocation;
  readonly orbitReuseQuarantineSeconds: number;
  readonly parkTimeoutSeconds: number;
  readonly ringBackSeconds: number;
  readonly maxRingBackAttempts: number;
  readonly allowDirectedPark: boolean;
  readonly fallback: string;
}

const policySetup: fc.Arbitrary<PolicySetup> = fc.record({
  pickupRangeStart: fc.constantFrom(10, 10, 20),
  size: fc.integer({ min: 2, max: 5 }),
  orbitPrefix: fc.constantFrom<OrbitPrefix>('', '', '*', '#'),
  orbitAllocation: fc.constantFrom<OrbitAllocation>('sequential', 'lowest-free', 'random'),
  orbitReuseQuarantineSeconds: fc.constantFrom(0, 5, 30, 120),
  parkTimeoutSeconds: fc.integer({ min: 10, max: 40 }),
  ringBackSeconds: fc.integer({ min: 5, max: 15 }),
  maxRingBackAttempts: fc.integer({ min: 1, max: 3 }),
  allowDirectedPark: fc.boolean(),
  fallback: fc.constantFrom('voicemail', 'disconnect', 'sip:operator@contoso.com'),
});

const settingsOf = ({ size, ...setup }: PolicySetup): PolicySettingsChange => ({ ...setup, allowCallPark: true, pickupRangeEnd: setup.pickupRangeStart + size - 1 });

interface Setup {
  readonly policies: readonly PolicySetup[];
  /** For each user, the index of the policy granted (0: Global). */
  readonly grants: readonly number[];
}

const setup: fc.Arbitrary<Setup> = fc
  .integer({ min: 2, max: 3 })
  .chain((count) => fc.record({ policies: fc.array(policySetup, { minLength: count, maxLength: count }), grants: fc.array(fc.nat(count - 1), { minLength: users.length, maxLength: users.length }) }));

type Intent =
  | {
      kind: 'park';
      user: number;
      endpoint: number;
      call: 'new' | 'parked' | 'ended';
      /** A session id of its own, or (as a client that sends its own ids might) the id of a session still parked. */
      session: 'new' | 'in-use';
      pick: number;
      media: Media;
      directed: { orbit: number; style: DialStyle } | null;
      random: number;
    }
  | { kind: 'retrieve'; user: number; endpoint: number; federated: boolean; target: { occupied: true; pick: number } | { occupied: false; orbit: number }; style: DialStyle }
  | { kind: 'ringBackDue'; pick: number; stale: boolean; attempt: -1 | 0 | 1; onTime: boolean }
  | { kind: 'answer'; pick: number; stale: boolean }
  | { kind: 'unanswered'; pick: number; stale: boolean; fromScheduler: boolean; attempt: -1 | 0 | 1 | null; onTime: boolean; cause: UnansweredCause }
  | { kind: 'hangUp'; pick: number; stale: boolean }
  | { kind: 'setPolicy'; policy: number; change: PolicySettingsChange }
  | { kind: 'grant'; user: number; policy: number }
  | { kind: 'capabilities'; endpoint: number; ringBack: boolean; reset: boolean };

/** How an orbit is dialed: its code, its digits without the prefix, with a prefix it does not have, or not as an orbit code at all. */
type DialStyle = 'code' | 'digits' | 'other-prefix' | 'garbage';
const dialStyle = fc.constantFrom<DialStyle>('code', 'code', 'code', 'digits', 'other-prefix', 'garbage');

interface Step {
  /** Milliseconds after the previous command. */
  readonly dt: number;
  readonly intent: Intent;
}

const policyChange: fc.Arbitrary<PolicySettingsChange> = fc.record(
  {
    allowCallPark: fc.constantFrom(true, true, true, true, true, true, true, false),
    pickupRangeStart: fc.constantFrom(10, 20),
    pickupRangeEnd: fc.constantFrom(11, 12, 14, 21, 23),
    orbitPrefix: fc.constantFrom<OrbitPrefix>('', '*'),
    parkTimeoutSeconds: fc.integer({ min: 10, max: 40 }),
    ringBackSeconds: fc.integer({ min: 5, max: 15 }),
    maxRingBackAttempts: fc.integer({ min: 1, max: 3 }),
    fallback: fc.constantFrom('voicemail', 'disconnect', 'sip:night@contoso.com'),
    orbitAllocation: fc.constantFrom<OrbitAllocation>('sequential', 'lowest-free', 'random'),
    orbitReuseQuarantineSeconds: fc.constantFrom(0, 5, 30, 120),
    allowDirectedPark: fc.boolean(),
  },
  { requiredKeys: [] },
);

const attemptOffset = fc.constantFrom<-1 | 0 | 1>(0, 0, 0, -1, 1);
const intent: fc.Arbitrary<Intent> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('park' as const),
      user: fc.nat(users.length - 1),
      endpoint: fc.nat(parkEndpoints.length - 1),
      call: fc.constantFrom<'new' | 'parked' | 'ended'>('new', 'new', 'new', 'new', 'parked', 'ended'),
      session: fc.constantFrom<'new' | 'in-use'>('new', 'new', 'new', 'new', 'new', 'new', 'new', 'in-use'),
      pick: fc.nat(),
      media: fc.constantFrom<Media>('audio', 'audio', 'audio', 'audio', 'audio', 'audio', 'audio', 'audio', 'video', 'im'),
      directed: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.record({ orbit: fc.integer({ min: 8, max: 26 }), style: dialStyle }) }),
      random: fc.integer({ min: 0, max: 999 }).map((n) => n / 1000),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('retrieve' as const),
      user: fc.nat(users.length - 1),
      endpoint: fc.nat(retrieveEndpoints.length - 1),
      federated: fc.constantFrom(false, false, false, false, false, false, false, true),
      target: fc.oneof(
        { weight: 4, arbitrary: fc.record({ occupied: fc.constant(true as const), pick: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ occupied: fc.constant(false as const), orbit: fc.integer({ min: 8, max: 26 }) }) },
      ),
      style: dialStyle,
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ringBackDue' as const), pick: fc.nat(), stale: fc.constantFrom(false, false, false, true), attempt: attemptOffset, onTime: fc.constantFrom(true, true, true, false) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(), stale: fc.constantFrom(false, false, false, true) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('unanswered' as const),
      pick: fc.nat(),
      stale: fc.constantFrom(false, false, false, true),
      fromScheduler: fc.boolean(),
      attempt: fc.option(attemptOffset, { freq: 2 }),
      onTime: fc.constantFrom(true, true, true, false),
      cause: fc.constantFrom(...causes),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('hangUp' as const), pick: fc.nat(), stale: fc.constantFrom(false, false, false, true) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setPolicy' as const), policy: fc.nat(2), change: policyChange }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grant' as const), user: fc.nat(users.length - 1), policy: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('capabilities' as const), endpoint: fc.nat(parkEndpoints.length - 1), ringBack: fc.boolean(), reset: fc.boolean() }) },
);

const step: fc.Arbitrary<Step> = fc.record({ dt: fc.oneof(fc.integer({ min: 1, max: 3_000 }), fc.integer({ min: 1_000, max: 45_000 })), intent });

// ---------------------------------------------------------------------------------------------
// The model: what the events alone say about each session, and the checks against it.

interface SessionRecord {
  readonly parked: Parked;
  phase: 'parked' | 'ringing-back';
  /** How many ring backs have started. */
  ringBacks: number;
  dueAt: number;
  /** How many events ended it (I2: exactly one, in the end). */
  endings: number;
}

const sessionEvents = new Set(['Parked', 'Retrieved', 'RingBackStarted', 'RingBackUnanswered', 'Expired', 'Abandoned']);
const endingEvents = new Set(['Retrieved', 'Expired', 'Abandoned']);

/** A plain form of anything here (Maps as their entries), cheap to compare. */
const plain = (value: unknown): string => JSON.stringify(value, (_, inner: unknown) => (inner instanceof Map ? [...inner] : inner === undefined ? '(undefined)' : inner));

/** `expect(actual).toEqual(expected)`, paid for only when they differ (the properties run it thousands of times). */
const same = (actual: unknown, expected: unknown, message?: string): void => {
  if (plain(actual) !== plain(expected)) expect(actual, message).toEqual(expected);
};

/**
 * `expect`, paid for only when a check fails: the properties check thousands of things a run, and
 * a passing `check` costs a comparison where `expect` builds an assertion.
 */
const check = (actual: unknown, message?: string) => ({
  toBe: (expected: unknown): void => {
    if (!Object.is(actual, expected)) expect(actual, message).toBe(expected);
  },
  toEqual: (expected: unknown): void => same(actual, expected, message),
  toBeGreaterThan: (bound: number): void => {
    if (!((actual as number) > bound)) expect(actual, message).toBeGreaterThan(bound);
  },
  toBeGreaterThanOrEqual: (bound: number): void => {
    if (!((actual as number) >= bound)) expect(actual, message).toBeGreaterThanOrEqual(bound);
  },
  toBeLessThan: (bound: number): void => {
    if (!((actual as number) < bound)) expect(actual, message).toBeLessThan(bound);
  },
  toBeLessThanOrEqual: (bound: number): void => {
    if (!((actual as number) <= bound)) expect(actual, message).toBeLessThanOrEqual(bound);
  },
  toContain: (item: unknown): void => {
    if (!(actual as readonly unknown[]).includes(item)) expect(actual, message).toContain(item);
  },
  toMatch: (pattern: RegExp): void => {
    if (!pattern.test(actual as string)) expect(actual, message).toMatch(pattern);
  },
  toBeUndefined: (): void => {
    if (actual !== undefined) expect(actual, message).toBeUndefined();
  },
  toBeDefined: (): void => {
    if (actual === undefined) expect(actual, message).toBeDefined();
  },
});

const pickFrom = <T>(items: readonly T[], n: number): T | undefined => (items.length === 0 ? undefined : items[n % items.length]);

const range = (start: number, end: number): number[] => Array.from({ length: Math.max(0, end - start + 1) }, (_, i) => start + i);

/** A whole run: the commands decided, what each decided, the log, and the state folded step by step. */
interface Run {
  readonly commands: CallParkCommand[];
  readonly decisions: Decision[];
  readonly log: CallParkEvent[];
  state: CallParkState;
  readonly sessions: Map<string, SessionRecord>;
}

class World implements Run {
  readonly commands: CallParkCommand[] = [];
  readonly decisions: Decision[] = [];
  readonly log: CallParkEvent[] = [];
  state = initialState();
  readonly sessions = new Map<string, SessionRecord>();
  private now = T0;
  private counter = 0;

  private next(prefix: string): string {
    return `${prefix}-${++this.counter}`;
  }

  private active(): SessionRecord[] {
    return [...this.sessions.values()].filter((record) => record.endings === 0);
  }

  private ended(): SessionRecord[] {
    return [...this.sessions.values()].filter((record) => record.endings > 0);
  }

  /** Decide a command against the state, check it, fold what it recorded. */
  send(command: CallParkCommand): Decision {
    const state = this.state;
    // decide never changes the state it reads (checked on every third command), and decides the same twice.
    const before = this.commands.length % 3 === 0 ? structuredClone(state) : undefined;
    const decision = decide(command, state);
    if (before) same(state, before, `${command.type} changed the state it decided on`);
    same(decide(command, state), decision);
    this.checkDecision(command, decision);

    const events = E.isLeft(decision) ? (decision.left.recorded ? [decision.left.recorded] : []) : decision.right;
    for (const event of events) {
      this.checkEvent(command, event);
      this.state = evolve(this.state, event);
      this.afterEvent(event);
    }
    this.checkState();
    this.commands.push(command);
    this.decisions.push(decision);
    this.log.push(...events);
    return decision;
  }

  setUp({ policies, grants }: Setup): void {
    const base = () => ({ commandId: this.next('admin'), at: this.tick(1), tenantId: TENANT });
    policies.forEach((policy, index) => {
      const decision =
        index === 0
          ? this.send({ type: 'SetPolicy', ...base(), policy: policyNames[0]!, settings: settingsOf(policy) })
          : this.send({ type: 'NewPolicy', ...base(), policy: policyNames[index]!, settings: settingsOf(policy) });
      expect(E.isRight(decision)).toBe(true);
    });
    grants.forEach((policy, user) => {
      if (policy > 0) this.send({ type: 'GrantPolicy', ...base(), userId: users[user]!, policy: policyNames[policy]! });
    });
  }

  private tick(dt: number): number {
    this.now += dt;
    return this.now;
  }

  play({ dt, intent }: Step): void {
    const command = this.commandFor(intent, this.tick(dt));
    if (command.at > this.now) this.now = command.at;
    this.send(command);
  }

  /** Send the scheduler's timers, in time, until every session has ended. */
  drain(): void {
    for (let round = 0; round < 100 && this.state.sessions.size > 0; round++) {
      const session = [...this.state.sessions.values()].sort((a, b) => a.dueAt - b.dueAt)[0]!;
      const at = Math.max(this.tick(1), session.dueAt);
      this.now = at;
      const base = { commandId: this.next('timer'), at, tenantId: TENANT, callId: session.callId, sessionId: session.sessionId };
      const decision =
        session.phase === 'parked'
          ? this.send({ type: 'RingBackDue', ...base, attempt: session.attempt + 1 })
          : this.send({ type: 'RingBackFailed', ...base, attempt: session.attempt, cause: 'no-answer' });
      expect(E.isRight(decision) && decision.right.length > 0, `a due timer of ${session.sessionId} did nothing`).toBe(true);
    }
    expect(this.state.sessions.size).toBe(0);
  }

  private dial(orbit: number, prefix: string, style: DialStyle): string {
    switch (style) {
      case 'code':
        return `${prefix}${orbit}`;
      case 'digits':
        return String(orbit);
      case 'other-prefix':
        return `${prefix === '*' ? '#' : '*'}${orbit}`;
      case 'garbage':
        return `orbit ${orbit}`;
    }
  }

  private commandFor(intent: Intent, at: number): CallParkCommand {
    const base = { commandId: this.next('cmd'), at, tenantId: TENANT };
    // A session the command is about: an active one, or (stale) one that has ended.
    // Timers and ring-back answers mostly aim at sessions in the phase they are about.
    const target = (pick: number, stale: boolean, phase?: SessionRecord['phase']): { sessionId: string; callId: string; record?: SessionRecord } => {
      const inPhase = this.active().filter((record) => record.phase === phase);
      const record = (stale ? undefined : pickFrom(pick % 4 === 0 || inPhase.length === 0 ? this.active() : inPhase, pick >> 2)) ?? pickFrom(this.ended(), pick);
      return record ? { sessionId: record.parked.sessionId, callId: record.parked.callId, record } : { sessionId: 'session-unknown', callId: 'call-unknown' };
    };
    const offset = (attempt: number, by: -1 | 0 | 1 | null): number | undefined => (by === null ? undefined : attempt + by);

    switch (intent.kind) {
      case 'park': {
        const userId = users[intent.user]!;
        const existing = intent.call === 'parked' ? pickFrom(this.active(), intent.pick) : intent.call === 'ended' ? pickFrom(this.ended(), intent.pick) : undefined;
        const inUse = intent.session === 'in-use' ? pickFrom(this.active(), intent.pick >> 3) : undefined;
        const command: ParkCall = {
          type: 'ParkCall',
          ...base,
          sessionId: inUse?.parked.sessionId ?? this.next('session'),
          callId: existing?.parked.callId ?? this.next('call'),
          parker: { userId, endpoint: parkEndpoints[intent.endpoint]! },
          media: intent.media,
          random: intent.random,
        };
        if (intent.directed === null) return command;
        const prefix = policyOf(this.state, userId).settings.orbitPrefix;
        return { ...command, orbit: this.dial(intent.directed.orbit, prefix, intent.directed.style) };
      }
      case 'retrieve': {
        const userId = users[intent.user]!;
        const aimed = intent.target.occupied ? pickFrom(this.active(), intent.target.pick) : undefined;
        const orbit = aimed ? aimed.parked.orbit : intent.target.occupied ? 10 : intent.target.orbit;
        const prefix = aimed ? aimed.parked.settings.orbitPrefix : policyOf(this.state, userId).settings.orbitPrefix;
        const command: RetrieveCall = {
          type: 'RetrieveCall',
          ...base,
          orbit: this.dial(orbit, prefix, intent.style),
          retriever: { userId, endpoint: retrieveEndpoints[intent.endpoint]!, federated: intent.federated },
        };
        return intent.user % 2 === 0 ? { ...command, retrieverCallId: this.next('dialog') } : command;
      }
      case 'ringBackDue': {
        const { sessionId, callId, record } = target(intent.pick, intent.stale, 'parked');
        const at = intent.onTime && record && record.endings === 0 && record.phase === 'parked' ? Math.max(base.at, record.dueAt) : base.at;
        return { type: 'RingBackDue', ...base, at, sessionId, callId, attempt: (record?.ringBacks ?? 0) + 1 + intent.attempt };
      }
      case 'answer':
        return { type: 'RingBackAnswered', ...base, callId: target(intent.pick, intent.stale, 'ringing-back').callId };
      case 'unanswered': {
        const { sessionId, callId, record } = target(intent.pick, intent.stale, 'ringing-back');
        const attempt = offset(record?.ringBacks ?? 1, intent.attempt);
        if (!intent.fromScheduler) {
          // The signaling tier: 486, 480, 408 or 603 while the parker's endpoint rings, naming only the call.
          return { type: 'RingBackFailed', ...base, callId, cause: intent.cause === 'no-answer' ? 'busy' : intent.cause, ...(attempt === undefined ? {} : { attempt }) };
        }
        const at = intent.onTime && record && record.endings === 0 && record.phase === 'ringing-back' ? Math.max(base.at, record.dueAt) : base.at;
        return { type: 'RingBackFailed', ...base, at, callId, sessionId, cause: 'no-answer', attempt: attempt ?? record?.ringBacks ?? 1 };
      }
      case 'hangUp':
        return { type: 'CallerHungUp', ...base, callId: target(intent.pick, intent.stale).callId };
      case 'setPolicy':
        return { type: 'SetPolicy', ...base, policy: policyNames[intent.policy]!, settings: intent.change };
      case 'grant':
        return { type: 'GrantPolicy', ...base, userId: users[intent.user]!, policy: intent.policy === 0 ? null : policyNames[intent.policy]! };
      case 'capabilities':
        return intent.reset
          ? { type: 'ResetEndpointCapabilities', ...base, endpoint: parkEndpoints[intent.endpoint]! }
          : { type: 'SetEndpointCapabilities', ...base, endpoint: parkEndpoints[intent.endpoint]!, capabilities: { park: true, retrieve: true, ringBack: intent.ringBack } };
    }
  }

  /** Refusals name a stable reason and say it in a sentence; accepted parks and retrievals were allowed. */
  private checkDecision(command: CallParkCommand, decision: Decision): void {
    if (E.isLeft(decision)) {
      const { reason, message, recorded } = decision.left;
      check(rejectionReasons).toContain(reason);
      check(message.trim().length).toBeGreaterThan(10);
      check(message).toMatch(/[.]$/);
      if (recorded) check(recorded.reason).toBe(reason);
      if (reason === 'no-free-orbit' && command.type === 'ParkCall') {
        const lot = policyOf(this.state, command.parker.userId);
        const { pickupRangeStart, pickupRangeEnd } = lot.settings;
        check(range(pickupRangeStart, pickupRangeEnd).every((orbit) => lot.occupied.has(orbit))).toBe(true);
      }
      if (command.type === 'RetrieveCall') this.checkRetrievalRefusal(command, reason);
      return;
    }
    if (command.type === 'ParkCall' && decision.right.length > 0) {
      const lot = policyOf(this.state, command.parker.userId);
      check(command.media).toBe('audio');
      check(capabilities(this.state, command.parker.endpoint).park).toBe(true);
      check(lot.settings.allowCallPark).toBe(true);
    }
  }

  /** A call parked in your namespace is yours to pick up by its code, from an endpoint that may retrieve. */
  private checkRetrievalRefusal(command: RetrieveCall, reason: string): void {
    const { retriever } = command;
    const lot = policyOf(this.state, retriever.userId);
    // Even when call park has been turned off since: a parked call keeps the settings it was parked with (I5).
    if (retriever.federated || !capabilities(this.state, retriever.endpoint).retrieve) return;
    const parkedThere = [...this.state.sessions.values()].find((session) => session.policy === lot.policy && session.orbitCode === command.orbit.trim());
    check(parkedThere, `${command.orbit} holds ${parkedThere?.sessionId} in ${lot.policy}, yet retrieving it was refused: ${reason}`).toBeUndefined();
  }

  /** Check one event against the model and the state it is about to be folded into. */
  private checkEvent(command: CallParkCommand, event: CallParkEvent): void {
    check(event.at).toBe(command.at);
    if (!sessionEvents.has(event.type) || !('sessionId' in event)) return;
    if (event.type === 'Parked') {
      this.checkPark(command, event);
      return;
    }
    const record = this.sessions.get(event.sessionId);
    // I2: a session gets no events after its end.
    check(record, `${event.type} for ${event.sessionId}, which never parked`).toBeDefined();
    if (record === undefined) return;
    check(record.endings, `${event.type} for ${event.sessionId} after it ended`).toBe(0);
    same({ callId: event.callId, policy: event.policy, orbit: event.orbit, orbitCode: event.orbitCode, parker: event.parker }, {
      callId: record.parked.callId,
      policy: record.parked.policy,
      orbit: record.parked.orbit,
      orbitCode: record.parked.orbitCode,
      parker: record.parked.parker,
    });
    // I5: the settings the call was parked with, whatever the policy says now.
    const { settings } = record.parked;
    switch (event.type) {
      case 'RingBackStarted':
        check(record.phase).toBe('parked');
        check(event.at).toBeGreaterThanOrEqual(record.dueAt);
        check(event.attempt).toBe(record.ringBacks + 1);
        check(event.attempt).toBeLessThanOrEqual(settings.maxRingBackAttempts);
        check(event.unansweredAt).toBe(event.at + settings.ringBackSeconds * SECOND);
        break;
      case 'RingBackUnanswered':
        check(record.phase).toBe('ringing-back');
        check(event.attempt).toBe(record.ringBacks);
        check(event.attempt).toBeLessThan(settings.maxRingBackAttempts);
        check(event.nextRingBackDueAt).toBe(event.at + settings.parkTimeoutSeconds * SECOND);
        if (command.type === 'RingBackFailed' && command.sessionId !== undefined) check(event.at).toBeGreaterThanOrEqual(record.dueAt);
        break;
      case 'Expired':
        check(event.fallback).toBe(settings.fallback);
        check(event.attempts).toBe(record.ringBacks);
        if (event.cause !== 'cannot-ring-back') {
          check(record.phase).toBe('ringing-back');
          check(event.attempts).toBe(settings.maxRingBackAttempts);
        }
        break;
      case 'Retrieved':
        check(event.parkedAt).toBe(record.parked.at);
        if (event.via === 'ring-back') {
          check(record.phase).toBe('ringing-back');
          check(event.retriever).toEqual(record.parked.parker);
        } else {
          check(command.type).toBe('RetrieveCall');
          if (command.type === 'RetrieveCall') {
            // Only someone of the same policy, not federated, from an endpoint that may retrieve.
            check(command.retriever.federated).toBe(false);
            check(capabilities(this.state, command.retriever.endpoint).retrieve).toBe(true);
            check(policyOf(this.state, command.retriever.userId).policy).toBe(record.parked.policy);
          }
        }
        break;
      case 'Abandoned':
        check(event.phase).toBe(record.phase);
        break;
    }
  }

  private checkPark(command: CallParkCommand, event: Parked): void {
    check(command.type).toBe('ParkCall');
    check(this.sessions.has(event.sessionId)).toBe(false);
    const active = this.active();
    // I1: the orbit holds no other call. I3: the call is in no other active session.
    same(active.filter((record) => record.parked.policy === event.policy && record.parked.orbit === event.orbit), [], `I1: orbit ${event.orbitCode} already holds a call`);
    same(active.filter((record) => record.parked.callId === event.callId), [], `I3: ${event.callId} is already parked`);
    const lot = this.state.policies.get(event.policy)!;
    // I5: frozen at park time: the policy's settings now.
    same(event.settings, lot.settings);
    check(event.ringBackDueAt).toBe(event.at + lot.settings.parkTimeoutSeconds * SECOND);
    const { pickupRangeStart: start, pickupRangeEnd: end, orbitReuseQuarantineSeconds, orbitAllocation } = lot.settings;
    check(event.orbit).toBeGreaterThanOrEqual(start);
    check(event.orbit).toBeLessThanOrEqual(end);
    check(event.orbitCode).toBe(`${lot.settings.orbitPrefix}${event.orbit}`);
    if (event.directed) return;

    // I8: an orbit freed less than the quarantine ago is issued only when every free orbit is.
    const free = range(start, end).filter((orbit) => !lot.occupied.has(orbit));
    const rested = (orbit: number): boolean => {
      const freedAt = lot.freedAt.get(orbit);
      return freedAt === undefined || event.at - freedAt >= orbitReuseQuarantineSeconds * SECOND;
    };
    const restedOrbits = free.filter(rested);
    check(free).toContain(event.orbit);
    if (!rested(event.orbit)) {
      check(restedOrbits, `orbit ${event.orbit} was freed ${event.at - lot.freedAt.get(event.orbit)!} ms ago, within the quarantine, while ${restedOrbits} rested`).toEqual([]);
      // ... and then the one freed longest ago.
      const longest = Math.min(...free.map((orbit) => lot.freedAt.get(orbit)!));
      check(lot.freedAt.get(event.orbit)).toBe(longest);
      check(event.orbit).toBe(free.find((orbit) => lot.freedAt.get(orbit) === longest));
      return;
    }
    if (orbitAllocation === 'lowest-free') check(event.orbit).toBe(restedOrbits[0]);
    if (orbitAllocation === 'sequential') {
      const from = lot.lastIssued !== undefined && lot.lastIssued >= start && lot.lastIssued < end ? lot.lastIssued + 1 : start;
      const walk = [...range(from, end), ...range(start, from - 1)];
      check(event.orbit).toBe(walk.find((orbit) => restedOrbits.includes(orbit)));
    }
  }

  private afterEvent(event: CallParkEvent): void {
    if (!sessionEvents.has(event.type) || !('sessionId' in event)) return;
    if (event.type === 'Parked') {
      this.sessions.set(event.sessionId, { parked: event, phase: 'parked', ringBacks: 0, dueAt: event.ringBackDueAt, endings: 0 });
      return;
    }
    const record = this.sessions.get(event.sessionId)!;
    switch (event.type) {
      case 'RingBackStarted':
        record.phase = 'ringing-back';
        record.ringBacks = event.attempt;
        record.dueAt = event.unansweredAt;
        return;
      case 'RingBackUnanswered':
        record.phase = 'parked';
        record.dueAt = event.nextRingBackDueAt;
        return;
    }
    if (!endingEvents.has(event.type)) return;
    record.endings++;
    // I4: the ending frees the orbit, right away, and it can be parked on again.
    const lot = this.state.policies.get(record.parked.policy)!;
    check(lot.occupied.has(record.parked.orbit)).toBe(false);
    check(lot.freedAt.get(record.parked.orbit)).toBe(event.at);
    check(this.state.parkedCalls.has(record.parked.callId)).toBe(false);
    this.probeParkOn(record.parked.orbit, lot.policy, event.at);
  }

  /** A directed park on a freed orbit goes through, when the policy lets anyone choose. */
  private probeParkOn(orbit: number, policy: string, at: number): void {
    const lot = this.state.policies.get(policy)!;
    const { allowCallPark, allowDirectedPark, pickupRangeStart, pickupRangeEnd, orbitPrefix } = lot.settings;
    const parker = users.find((userId) => policyOf(this.state, userId).policy === policy);
    if (!allowCallPark || !allowDirectedPark || orbit < pickupRangeStart || orbit > pickupRangeEnd || parker === undefined) return;
    const probe: ParkCall = {
      type: 'ParkCall',
      commandId: 'probe',
      at,
      tenantId: TENANT,
      sessionId: 'probe-session',
      callId: 'probe-call',
      parker: { userId: parker, endpoint: 'lync-2013' },
      media: 'audio',
      random: 0,
      orbit: `${orbitPrefix}${orbit}`,
    };
    const decision = decide(probe, this.state);
    const allowed = capabilities(this.state, 'lync-2013').park;
    if (allowed) check(E.isRight(decision) ? decision.right.map((event) => event.type === 'Parked' && event.orbit) : decision.left.reason).toEqual([orbit]);
  }

  /** The state is what the events say: the same sessions, phases and due times (I7), one call per orbit (I1), no orbit held by an ended session (I4). */
  private checkState(): void {
    const active = this.active();
    const { state } = this;
    same(
      [...state.sessions.values()].map(({ sessionId, phase, attempt, dueAt }) => `${sessionId} ${phase} ${attempt} ${dueAt}`).sort(),
      active.map(({ parked, phase, ringBacks, dueAt }) => `${parked.sessionId} ${phase} ${ringBacks} ${dueAt}`).sort(),
      'the sessions of the state are not those of the events',
    );
    const occupied = [...state.policies.values()].flatMap((lot) => [...lot.occupied].map(([orbit, sessionId]) => `${lot.policy}/${orbit}=${sessionId}`)).sort();
    same(occupied, active.map((record) => `${record.parked.policy}/${record.parked.orbit}=${record.parked.sessionId}`).sort(), 'the occupied orbits are not those of the active sessions');
    const calls = [...state.parkedCalls].map(([callId, sessionId]) => `${callId}=${sessionId}`).sort();
    same(calls, active.map((record) => `${record.parked.callId}=${record.parked.sessionId}`).sort(), 'the parked calls are not those of the active sessions');
  }
}

/** Decide the same commands again from the state at `from`, restored from its snapshot, and fold on. */
const replayFromSnapshot = (run: Run, from: number): { decisions: Decision[]; state: CallParkState } => {
  let eventsBefore = 0;
  for (const decision of run.decisions.slice(0, from)) eventsBefore += E.isLeft(decision) ? (decision.left.recorded ? 1 : 0) : decision.right.length;
  const folded = fold({ evolve, initialState }, run.log.slice(0, eventsBefore));
  const restored = decodeState(JSON.parse(JSON.stringify(encodeState(folded))));
  if (E.isLeft(restored)) throw restored.left;
  let state = restored.right;
  const decisions: Decision[] = [];
  for (const command of run.commands.slice(from)) {
    const decision = decide(command, state);
    decisions.push(decision);
    for (const event of E.isLeft(decision) ? (decision.left.recorded ? [decision.left.recorded] : []) : decision.right) state = evolve(state, event);
  }
  return { decisions, state };
};

const play = (policies: Setup, steps: readonly Step[], drain = true): World => {
  const world = new World();
  world.setUp(policies);
  for (const next of steps) world.play(next);
  if (drain) world.drain();
  return world;
};

const runs = { numRuns: 150 };

describe('call park over random interleavings', () => {
  it('holds I1 to I5 and I8 after every step, and ends every session exactly once (I2)', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }), (policies, steps) => {
        const world = play(policies, steps);
        for (const record of world.sessions.values()) expect(record.endings, `session ${record.parked.sessionId}`).toBe(1);
        const endings = new Map<string, number>();
        for (const event of world.log) if (endingEvents.has(event.type) && 'sessionId' in event) endings.set(event.sessionId, (endings.get(event.sessionId) ?? 0) + 1);
        expect([...endings.values()].every((count) => count === 1)).toBe(true);
        expect(endings.size).toBe(world.sessions.size);
      }),
      runs,
    );
  });

  it('folding the log from scratch gives the state evolved step by step (I7)', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }), fc.boolean(), (policies, steps, drain) => {
        const world = play(policies, steps, drain);
        expect(fold({ evolve, initialState }, world.log)).toEqual(world.state);
      }),
      runs,
    );
  });

  it('a snapshot taken mid-way, encoded and decoded, then carried on, decides the same and ends in the same state', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }), fc.double({ min: 0, max: 1, noNaN: true }), (policies, steps, where) => {
        const world = play(policies, steps);
        const from = Math.floor(where * world.commands.length);
        const replayed = replayFromSnapshot(world, from);
        expect(replayed.decisions).toEqual(world.decisions.slice(from));
        expect(replayed.state).toEqual(world.state);
      }),
      runs,
    );
  });

  it('every event it records survives its stored form', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { minLength: 1, maxLength: 40, size: 'max' }), (policies, steps) => {
        const world = play(policies, steps);
        for (const event of world.log) {
          const stored = JSON.parse(JSON.stringify(toStoredForm(event, { commandId: 'cmd' }))) as ReturnType<typeof toStoredForm>;
          const read = fromStoredForm(stored.type, stored.data, stored.metadata);
          expect(E.isRight(read) && read.right.event).toEqual(event);
        }
      }),
      { numRuns: 50 },
    );
  });
});

/** Fold what a decision recorded, as the handler does. */
const record = (state: CallParkState, decision: Decision): CallParkState =>
  (E.isLeft(decision) ? (decision.left.recorded ? [decision.left.recorded] : []) : decision.right).reduce(evolve, state);

describe('found by these properties, kept as examples', () => {
  it('a park that reuses the session id of a parked call does not take that session over: hanging up ends the right call and frees its orbit (I2, I4)', () => {
    let state = fold({ evolve, initialState }, [parkAllowed({ orbitReuseQuarantineSeconds: 0 })]);
    state = record(state, decide(parkCommand({ sessionId: 'session-1', callId: 'call-1', seconds: 0 }), state));
    // The same session id again, for another call (a client that sends its own ids, a replayed id): refused, or kept apart.
    state = record(state, decide(parkCommand({ sessionId: 'session-1', callId: 'call-2', parker: bob, seconds: 1 }), state));
    const hangUp = decide(hangUpCommand(2, 'call-1'), state);
    expect(E.isRight(hangUp) ? hangUp.right.map((event) => ('callId' in event ? `${event.type} ${event.callId}` : event.type)) : hangUp.left.reason).toEqual(['Abandoned call-1']);
    state = record(state, hangUp);
    expect([...state.policies.get('Global')!.occupied.keys()], 'orbit 10 held call-1, whose caller hung up').not.toContain(10);
  });

  it('turning call park off applies to parks that begin after it: a call parked before can still be retrieved (I5)', () => {
    let state = fold({ evolve, initialState }, [parkAllowed()]);
    state = record(state, decide(parkCommand({ parker: alice, seconds: 0 }), state));
    state = record(state, decide({ type: 'SetPolicy', commandId: 'admin-off', at: at(5), tenantId: TENANT, policy: 'Global', settings: { allowCallPark: false } }, state));
    const retrieval = decide(retrieveCommand('10', retriever(bob), 10), state);
    expect(E.isRight(retrieval) ? retrieval.right.map((event) => event.type) : retrieval.left.reason).toEqual(['Retrieved']);
  });
});
