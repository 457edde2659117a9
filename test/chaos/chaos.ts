/**
 * The chaos run: three service processes on one PostgreSQL database (event store and read store)
 * and the real Kafka broker; parks and retrievals over HTTP spread across them and parks into
 * Kafka; every `killEverySeconds` one instance is SIGKILLed and started again: the one running
 * the ring-back timers projection (so that its lease moves too), else the one holding the most
 * shards of the ring-back scheduler. Then the traffic stops, the sessions run out (ring backs,
 * expiries), and the stores are judged (verdict.ts). `npm test` runs it for about a minute
 * (chaos.int.spec.ts), `npm run chaos [minutes]` for as long as asked (run.ts).
 *
 * Ring-back lateness is the recorded decision's instant (the event's `at`, the clock of the
 * scheduler when it sent the command that was recorded) minus the timer's due time, and it is
 * printed twice:
 * - over every fired timer (p50, p99, max);
 * - excluding the instance's own downtime: without the timers due while their tenant's shard had
 *   no live holder, from the SIGKILL of the instance that held it until a live instance's /readyz
 *   named the shard's lease (polled every 50 ms, so a window is at most that much longer than the
 *   shard's true downtime). A timer due before a kill whose command was in flight on the killed
 *   instance, or due during a planned handover of a shard (an instance giving up what is beyond
 *   its share), is counted.
 * The lease holders before each kill, and when each of the victim's shards was taken over, are
 * printed as they happen; with CHAOS_LOG_LEVEL (a pino level) the instances log at that level and
 * the latest of their lease and scheduler lines are printed at the end; with CHAOS_LOG_DIR each
 * instance's whole output is kept there.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { PostgresEventStore } from '../../adapters/eventStores/postgres/postgresEventStore.js';
import { PostgresReadStore } from '../../projections/postgresReadStore.js';
import { readSideProjections } from '../../projections/readSide.js';
import { ringBackTimersProjection } from '../../projections/ringBackTimers.js';
import { shardOf, shardsIn } from '../../adapters/scheduler/shards.js';
import { killInstance, newInstance, startInstance, stopInstance, type Instance } from './instances.js';
import { Traffic } from './traffic.js';
import { judgeDirectives, judgeLog, judgeProjections, latenessOutsideDowntime, latenessSummary, readTheLog, type DirectiveFigures, type Downtime, type LogFigures } from './verdict.js';

export interface ChaosOptions {
  readonly databaseUrl: string;
  readonly brokers: string;
  readonly trafficSeconds: number;
  readonly killEverySeconds?: number;
  readonly instances?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosFigures {
  readonly kills: number;
  /** For each kill, how long until every shard lease the victim held was held again (ms, as seen from outside by polling /readyz every 50 ms). */
  readonly takeovers: readonly number[];
  readonly unanswered: number;
  readonly log: LogFigures;
  readonly directives: DirectiveFigures;
  readonly projections: { readonly equal: readonly string[]; readonly different: readonly string[] };
  /** Over every fired timer: the recorded decision's time minus the due time. */
  readonly lateness: ReturnType<typeof latenessSummary>;
  /** The same, but for the timers due while their shard had no live holder (from a SIGKILL until another instance held the shard). */
  readonly latenessOutsideDowntime: ReturnType<typeof latenessSummary> & { readonly excluded: number };
}

const TOKEN = 'chaos-admin-token-0123456789abcdef';
/** The ring-back scheduler's shards in the run (CALLPARK_SCHEDULER_SHARDS): more than instances, so a dead one's share spreads. */
const SHARDS = 12;
const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

const admin = async <T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

