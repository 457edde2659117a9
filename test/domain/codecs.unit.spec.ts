/**
 * The codecs at the edges: every command and every event survives its wire form and its stored
 * form unchanged, a snapshot of a realistic state decodes to the same state, and whatever does
 * not fit is reported by path, in words a caller can act on.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts/lib/index.js';
import { describe, expect, it } from 'vitest';
import { decide } from '../../domain/callPark.js';
import { evolve, initialState, type CallParkState } from '../../domain/callParkState.js';
import { DecodeError, decode, type DecodeIssue } from '../../domain/codec/codec.js';
import { CallParkCommand, type CommandType } from '../../domain/commands.js';
import { endpoints } from '../../domain/endpoint.js';
import { CallParkEvent, EVENT_SCHEMA_VERSION, eventCodecFor, eventTypes, type EventType } from '../../domain/events.js';
import { defaultSettings, type PolicySettings } from '../../domain/parkPolicy.js';
import { decodeState, encodeState } from '../../domain/storedForm/snapshot.js';
import { fromStoredForm, toStoredForm } from '../../domain/storedForm/storedEvent.js';
import { TENANT, T0, alice, at, bob, carol } from '../support/callParkFixtures.js';

/** The wire form of the instant `seconds` after T0. */
const iso = (seconds: number): string => new Date(at(seconds)).toISOString();
/** What a message looks like after a trip through JSON. */
const overTheWire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const issuesOf = <A>(result: E.Either<DecodeError, A>): readonly DecodeIssue[] => {
  if (E.isRight(result)) throw new Error(`Expected a DecodeError, but it decoded to ${JSON.stringify(result.right)}`);
  expect(result.left).toBeInstanceOf(DecodeError);
  return result.left.issues;
};

const decoded = <A>(result: E.Either<DecodeError, A>): A => {
  if (E.isLeft(result)) throw new Error(`Expected it to decode, but: ${result.left.message}`);
  return result.right;
};

const settings: PolicySettings = { ...defaultSettings, allowCallPark: true, maxRingBackAttempts: 2, fallback: 'sip:reception@contoso.com' };
const settingsOnTheWire = { ...settings };

const aliceOnTheWire = { userId: 'alice@contoso.com', endpoint: 'teams-desktop' };
const bobOnTheWire = { userId: 'bob@contoso.com', endpoint: 'teams-desktop' };

