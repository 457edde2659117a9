/**
 * The quick path of decoding (domain/codec/quickDecode.ts) is an optimisation, never a second opinion:
 * for any input, valid or not, decoding answers exactly what it answers with the quick path off.
 * The inputs are the stored events of a log decided by the real decider, a few commands, and
 * those inputs broken by fast-check in one place: a field removed, replaced by a value of another
 * kind (instants of every form among them), or joined by a field nobody knows.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts/lib/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { decode } from '../../domain/codec/codec.js';
import { CallParkCommand } from '../../domain/commands.js';
import { CallParkEvent, eventCodecFor } from '../../domain/events.js';
import { thoroughly } from '../../domain/codec/quickDecode.js';
import { evolve } from '../../domain/callParkState.js';
import { callParkDecider } from '../../domain/callPark.js';
import { fold } from '../../domain/decider.js';
import { decodeState, encodeState } from '../../domain/storedForm/snapshot.js';
import { EventMetadata, fromStoredForm } from '../../domain/storedForm/storedEvent.js';
import { writeWorkload } from '../bench/readSide/workload.js';
import { TENANT, alice } from '../support/callParkFixtures.js';

type Json = Record<string, unknown>;

/** What a decoding answered, in a form toEqual compares fully. */
const answer = <A>(result: E.Either<{ readonly message: string }, A>): unknown => (E.isRight(result) ? { value: result.right } : { error: result.left.message });

const bothWays = <A>(codec: t.Type<A, unknown, unknown>, input: unknown): { quick: unknown; thorough: unknown } => ({
  quick: answer(decode(codec, input)),
  thorough: answer(thoroughly(() => decode(codec, input))),
});

const commands: Json[] = [
  { type: 'ParkCall', commandId: 'c-1', at: '2026-11-22T09:00:00.000Z', tenantId: TENANT, sessionId: 's-1', callId: 'call-1', parker: alice, media: 'audio', random: 0.5, orbit: '*3012' },
  { type: 'RetrieveCall', commandId: 'c-2', at: '2026-11-22T10:00:00+01:00', tenantId: TENANT, orbit: '42', retriever: { ...alice, federated: true } },
  { type: 'NewPolicy', commandId: 'c-3', at: '2026-11-22T09:00:01.5Z', tenantId: TENANT, policy: 'Tag:Sales', settings: { pickupRangeStart: 3000, orbitPrefix: '*' } },
  { type: 'SendToFallbackNow', commandId: 'c-5', at: '2026-11-22T09:00:03.000Z', tenantId: TENANT, sessionId: 's-1', supervisor: 'sam@contoso.com' },
  { type: 'RingParkerNow', commandId: 'c-6', at: '2026-11-22T09:00:04.000Z', tenantId: TENANT, sessionId: 's-1', supervisor: 'sam@contoso.com' },
  { type: 'GrantPolicy', commandId: 'c-4', at: '2026-11-22T09:00:02.000Z', tenantId: TENANT, userId: 'bob@contoso.com', policy: null },
];

const odd: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  Number.NaN,
  '',
  'x',
  'with\u0001control',
  'a'.repeat(300),
  true,
  {},
  [],
  ['a'],
  { userId: 'u', endpoint: 'pstn' },
  'Global',
  'Tag:Sales',
  'teams-desktop',
  '2026-11-22T09:30:00.000Z',
  '2026-02-30T00:00:00.000Z',
  '2024-02-29T23:59:59.999Z',
  '2023-02-29T00:00:00.000Z',
  '0050-01-01T00:00:00.000Z',
  '0100-01-01T00:00:00.000Z',
  '2026-11-22T24:00:00.000Z',
  '2026-11-22T09:60:00.000Z',
  '2026-11-22T09:30:60.000Z',
  '2026-11-22T09:30:00Z',
  '2026-11-22T09:30:00.000+01:00',
  '2026-11-22T09:30:00.000z',
  '2026-11-22 09:30:00.000Z',
  '2026-13-01T00:00:00.000Z',
  '2026-1a-01T00:00:00.000Z',
  '+02026-11-22T09:30:00.000Z',
];

/** Every place in a message: [the object or array, the key in it]. */
const places = (value: unknown, found: [Json, string][] = []): [Json, string][] => {
  if (typeof value !== 'object' || value === null) return found;
  for (const key of Object.keys(value)) {
    found.push([value as Json, key]);
    places((value as Json)[key], found);
  }
  return found;
};

/** The input broken in one place; which place and how are fast-check's to choose. */
const broken = (input: Json): fc.Arbitrary<Json> =>
  fc.tuple(fc.nat(), fc.constantFrom('remove', 'replace', 'add'), fc.constantFrom(...odd)).map(([at, how, value]) => {
    const copy = structuredClone(input);
    const spots = places(copy);
    const [parent, key] = spots[at % spots.length]!;
    if (how === 'remove') delete parent[key];
    else if (how === 'replace') parent[key] = value;
    else {
      const target = typeof parent[key] === 'object' && parent[key] !== null && !Array.isArray(parent[key]) ? (parent[key] as Json) : parent;
      target.unknownField = value;
    }
    return copy;
  });

