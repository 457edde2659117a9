/**
 * The ring-back scheduler's behaviour end to end, driven by the scheduler alone: the same
 * scenarios run over SQLite (ringBackScheduler.sqlite.int.spec.ts) and PostgreSQL (ringBackScheduler.postgres.int.spec.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandHandler } from '../../adapters/commands/commandHandler.js';
import type { CallParkEvent } from '../../domain/events.js';
import type { PolicySettingsChange } from '../../domain/parkPolicy.js';
import { TENANT, at, bob, parkCommand, retrieveCommand, retriever, setPolicyCommand } from '../support/callParkFixtures.js';
import { ManualClock } from './manualClock.js';
import { TimerWorld, type ReadStoreDatabase, type ServiceProcess } from './timerWorld.js';

/** Ten seconds parked, five ringing, two attempts: a whole life in half a minute. */
export const quickPolicy: PolicySettingsChange = { allowCallPark: true, parkTimeoutSeconds: 10, ringBackSeconds: 5, maxRingBackAttempts: 2, pickupRangeEnd: 999 };

export const allowParking = (handler: CommandHandler, tenantId = TENANT, change: PolicySettingsChange = quickPolicy) =>
  handler.handle({ ...setPolicyCommand('Global', change, -100), tenantId });

export const park = (handler: CommandHandler, session: number, over: { tenantId?: string; seconds?: number } = {}) =>
  handler.handle(parkCommand({ sessionId: `session-${session}`, callId: `call-${session}`, ...over }));

interface Moment {
  readonly type: CallParkEvent['type'];
  readonly at: number;
  readonly [fact: string]: unknown;
}

/** What a test reads of a timeline: each event's type, time, and the facts about its timer. */
const timeline = (events: readonly CallParkEvent[]): Moment[] =>
  events.flatMap((event): Moment[] => {
    switch (event.type) {
      case 'Parked':
        return [{ type: event.type, at: event.at, dueAt: event.ringBackDueAt }];
      case 'RingBackStarted':
        return [{ type: event.type, at: event.at, attempt: event.attempt, unansweredAt: event.unansweredAt }];
      case 'RingBackUnanswered':
        return [{ type: event.type, at: event.at, attempt: event.attempt, cause: event.cause, nextRingBackDueAt: event.nextRingBackDueAt }];
      case 'Expired':
        return [{ type: event.type, at: event.at, attempts: event.attempts, cause: event.cause }];
      case 'Retrieved':
        return [{ type: event.type, at: event.at }];
      default:
        return [];
    }
  });

const sessionEvents = (events: readonly CallParkEvent[], sessionId: string) => events.filter((event) => 'sessionId' in event && event.sessionId === sessionId);