/** Every command, in its wire form: instants as ISO-8601 timestamps. */
const commandsOnTheWire: Record<CommandType, Record<string, unknown>[]> = {
  ParkCall: [
    {
      type: 'ParkCall',
      commandId: 'evt-1',
      at: iso(0),
      tenantId: TENANT,
      sessionId: 'session-1',
      callId: 'call-1',
      parker: aliceOnTheWire,
      media: 'audio',
      random: 0.25,
    },
    {
      type: 'ParkCall',
      commandId: 'evt-2',
      at: iso(1),
      tenantId: TENANT,
      sessionId: 'session-2',
      callId: 'call-2',
      parker: { userId: 'carol@contoso.com', endpoint: 'lync-2013' },
      media: 'audio',
      random: 0,
      orbit: '*3012',
      caller: 'sip:+14255550100@contoso.com',
    },
  ],
  RetrieveCall: [
    { type: 'RetrieveCall', commandId: 'evt-3', at: iso(10), tenantId: TENANT, orbit: '42', retriever: { ...bobOnTheWire, federated: false } },
    {
      type: 'RetrieveCall',
      commandId: 'evt-4',
      at: iso(11),
      tenantId: TENANT,
      orbit: '*3012',
      retriever: { userId: 'guest@fabrikam.com', endpoint: 'teams-web', federated: true },
      retrieverCallId: 'call-of-the-retriever',
    },
  ],
  RingBackDue: [{ type: 'RingBackDue', commandId: 'timer-1', at: iso(300), tenantId: TENANT, callId: 'call-1', sessionId: 'session-1', attempt: 1 }],
  RingBackAnswered: [{ type: 'RingBackAnswered', commandId: 'evt-5', at: iso(305), tenantId: TENANT, callId: 'call-1' }],
  RingBackFailed: [
    { type: 'RingBackFailed', commandId: 'evt-6', at: iso(310), tenantId: TENANT, callId: 'call-1', cause: 'busy', sipStatus: 486 },
    { type: 'RingBackFailed', commandId: 'timer-2', at: iso(330), tenantId: TENANT, callId: 'call-1', cause: 'no-answer', sessionId: 'session-1', attempt: 1 },
  ],
  CallerHungUp: [{ type: 'CallerHungUp', commandId: 'evt-7', at: iso(20), tenantId: TENANT, callId: 'call-1' }],
  SendToFallbackNow: [{ type: 'SendToFallbackNow', commandId: 'sup-1', at: iso(40), tenantId: TENANT, sessionId: 'session-1', supervisor: 'sam@contoso.com' }],
  RingParkerNow: [{ type: 'RingParkerNow', commandId: 'sup-2', at: iso(41), tenantId: TENANT, sessionId: 'session-1', supervisor: 'sam@contoso.com' }],
  NewPolicy: [
    { type: 'NewPolicy', commandId: 'admin-1', at: iso(-100), tenantId: TENANT, policy: 'Sales', settings: { allowCallPark: true, pickupRangeStart: 3000, pickupRangeEnd: 3999, orbitPrefix: '*' } },
    { type: 'NewPolicy', commandId: 'admin-2', at: iso(-99), tenantId: TENANT, policy: 'Empty', settings: {} },
  ],
  SetPolicy: [
    {
      type: 'SetPolicy',
      commandId: 'admin-3',
      at: iso(-98),
      tenantId: TENANT,
      policy: 'Global',
      settings: { allowCallPark: true, fallback: 'sip:reception@contoso.com', orbitAllocation: 'lowest-free', orbitReuseQuarantineSeconds: 0, description: 'Front desk' },
    },
  ],
  RemovePolicy: [{ type: 'RemovePolicy', commandId: 'admin-4', at: iso(-97), tenantId: TENANT, policy: 'Sales' }],
  GrantPolicy: [
    { type: 'GrantPolicy', commandId: 'admin-5', at: iso(-96), tenantId: TENANT, userId: 'bob@contoso.com', policy: 'Sales' },
    { type: 'GrantPolicy', commandId: 'admin-6', at: iso(-95), tenantId: TENANT, userId: 'bob@contoso.com', policy: null },
  ],
  SetEndpointCapabilities: [
    { type: 'SetEndpointCapabilities', commandId: 'admin-7', at: iso(-94), tenantId: TENANT, endpoint: 'pbx-phone', capabilities: { park: true, retrieve: true, ringBack: false } },
  ],
  ResetEndpointCapabilities: [{ type: 'ResetEndpointCapabilities', commandId: 'admin-8', at: iso(-93), tenantId: TENANT, endpoint: 'pbx-phone' }],
};

const sessionOnTheWire = {
  tenantId: TENANT,
  policy: 'Global',
  sessionId: 'session-1',
  callId: 'call-1',
  orbit: 10,
  orbitCode: '10',
  parker: aliceOnTheWire,
};