const stored: { type: string; data: Json; metadata: Json; streamName: string }[] = [];

beforeAll(async () => {
  const store = new InMemoryEventStore();
  await writeWorkload(store, 3_000, { tenants: 3 });
  const subscription = store.subscribeToAll();
  for await (const event of subscription) {
    stored.push({ type: event.type, data: event.data as Json, metadata: event.metadata as Json, streamName: event.streamName });
    if (stored.length >= 3_000) break;
  }
  await subscription.close();
});

describe('decoding with the quick path answers what it answers without', () => {
  it('every stored event of a decided log, by its own codec, by the union and with its metadata', () => {
    expect(new Set(stored.map((event) => event.type)).size).toBeGreaterThanOrEqual(8);
    for (const event of stored) {
      const { quick, thorough } = bothWays(eventCodecFor(event.type)!, event.data);
      expect(quick).toEqual(thorough);
      expect(quick).toHaveProperty('value');
      const union = bothWays(CallParkEvent, event.data);
      expect(union.quick).toEqual(union.thorough);
      expect(answer(fromStoredForm(event.type, event.data, event.metadata))).toEqual(answer(thoroughly(() => fromStoredForm(event.type, event.data, event.metadata))));
    }
  });

  it('endings with the attempt ringing, and as stored before they named it, decode alike both ways, whole and broken', () => {
    const endings = stored.filter((event) => ['Retrieved', 'Expired', 'Abandoned'].includes(event.type));
    const naming = endings.filter((event) => event.data.ringingAttempt !== undefined);
    expect(naming.length).toBeGreaterThan(0);
    const before = naming.map(({ data: { ringingAttempt: _attempt, ...data }, ...event }) => ({ ...event, data }));
    for (const event of [...naming, ...before]) {
      const { quick, thorough } = bothWays(eventCodecFor(event.type)!, event.data);
      expect(quick).toEqual(thorough);
      expect(quick).toHaveProperty('value');
      expect(answer(fromStoredForm(event.type, event.data, event.metadata))).toEqual(answer(thoroughly(() => fromStoredForm(event.type, event.data, event.metadata))));
    }
    fc.assert(
      fc.property(fc.constantFrom(...naming, ...before).chain((event) => fc.tuple(fc.constant(event.type), broken(event.data))), ([type, data]) => {
        const { quick, thorough } = bothWays(eventCodecFor(type)!, data);
        expect(quick).toEqual(thorough);
        const union = bothWays(CallParkEvent, data);
        expect(union.quick).toEqual(union.thorough);
      }),
      { numRuns: 1_000 },
    );
  });

  it('stored events broken in one place', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }).chain((index) => {
          const event = stored[index % stored.length]!;
          return fc.tuple(fc.constant(event.type), broken(event.data), broken(event.metadata));
        }),
        ([type, data, metadata]) => {
          const event = bothWays(eventCodecFor(type)!, data);
          expect(event.quick).toEqual(event.thorough);
          const union = bothWays(CallParkEvent, data);
          expect(union.quick).toEqual(union.thorough);
          const meta = bothWays(EventMetadata, metadata);
          expect(meta.quick).toEqual(meta.thorough);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('commands, whole and broken in one place', () => {
    for (const command of commands) expect(bothWays(CallParkCommand, command).quick).toHaveProperty('value');
    fc.assert(
      fc.property(fc.constantFrom(...commands).chain(broken), (command) => {
        const { quick, thorough } = bothWays(CallParkCommand, command);
        expect(quick).toEqual(thorough);
      }),
      { numRuns: 1_000 },
    );
  });

  it('snapshots of the states a decided log folds to, at every hundredth event, whole and broken in one place', () => {
    const snapshots: Json[] = [];
    for (const streamName of new Set(stored.map((event) => event.streamName))) {
      const events = stored.filter((event) => event.streamName === streamName).map((event) => E.getOrElseW(() => undefined)(fromStoredForm(event.type, event.data, event.metadata))!.event);
      let state = callParkDecider.initialState();
      events.forEach((event, index) => {
        state = evolve(state, event);
        if (index % 100 === 99) snapshots.push(JSON.parse(JSON.stringify(encodeState(state))) as Json);
      });
      snapshots.push(JSON.parse(JSON.stringify(encodeState(fold(callParkDecider, events)))) as Json);
    }
    expect(snapshots.some((snapshot) => (snapshot.sessions as unknown[]).length > 0)).toBe(true);
    for (const snapshot of snapshots) {
      const quick = answer(decodeState(snapshot));
      expect(quick).toEqual(answer(thoroughly(() => decodeState(snapshot))));
      expect(quick).toHaveProperty('value');
    }
    fc.assert(
      fc.property(fc.constantFrom(...snapshots).chain(broken), (snapshot) => {
        expect(answer(decodeState(snapshot))).toEqual(answer(thoroughly(() => decodeState(snapshot))));
      }),
      { numRuns: 1_000 },
    );
  });
});