export const describeSchedulerScenarios = (dialect: string, openDatabase: () => Promise<ReadStoreDatabase>): void => {
  describe(`the ring-back scheduler over ${dialect}`, () => {
    let world: TimerWorld | undefined;
    const newWorld = async (): Promise<TimerWorld> => {
      world = new TimerWorld(await openDatabase(), new ManualClock(at(-200)));
      return world;
    };
    afterEach(async () => {
      await world?.close();
      world = undefined;
    });

    it('rings back, rings again, and sends the call to its fallback, on time, with nobody but the scheduler acting', async () => {
      const world = await newWorld();
      const service = await world.startProcess();
      await allowParking(service.handler);
      await world.advanceTo(at(0));
      await park(service.handler, 1);

      await world.advanceTo(at(10) - 1);
      expect(timeline(await world.events(TENANT))).toEqual([{ type: 'Parked', at: at(0), dueAt: at(10) }]);

      await world.advanceTo(at(100));
      expect(timeline(await world.events(TENANT))).toEqual([
        { type: 'Parked', at: at(0), dueAt: at(10) },
        { type: 'RingBackStarted', at: at(10), attempt: 1, unansweredAt: at(15) },
        { type: 'RingBackUnanswered', at: at(15), attempt: 1, cause: 'no-answer', nextRingBackDueAt: at(25) },
        { type: 'RingBackStarted', at: at(25), attempt: 2, unansweredAt: at(30) },
        { type: 'Expired', at: at(30), attempts: 2, cause: 'no-answer' },
      ]);
      expect(service.sent.map(({ command }) => command.commandId)).toEqual([
        'ring-back-due:session-1:1',
        'ring-back-unanswered:session-1:1',
        'ring-back-due:session-1:2',
        'ring-back-unanswered:session-1:2',
      ]);
      expect(service.lateness).toEqual([0, 0, 0, 0]);
      expect(await world.timers()).toEqual([]);
      expect(service.logged).toEqual([]);
    });

    it('does not ring back a call retrieved before its timer', async () => {
      const world = await newWorld();
      const service = await world.startProcess();
      await allowParking(service.handler);
      await world.advanceTo(at(0));
      await park(service.handler, 1);
      await world.advanceTo(at(5));
      await service.handler.handle(retrieveCommand('10', retriever(bob), 5));

      await world.advanceTo(at(60));
      expect(timeline(await world.events(TENANT)).map((event) => event.type)).toEqual(['Parked', 'Retrieved']);
      expect(service.sent).toEqual([]);
      expect(await world.timers()).toEqual([]);
    });

    it('finds the timer’s command a no-op, not an error, when a retrieval was recorded first', async () => {
      const world = await newWorld();
      const service = await world.startProcess();
      await allowParking(service.handler);
      await world.advanceTo(at(0));
      await park(service.handler, 1);
      await world.advanceTo(at(9));
      // The retrieval is recorded, but the scheduler has not heard of it when the timer fires.
      await service.runner.stop();
      await service.handler.handle(retrieveCommand('10', retriever(bob), 9.9));

      await world.advanceTo(at(30));
      expect(service.sent).toHaveLength(1);
      expect(service.sent[0]).toMatchObject({ command: { type: 'RingBackDue', commandId: 'ring-back-due:session-1:1', at: at(10) }, outcome: { kind: 'no-op', events: [] } });
      expect(timeline(await world.events(TENANT)).map((event) => event.type)).toEqual(['Parked', 'Retrieved']);
      expect(service.logged).toEqual([]);
      expect(service.scheduler.status()).toMatchObject({ failures: 0, queued: 0, inFlight: 0 });
    });

    it('fires a timer that came due while the service was down right after it starts again, and carries on', async () => {
      const world = await newWorld();
      const before = await world.startProcess();
      await allowParking(before.handler);
      await world.advanceTo(at(0));
      await park(before.handler, 1);
      await world.advanceTo(at(5));
      await before.stop();

      await world.advanceTo(at(40));
      expect(timeline(await world.events(TENANT)).map((event) => event.type)).toEqual(['Parked']);
      const after = await world.startProcess();
      await world.advanceTo(at(40));
      expect(timeline(await world.events(TENANT))[1]).toEqual({ type: 'RingBackStarted', at: at(40), attempt: 1, unansweredAt: at(45) });
      expect(after.lateness[0]).toBe(30_000);

      await world.advanceTo(at(100));
      expect(timeline(await world.events(TENANT)).map((event) => [event.type, event.at])).toEqual([
        ['Parked', at(0)],
        ['RingBackStarted', at(40)],
        ['RingBackUnanswered', at(45)],
        ['RingBackStarted', at(55)],
        ['Expired', at(60)],
      ]);
      expect(after.lateness).toEqual([30_000, 0, 0, 0]);
    });

    it('fires at start a timer whose park the projection had not even read when the service went down', async () => {
      const world = await newWorld();
      const before = await world.startProcess();
      await allowParking(before.handler);
      await before.stop();
      await world.advanceTo(at(0));
      // Recorded by a process that went down before anything projected it.
      await park(before.handler, 1);

      await world.advanceTo(at(30));
      const after = await world.startProcess();
      // Read at start, or heard of from the runner's first batch a few milliseconds later.
      await world.advanceTo(at(30.1));
      const [, rung] = timeline(await world.events(TENANT));
      expect(rung).toMatchObject({ type: 'RingBackStarted', attempt: 1 });
      expect(rung!.at).toBeGreaterThanOrEqual(at(30));
      expect(rung!.at).toBeLessThanOrEqual(at(30.1));
      expect(after.lateness).toEqual([rung!.at - at(10)]);
    });

    it('rings back once per attempt with two service processes on one store, both firing every timer', async () => {
      const world = await newWorld();
      const first = await world.startProcess();
      const second = await world.startProcess();
      const tenants = [TENANT, 'fabrikam'];
      for (const tenantId of tenants) await allowParking(first.handler, tenantId);
      await world.advanceTo(at(0));
      const processes: ServiceProcess[] = [first, second];
      // Each process parks half the calls of each tenant, at once.
      await Promise.all(
        Array.from({ length: 24 }, (_, i) => park(processes[i % 2]!.handler, i, { tenantId: tenants[Math.floor(i / 2) % 2]!, seconds: (i % 3) / 10 })),
      );

      await world.advanceTo(at(120));
      for (const tenantId of tenants) {
        const events = await world.events(tenantId);
        const sessions = [...new Set(events.flatMap((event) => (event.type === 'Parked' ? [event.sessionId] : [])))];
        expect(sessions).toHaveLength(12);
        for (const sessionId of sessions) {
          expect(timeline(sessionEvents(events, sessionId)).map((event) => (event.attempt === undefined ? event.type : `${event.type}#${String(event.attempt)}`))).toEqual([
            'Parked',
            'RingBackStarted#1',
            'RingBackUnanswered#1',
            'RingBackStarted#2',
            'Expired',
          ]);
        }
        expect(events.filter((event) => event.type === 'RingBackStarted')).toHaveLength(24);
      }
      // Both fired timers; whichever lost was told so, without an error.
      expect(first.sent.length).toBeGreaterThan(0);
      expect(second.sent.length).toBeGreaterThan(0);
      for (const { sent } of [first, second]) for (const { error } of sent) expect(error).toBeUndefined();
      expect([...first.logged, ...second.logged]).toEqual([]);
      expect(await world.timers()).toEqual([]);
    });
  });
};