/** Every event, in its wire (and stored) form. */
const eventsOnTheWire: Record<EventType, Record<string, unknown>[]> = {
  Parked: [
    { type: 'Parked', ...sessionOnTheWire, at: iso(0), media: 'audio', directed: false, settings: settingsOnTheWire, ringBackDueAt: iso(300) },
    {
      type: 'Parked',
      ...sessionOnTheWire,
      orbit: 3012,
      orbitCode: '*3012',
      at: iso(1),
      media: 'audio',
      directed: true,
      settings: { ...settingsOnTheWire, pickupRangeStart: 3000, pickupRangeEnd: 3999, orbitPrefix: '*', allowDirectedPark: true },
      ringBackDueAt: iso(301),
      caller: 'sip:+14255550100@contoso.com',
    },
  ],
  Retrieved: [
    { type: 'Retrieved', ...sessionOnTheWire, at: iso(10), retriever: bobOnTheWire, via: 'orbit', parkedAt: iso(0), retrieverCallId: 'call-of-bob' },
    { type: 'Retrieved', ...sessionOnTheWire, at: iso(305), retriever: aliceOnTheWire, via: 'ring-back', parkedAt: iso(0), ringingAttempt: 1 },
    { type: 'Retrieved', ...sessionOnTheWire, at: iso(306), retriever: bobOnTheWire, via: 'orbit', parkedAt: iso(0), ringingAttempt: 2 },
    // As stored before events named the attempt ringing.
    { type: 'Retrieved', ...sessionOnTheWire, at: iso(305), retriever: aliceOnTheWire, via: 'ring-back', parkedAt: iso(0) },
  ],
  RingBackStarted: [
    { type: 'RingBackStarted', ...sessionOnTheWire, at: iso(300), attempt: 1, unansweredAt: iso(330) },
    { type: 'RingBackStarted', ...sessionOnTheWire, at: iso(41), attempt: 1, unansweredAt: iso(71), requestedBy: 'sam@contoso.com' },
  ],
  RingBackUnanswered: [{ type: 'RingBackUnanswered', ...sessionOnTheWire, at: iso(330), attempt: 1, cause: 'no-answer', nextRingBackDueAt: iso(630) }],
  Expired: [
    { type: 'Expired', ...sessionOnTheWire, at: iso(660), attempts: 2, cause: 'declined', fallback: 'sip:reception@contoso.com', ringingAttempt: 2 },
    { type: 'Expired', ...sessionOnTheWire, at: iso(300), attempts: 0, cause: 'cannot-ring-back', fallback: 'voicemail' },
    { type: 'Expired', ...sessionOnTheWire, at: iso(40), attempts: 0, cause: 'sent-by-supervisor', fallback: 'voicemail', sentBy: 'sam@contoso.com' },
  ],
  Abandoned: [
    { type: 'Abandoned', ...sessionOnTheWire, at: iso(20), phase: 'parked' },
    { type: 'Abandoned', ...sessionOnTheWire, at: iso(310), phase: 'ringing-back', ringingAttempt: 1 },
    // As stored before events named the attempt ringing.
    { type: 'Abandoned', ...sessionOnTheWire, at: iso(310), phase: 'ringing-back' },
  ],
  ParkRejected: [
    { type: 'ParkRejected', tenantId: TENANT, callId: 'call-9', parker: aliceOnTheWire, media: 'video', reason: 'media-not-parkable', at: iso(5), policy: 'Global' },
    { type: 'ParkRejected', tenantId: TENANT, callId: 'call-9', parker: aliceOnTheWire, media: 'audio', reason: 'orbit-occupied', at: iso(6), policy: 'Global', orbitCode: '42' },
    { type: 'ParkRejected', tenantId: TENANT, callId: 'call-9', parker: aliceOnTheWire, media: 'audio', reason: 'no-free-orbit', at: iso(7) },
  ],
  RetrievalRejected: [
    { type: 'RetrievalRejected', tenantId: TENANT, orbitCode: '77', retriever: { ...bobOnTheWire, federated: false }, reason: 'no-call-on-orbit', at: iso(8), policy: 'Global' },
    {
      type: 'RetrievalRejected',
      tenantId: TENANT,
      orbitCode: '10',
      retriever: { userId: 'guest@fabrikam.com', endpoint: 'teams-web', federated: true },
      reason: 'federated-user',
      at: iso(9),
      retrieverCallId: 'call-of-the-guest',
    },
  ],
  PolicyCreated: [{ type: 'PolicyCreated', tenantId: TENANT, policy: 'Sales', settings: { ...settingsOnTheWire, pickupRangeStart: 500, pickupRangeEnd: 520 }, at: iso(-100) }],
  PolicySettingsChanged: [
    { type: 'PolicySettingsChanged', tenantId: TENANT, policy: 'Global', settings: settingsOnTheWire, changed: ['allowCallPark', 'maxRingBackAttempts', 'fallback'], at: iso(-99) },
  ],
  PolicyRemoved: [{ type: 'PolicyRemoved', tenantId: TENANT, policy: 'Sales', at: iso(-98) }],
  PolicyGranted: [
    { type: 'PolicyGranted', tenantId: TENANT, userId: 'bob@contoso.com', policy: 'Sales', at: iso(-97) },
    { type: 'PolicyGranted', tenantId: TENANT, userId: 'bob@contoso.com', policy: null, at: iso(-96) },
  ],
  EndpointCapabilitiesSet: [{ type: 'EndpointCapabilitiesSet', tenantId: TENANT, endpoint: 'pbx-phone', capabilities: { park: true, retrieve: true, ringBack: false }, at: iso(-95) }],
  EndpointCapabilitiesReset: [{ type: 'EndpointCapabilitiesReset', tenantId: TENANT, endpoint: 'pbx-phone', at: iso(-94) }],
};