/** The ring-back timers projection's lag in seconds on the instance that runs it, from /metrics; undefined when none answers. */
const timersLagSeconds = async (instances: readonly Instance[]): Promise<number | undefined> => {
  for (const instance of instances.filter((candidate) => candidate.live)) {
    const text = await fetch(`${instance.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((response) => response.text(), () => '');
    const lag = /^callpark_projection_lag_seconds\{projection="(ring_back_timers[^"]*)"\} (\S+)$/m.exec(text);
    if (lag !== null && text.includes(`callpark_lease_held{lease="projection:${lag[1]}"} 1`)) return Number(lag[2]);
  }
  return undefined;
};

/** The leases each live instance holds, as its /readyz says (`held here: a, b`); none for one that does not answer within 2 s. */
const leasesOf = async (instances: readonly Instance[]): Promise<Map<Instance, string[]>> => {
  const live = instances.filter((candidate) => candidate.live);
  const answers = await Promise.all(
    live.map((instance) =>
      fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => response.json() as Promise<{ checks?: Record<string, { detail?: string }> }>,
        () => undefined,
      ),
    ),
  );
  return new Map(live.map((instance, index) => [instance, (answers[index]?.checks?.leases?.detail ?? '').replace(/^held here: /, '').split(', ').filter((lease) => lease.length > 0 && lease !== 'none')]));
};

/** The scheduler's shards among some leases. */
const shardsHeld = (leases: readonly string[]): number[] => shardsIn(leases, SHARDS);

export const runChaos = async (options: ChaosOptions): Promise<ChaosFigures> => {
  const say = options.log ?? ((line: string) => console.log(line));
  const id = `chaos_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = withDatabase(options.databaseUrl, id);
  await admin(options.databaseUrl, (client) => client.query(`CREATE DATABASE ${id}`));
  const root = await mkdtemp(join(tmpdir(), 'callpark-chaos-'));
  const kafka = new Kafka({ clientId: id, brokers: options.brokers.split(','), logLevel: logLevel.NOTHING });
  const topics = { signaling: `${id}.signaling`, directives: `${id}.directives`, deadLetter: `${id}.dead-letter` };
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.signaling, numPartitions: 6 },
      { topic: topics.directives, numPartitions: 3 },
      { topic: topics.deadLetter, numPartitions: 1 },
    ],
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();

  const env = (dataDir: string): Record<string, string> => ({
    CALLPARK_DATA_DIR: dataDir,
    CALLPARK_TOKENS: `admin@*=${TOKEN}`,
    EVENTSTORE_CONNECTION_STRING: databaseUrl,
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: options.brokers,
    KAFKA_SIGNALING_TOPIC: topics.signaling,
    KAFKA_DIRECTIVES_TOPIC: topics.directives,
    KAFKA_DEAD_LETTER_TOPIC: topics.deadLetter,
    KAFKA_GROUP_ID: id,
    CALLPARK_SCHEDULER_SHARDS: String(SHARDS),
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
  });
  const made = await Promise.all(Array.from({ length: options.instances ?? 3 }, (_, index) => newInstance(`instance-${index + 1}`, root)));
  const instances = made.map(({ instance }) => instance);
  const envOf = new Map(made.map(({ instance, dataDir }) => [instance, env(dataDir)]));
  let kills = 0;
  const takeovers: number[] = [];
  const killTimes: number[] = [];
  const downtimes: Downtime[] = [];
  let started = 0;
  try {
    // One after the other: the first makes the schemas.
    for (const instance of instances) await startInstance(instance, envOf.get(instance)!);
    say(`${instances.length} instances ready on ${id}: ${instances.map((instance) => instance.url).join(', ')}`);
    const tenants = ['chaos-a', 'chaos-b', 'chaos-c'];
    for (const tenant of tenants) {
      const response = await fetch(`${instances[0]!.url}/v1/tenants/${tenant}/policies/Global`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ allowCallPark: true, parkTimeoutSeconds: 10, ringBackSeconds: 5 }),
      });
      if (!response.ok) throw new Error(`Enabling call park for ${tenant}: ${response.status} ${await response.text()}`);
    }

    const traffic = new Traffic({ instances, token: TOKEN, tenants, producer, signalingTopic: topics.signaling });
    traffic.start();
    started = Date.now();
    // The timers projection's lag, sampled every 2 s: a timer is fired when the scheduler reads it.
    const lagSamples: number[] = [];
    const sampling = (async () => {
      while (traffic.running) {
        const lag = await timersLagSeconds(instances);
        if (lag !== undefined) lagSamples.push(lag * 1000);
        await sleep(2_000);
      }
    })();
    const killEvery = (options.killEverySeconds ?? 20) * 1000;
    const restarts: Promise<void>[] = [];
    // A kill every `killEvery` from the start, whatever the restarts take (they run meanwhile);
    // never the last live instance.
    for (let at = killEvery; at < options.trafficSeconds * 1000; at += killEvery) {
      await sleep(Math.max(0, started + at - Date.now()));
      while (instances.filter((instance) => instance.live).length < 2) await sleep(100);
      // The victim: the instance running the timers projection (its lease moves too), else the one with the most shards.
      const before = await leasesOf(instances);
      const candidates = [...before.entries()].sort(([, a], [, b]) => Number(b.some((lease) => lease.startsWith('projection:ring_back_timers'))) - Number(a.some((lease) => lease.startsWith('projection:ring_back_timers'))) || shardsHeld(b).length - shardsHeld(a).length);
      const [victim, victimLeases] = candidates[0] ?? [instances.find((instance) => instance.live)!, []];
      const victimShards = shardsHeld(victimLeases);
      await killInstance(victim);
      kills++;
      const killedAt = Date.now();
      killTimes.push(killedAt);
      say(`${Math.round((killedAt - started) / 1000)} s: SIGKILLed ${victim.name} (it held ${victimLeases.join(', ') || 'no lease'}); ${traffic.acknowledged.length} commands acknowledged so far`);
      const restart = startInstance(victim, envOf.get(victim)!).then(() => say(`  ${victim.name} ready again ${Date.now() - killedAt} ms after its kill`));
      restart.catch(() => undefined); // Awaited below, with the others.
      restarts.push(restart);
      // Each of its shards is down from the kill until a survivor's /readyz names its lease (polled every 50 ms).
      const waiting = new Set(victimShards);
      while (waiting.size > 0) {
        // Any live instance: the victim too once restarted.
        const now = await leasesOf(instances);
        const at = Date.now();
        for (const [holder, leases] of now) {
          for (const shard of shardsHeld(leases)) {
            if (!waiting.delete(shard)) continue;
            downtimes.push({ shard, from: killedAt, to: at });
            say(`  shard ${shard} taken over by ${holder.name} ${at - killedAt} ms after the kill`);
          }
        }
        if (waiting.size > 0) await sleep(50);
      }
      takeovers.push(Date.now() - killedAt);
      say(`  every shard of ${victim.name} taken over ${takeovers.at(-1)} ms after the kill`);
    }
    await sleep(Math.max(0, started + options.trafficSeconds * 1000 - Date.now()));
    await Promise.all(restarts);
    await traffic.stop();
    await sampling;
    lagSamples.sort((a, b) => a - b);
    say(`the ring-back timers projection's lag, sampled every 2 s on the instance running it: p50 ${Math.round(lagSamples[Math.floor(lagSamples.length / 2)] ?? 0)} ms, max ${Math.round(lagSamples.at(-1) ?? 0)} ms (${lagSamples.length} samples)`);
    say(`traffic stopped: ${traffic.acknowledged.length} commands acknowledged, ${traffic.unanswered} unanswered; waiting for every session to end`);

    // Drain: every session ends (ring backs and expiries), every projection and the directive publisher reach the head.
    const eventStore = await PostgresEventStore.open({ connectionString: databaseUrl });
    const readStore = await PostgresReadStore.open({ connectionString: databaseUrl });
    try {
      const drainDeadline = Date.now() + 180_000;
      let log = await readTheLog(eventStore);
      for (;;) {
        const figures = judgeLog(log, traffic.acknowledged);
        const head = await eventStore.headPosition();
        const [{ behind }] = (await readStore.query<{ behind: number }>('SELECT COUNT(*) AS behind FROM projection_checkpoints WHERE commit_position IS NULL OR commit_position < $1', [head?.commit ?? 0n])) as [{ behind: number }];
        if ((figures.sessionsOpen === 0 && figures.missing.length === 0 && Number(behind) === 0) || Date.now() > drainDeadline) break;
        await sleep(1_000);
        log = await readTheLog(eventStore);
      }
      for (const instance of instances) await stopInstance(instance);
      if (process.env.CHAOS_LOG_LEVEL !== undefined) {
        for (const instance of instances) say(`--- ${instance.name}:\n${instance.logs.filter((line) => /lease|scheduler|timer/i.test(line)).slice(-200).join('\n')}`);
      }

      const directives = await readDirectives(kafka, topics.directives);
      const logFigures = judgeLog(log, traffic.acknowledged);
      const outside = latenessOutsideDowntime(logFigures.firings, downtimes, (tenantId) => shardOf(tenantId, SHARDS));
      const figures: ChaosFigures = {
        kills,
        takeovers,
        unanswered: traffic.unanswered,
        log: logFigures,
        directives: judgeDirectives(log, directives),
        projections: await judgeProjections({ eventStore, readStore }, [ringBackTimersProjection, ...readSideProjections]),
        lateness: latenessSummary(logFigures.lateness),
        latenessOutsideDowntime: { ...latenessSummary(outside), excluded: logFigures.lateness.length - outside.length },
      };
      say(describe(figures));
      const latest = [...logFigures.firings].sort((a, b) => b.at - b.dueAt - (a.at - a.dueAt)).slice(0, 10);
      say(`  kills at ${killTimes.map((at) => at - started).join(', ')} ms from the start of the traffic; the latest timers: ${latest.map(({ dueAt, at }) => `${at - dueAt} ms late, due at ${dueAt - started} ms`).join('; ')}`);
      if (logFigures.late.length > 0) say(`  late timers: ${logFigures.late.slice(0, 10).map(({ timer, dueAt, at }) => `${timer} due ${dueAt} fired ${at}`).join('; ')}`);
      if (logFigures.timersMissed.length > 0) say(`  missed timers: ${logFigures.timersMissed.slice(0, 10).join('; ')}`);
      return figures;
    } finally {
      await eventStore.close();
      await readStore.close();
    }
  } catch (error) {
    for (const instance of instances) say(`--- ${instance.name}, last lines:\n${instance.logs.slice(-20).join('\n')}`);
    throw error;
  } finally {
    for (const instance of instances) await killInstance(instance);
    await producer.disconnect();
    await kafkaAdmin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await kafkaAdmin.disconnect();
    await admin(options.databaseUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`)).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
};

/** Every record of the directives topic, from the start to its end as of now. */
const readDirectives = async (kafka: Kafka, topic: string): Promise<{ directiveId: string; value: string }[]> => {
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const ends = await kafkaAdmin.fetchTopicOffsets(topic).finally(() => kafkaAdmin.disconnect());
  const remaining = new Map(ends.filter(({ high, low }) => Number(high) > Number(low)).map(({ partition, high }) => [partition, Number(high)]));
  const records: { directiveId: string; value: string }[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `${topic}.reader.${randomBytes(3).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = message.value?.toString('utf8') ?? '';
        records.push({ directiveId: (JSON.parse(value) as { directiveId: string }).directiveId, value });
        if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
        if (remaining.size === 0) resolve();
      },
    });
  });
  await consumer.disconnect();
  return records;
};

