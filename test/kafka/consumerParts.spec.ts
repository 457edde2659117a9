/**
 * The signaling consumer's parts that need no broker: lanes per Call-ID, offsets resolved in
 * order and committed at a pace, and back-pressure.
 */
import { describe, expect, it } from 'vitest';
import { BackPressure } from '../../adapters/kafka/backPressure.js';
import { runInLanes } from '../../adapters/kafka/callLanes.js';
import { PartitionCommits } from '../../adapters/kafka/partitionCommits.js';

interface Record {
  readonly offset: number;
  readonly callId: string;
}

const records = (...callIds: string[]): Record[] => callIds.map((callId, offset) => ({ offset, callId }));
const tick = (millis = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

describe('lanes per Call-ID', () => {
  it("handles one call's records in order and different calls' at the same time", async () => {
    const started: string[] = [];
    let running = 0;
    let most = 0;
    await runInLanes({
      messages: records('a', 'b', 'a', 'c', 'b', 'a'),
      keyOf: (record) => record.callId,
      handle: async (record) => {
        started.push(`${record.callId}${record.offset}`);
        most = Math.max(most, ++running);
        await tick(5);
        running--;
        return true;
      },
      completed: () => undefined,
    });
    expect(started.filter((name) => name.startsWith('a'))).toEqual(['a0', 'a2', 'a5']);
    expect(started.filter((name) => name.startsWith('b'))).toEqual(['b1', 'b4']);
    expect(most).toBe(3);
  });

  it('reports records done in offset order only, whatever order they finish in', async () => {
    const completed: number[] = [];
    await runInLanes({
      messages: records('slow', 'fast', 'fast'),
      keyOf: (record) => record.callId,
      handle: async (record) => {
        await tick(record.callId === 'slow' ? 20 : 0);
        return true;
      },
      completed: (record) => {
        completed.push(record.offset);
      },
    });
    expect(completed).toEqual([0, 1, 2]);
  });

  it('stops short: what follows a record not handled is not reported done', async () => {
    const completed: number[] = [];
    await runInLanes({
      messages: records('a', 'b', 'c', 'a'),
      keyOf: (record) => record.callId,
      handle: async (record) => record.callId !== 'b',
      completed: (record) => {
        completed.push(record.offset);
      },
    });
    expect(completed).toEqual([0]);
  });

  it('fails with the first failure, after the other lanes settle, and reports only the handled prefix', async () => {
    const completed: number[] = [];
    const finished: number[] = [];
    const run = runInLanes({
      messages: records('a', 'b', 'c'),
      keyOf: (record) => record.callId,
      handle: async (record) => {
        if (record.callId === 'b') throw new Error('the store is down');
        await tick(10);
        finished.push(record.offset);
        return true;
      },
      completed: (record) => {
        completed.push(record.offset);
      },
    });
    await expect(run).rejects.toThrow('the store is down');
    expect(finished.sort()).toEqual([0, 2]);
    expect(completed).toEqual([0]);
  });
});

describe('offset commits', () => {
  const recorder = () => {
    const commits: string[] = [];
    let release: (() => void) | undefined;
    let hold = false;
    return {
      commits,
      holdNext: () => void (hold = true),
      release: () => release?.(),
      send: async (_partition: number, offset: string) => {
        commits.push(offset);
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
    await tick();
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
    await tick(60);
    expect(broker.commits).toEqual(['2']);
    partition.resolve('2');
    await partition.flush();
    expect(broker.commits).toEqual(['2', '3']);
  });

  it('forgets pending commits when the group moves on', async () => {
    const broker = recorder();
    const commits = new PartitionCommits(broker.send, { records: 1_000, ms: 20 });
    commits.of(1).resolve('7');
    commits.clear();
    await tick(40);
    expect(broker.commits).toEqual([]);
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