const commandSamples = Object.values(commandsOnTheWire).flat();
const eventSamples = Object.values(eventsOnTheWire).flat();
const label = (wire: Record<string, unknown>, index: number): [string, Record<string, unknown>] => [`${String(wire.type)} #${index}`, wire];

describe('command codecs', () => {
  it('has a sample of every command type', () => {
    expect(Object.keys(commandsOnTheWire).sort()).toEqual(CallParkCommand.types.map((codec) => codec.name).sort());
  });

  it.each(commandSamples.map(label))('%s: encode(decode(wire)) is the wire form again', (_, wire) => {
    const command = decoded(decode(CallParkCommand, wire));
    expect(command.type).toBe(wire.type);
    expect(command.at).toBe(Date.parse(wire.at as string));
    expect(overTheWire(CallParkCommand.encode(command))).toEqual(wire);
  });

  it.each(commandSamples.map(label))('%s: decode(encode(command)) is the command again, also through JSON', (_, wire) => {
    const command = decoded(decode(CallParkCommand, wire));
    expect(decoded(decode(CallParkCommand, overTheWire(CallParkCommand.encode(command))))).toEqual(command);
  });

  it('reads an instant with an offset as the same instant, and writes it back in UTC', () => {
    const wire = { ...commandsOnTheWire.CallerHungUp[0]!, at: '2026-11-22T10:00:00+01:00' };
    const command = decoded(decode(CallParkCommand, wire));
    expect(command.at).toBe(T0);
    expect(CallParkCommand.encode(command)).toEqual({ ...wire, at: '2026-11-22T09:00:00.000Z' });
  });

  it('reads a policy written as the cmdlets write it (Tag:Name) as its name', () => {
    const command = decoded(decode(CallParkCommand, { ...commandsOnTheWire.GrantPolicy[0]!, policy: 'Tag:Sales' }));
    expect(command).toMatchObject({ type: 'GrantPolicy', policy: 'Sales' });
  });
});

describe('event codecs', () => {
  it('has a sample of every event type', () => {
    expect(Object.keys(eventsOnTheWire).sort()).toEqual([...eventTypes].sort());
  });

  it.each(eventSamples.map(label))('%s: encode(decode(wire)) is the wire form again', (_, wire) => {
    const event = decoded(decode(CallParkEvent, wire));
    expect(event.type).toBe(wire.type);
    expect(event.at).toBe(Date.parse(wire.at as string));
    expect(overTheWire(CallParkEvent.encode(event))).toEqual(wire);
    expect(overTheWire(eventCodecFor(event.type)!.encode(event))).toEqual(wire);
  });

  it.each(eventSamples.map(label))('%s: decode(encode(event)) is the event again, by the union and by its type', (_, wire) => {
    const event = decoded(decode(CallParkEvent, wire));
    expect(decoded(decode(CallParkEvent, overTheWire(CallParkEvent.encode(event))))).toEqual(event);
    expect(decoded(decode(eventCodecFor(event.type)!, overTheWire(CallParkEvent.encode(event))))).toEqual(event);
  });
});

