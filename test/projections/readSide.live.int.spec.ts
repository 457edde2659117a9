/**
 * The live side of the read side, over random histories recorded by the real decider:
 * - the occupancy feed: a subscriber that joins at any point, applies its snapshot and then each
 *   change as the supervisors' page does, holds exactly what the projection holds at the end;
 * - the occupancy at a past instant equals the decider's own fold of the events up to it;
 * - readiness reports each runner, and a runner too far behind or stopped makes it not ready.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { evolve, initialState } from '../../domain/callParkState.js';
import { occupancyOf, type OrbitOccupancy, type PolicyOccupancy } from '../../domain/occupancy.js';
import { occupancyProjection } from '../../projections/occupancy.js';
import { OccupancyFeed, type OccupancyUpdate } from '../../projections/occupancyFeed.js';
import { readOccupancy, type ReadSource } from '../../projections/occupancyQueries.js';
import { tablesOf } from '../../projections/projection.js';
import type { ReadStore } from '../../projections/readStore.js';
import { projectionReadiness } from '../../projections/readiness.js';
import { readSideRunnerOptions } from '../../projections/readSide.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { occupancyAt } from '../../projections/timeTravel.js';
import { historyArbitrary, HistoryRecorder, TENANTS } from './readSideHistory.js';
import { decodeLog, readLog } from './readSideOracle.js';
import { sqliteFactory, type ReadStoreFactory } from './readStores.js';

interface Board {
  policies: Map<string, { policy: string; rangeStart: number; rangeEnd: number; orbitPrefix: string; orbits: Map<number, OrbitOccupancy> }>;
}

/** What a board shows: the orbits that hold a call, and the free ones that were ever freed. */
const shown = (orbits: Iterable<OrbitOccupancy>): OrbitOccupancy[] => [...orbits].filter((orbit) => orbit.status !== 'free' || orbit.freedAt !== undefined).sort((a, b) => a.orbit - b.orbit);

const boardOf = (policies: readonly PolicyOccupancy[]) =>
  policies.map(({ policy, rangeStart, rangeEnd, orbitPrefix, orbits }) => ({ policy, rangeStart, rangeEnd, orbitPrefix, orbits: shown(orbits) }));

/** The supervisors' page's rules (adapters/http/supervisor/board.js), in TypeScript. */
const apply = (board: Board, update: OccupancyUpdate): void => {
  if (update.kind === 'snapshot') {
    board.policies = new Map(
      update.policies.map(({ policy, rangeStart, rangeEnd, orbitPrefix, orbits }) => [policy, { policy, rangeStart, rangeEnd, orbitPrefix, orbits: new Map(shown(orbits).map((orbit) => [orbit.orbit, orbit])) }]),
    );
    return;
  }
  const { change } = update;
  if (change.kind === 'policy-changed') return;
  const policy = board.policies.get(change.policy);
  if (!policy) return;
  if (change.kind === 'parked') {
    policy.orbits.set(change.orbit.orbit, change.orbit);
    return;
  }
  const current = policy.orbits.get(change.orbit);
  if (!current || current.sessionId !== change.sessionId) return;
  if (change.kind === 'ringing-back') {
    const { ringBackDueAt: _due, ...rest } = current;
    policy.orbits.set(change.orbit, { ...rest, status: 'ringing-back', attempt: change.attempt, unansweredAt: change.unansweredAt });
  } else if (change.kind === 'ring-back-unanswered') {
    const { unansweredAt: _unanswered, ...rest } = current;
    policy.orbits.set(change.orbit, { ...rest, status: 'parked', attempt: change.attempt, ringBackDueAt: change.ringBackDueAt });
  } else if (change.orbit < policy.rangeStart || change.orbit > policy.rangeEnd) {
    policy.orbits.delete(change.orbit);
  } else {
    policy.orbits.set(change.orbit, { orbit: change.orbit, code: `${policy.orbitPrefix}${change.orbit}`, status: 'free', freedAt: change.freedAt });
  }
};

const view = (board: Board) =>
  [...board.policies.values()].sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0)).map((policy) => ({ ...policy, orbits: shown(policy.orbits.values()) }));

