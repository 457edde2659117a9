/**
 * The scheduler on the system clock and real timers, kept short: the park is recorded with its
 * time set 9.7 s back, so its ring back (parkTimeoutSeconds is at least 10) is due 300 ms on.
 * How late it fires is for the ring-back benchmark to measure, on a machine kept quiet: here it
 * fires, not before it is due, and reports the lateness it had.
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

it('rings back on the real clock, not before it is due, and says how late it was', async () => {
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

  const rung = await (async () => {
    const subscription = store.subscribeToAll({ after: parked.position! });
    try {
      for await (const recorded of subscription) {
        const event = decodeRecorded(recorded);
        if (event.type === 'RingBackStarted') return event;
      }
      throw new Error('the subscription ended before the ring back');
    } finally {
      await subscription.close();
    }
  })();
  expect(rung.at).toBeGreaterThanOrEqual(dueAt);
  expect(lateness).toEqual([rung.at - dueAt]);
});
