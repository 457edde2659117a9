/**
 * Leases of one group on PostgreSQL (the ring-back scheduler's shards): shared out between the
 * instances that hold them, taken over by the others when one closes or is SIGKILLed, and never
 * held by two at once. Every wait is on a try of the leases (`tried()`), never on a clock.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { LeasedWork } from '../../adapters/leases/lease.js';
import { PostgresLeases } from '../../adapters/leases/postgresLeases.js';
import { compiledModule } from '../../adapters/runtime/workerModule.js';
import { schedulerShardLeases } from '../../adapters/scheduler/shards.js';
import { postgresAvailable, postgresTestUrl } from '../support/services.js';

const available = await postgresAvailable();
const SHARDS = 8;
const GROUP = 'ring-back-scheduler';

/** Who runs each shard now, across every holder of a test: a start while another runs it is an overlap. */
class Runs {
  readonly running = new Map<string, string>();
  readonly overlaps: string[] = [];

  work(holder: string, lease: string): LeasedWork {
    return {
      start: () => {
        const other = this.running.get(lease);
        if (other !== undefined && other !== holder) this.overlaps.push(`${lease}: ${holder} started it while ${other} ran it`);
        this.running.set(lease, holder);
        return Promise.resolve();
      },
      stop: () => {
        if (this.running.get(lease) === holder) this.running.delete(lease);
        return Promise.resolve();
      },
    };
  }
}

const opened: PostgresLeases[] = [];
const holder = (namespace: string, name: string, runs: Runs): PostgresLeases => {
  const leases = new PostgresLeases({ connectionString: postgresTestUrl(), namespace, retryMs: 50, applicationName: 'callpark-shard-leases-test' });
  opened.push(leases);
  for (const lease of schedulerShardLeases(SHARDS)) leases.hold(lease, runs.work(name, lease), { group: GROUP });
  return leases;
};

/** Try the leases of every holder again until `done`; fails after `most` rounds of tries. */
const until = async (done: () => boolean, holders: readonly PostgresLeases[], most = 200): Promise<void> => {
  for (let round = 0; !done(); round++) {
    if (round >= most) throw new Error(`Not done after ${most} rounds of tries`);
    for (const leases of holders) await leases.tried();
  }
};

afterEach(async () => {
  await Promise.all(opened.splice(0).map((leases) => leases.close()));
});

describe.skipIf(!available)('the shards of a piece of work, as PostgreSQL leases of one group', () => {
  it('are split between two holders, and all taken over by one when the other closes, never run by two at once', async () => {
    const namespace = randomUUID();
    const runs = new Runs();
    const a = holder(namespace, 'a', runs);
    await until(() => a.held().length === SHARDS, [a]);

    const b = holder(namespace, 'b', runs);
    await until(() => a.held().length === SHARDS / 2 && b.held().length === SHARDS / 2, [a, b]);
    expect([...a.held(), ...b.held()].sort()).toEqual(schedulerShardLeases(SHARDS).sort());
    expect(new Set(runs.running.values())).toEqual(new Set(['a', 'b']));

    await a.close();
    expect(a.held()).toEqual([]);
    await until(() => b.held().length === SHARDS, [b]);
    expect([...runs.running.values()].every((name) => name === 'b')).toBe(true);
    expect(runs.running.size).toBe(SHARDS);
    expect(runs.overlaps).toEqual([]);
  });

  it('keeps to an even share with three holders, and spreads a closed holder’s share over the two others', async () => {
    const namespace = randomUUID();
    const runs = new Runs();
    const holders = ['a', 'b', 'c'].map((name) => holder(namespace, name, runs));
    // 8 over 3: shares of at most 3.
    await until(() => holders.every((leases) => leases.held().length >= 2 && leases.held().length <= 3) && runs.running.size === SHARDS, holders);
    const [closing, ...rest] = holders as [PostgresLeases, PostgresLeases, PostgresLeases];
    const before = rest.map((leases) => leases.held().length);
    await closing.close();
    await until(() => rest.every((leases) => leases.held().length === SHARDS / 2), rest);
    // Each survivor took part of the closed holder's share.
    rest.forEach((leases, index) => expect(leases.held().length).toBeGreaterThan(before[index]!));
    expect(runs.overlaps).toEqual([]);
  });

  it('passes a SIGKILLed holder’s share to the survivor', async () => {
    const namespace = randomUUID();
    const modules = {
      leases: pathToFileURL(compiledModule(new URL('../../adapters/leases/postgresLeases.js', import.meta.url))).href,
      shards: pathToFileURL(compiledModule(new URL('../../adapters/scheduler/shards.js', import.meta.url))).href,
    };
    const script = `
      const { PostgresLeases } = await import(${JSON.stringify(modules.leases)});
      const { schedulerShardLeases } = await import(${JSON.stringify(modules.shards)});
      const leases = new PostgresLeases({ connectionString: ${JSON.stringify(postgresTestUrl())}, namespace: ${JSON.stringify(namespace)}, retryMs: 50 });
      for (const lease of schedulerShardLeases(${SHARDS})) leases.hold(lease, { start: async () => console.log('started ' + lease), stop: async () => console.log('stopped ' + lease) }, { group: ${JSON.stringify(GROUP)} });
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childRuns = new Set<string>();
    const lines = createInterface({ input: child.stdout! });
    let resolveHalfGiven: () => void = () => undefined;
    const halfGiven = new Promise<void>((resolve) => (resolveHalfGiven = resolve));
    const allStarted = new Promise<void>((resolve) => {
      lines.on('line', (line: string) => {
        const [what, lease] = line.split(' ') as [string, string];
        if (what === 'started') childRuns.add(lease);
        else childRuns.delete(lease);
        if (childRuns.size === SHARDS) resolve();
        if (what === 'stopped' && childRuns.size === SHARDS / 2) resolveHalfGiven();
      });
    });
    try {
      await allStarted;
      const survivor = holder(namespace, 'survivor', new Runs());
      // The child gives half up once it sees the survivor as a member, on its own timer: the
      // survivor keeps trying (and so counting as a member) until the child says it stopped half,
      // however long a busy machine makes that; then it takes them within a bounded number of tries.
      let childGaveHalf = false;
      void halfGiven.then(() => (childGaveHalf = true));
      while (!childGaveHalf) await survivor.tried();
      await until(() => survivor.held().length === SHARDS / 2, [survivor]);

      child.kill('SIGKILL');
      await once(child, 'exit');
      await until(() => survivor.held().length === SHARDS, [survivor]);
      expect([...survivor.held()].sort()).toEqual(schedulerShardLeases(SHARDS).sort());
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