describe('the stored form of events (storedEvent.ts)', () => {
  it.each(eventSamples.map(label))('%s: fromStoredForm(toStoredForm(event)) is the event and its metadata', (_, wire) => {
    const event = decoded(decode(CallParkEvent, wire));
    const stored = overTheWire(toStoredForm(event, { commandId: 'cmd-1', correlationId: 'corr-1', causationId: 'cause-1' }));
    expect(stored).toEqual({ type: event.type, data: wire, metadata: { commandId: 'cmd-1', correlationId: 'corr-1', causationId: 'cause-1', schemaVersion: EVENT_SCHEMA_VERSION } });
    expect(decoded(fromStoredForm(stored.type, stored.data, stored.metadata))).toEqual({ event, metadata: stored.metadata });
  });

  it('keeps the sentence a refusal was given with', () => {
    const event = decoded(decode(CallParkEvent, eventsOnTheWire.RetrievalRejected[0]!));
    const stored = overTheWire(toStoredForm(event, { commandId: 'cmd-2', rejectionMessage: 'No call is parked on orbit 77.' }));
    expect(decoded(fromStoredForm(stored.type, stored.data, stored.metadata)).metadata).toEqual({
      commandId: 'cmd-2',
      rejectionMessage: 'No call is parked on orbit 77.',
      schemaVersion: EVENT_SCHEMA_VERSION,
    });
  });
});

/** A realistic history, decided and folded as the handler would: two policies, grants, an override, sessions in every phase and ended every way. */
const realisticHistory = (): { state: CallParkState; events: CallParkEvent[] } => {
  let state = initialState();
  const events: CallParkEvent[] = [];
  let n = 0;
  const run = (command: Record<string, unknown> & { type: string }): void => {
    const full = { commandId: `cmd-${++n}`, tenantId: TENANT, ...command } as CallParkCommand;
    const decision = decide(full, state);
    if (E.isLeft(decision)) throw new Error(`${full.type} was refused: ${decision.left.reason}`);
    for (const event of decision.right) {
      events.push(event);
      state = evolve(state, event);
    }
  };
  const park = (seconds: number, sessionId: string, callId: string, parker = alice, over: Record<string, unknown> = {}) =>
    run({ type: 'ParkCall', at: at(seconds), sessionId, callId, parker, media: 'audio', random: 0.5, ...over });

  run({ type: 'SetPolicy', at: at(-100), policy: 'Global', settings: { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 19, maxRingBackAttempts: 2, orbitReuseQuarantineSeconds: 30, parkTimeoutSeconds: 60 } });
  run({ type: 'NewPolicy', at: at(-90), policy: 'Sales', settings: { allowCallPark: true, pickupRangeStart: 3000, pickupRangeEnd: 3009, orbitPrefix: '*', allowDirectedPark: true, orbitAllocation: 'random' } });
  run({ type: 'NewPolicy', at: at(-85), policy: 'Idle', settings: {} });
  run({ type: 'GrantPolicy', at: at(-80), userId: bob.userId, policy: 'Sales' });
  run({ type: 'SetEndpointCapabilities', at: at(-70), endpoint: 'pbx-phone', capabilities: { park: true, retrieve: true, ringBack: false } });
  park(0, 's-1', 'call-1');
  park(1, 's-2', 'call-2', carol);
  park(2, 's-3', 'call-3', bob, { orbit: '*3005', caller: 'sip:+14255550100@contoso.com' });
  park(3, 's-4', 'call-4', bob);
  park(4, 's-5', 'call-5', { userId: 'desk@contoso.com', endpoint: 'pbx-phone' });
  run({ type: 'RetrieveCall', at: at(10), orbit: '10', retriever: { ...carol, federated: false } });
  run({ type: 'RetrieveCall', at: at(11), orbit: '*3005', retriever: { ...bob, federated: false }, retrieverCallId: 'bob-dialog' });
  run({ type: 'CallerHungUp', at: at(20), callId: 'call-2' });
  park(25, 's-6', 'call-6');
  run({ type: 'RingBackDue', at: at(64), callId: 'call-5', sessionId: 's-5', attempt: 1 });
  run({ type: 'RingBackDue', at: at(85), callId: 'call-6', sessionId: 's-6', attempt: 1 });
  run({ type: 'RingBackFailed', at: at(100), callId: 'call-6', cause: 'busy', sipStatus: 486 });
  run({ type: 'RingBackDue', at: at(160), callId: 'call-6', sessionId: 's-6', attempt: 2 });
  park(170, 's-7', 'call-7');
  run({ type: 'RingBackDue', at: at(303), callId: 'call-4', sessionId: 's-4', attempt: 1 });
  // Left: s-4 ringing back, s-6 ringing back on its last attempt, s-7 parked; s-1, s-3 retrieved, s-2 abandoned, s-5 expired.
  return { state, events };
};

