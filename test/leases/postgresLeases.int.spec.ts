/**
 * Leases on PostgreSQL advisory locks: one holder at a time; a holder that closes, loses its
 * connection or is SIGKILLed lets another instance take the lease over, and stops its own work
 * first when it is the one that lost it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { LeasedWork } from '../../adapters/leases/lease.js';
import { PostgresLeases } from '../../adapters/leases/postgresLeases.js';
import { compiledModule } from '../../adapters/runtime/workerModule.js';
import { postgresAvailable, postgresTestUrl } from '../support/services.js';

const available = await postgresAvailable();

/** Work that counts its starts and stops and lets a test wait for the next of each. */
class Recorded implements LeasedWork {
  starts = 0;
  stops = 0;
  running = false;
  private waiters: { kind: 'start' | 'stop'; count: number; resolve: () => void }[] = [];

  start(): Promise<void> {
    this.starts++;
    this.running = true;
    this.settle();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stops++;
    this.running = false;
    this.settle();
    return Promise.resolve();
  }

  /** Resolves once started (or stopped) `count` times in all. */
  reach(kind: 'start' | 'stop', count: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ kind, count, resolve });
      this.settle();
    });
  }

  private settle(): void {
    this.waiters = this.waiters.filter((waiter) => {
      const done = (waiter.kind === 'start' ? this.starts : this.stops) >= waiter.count;
      if (done) waiter.resolve();
      return !done;
    });
  }
}

const opened: PostgresLeases[] = [];
const leasesOn = (namespace: string, applicationName = 'callpark-leases-test'): PostgresLeases => {
  const leases = new PostgresLeases({ connectionString: postgresTestUrl(), namespace, retryMs: 50, applicationName });
  opened.push(leases);
  return leases;
};

afterEach(async () => {
  await Promise.all(opened.splice(0).map((leases) => leases.close()));
});

describe.skipIf(!available)('PostgreSQL leases', () => {
  it('are held by one instance at a time, and taken over when the holder gives them up', async () => {
    const namespace = randomUUID();
    const [a, b] = [leasesOn(namespace), leasesOn(namespace)];
    const [workA, workB] = [new Recorded(), new Recorded()];
    a.hold('projection:audit', workA);
    await workA.reach('start', 1);
    b.hold('projection:audit', workB);
    await b.tried();
    await b.tried();
    expect(workB.starts).toBe(0);
    expect(a.held()).toEqual(['projection:audit']);
    expect(b.held()).toEqual([]);

    await a.close();
    expect(workA.running).toBe(false);
    await workB.reach('start', 1);
    expect(b.held()).toEqual(['projection:audit']);
  });

  it('tells who listens when it takes a lease and when it loses it, and no more once told to stop', async () => {
    const namespace = randomUUID();
    const [a, b] = [leasesOn(namespace), leasesOn(namespace)];
    const told: { by: string; held: readonly string[] }[] = [];
    /** Resolves once `leases` says it holds exactly `wanted` (every change it tells is noted in `told`). */
    const untilHeld = (leases: PostgresLeases, by: string, wanted: readonly string[]): Promise<readonly string[]> =>
      new Promise((resolve) => {
        const stop = leases.onChange((held) => {
          told.push({ by, held });
          if ([...held].sort().join() !== [...wanted].sort().join()) return;
          stop();
          resolve(held);
        });
      });
    const ignored = a.onChange(() => told.push({ by: 'a, no longer listened to', held: [] }));
    ignored();

    // Leases free at one try are taken, and told, together or one after another.
    const aTakes = untilHeld(a, 'a', ['projection:audit', 'ring-back-scheduler']);
    a.hold('projection:audit', new Recorded());
    a.hold('ring-back-scheduler', new Recorded());
    expect([...(await aTakes)].sort()).toEqual(['projection:audit', 'ring-back-scheduler']);
    expect(told.every(({ by, held }) => by === 'a' && held.length > 0)).toBe(true);

    const bTakes = untilHeld(b, 'b', ['ring-back-scheduler']);
    b.hold('ring-back-scheduler', new Recorded());
    const aLoses = untilHeld(a, 'a', []);
    await a.close();
    expect(await aLoses).toEqual([]);
    expect(await bTakes).toEqual(['ring-back-scheduler']);
    expect(told.at(-1)).toEqual({ by: 'b', held: ['ring-back-scheduler'] });
    expect(told.some(({ by }) => by === 'a, no longer listened to')).toBe(false);
  });

  it('keeps leases of other names and other namespaces apart', async () => {
    const namespace = randomUUID();
    const [a, b, c] = [leasesOn(namespace), leasesOn(namespace), leasesOn(randomUUID())];
    const works = [new Recorded(), new Recorded(), new Recorded()];
    a.hold('ring-back-scheduler', works[0]!);
    b.hold('projection:occupancy', works[1]!);
    c.hold('ring-back-scheduler', works[2]!);
    await Promise.all(works.map((work) => work.reach('start', 1)));
  });

  it('stops the work when its connection is cut, then takes the lease again', async () => {
    const namespace = randomUUID();
    const applicationName = `callpark-leases-${randomUUID().slice(0, 8)}`;
    const leases = leasesOn(namespace, applicationName);
    const work = new Recorded();
    leases.hold('ring-back-scheduler', work);
    await work.reach('start', 1);

    const admin = new pg.Client({ connectionString: postgresTestUrl() });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    } finally {
      await admin.end();
    }
    await work.reach('stop', 1);
    await work.reach('start', 2);
    expect(work.running).toBe(true);
  });

  it('passes to another instance when the holder is SIGKILLed', async () => {
    const namespace = randomUUID();
    const module = pathToFileURL(compiledModule(new URL('../../adapters/leases/postgresLeases.js', import.meta.url))).href;
    const script = `
      const { PostgresLeases } = await import(${JSON.stringify(module)});
      const leases = new PostgresLeases({ connectionString: ${JSON.stringify(postgresTestUrl())}, namespace: ${JSON.stringify(namespace)}, retryMs: 50 });
      leases.hold('ring-back-scheduler', { start: async () => console.log('started'), stop: async () => undefined });
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await once(lines, 'line')) as [string];
    expect(first).toBe('started');

    const survivor = leasesOn(namespace);
    const work = new Recorded();
    survivor.hold('ring-back-scheduler', work);
    await survivor.tried();
    expect(work.starts).toBe(0);

    child.kill('SIGKILL');
    await once(child, 'exit');
    await work.reach('start', 1);
    expect(survivor.held()).toEqual(['ring-back-scheduler']);
  });
});