export const describe = (figures: ChaosFigures): string => {
  const { log, directives, projections, lateness } = figures;
  return [
    `chaos figures (${figures.kills} SIGKILLs; every shard of the killed instance taken over after ${figures.takeovers.join(', ')} ms):`,
    `  commands acknowledged: ${log.acknowledged}; in the log exactly once: ${log.exactlyOnce}; missing: ${log.missing.length}; doubled: ${log.doubled.length}; requests given up: ${figures.unanswered}`,
    `  events in the log: ${log.events}; park sessions: ${log.sessions} (still open: ${log.sessionsOpen}); orbits held by two live sessions: ${log.orbitConflicts}`,
    `  ring-back timers due: ${log.timersDue}; fired once: ${log.timersFired}; never fired: ${log.timersMissed.length}; overtaken (not fired 5 s after due when the call was picked up or hung up): ${log.timersOvertaken}; fired twice: ${log.timersDoubled.length}`,
    `  lateness of every fired timer (recorded decision minus due time): p50 ${lateness.p50} ms, p99 ${lateness.p99} ms, max ${lateness.max} ms; later than 5 s: ${lateness.over5s}`,
    `  lateness excluding the instance's own downtime (${figures.latenessOutsideDowntime.excluded} timers due while their shard had no live holder left out): p50 ${figures.latenessOutsideDowntime.p50} ms, p99 ${figures.latenessOutsideDowntime.p99} ms, max ${figures.latenessOutsideDowntime.max} ms`,
    `  directives expected: ${directives.expected}; records published: ${directives.published}; missing: ${directives.missing}; duplicates (same id, same content): ${directives.duplicates}; same id, other content: ${directives.conflicting}`,
    `  projections equal to a fresh fold: ${projections.equal.join(', ') || 'none'}; different: ${projections.different.join(', ') || 'none'}`,
  ].join('\n');
};
