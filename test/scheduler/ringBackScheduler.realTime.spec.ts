/**
 * The scheduler on the system clock and real timers, kept short: the park is recorded with its
 * time set 9.7 s back, so its ring back (parkTimeoutSeconds is at least 10) is due 300 ms on.
 */
import { afterEach, expect, it } from 'vitest';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { RingBackScheduler } from '../../adapters/scheduler/ringBackScheduler.js';
import { ringBackTimersProjection, decodeRecorded } from '../../projections/ringBackTimers.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { parkCommand, setPolicyCommand } from '../support/callParkFixtures.js';
import { quickPolicy } from './schedulerScenarios.js';
import { sqliteDatabase, type ReadStoreDatabase } from './timerWorld.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

it('rings back on time on the real clock, and says how late it was', async () => {
  const database: ReadStoreDatabase = await sqliteDatabase();
  const store = new InMemoryEventStore();
  const handler = new CommandHandler({ store });
  const runner = new ProjectionRunner({ eventStore: store, readStore: await database.open() }, ringBackTimersProjection);
  const lateness: number[] = [];
  const scheduler = new RingBackScheduler({ handler, readStore: await database.open(), runner, observeLateness: (ms) => lateness.push(ms) });
  cleanup = async () => {
    await scheduler.stop();
    await runner.stop();
    await database.drop();
  };
  await runner.start();
  await scheduler.start();

  const now = Date.now();
  await handler.handle({ ...setPolicyCommand('Global', quickPolicy), at: now - 60_000 });
  const parked = await handler.handle({ ...parkCommand(), at: now - 9_700 });
  const dueAt = now + 300;
  expect(parked.events[0]).toMatchObject({ type: 'Parked', ringBackDueAt: dueAt });

  const rung = await new Promise<{ at: number; seenAt: number }>((resolve, reject) => {
    const subscription = store.subscribeToAll({ after: parked.position! });
    const give = setTimeout(() => reject(new Error('no ring back within 3 s')), 3_000);
    void (async () => {
      for await (const recorded of subscription) {
        const event = decodeRecorded(recorded);
        if (event.type === 'RingBackStarted') {
          clearTimeout(give);
          await subscription.close();
          resolve({ at: event.at, seenAt: Date.now() });
          return;
        }
      }
    })();
  });
  expect(rung.at).toBeGreaterThanOrEqual(dueAt);
  expect(lateness).toEqual([rung.at - dueAt]);
  // Generous: the machine is shared; the benchmark measures this properly.
  expect(lateness[0]).toBeLessThan(250);
});