describe('snapshots (snapshot.ts)', () => {
  it('decodeState(encodeState(state)) of a state folded from a realistic history is the state', () => {
    const { state, events } = realisticHistory();
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['Parked', 'Retrieved', 'Abandoned', 'Expired', 'RingBackStarted', 'RingBackUnanswered']));
    expect([...state.sessions.values()].map((session) => [session.sessionId, session.phase, session.attempt])).toEqual([
      ['s-4', 'ringing-back', 1],
      ['s-6', 'ringing-back', 2],
      ['s-7', 'parked', 0],
    ]);
    expect(decoded(decodeState(overTheWire(encodeState(state))))).toEqual(state);
  });

  it('a state restored from its snapshot decides the next commands as the original does', () => {
    const { state } = realisticHistory();
    const restored = decoded(decodeState(overTheWire(encodeState(state))));
    const next: CallParkCommand[] = [
      // Sequential goes on after 14, the orbit issued last.
      { type: 'ParkCall', commandId: 'next-1', at: at(305), tenantId: TENANT, sessionId: 's-8', callId: 'call-8', parker: alice, media: 'audio', random: 0.5 },
      { type: 'RetrieveCall', commandId: 'next-2', at: at(306), tenantId: TENANT, orbit: '14', retriever: { ...carol, federated: false } },
      { type: 'RingBackFailed', commandId: 'next-3', at: at(310), tenantId: TENANT, callId: 'call-6', cause: 'declined', sipStatus: 603 },
      { type: 'RingBackAnswered', commandId: 'next-4', at: at(311), tenantId: TENANT, callId: 'call-4' },
    ];
    for (const command of next) expect(decide(command, restored)).toEqual(decide(command, state));
  });

  it('the snapshot of a fresh tenant round trips too', () => {
    const state = initialState();
    expect(decoded(decodeState(overTheWire(encodeState(state))))).toEqual(state);
  });

  it('keeps each distinct settings a session was parked with once, and gives every session back its own', () => {
    const { state } = realisticHistory();
    // A policy change between parks: the sessions parked before it keep the settings they were parked with (I5).
    const sessions = [...state.sessions.values()];
    const changed = { ...sessions[0]!.settings, parkTimeoutSeconds: sessions[0]!.settings.parkTimeoutSeconds + 60 };
    const mixed: CallParkState = { ...state, sessions: new Map(sessions.map((session, i) => [session.sessionId, i === 0 ? { ...session, settings: changed } : { ...session, settings: { ...session.settings } }])) };
    const stored = overTheWire(encodeState(mixed));
    expect(stored.settings).toHaveLength(2);
    expect(stored.sessions.map((session) => session.settings)).toEqual([0, 1, 1]);
    expect(decoded(decodeState(stored))).toEqual(mixed);
  });

  it('a session pointing at settings the snapshot does not have is an error naming the path', () => {
    const { state } = realisticHistory();
    const stored = overTheWire(encodeState(state));
    stored.sessions[1]!.settings = 7;
    expect(issuesOf(decodeState(stored))).toEqual([{ path: '$.sessions[1].settings', message: expect.stringContaining('got 7') }]);
  });

  it('a malformed snapshot is an error naming the path', () => {
    const { state } = realisticHistory();
    const stored = overTheWire(encodeState(state));
    stored.sessions[0]!.phase = 'on-hold' as 'parked';
    expect(issuesOf(decodeState(stored))).toEqual([{ path: '$.sessions[0].phase', message: expect.stringContaining('parked, ringing-back') }]);
  });
});

