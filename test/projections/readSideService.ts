/**
 * The service as the composition root wires it, as far as the read side needs: the command
 * handler on an event store, the read side's runners on a read store, the HTTP API with the read
 * side's plugin and the supervisors' page registered on it. For the HTTP, browser and latency
 * tests; the clock is the real one (the page counts time parked against it).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { createTokenRegistry } from '../../adapters/http/auth.js';
import type { OpenStreams } from '../../adapters/http/occupancyStream.js';
import { readSideRoutes } from '../../adapters/http/readSideRoutes.js';
import { buildHttpServer } from '../../adapters/http/server.js';
import { tenantDirectory } from '../../adapters/http/tenantDirectory.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { Metrics } from '../../adapters/observability/metrics.js';
import type { EventStore } from '../../domain/eventStore.js';
import { auditSessionReads, liveAudit } from '../../projections/auditQueries.js';
import { occupancyProjection } from '../../projections/occupancy.js';
import { OccupancyFeed } from '../../projections/occupancyFeed.js';
import { liveOccupancy, readOccupancy } from '../../projections/occupancyQueries.js';
import { readSideProjections, readSideRunnerOptions } from '../../projections/readSide.js';
import type { ReadStore } from '../../projections/readStore.js';
import { ProjectionRunner, type RunnerOptions } from '../../projections/runner.js';
import { grants } from '../http/httpFixtures.js';

export interface ReadSideService {
  readonly app: FastifyInstance;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly handler: CommandHandler;
  readonly runners: readonly ProjectionRunner[];
  readonly feed: OccupancyFeed;
  /** Where it listens, when it was asked to. */
  readonly url: string | undefined;
  /** Wait until every projection reflects the log as it is now. */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

export const startReadSideService = async ({
  readStore,
  eventStore = new InMemoryEventStore(),
  listen = false,
  heartbeatMs,
  maxBufferedBytes,
  streams,
  runner = {},
}: {
  readonly readStore: ReadStore;
  readonly eventStore?: EventStore;
  readonly listen?: boolean;
  readonly heartbeatMs?: number;
  readonly maxBufferedBytes?: number;
  readonly streams?: OpenStreams;
  readonly runner?: RunnerOptions;
}): Promise<ReadSideService> => {
  const handler = new CommandHandler({ store: eventStore, sleep: async () => undefined });
  const runners = readSideProjections.map((projection) => new ProjectionRunner({ eventStore, readStore }, projection, { ...readSideRunnerOptions(projection), ...runner }));
  for (const each of runners) await each.start();
  const occupancyRunner = runners.find((each) => each.projection === occupancyProjection)!;
  const feed = new OccupancyFeed(occupancyRunner, (tenantId) => readOccupancy(liveOccupancy(readStore), tenantId));
  const tokens = createTokenRegistry(grants);
  const tenants = tenantDirectory({ tokens, store: eventStore });
  const app = await buildHttpServer({
    handler,
    clock: Date.now,
    newSessionId: randomUUID,
    random: () => 0,
    tokens,
    tenants,
    reads: auditSessionReads(liveAudit(readStore)),
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: new Metrics(),
    logger: pino({ level: 'warn' }),
  });
  await app.register(readSideRoutes, { readStore, eventStore, occupancyFeed: feed, tokens, tenants, ...(heartbeatMs === undefined ? {} : { heartbeatMs }), ...(maxBufferedBytes === undefined ? {} : { maxBufferedBytes }), ...(streams === undefined ? {} : { streams }) });
  const url = listen ? await app.listen({ port: 0, host: '127.0.0.1' }) : (await app.ready(), undefined);
  return {
    app,
    eventStore,
    readStore,
    handler,
    runners,
    feed,
    url,
    catchUp: async () => {
      for (const each of runners) await each.catchUp();
    },
    stop: async () => {
      await app.close();
      feed.close();
      for (const each of runners) await each.stop();
    },
  };
};
