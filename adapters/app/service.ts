/**
 * The composition root: the one place that wires the ports from configuration. The event store
 * (SQLite, or EventStoreDB), the read store (SQLite, or PostgreSQL), the command handler, the
 * projections and their runners, the ring-back scheduler, the HTTP API and, when configured, the
 * Kafka bridge. HTTP and Kafka send the same commands through the same handler.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { EventStore } from '../../domain/eventStore.js';
import { auditSessionReads, liveAudit } from '../../projections/auditQueries.js';
import { occupancyProjection } from '../../projections/occupancy.js';
import { OccupancyFeed } from '../../projections/occupancyFeed.js';
import { liveOccupancy, readOccupancy } from '../../projections/occupancyQueries.js';
import { readSideProjections } from '../../projections/readSide.js';
import type { ReadStore } from '../../projections/readStore.js';
import { projectionReadiness } from '../../projections/readiness.js';
import { ringBackTimersProjection } from '../../projections/ringBackTimers.js';
import { CommandHandler } from '../commands/commandHandler.js';
import type { Config } from '../config/config.js';
import { createTokenRegistry, type TokenGrant } from '../http/auth.js';
import { readSideOpenApi } from '../http/readSideOpenApi.js';
import { readSideRoutes } from '../http/readSideRoutes.js';
import { CheckpointWait, readYourWrites } from '../http/readYourWrites.js';
import { startKafkaBridge, type KafkaBridge } from '../kafka/bridge.js';
import type { Readiness } from '../http/dependencies.js';
import { buildHttpServer } from '../http/server.js';
import { tenantDirectory } from '../http/tenantDirectory.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { ReadSideThread, type RunnerView } from '../readSide/readSideThread.js';
import { SqliteEventStore } from '../eventStores/sqlite/sqliteEventStore.js';
import { openEventStore, openReadStore } from '../config/stores.js';
import { reportedCommands } from '../scheduler/reportedCommands.js';
import { RingBackScheduler } from '../scheduler/ringBackScheduler.js';
import { ADMIN_TOKEN_FILE } from '../runtime/serviceTarget.js';
import { projectionLease, projectionLeases } from '../leases/projectionLeases.js';
import { DEFAULT_SCHEDULER_SHARDS, schedulerShardLease, schedulerShardLeases } from '../scheduler/shards.js';

export interface RunningService {
  /** Where the HTTP API listens. */
  readonly url: string;
  readonly port: number;
  /** Where the generated admin token is kept, when the environment gave none. */
  readonly adminTokenFile?: string;
  readonly logger: Logger;
  readonly handler: CommandHandler;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  /** Every projection's runner, the ring-back timers' with the others, as seen from this thread (they run on the read-side thread). */
  readonly runners: readonly RunnerView[];
  readonly http: FastifyInstance;
  /** The leases this instance holds now: the work it runs of what several instances share. */
  leases(): readonly string[];
  /** Call `listener` each time this instance takes or loses a lease; answers the function that stops the calls. */
  onLeasesChanged(listener: () => void): () => void;
  /** Stop accepting, finish what is in flight, close the stores. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly logger?: Logger;
  readonly clock?: () => number;
}

/**
 * The embedded default's first start: with no token in the environment nothing but health would
 * be reachable, so the service makes an admin token for every tenant, keeps it in a file only its
 * user can read, and says where it is. Later starts use the same file.
 */
const adminTokenOf = async (dataDir: string): Promise<{ file: string; token: string; created: boolean }> => {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token.length >= 16) return { file, token, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'w' });
  return { file, token, created: true };
};

