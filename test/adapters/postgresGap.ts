/**
 * The sequence-gap problem of an event store on a relational database, as a scenario the
 * PostgreSQL tests run against the real store and against a naive writer:
 *
 * writer A takes the next position and holds its transaction open; writer B appends after it;
 * only once B is either visible to the subscriber or waiting for A is A let commit. A store whose
 * subscriptions read `position > cursor` skips A's event for ever if B's later position was
 * visible first; the real store makes B wait for A (ADR 0004).
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as turn } from 'node:timers/promises';
import type pg from 'pg';
import { notificationChannel } from '../../adapters/eventStores/postgres/schema.js';
import type { EventData, EventStore, RecordedEvent, Subscription } from '../../domain/eventStore.js';

/** A subscription's deliveries, with a way to wait for one. */
export class Recorder {
  readonly delivered: RecordedEvent[] = [];
  private readonly waiters = new Set<() => void>();
  readonly done: Promise<void>;

  constructor(readonly subscription: Subscription) {
    this.done = (async () => {
      for await (const recorded of subscription) {
        this.delivered.push(recorded);
        for (const wake of [...this.waiters]) wake();
      }
    })();
  }

  /** Resolves once an event with this id has been delivered. */
  async sawId(id: string): Promise<void> {
    while (!this.delivered.some((recorded) => recorded.id === id)) await new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  has(id: string): boolean {
    return this.delivered.some((recorded) => recorded.id === id);
  }

  async close(): Promise<void> {
    await this.subscription.close();
    await this.done;
  }
}

/** What is wrong with a delivery against the events expected: missing, doubled, out of position order. */
export const deliveryProblems = (delivered: readonly RecordedEvent[], expectedIds: readonly string[]): string[] => {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const recorded of delivered) counts.set(recorded.id, (counts.get(recorded.id) ?? 0) + 1);
  const missing = expectedIds.filter((id) => !counts.has(id));
  if (missing.length > 0) problems.push(`${missing.length} never delivered: ${missing.slice(0, 5).join(', ')}`);
  const doubled = [...counts].filter(([, count]) => count > 1);
  if (doubled.length > 0) problems.push(`${doubled.length} delivered more than once`);
  for (let i = 1; i < delivered.length; i++) {
    if (delivered[i - 1]!.position.commit >= delivered[i]!.position.commit) {
      problems.push(`out of order at delivery ${i}: position ${delivered[i]!.position.commit} after ${delivered[i - 1]!.position.commit}`);
      break;
    }
  }
  return problems;
};

export const eventFor = (label: string): EventData => ({ id: randomUUID(), type: 'GapProbe', data: { label } });

/** A writer of the scenario: `hold` starts an append whose COMMIT waits for `release`. */
export interface GapWriter {
  /** Start an append that takes its position and then waits; resolves `holding` once it holds its position. */
  appendHeld(stream: string, event: EventData): { readonly holding: Promise<void>; readonly release: () => void; readonly acknowledged: Promise<unknown> };
  append(stream: string, event: EventData): Promise<unknown>;
}

/**
 * A naive writer, for the scenario only: each append a transaction that takes its position from a
 * sequence at INSERT and commits whenever it is done, without the store's append lock (what an
 * event store on a `BIGSERIAL` column does). It announces its commits like the store does.
 */
export const naiveWriter = async (connect: () => Promise<pg.Client>, schema: string): Promise<GapWriter> => {
  const setup = await connect();
  await setup.query('CREATE SEQUENCE IF NOT EXISTS naive_position');
  await setup.query("SELECT setval('naive_position', GREATEST((SELECT COALESCE(max(position), 0) FROM events), 1))");
  const insert = async (client: pg.Client, stream: string, event: EventData): Promise<void> => {
    await client.query(
      `INSERT INTO events (position, stream_name, revision, event_id, type, data, metadata, recorded_at)
       VALUES (nextval('naive_position'), $1, (SELECT COALESCE(max(revision), -1) + 1 FROM events WHERE stream_name = $1), $2, $3, $4, '{}', 0)`,
      [stream, event.id, event.type, JSON.stringify(event.data)],
    );
    await client.query('SELECT pg_notify($1, $2)', [notificationChannel(schema), 'naive']);
  };
  return {
    appendHeld: (stream, event) => {
      let release = (): void => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let held = (): void => {};
      const holding = new Promise<void>((resolve) => (held = resolve));
      const acknowledged = (async () => {
        const client = await connect();
        await client.query('BEGIN');
        await insert(client, stream, event);
        held();
        await released;
        await client.query('COMMIT');
      })();
      return { holding, release, acknowledged };
    },
    append: async (stream, event) => {
      const client = await connect();
      await client.query('BEGIN');
      await insert(client, stream, event);
      await client.query('COMMIT');
    },
  };
};

/** Whether a backend of the log waits for an advisory lock (a writer queued behind a held append). */
export const someoneWaitsForTheAppendLock = async (client: pg.Client, schema: string): Promise<boolean> => {
  const { rows } = await client.query<{ waiting: number }>(
    `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`,
    [`callpark-event-store/${schema}`.slice(0, 63)],
  );
  return rows[0]!.waiting > 0;
};

/**
 * Run the scenario: A holds position p, B appends after it; once B is visible to the subscriber
 * or waits for A, A commits; then a marker. Answers what the subscriber delivered and what was expected.
 */
export const runGapScenario = async (
  writers: { readonly a: GapWriter; readonly b: GapWriter },
  subscriber: EventStore,
  waiting: () => Promise<boolean>,
): Promise<{ readonly delivered: readonly RecordedEvent[]; readonly expected: readonly string[]; readonly bWaitedForA: boolean }> => {
  const prefix = `gap-${randomUUID().slice(0, 8)}`;
  const recorder = new Recorder(subscriber.subscribeToAll({ after: await subscriber.headPosition(), filter: { streamNamePrefixes: [prefix] } }));
  try {
    const [first, second, marker] = [eventFor('a'), eventFor('b'), eventFor('marker')];
    const held = writers.a.appendHeld(`${prefix}-a`, first);
    await held.holding;
    const later = writers.b.append(`${prefix}-b`, second);
    // Either B's event is already delivered, or B waits for A's lock: then let A commit.
    let bWaitedForA = false;
    for (;;) {
      if (recorder.has(second.id)) break;
      if (await waiting()) {
        bWaitedForA = true;
        break;
      }
      await turn();
    }
    held.release();
    await Promise.all([held.acknowledged, later]);
    await writers.b.append(`${prefix}-b`, marker);
    await recorder.sawId(marker.id);
    return { delivered: [...recorder.delivered], expected: [first.id, second.id, marker.id], bWaitedForA };
  } finally {
    await recorder.close();
  }
};
