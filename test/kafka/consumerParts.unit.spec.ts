/**
 * The signaling consumer's parts that need no broker: lanes per tenant, offsets resolved in
 * order and committed at a pace, and back-pressure.
 */
import { describe, expect, it, vi } from 'vitest';
import { BackPressure } from '../../adapters/kafka/backPressure.js';
import { runLanes } from '../../adapters/kafka/tenantLanes.js';
import { PartitionCommits } from '../../adapters/kafka/partitionCommits.js';

interface Record {
  readonly offset: number;
  readonly callId: string;
}

const records = (...callIds: string[]): Record[] => callIds.map((callId, offset) => ({ offset, callId }));
/** A turn of the event loop: what is already settled has run its callbacks. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('lanes per tenant', () => {
  interface Lane {
    readonly key: string;
    readonly offsets: number[];
  }
  const recorder = () => {
    const lanes: Lane[] = [];
    let running = 0;
    let most = 0;
    return {
      lanes,
      most: () => most,
      handle:
        (behaviour: (key: string) => Promise<boolean> = async () => true) =>
        async (key: string, lane: readonly Record[]): Promise<boolean> => {
          lanes.push({ key, offsets: lane.map((record) => record.offset) });
          most = Math.max(most, ++running);
          try {
            await tick();
            return await behaviour(key);
          } finally {
            running--;
          }
        },
    };
  };

  it("hands each key's records over together, in the batch's order, and different keys' at the same time", async () => {
    const seen = recorder();
    const done = await runLanes({ messages: records('a', 'b', 'a', 'c', 'b', 'a'), keyOf: (record) => record.callId, handle: seen.handle() });
    expect(seen.lanes.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: 'a', offsets: [0, 2, 5] },
      { key: 'b', offsets: [1, 4] },
      { key: 'c', offsets: [3] },
    ]);
    expect(seen.most()).toBe(3);
    expect(done).toEqual({ handled: 6 });
  });

  it('counts as handled only the records before the first one whose lane was not handled', async () => {
    const seen = recorder();
    const done = await runLanes({ messages: records('a', 'b', 'c', 'a', 'c'), keyOf: (record) => record.callId, handle: seen.handle(async (key) => key !== 'c') });
    expect(done).toEqual({ handled: 2 });
  });

  it('lets the other lanes finish when one fails, and reports the first failure with the handled prefix', async () => {
    const seen = recorder();
    const done = await runLanes({
      messages: records('a', 'b', 'a', 'c'),
      keyOf: (record) => record.callId,
      handle: seen.handle(async (key) => {
        if (key === 'b') throw new Error('the store is down');
        return true;
      }),
    });
    expect(seen.lanes.map((lane) => lane.key).sort()).toEqual(['a', 'b', 'c']);
    expect(done.handled).toBe(1);
    expect(done.failure?.error).toEqual(new Error('the store is down'));
  });

  it('handles an empty batch as nothing to do', async () => {
    const seen = recorder();
    expect(await runLanes({ messages: [] as Record[], keyOf: (record) => record.callId, handle: seen.handle() })).toEqual({ handled: 0 });
    expect(seen.lanes).toEqual([]);
  });
});

describe('offset commits', () => {
  const recorder = () => {
    const commits: string[] = [];
    let release: (() => void) | undefined;
    let hold = false;
    let waiters: { count: number; resolve: () => void }[] = [];
    return {
      commits,
      holdNext: () => void (hold = true),
      release: () => release?.(),
      /** Resolves once `count` commits have been sent in all. */
      sent: (count: number): Promise<void> =>
        new Promise((resolve) => {
          if (commits.length >= count) resolve();
          else waiters.push({ count, resolve });
        }),
      send: async (_partition: number, offset: string) => {
        commits.push(offset);
        waiters = waiters.filter((waiter) => (commits.length >= waiter.count ? void waiter.resolve() : true));
        if (hold) {
          hold = false;
          await new Promise<void>((resolve) => (release = resolve));
        }
      },
    };
  };

  it('commits the next offset to read once enough records are handled, one commit at a time, never going back', async () => {
    const broker = recorder();
    const partition = new PartitionCommits(broker.send, { records: 2, ms: 60_000 }).of(0);
    partition.resolve('10');
    expect(broker.commits).toEqual([]);
    broker.holdNext();
    partition.resolve('11');
    expect(broker.commits).toEqual(['12']);
    partition.resolve('12');
    partition.resolve('13');
    partition.resolve('14');
    expect(broker.commits).toEqual(['12']);
    broker.release();
    await broker.sent(2);
    expect(broker.commits).toEqual(['12', '15']);
    await partition.flush();
    expect(broker.commits).toEqual(['12', '15']);
  });

  it("commits a quiet partition's last records after the interval, and the rest on flush", async () => {
    const broker = recorder();
    const partition = new PartitionCommits(broker.send, { records: 1_000, ms: 30 }).of(3);
    partition.resolve('0');
    partition.resolve('1');
    expect(broker.commits).toEqual([]);
    await broker.sent(1);
    expect(broker.commits).toEqual(['2']);
    partition.resolve('2');
    await partition.flush();
    expect(broker.commits).toEqual(['2', '3']);
  });

  it('counts a batch resolved at once as all its records', async () => {
    const broker = recorder();
    const partition = new PartitionCommits(broker.send, { records: 100, ms: 60_000 }).of(0);
    partition.resolve('49', 50);
    expect(broker.commits).toEqual([]);
    partition.resolve('109', 60);
    expect(broker.commits).toEqual(['110']);
    partition.cancel();
  });

  it('forgets pending commits when the group moves on', async () => {
    vi.useFakeTimers();
    try {
      const broker = recorder();
      const commits = new PartitionCommits(broker.send, { records: 1_000, ms: 20 });
      commits.of(1).resolve('7');
      commits.clear();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(broker.commits).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('back-pressure', () => {
  it('lets at most maxInFlight commands through at once', async () => {
    const gate = new BackPressure({ maxInFlight: 2, slowMillis: 100, pauseMillis: 500 });
    await gate.admit();
    await gate.admit();
    let third = false;
    const waiting = gate.admit().then(() => void (third = true));
    await tick();
    expect(third).toBe(false);
    expect(gate.snapshot()).toMatchObject({ inFlight: 2, waiting: 1 });
    gate.release(5);
    await waiting;
    expect(gate.snapshot()).toMatchObject({ inFlight: 2, waiting: 0 });
  });

  it('calls the store slow when its latency, on average, passes the threshold, and measures afresh after a pause', async () => {
    const gate = new BackPressure({ maxInFlight: 8, slowMillis: 100, pauseMillis: 500 });
    for (let i = 0; i < 5; i++) {
      await gate.admit();
      gate.release(20);
    }
    expect(gate.slow).toBe(false);
    for (let i = 0; i < 5; i++) {
      await gate.admit();
      gate.release(400);
    }
    expect(gate.slow).toBe(true);
    expect(gate.pauseMillis()).toBeGreaterThanOrEqual(500);
    gate.forget();
    expect(gate.slow).toBe(false);
  });
});