export const startService = async (config: Config, options: ServiceOptions = {}): Promise<RunningService> => {
  const logger = options.logger ?? createLogger(config.logLevel, config.logFormat);
  const clock = options.clock ?? Date.now;
  await mkdir(config.dataDir, { recursive: true });

  let grants: readonly TokenGrant[] = config.tokens;
  let adminTokenFile: string | undefined;
  if (grants.length === 0) {
    const admin = await adminTokenOf(config.dataDir);
    adminTokenFile = admin.file;
    grants = [{ token: admin.token, role: 'admin', tenant: '*' }];
    logger.warn({ file: admin.file, created: admin.created }, `No CALLPARK_TOKENS given: the admin token for every tenant is in ${admin.file}`);
  }
  const tokens = createTokenRegistry(grants);

  const eventStore = openEventStore(config);
  const readStore = await openReadStore(config);
  const metrics = new Metrics();
  const handler = new CommandHandler({
    store: eventStore,
    snapshotEvery: config.snapshotEvery,
    onSnapshotError: (error) => logger.warn({ err: error }, 'A snapshot could not be written; the next one will be tried'),
  });

  // The read side refuses a read store that follows another log (projections/logFollowed.ts): then nothing starts.
  const readSide = await ReadSideThread.start({ dataDir: config.dataDir, eventStore: config.eventStore, readStore: config.readStore, ...(config.leases ? { leases: config.leases } : {}) }, [ringBackTimersProjection, ...readSideProjections]).catch(
    async (error: unknown) => {
      await eventStore.close().catch(() => undefined);
      await readStore.close().catch(() => undefined);
      throw error;
    },
  );
  if (eventStore instanceof SqliteEventStore) eventStore.onCommitted(() => readSide.wake());
  const runners: readonly RunnerView[] = readSide.runners;
  const timersRunner = readSide.runners.find((runner) => runner.projection === ringBackTimersProjection)!;
  const occupancyRunner = readSide.runners.find((runner) => runner.projection === occupancyProjection)!;
  const occupancyFeed = new OccupancyFeed(occupancyRunner, (tenantId) => readOccupancy(liveOccupancy(readStore), tenantId));
  metrics.useActiveParksSource(async () =>
    (await readStore.query<{ tenant_id: string; parked: number }>("SELECT tenant_id, COUNT(*) AS parked FROM occupancy_orbits WHERE status <> 'free' GROUP BY tenant_id")).map(
      (row) => [row.tenant_id, Number(row.parked)] as const,
    ),
  );
  metrics.useProjectionLagSource(async () =>
    Promise.all(runners.map(async (runner) => ({ projection: runner.build, ...(await runner.lag().then(({ events, ms }) => ({ events, seconds: ms / 1000 }))) }))),
  );

  // The scheduler fires the timers of the shards of tenants whose leases this instance holds
  // (every instance on its own data folder); a shard's lease is given up only once its commands
  // in flight here are answered.
  const schedulerLog = logger.child({ component: 'ring-back-scheduler' });
  const leases = projectionLeases(config, logger.child({ component: 'leases' }));
  const shards = config.leases?.schedulerShards ?? DEFAULT_SCHEDULER_SHARDS;
  const scheduler = new RingBackScheduler({
    handler: reportedCommands(handler, metrics, schedulerLog),
    readStore,
    runner: timersRunner,
    observeLateness: (millis) => metrics.observeTimerLateness(millis),
    log: schedulerLog,
    shards,
  });
  for (let shard = 0; shard < shards; shard++) {
    leases.hold(schedulerShardLease(shard, shards), { start: () => scheduler.own(shard), stop: () => scheduler.release(shard) }, { group: 'ring-back-scheduler' });
  }
  await leases.started();
  const leasesHeld = (): readonly string[] => [...leases.held(), ...readSide.leasesHeld()];
  const onLeasesChanged = (listener: () => void): (() => void) => {
    const stops = [leases.onChange(() => listener()), readSide.onLeasesChanged(listener)];
    return () => stops.forEach((stop) => stop());
  };
  metrics.useLeaseSource(() => [...schedulerShardLeases(shards), ...runners.map((runner) => projectionLease(runner.build))].map((lease) => ({ lease, held: leasesHeld().includes(lease) })));

  const kafka: KafkaBridge | undefined = config.kafka
    ? startKafkaBridge({
        kafka: config.kafka,
        handler,
        store: eventStore,
        readStore,
        clock,
        logger: logger.child({ component: 'kafka' }),
        metrics,
        ...(config.kafka.settings ? { security: config.kafka.settings.security, topics: config.kafka.settings.topics, consumer: config.kafka.settings.consumer } : {}),
        ...(config.kafka.settings?.maxDecompressedBytes ? { maxDecompressedBytes: config.kafka.settings.maxDecompressedBytes } : {}),
      })
    : undefined;

  const readiness = async (): Promise<Readiness> => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    const probe = async (name: string, check: () => Promise<unknown>): Promise<void> => {
      try {
        await check();
        checks[name] = { ok: true };
      } catch (error) {
        checks[name] = { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
    };
    await probe('eventStore', () => eventStore.headPosition());
    await probe('readStore', () => readStore.query('SELECT 1 AS ok'));
    if (kafka) checks.kafka = await kafka.health();
    // A projection whose lease another instance holds is that instance's to run and report on.
    const projections = await projectionReadiness(
      runners.filter((runner) => readSide.runsHere(runner.build)),
      config.maxProjectionLagEvents,
    );
    Object.assign(checks, projections.checks);
    checks.leases = { ok: true, detail: `held here: ${leasesHeld().join(', ') || 'none'}` };
    return { ready: Object.values(checks).every((check) => check.ok), checks };
  };

  const tenants = tenantDirectory({ tokens, store: eventStore });
  const http = await buildHttpServer({
    handler,
    clock,
    newSessionId: randomUUID,
    random: Math.random,
    tokens,
    tenants,
    reads: auditSessionReads(liveAudit(readStore)),
    readiness,
    metrics,
    logger: logger.child({ component: 'http' }),
    openApiExtensions: [readSideOpenApi()],
  });

  await http.register(readSideRoutes, { readStore, eventStore, occupancyFeed, tokens, tenants, ...(config.longWaitSeconds === undefined ? {} : { longWaitSeconds: config.longWaitSeconds }) });
  const readBuilds = runners.filter((runner) => runner.projection !== ringBackTimersProjection).map((runner) => runner.build);
  readYourWrites(http, new CheckpointWait({ readStore, builds: readBuilds }));
  const address = await http.listen({ port: config.port, host: config.host });
  const port = Number(new URL(address).port);
  logger.info({ url: address }, 'callpark is listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('stopping: no new requests, finishing what is in flight');
      await http.close();
      occupancyFeed.close();
      await kafka?.stop();
      await leases.close();
      await scheduler.stop();
      await readSide.stop();
      await eventStore.close();
      await readStore.close();
      logger.info('stopped');
    })());

  return { url: address, port, ...(adminTokenFile ? { adminTokenFile } : {}), logger, handler, eventStore, readStore, runners, http, leases: leasesHeld, onLeasesChanged, stop };
};