describe('what does not fit is an error naming the path', () => {
  const park = commandsOnTheWire.ParkCall[0]!;
  const parked = eventsOnTheWire.Parked[0]!;
  const metadata = { commandId: 'cmd-1', schemaVersion: EVENT_SCHEMA_VERSION };
  const rest = (value: Record<string, unknown>, key: string): Record<string, unknown> => Object.fromEntries(Object.entries(value).filter(([name]) => name !== key));

  describe('in a command', () => {
    it('a misspelt field: $.parker.endpont, with the fields it knows', () => {
      const issues = issuesOf(decode(CallParkCommand, { ...park, parker: { userId: alice.userId, endpont: 'teams-desktop' } }));
      expect(issues).toEqual([{ path: '$.parker.endpont', message: expect.stringContaining('unknown field "endpont"') }]);
      expect(issues[0]!.message).toContain('endpoint');
    });

    it('a misspelt field at the top: $.sesionId', () => {
      const wire = { ...commandsOnTheWire.RingBackDue[0]!, sesionId: 'session-1' };
      expect(issuesOf(decode(CallParkCommand, rest(wire, 'sessionId')))).toEqual(
        expect.arrayContaining([{ path: '$.sesionId', message: expect.stringContaining('unknown field "sesionId"') }]),
      );
    });

    it('a missing field: $.callId', () => {
      expect(issuesOf(decode(CallParkCommand, rest(park, 'callId')))).toEqual([{ path: '$.callId', message: expect.stringContaining('got nothing') }]);
    });

    it('an unknown endpoint: $.parker.endpoint, naming every endpoint allowed', () => {
      const issues = issuesOf(decode(CallParkCommand, { ...park, parker: { userId: alice.userId, endpoint: 'nokia-3310' } }));
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe('$.parker.endpoint');
      for (const endpoint of endpoints) expect(issues[0]!.message).toContain(endpoint);
      expect(issues[0]!.message).toContain('"nokia-3310"');
    });

    it('a wrong type: $.random must be a number from 0 to 1', () => {
      expect(issuesOf(decode(CallParkCommand, { ...park, random: 'half' }))).toEqual([{ path: '$.random', message: expect.stringContaining('from 0 (inclusive) to 1 (exclusive)') }]);
    });

    it('a bad instant: $.at, with the form it should have', () => {
      for (const bad of ['yesterday', '2026-11-22 09:00:00', '2026-11-22T09:00:00', 1795338000000, '2026-13-01T09:00:00.000Z']) {
        expect(issuesOf(decode(CallParkCommand, { ...park, at: bad }))).toEqual([{ path: '$.at', message: expect.stringMatching(/ISO-8601|real date/) }]);
      }
    });

    it('an instant that is no real date and time is refused, not moved to another day', () => {
      for (const bad of ['2026-02-30T09:00:00.000Z', '2026-04-31T09:00:00.000Z', '2026-11-22T24:00:00.000Z']) {
        const result = decode(CallParkCommand, { ...park, at: bad });
        expect(E.isLeft(result), `${bad} decoded to ${E.isRight(result) ? new Date(result.right.at).toISOString() : ''}`).toBe(true);
      }
    });

    it('an unknown command type: $.type, naming the command types there are', () => {
      const issues = issuesOf(decode(CallParkCommand, { ...park, type: 'ParkCar' }));
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe('$.type');
      for (const type of Object.keys(commandsOnTheWire)) expect(issues[0]!.message).toContain(type);
    });

    it('not an object at all', () => {
      const issues = issuesOf(decode(CallParkCommand, 42));
      expect(issues.length).toBeGreaterThan(0);
      expect(issues.every((issue) => issue.path === '$' && issue.message.includes('42'))).toBe(true);
    });
  });

  describe('by the codec of one command type', () => {
    const ParkCall = CallParkCommand.types[0] as t.Mixed;

    it('a misspelt field in a command with optional fields: $.parker.endpont', () => {
      expect(issuesOf(decode(ParkCall, { ...park, parker: { userId: alice.userId, endpont: 'teams-desktop' } }))).toEqual([
        { path: '$.parker.endpont', message: expect.stringContaining('unknown field "endpont"') },
      ]);
    });

    it('a bad optional field: $.orbit', () => {
      expect(issuesOf(decode(ParkCall, { ...park, orbit: '' }))).toEqual([{ path: '$.orbit', message: expect.stringContaining('OrbitCode') }]);
    });

    it('a misspelt field in a command without optional fields: $.sesionId', () => {
      const RingBackDue = CallParkCommand.types[2] as t.Mixed;
      const wire = { ...rest(commandsOnTheWire.RingBackDue[0]!, 'sessionId'), sesionId: 'session-1' };
      expect(issuesOf(decode(RingBackDue, wire))).toEqual([{ path: '$.sesionId', message: expect.stringContaining('unknown field "sesionId"') }]);
    });
  });

  describe('in a stored event', () => {
    it('an unknown event type: $.type', () => {
      expect(issuesOf(fromStoredForm('CallParkd', parked, metadata))).toEqual([{ path: '$.type', message: 'unknown event type "CallParkd"' }]);
    });

    it('a newer schema version than this service reads: $.metadata.schemaVersion', () => {
      expect(issuesOf(fromStoredForm('Parked', parked, { ...metadata, schemaVersion: EVENT_SCHEMA_VERSION + 1 }))).toEqual([
        { path: '$.metadata.schemaVersion', message: expect.stringContaining(`version ${EVENT_SCHEMA_VERSION + 1} is newer`) },
      ]);
    });

    it('a misspelt metadata field: $.metadata.shemaVersion', () => {
      expect(issuesOf(fromStoredForm('Parked', parked, { commandId: 'cmd-1', schemaVersion: 1, shemaVersion: 1 }))).toEqual([
        { path: '$.metadata.shemaVersion', message: expect.stringContaining('unknown field "shemaVersion"') },
      ]);
    });

    it('a missing metadata field: $.metadata.commandId', () => {
      expect(issuesOf(fromStoredForm('Parked', parked, { schemaVersion: 1 }))).toEqual([{ path: '$.metadata.commandId', message: expect.stringContaining('got nothing') }]);
    });

    it('an unknown endpoint in an event without optional fields: $.data.parker.endpoint', () => {
      const started = { ...eventsOnTheWire.RingBackStarted[0]!, parker: { userId: alice.userId, endpoint: 'nokia-3310' } };
      const issues = issuesOf(fromStoredForm('RingBackStarted', started, metadata));
      expect(issues).toEqual([{ path: '$.data.parker.endpoint', message: expect.stringContaining('expected one of teams-desktop') }]);
    });

    it('a misspelt field in an event with optional fields: $.data.parker.endpont', () => {
      expect(issuesOf(fromStoredForm('Parked', { ...parked, parker: { userId: alice.userId, endpont: 'teams-desktop' } }, metadata))).toEqual([
        { path: '$.data.parker.endpont', message: expect.stringContaining('unknown field "endpont"') },
      ]);
    });

    it('a bad setting frozen into a Parked event: $.data.settings.orbitAllocation', () => {
      const issues = issuesOf(fromStoredForm('Parked', { ...parked, settings: { ...settingsOnTheWire, orbitAllocation: 'last-in-first-out' } }, metadata));
      expect(issues).toEqual([{ path: '$.data.settings.orbitAllocation', message: expect.stringContaining('sequential, lowest-free, random') }]);
    });

    it('a bad instant: $.data.ringBackDueAt', () => {
      expect(issuesOf(fromStoredForm('Parked', { ...parked, ringBackDueAt: 'soon' }, metadata))).toEqual([
        { path: '$.data.ringBackDueAt', message: expect.stringContaining('ISO-8601') },
      ]);
    });
  });

  describe('in an event decoded by the union', () => {
    it('an unknown event type: $.type, naming the event types there are', () => {
      const issues = issuesOf(decode(CallParkEvent, { ...parked, type: 'CallParkd' }));
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe('$.type');
      for (const type of eventTypes) expect(issues[0]!.message).toContain(type);
    });
  });
});
