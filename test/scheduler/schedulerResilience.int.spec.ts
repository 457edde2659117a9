/**
 * What the scheduler does when things go wrong or pile up: a failing handler, many timers due
 * at once or close together, a stop with commands in flight, timers beyond the horizon, and timers set by a
 * runner of another process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandPort } from '../../adapters/scheduler/ringBackScheduler.js';
import { putCheckpoint } from '../../projections/checkpoints.js';
import { ringBackTimersProjection } from '../../projections/ringBackTimers.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { TENANT, at } from '../support/callParkFixtures.js';
import { ManualClock } from './manualClock.js';
import { allowParking, park, quickPolicy } from './schedulerScenarios.js';
import { TimerWorld, sqliteDatabase } from './timerWorld.js';

let world: TimerWorld | undefined;
const newWorld = async (): Promise<TimerWorld> => {
  world = new TimerWorld(await sqliteDatabase(), new ManualClock(at(-200)));
  return world;
};
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const typesOf = async (world: TimerWorld, tenantId = TENANT) => (await world.events(tenantId)).map((event) => event.type);

describe('the ring-back scheduler, when things go wrong or pile up', () => {
  it('logs a failing command and tries it again with growing pauses, never throwing', async () => {
    const world = await newWorld();
    let failuresLeft = 3;
    const tries: number[] = [];
    const service = await world.startProcess({
      wrap: (port): CommandPort => ({
        handle: async (command) => {
          tries.push(command.at - at(10));
          if (failuresLeft-- > 0) throw new Error('the event store is not answering');
          return port.handle(command);
        },
      }),
    });
    await allowParking(service.handler);
    await world.advanceTo(at(0));
    await park(service.handler, 1);

    await world.advanceTo(at(11));
    expect((await typesOf(world)).filter((type) => type === 'RingBackStarted')).toHaveLength(1);
    // 100, 200 and 400 ms pauses, three quarters of each with this test's fixed randomness.
    expect(tries).toEqual([0, 75, 225, 525]);
    expect(service.logged.map((entry) => [entry.level, entry.details.tries, entry.details.retryInMs])).toEqual([
      ['warn', 1, 75],
      ['warn', 2, 150],
      ['warn', 3, 300],
    ]);
    expect(service.lateness).toEqual([0]);
    expect(service.scheduler.status()).toMatchObject({ failures: 3, sent: 4, lastError: 'the event store is not answering' });
  });

  it('sends no more than its concurrency at once when many timers come due together, and sends them all', async () => {
    const world = await newWorld();
    let inFlight = 0;
    let most = 0;
    const service = await world.startProcess({
      scheduler: { maxConcurrent: 8 },
      wrap: (port): CommandPort => ({
        handle: async (command) => {
          most = Math.max(most, ++inFlight);
          try {
            await new Promise((resolve) => setImmediate(resolve));
            return await port.handle(command);
          } finally {
            inFlight--;
          }
        },
      }),
    });
    const tenants = ['contoso', 'fabrikam', 'northwind'];
    for (const tenantId of tenants) await allowParking(service.handler, tenantId);
    await world.advanceTo(at(0));
    await Promise.all(Array.from({ length: 300 }, (_, i) => park(service.handler, i, { tenantId: tenants[i % 3]! })));

    await world.advanceTo(at(10));
    expect(most).toBe(8);
    for (const tenantId of tenants) expect((await typesOf(world, tenantId)).filter((type) => type === 'RingBackStarted')).toHaveLength(100);
    expect(service.lateness).toHaveLength(300);
    expect(service.lateness.every((ms) => ms === 0)).toBe(true);
  });

  it('fires timers that come due close together in rounds, each at most a round late', async () => {
    const world = await newWorld();
    const service = await world.startProcess({ scheduler: { roundMs: 20 } });
    await allowParking(service.handler);
    await world.advanceTo(at(0));
    // Due at 10 s, 10.005 s and 10.030 s.
    await park(service.handler, 1);
    await park(service.handler, 2, { seconds: 0.005 });
    await park(service.handler, 3, { seconds: 0.03 });

    await world.advanceTo(at(11));
    const rung = (await world.events(TENANT)).flatMap((event) => (event.type === 'RingBackStarted' ? [[event.sessionId, event.at - at(10)]] : []));
    expect(rung).toEqual([
      ['session-1', 0],
      ['session-2', 20],
      ['session-3', 40],
    ]);
    expect(service.lateness).toEqual([0, 15, 10]);
  });

  it('stops gracefully: waits for the command in flight and sends nothing more', async () => {
    const world = await newWorld();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const service = await world.startProcess({
      wrap: (port): CommandPort => ({
        handle: async (command) => {
          await gate;
          return port.handle(command);
        },
      }),
    });
    await allowParking(service.handler);
    await world.advanceTo(at(0));
    await park(service.handler, 1);
    await park(service.handler, 2, { seconds: 1 });
    await service.runner.catchUp();
    await world.clock.advanceTo(at(10), async () => {
      await service.runner.catchUp();
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(service.scheduler.status()).toMatchObject({ inFlight: 1, queued: 1 });

    let stopped = false;
    const stopping = service.scheduler.stop().then(() => (stopped = true));
    // Stopping waits for the command in flight: a turn of the event loop on, it is still stopping.
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    expect(service.scheduler.status()).toMatchObject({ state: 'stopping', inFlight: 1 });
    release();
    await stopping;
    expect(service.scheduler.status()).toMatchObject({ state: 'stopped', inFlight: 0 });
    expect((await typesOf(world)).filter((type) => type === 'RingBackStarted')).toHaveLength(1);

    await world.advanceTo(at(60));
    expect(service.sent).toHaveLength(1);
  });

  it('holds only the timers within its horizon, and reads the others as the horizon reaches them', async () => {
    const world = await newWorld();
    const service = await world.startProcess();
    await allowParking(service.handler, TENANT, { ...quickPolicy, parkTimeoutSeconds: 300 });
    await world.advanceTo(at(0));
    await park(service.handler, 1);

    await world.advanceTo(at(1));
    expect(service.scheduler.status().queued).toBe(0);
    await world.advanceTo(at(245));
    expect(service.scheduler.status().queued).toBe(1);
    await world.advanceTo(at(300));
    expect(await typesOf(world)).toEqual(['PolicySettingsChanged', 'Parked', 'RingBackStarted']);
    expect(service.lateness).toEqual([0]);
  });

  it('finds the timers another process’s runner projected at its next refresh', async () => {
    const world = await newWorld();
    const service = await world.startProcess({ withoutRunner: true });
    const elsewhere = new ProjectionRunner({ eventStore: world.store, readStore: await world.database.open() }, ringBackTimersProjection);
    await elsewhere.start();
    try {
      await allowParking(service.handler);
      await world.advanceTo(at(0));
      await park(service.handler, 1);
      const settle = async (): Promise<void> => {
        for (let round = 0; round < 3; round++) {
          await elsewhere.catchUp();
          await service.scheduler.settled();
        }
      };

      await world.clock.advanceTo(at(40), settle);
      expect(await typesOf(world)).toEqual(['PolicySettingsChanged', 'Parked', 'RingBackStarted', 'RingBackUnanswered', 'RingBackStarted', 'Expired']);
      // Each timer was set well within a refresh of its due time: none is late.
      expect(service.lateness).toEqual([0, 0, 0, 0]);
    } finally {
      await elsewhere.stop();
    }
  });

  it('waits to read more when it holds as many timers as it may, and reads them as it drains', async () => {
    const world = await newWorld();
    const service = await world.startProcess({ scheduler: { maxQueued: 40, pageSize: 10 } });
    await allowParking(service.handler);
    await world.advanceTo(at(0));
    await Promise.all(Array.from({ length: 100 }, (_, i) => park(service.handler, i, { seconds: i / 10 })));

    await world.advanceTo(at(1));
    expect(service.scheduler.status().queued).toBe(40);
    await world.advanceTo(at(20));
    expect((await typesOf(world)).filter((type) => type === 'RingBackStarted')).toHaveLength(100);
    expect(Math.max(...service.lateness)).toBe(0);
  });

  it('reads the table again when it was swapped for a rebuild that is behind what it had seen', async () => {
    const world = await newWorld();
    const service = await world.startProcess();
    await allowParking(service.handler);
    await world.advanceTo(at(0));
    await park(service.handler, 1);
    await world.advanceTo(at(1));
    await service.runner.stop();
    const readStore = await world.database.open();
    await putCheckpoint(readStore, { name: ringBackTimersProjection.name, position: undefined, version: ringBackTimersProjection.version }, world.clock.now());

    await world.advanceTo(at(10));
    expect(service.logged.map((entry) => entry.message)).toEqual(['The ring-back timers table was rebuilt: reading it again.']);
    expect(await typesOf(world)).toEqual(['PolicySettingsChanged', 'Parked', 'RingBackStarted']);
    expect(service.lateness).toEqual([0]);
  });
});