describe('the live read side', () => {
  let stores: ReadStoreFactory;
  let readStore: ReadStore;
  let builds = 0;

  beforeAll(async () => {
    stores = await sqliteFactory();
    readStore = await stores.open();
  });
  afterAll(async () => {
    await stores.cleanup();
  });

  it('feeds a board that ends as the projection does, whenever it joins', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(40), historyArbitrary(40), async (before, after) => {
        const store = new InMemoryEventStore();
        const recorder = new HistoryRecorder(store);
        const projection = occupancyProjection;
        const prefix = `live${++builds}_`;
        const runner = new ProjectionRunner({ eventStore: store, readStore }, projection, { ...readSideRunnerOptions(projection), tablePrefix: prefix, maxBatchSize: 5 });
        const source: ReadSource = { db: readStore, tables: tablesOf(projection, prefix) };
        await runner.start();
        const feed = new OccupancyFeed(runner, (tenantId) => readOccupancy(source, tenantId));
        await recorder.setUp();
        await recorder.record(before);
        const boards = TENANTS.map(() => ({ policies: new Map() }) as Board);
        const subscriptions = TENANTS.map((tenantId, index) => feed.subscribe(tenantId, (update) => apply(boards[index]!, update)));
        await recorder.record(after);
        await runner.catchUp();
        for (const [index, tenantId] of TENANTS.entries()) {
          const expected = boardOf(await readOccupancy(source, tenantId));
          await expect.poll(() => view(boards[index]!), { timeout: 2_000, interval: 5 }).toEqual(expected);
        }
        for (const subscription of subscriptions) subscription.close();
        expect(feed.size).toBe(0);
        feed.close();
        await runner.stop();
      }),
      { numRuns: 15 },
    );
  });

  it('rebuilds the occupancy at any instant as the decider folds the events up to it', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(50), fc.nat(), fc.constantFrom(-1, 0, 1), async (steps, pick, offset) => {
        const recorder = new HistoryRecorder();
        await recorder.setUp();
        await recorder.record(steps);
        const log = decodeLog(await readLog(recorder.store));
        const instant = log[pick % log.length]!.event.at + offset;
        for (const tenantId of TENANTS) {
          let state = initialState();
          let folded = 0;
          for (const { event } of log) {
            if (event.tenantId !== tenantId || event.at > instant) continue;
            state = evolve(state, event);
            folded++;
          }
          for (const policy of ['Global', 'Sales', 'Nope']) {
            const then = await occupancyAt(recorder.store, tenantId, policy, instant);
            expect(then.eventsFolded).toBe(folded);
            expect(then.occupancy).toEqual(folded === 0 ? undefined : occupancyOf(state, policy));
          }
        }
      }),
      { numRuns: 25 },
    );
  });

  it('is ready while every runner runs within the lag allowed, and says which one is not', async () => {
    const store = new InMemoryEventStore();
    const recorder = new HistoryRecorder(store);
    await recorder.setUp();
    const runner = new ProjectionRunner({ eventStore: store, readStore }, occupancyProjection, { tablePrefix: `ready${++builds}_` });
    const stopped = new ProjectionRunner({ eventStore: store, readStore }, occupancyProjection, { tablePrefix: `ready${++builds}_` });
    expect(await projectionReadiness([runner], 10)).toMatchObject({ ready: false, checks: { [`projection:${runner.build}`]: { ok: false, detail: 'idle' } } });
    await runner.start();
    await runner.catchUp();
    expect(await projectionReadiness([runner], 0)).toEqual({ ready: true, checks: { [`projection:${runner.build}`]: { ok: true, detail: '0 event(s) behind' } } });
    await runner.stop();
    await recorder.record([{ step: { kind: 'park', tenant: 0, user: 0, endpoint: 0, media: 'audio', directed: null, reuseCall: null }, after: 1 }]);
    const readiness = await projectionReadiness([runner, stopped], 0);
    expect(readiness.ready).toBe(false);
    expect(readiness.checks[`projection:${runner.build}`]).toMatchObject({ ok: false, detail: 'stopped' });
    expect(readiness.checks[`projection:${stopped.build}`]).toMatchObject({ ok: false });
    const lagging = { build: 'lagging', status: () => ({ ...runner.status(), state: 'running' as const }), lag: async () => ({ head: undefined, checkpoint: undefined, events: 7, ms: 1_500 }) };
    expect(await projectionReadiness([lagging], 5)).toEqual({ ready: false, checks: { 'projection:lagging': { ok: false, detail: '7 event(s) behind the head of the log, more than 5 (behind for 1500 ms)' } } });
    expect(await projectionReadiness([lagging], 7)).toMatchObject({ ready: true });
  });
});
