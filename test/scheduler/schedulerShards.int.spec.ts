/**
 * The ring-back scheduler split into shards of tenants (adapters/scheduler/shards.ts): a scheduler
 * fires the timers of the shards it owns and no other; a shard released and owned by another
 * scheduler has its overdue timers fired there at once, and nothing is sent twice; releasing a
 * shard resolves only once its commands in flight are answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandOutcome } from '../../adapters/commands/commandHandler.js';
import { shardOf } from '../../adapters/scheduler/shards.js';
import { at } from '../support/callParkFixtures.js';
import { ManualClock } from './manualClock.js';
import { allowParking, park } from './schedulerScenarios.js';
import { sqliteDatabase, TimerWorld } from './timerWorld.js';

const SHARDS = 4;
/** Two tenants whose timers belong to different shards. */
const candidates = ['north', 'south', 'east', 'west', 'centre', 'harbour', 'airport'];
const first = candidates[0]!;
const second = candidates.find((tenant) => shardOf(tenant, SHARDS) !== shardOf(first, SHARDS))!;
const [shardOfFirst, shardOfSecond] = [shardOf(first, SHARDS), shardOf(second, SHARDS)];

const sentIds = (sent: readonly { command: { tenantId: string; commandId: string } }[]): string[] => sent.map(({ command }) => `${command.tenantId}/${command.commandId}`);

describe('the ring-back scheduler in shards of tenants', () => {
  let world: TimerWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('gives every tenant a shard from 0 to shards - 1, the same every time', () => {
    for (const tenant of candidates) {
      expect(shardOf(tenant, SHARDS)).toBe(shardOf(tenant, SHARDS));
      expect(shardOf(tenant, SHARDS)).toBeGreaterThanOrEqual(0);
      expect(shardOf(tenant, SHARDS)).toBeLessThan(SHARDS);
      expect(shardOf(tenant, 1)).toBe(0);
    }
  });

  it('fires the timers of its own shards only; a shard handed over has its overdue timers fired by the new owner, once', async () => {
    world = new TimerWorld(await sqliteDatabase(), new ManualClock(at(-200)));
    const one = await world.startProcess({ shards: { count: SHARDS, own: [shardOfFirst] } });
    const other = await world.startProcess({ withoutRunner: true, shards: { count: SHARDS, own: [shardOfSecond] } });
    await allowParking(one.handler, first);
    await allowParking(one.handler, second);
    await world.advanceTo(at(0));
    await park(one.handler, 1, { tenantId: first });
    await park(one.handler, 2, { tenantId: second });

    await world.advanceTo(at(12));
    expect(sentIds(one.sent)).toEqual([`${first}/ring-back-due:session-1:1`]);
    expect(sentIds(other.sent)).toEqual([`${second}/ring-back-due:session-2:1`]);

    // The first shard's lease is given up: nobody fires its timers meanwhile.
    await one.scheduler.release(shardOfFirst);
    expect(one.scheduler.status().shards).toEqual([]);
    await world.advanceTo(at(17));
    expect(sentIds(one.sent)).toEqual([`${first}/ring-back-due:session-1:1`]);
    expect(sentIds(other.sent)).toEqual([`${second}/ring-back-due:session-2:1`, `${second}/ring-back-unanswered:session-2:1`]);

    // Taken over: the overdue timer fires at once, where it is owned now.
    await other.scheduler.own(shardOfFirst);
    await world.advanceTo(at(17));
    expect(sentIds(other.sent)).toContain(`${first}/ring-back-unanswered:session-1:1`);
    expect(other.sent.find(({ command }) => command.tenantId === first)?.command.at).toBe(at(17));

    await world.advanceTo(at(100));
    const everything = [...sentIds(one.sent), ...sentIds(other.sent)];
    expect(new Set(everything).size).toBe(everything.length);
    expect(sentIds(one.sent)).toEqual([`${first}/ring-back-due:session-1:1`]);
    expect(await world.timers()).toEqual([]);
  });

  it('refuses a shard it does not have, and releases a shard once its commands in flight are answered', async () => {
    world = new TimerWorld(await sqliteDatabase(), new ManualClock(at(-200)));
    let open: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const answered: CommandOutcome[] = [];
    const service = await world.startProcess({
      shards: { count: SHARDS, own: [shardOfFirst] },
      wrap: (port) => ({
        handle: async (command) => {
          await gate;
          const outcome = await port.handle(command);
          answered.push(outcome);
          return outcome;
        },
      }),
    });
    await expect(service.scheduler.own(SHARDS)).rejects.toThrow(/No shard 4/);
    await allowParking(service.handler, first);
    await world.clock.advanceTo(at(0), async () => undefined);
    await park(service.handler, 1, { tenantId: first });
    await service.runner.catchUp();
    await service.scheduler.refresh();
    await world.clock.advanceTo(at(10), async () => undefined);
    expect(service.scheduler.status().inFlight).toBe(1);

    let released = false;
    const release = service.scheduler.release(shardOfFirst).then(() => (released = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);
    open!();
    await release;
    expect(answered).toHaveLength(1);
    expect(service.scheduler.status().inFlight).toBe(0);
  });
});
