/**
 * The read side over HTTP, as a Fastify plugin: the live occupancy (and its Server-Sent Events
 * stream), the audit search, its CSV export and the refusals, the occupancy at a past instant,
 * and the supervisors' page. Register it on the server `buildHttpServer` built: its access hook
 * guards these routes as it guards the others (tokens by role and tenant), and its error handler
 * answers problem documents. The stream checks its token itself (it also takes `?access_token=`).
 *
 * Reads come from the projections' live tables; an answer may lag the log by the projection's
 * lag (a few milliseconds when it keeps up). The occupancy at an instant is read from the log.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { initialState } from '../../domain/callParkState.js';
import { Instant } from '../../domain/codec/codec.js';
import type { EventStore } from '../../domain/eventStore.js';
import { IncomingTenantId } from '../../domain/identifiers.js';
import { occupancyOf } from '../../domain/occupancy.js';
import { GLOBAL_POLICY, PolicyIdentity } from '../../domain/parkPolicy.js';
import { sentenceFor } from '../../domain/rejection.js';
import { CSV_CONTENT_TYPE, sessionsCsv } from '../../projections/auditCsv.js';
import { allSessions, InvalidCursor, liveAudit, searchRefusals, searchSessions, type Refusal, type SessionSummary } from '../../projections/auditQueries.js';
import type { OccupancyFeed } from '../../projections/occupancyFeed.js';
import { liveOccupancy, readOccupancy } from '../../projections/occupancyQueries.js';
import type { SqlExecutor } from '../../projections/readStore.js';
import { occupancyAt } from '../../projections/timeTravel.js';
import type { TokenRegistry } from './auth.js';
import type { TenantDirectory } from './dependencies.js';
import { OpenStreams, serveEventStream, streamOccupancy } from './occupancyStream.js';
import { followPresence, presenceBody } from './presenceStream.js';
import { parseOrbitCode } from '../../domain/orbit.js';
import { OrbitCodeText } from '../../domain/commands.js';
import { ProblemError, problems, rejectionProblem } from './problem.js';
import { occupancyBody } from './readRoutes.js';
import { readerRoles, readSideOperations, type ReadSideOperationId } from './readSideOperations.js';
import { decodeQuery, NoQuery, PresenceQuery, RefusalQuery, SessionExportQuery, SessionQuery, TimeTravelQuery } from './readSideParameters.js';
import { decodePath, invalid } from './requestDecoding.js';
import { DEFAULT_LONG_WAIT_SECONDS, isSupervisorAsset, sendSupervisorAsset, supervisorFolder } from './supervisorPage.js';
import './access.js';

export interface ReadSideDependencies {
  /** The read store holding the projections' live tables. */
  readonly readStore: SqlExecutor;
  /** The event store, for the occupancy at a past instant. */
  readonly eventStore: EventStore;
  /** The occupancy projection's feed (one per process, on its runner). */
  readonly occupancyFeed: OccupancyFeed;
  readonly tokens: TokenRegistry;
  readonly tenants: TenantDirectory;
  /** Stream heartbeats this often (15 s by default). */
  readonly heartbeatMs?: number;
  /** Disconnect a stream client whose unsent data exceeds this when a message is due (4 MiB by default). */
  readonly maxBufferedBytes?: number;
  /** The open streams, their writes and how many were let go (a new set by default). */
  readonly streams?: OpenStreams;
  /** The tenant-wide default of the page's long-wait threshold, in seconds (CALLPARK_LONG_WAIT_SECONDS; 120). */
  readonly longWaitSeconds?: number;
  /** Where the supervisors' page's files are (found next to the code by default). */
  readonly supervisorFolder?: string;
}

const iso = (millis: number | undefined): string | undefined => (millis === undefined ? undefined : Instant.encode(millis));
const defined = (value: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));

export const sessionSummaryBody = (session: SessionSummary): Record<string, unknown> =>
  defined({ ...session, parkedAt: iso(session.parkedAt), endedAt: iso(session.endedAt), dueAt: iso(session.dueAt) });

export const refusalBody = (refusal: Refusal): Record<string, unknown> => defined({ ...refusal, at: iso(refusal.at) });

const tenantOf = (request: FastifyRequest): string => decodePath(request, { tenantId: IncomingTenantId }).tenantId;

/** A cursor this service did not give out is bad input, named by its path. */
const withCursor = async <T>(read: () => Promise<T>): Promise<T> => {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidCursor) throw invalid([{ path: '$query.cursor', message: error.message }]);
    throw error;
  }
};

const csvFileName = (tenantId: string): string => `callpark-sessions-${tenantId.replace(/[^A-Za-z0-9._-]/g, '_')}.csv`;

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const handlers = (deps: ReadSideDependencies, streams: OpenStreams, folder: () => string, log: () => FastifyInstance['log']): Record<ReadSideOperationId, Handler> => {
  const occupancySource = liveOccupancy(deps.readStore);
  const auditSource = liveAudit(deps.readStore);
  return {
    getTenantOccupancy: async (request) => {
      const tenantId = tenantOf(request);
      decodeQuery(request, NoQuery);
      const policies = await readOccupancy(occupancySource, tenantId);
      // A tenant with no event yet has its Global policy, at the defaults.
      const shown = policies.length > 0 ? policies : [occupancyOf(initialState(), GLOBAL_POLICY)!];
      return { tenantId, policies: shown.map(occupancyBody) };
    },
    streamTenantOccupancy: streamOccupancy(
      {
        feed: deps.occupancyFeed,
        tokens: deps.tokens,
        tenants: deps.tenants,
        access: readerRoles,
        ...(deps.heartbeatMs === undefined ? {} : { heartbeatMs: deps.heartbeatMs }),
        ...(deps.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: deps.maxBufferedBytes }),
        onError: (error) => log().error({ err: error, route: 'GET /v1/tenants/:tenantId/occupancy/stream' }, 'occupancy stream failed'),
      },
      streams,
    ),
    getOrbitPresence: async (request) => {
      const { tenantId, identity, orbit: code } = decodePath(request, { tenantId: IncomingTenantId, identity: PolicyIdentity, orbit: OrbitCodeText });
      decodeQuery(request, NoQuery);
      const orbit = parseOrbitCode(code);
      if (orbit === undefined) throw invalid([{ path: '$path.orbit', message: `"${code}" is not an orbit code: digits, optionally after * or #` }]);
      const occupancy = (await readOccupancy(occupancySource, tenantId)).find((policy) => policy.policy === identity) ?? (identity === GLOBAL_POLICY ? occupancyOf(initialState(), GLOBAL_POLICY) : undefined);
      if (occupancy === undefined) throw new ProblemError(rejectionProblem('policy-not-found', 404, sentenceFor('policy-not-found', { policy: identity })));
      const found = occupancy.orbits.find((candidate) => candidate.orbit === orbit);
      return presenceBody(tenantId, identity, found ?? { orbit, code: `${occupancy.orbitPrefix}${orbit}`, status: 'free' });
    },
    streamOrbitPresence: serveEventStream(
      {
        tokens: deps.tokens,
        tenants: deps.tenants,
        access: readerRoles,
        query: PresenceQuery,
        ...(deps.heartbeatMs === undefined ? {} : { heartbeatMs: deps.heartbeatMs }),
        ...(deps.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: deps.maxBufferedBytes }),
        onError: (error) => log().error({ err: error, route: 'GET /v1/tenants/:tenantId/presence/stream' }, 'presence stream failed'),
      },
      streams,
      followPresence(deps.occupancyFeed),
    ),
    searchSessions: async (request) => {
      const tenantId = tenantOf(request);
      const query = decodeQuery(request, SessionQuery);
      const page = await withCursor(() => searchSessions(auditSource, { tenantId, ...query }));
      return { items: page.items.map(sessionSummaryBody), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
    },
    exportSessions: async (request, reply) => {
      const tenantId = tenantOf(request);
      const query = decodeQuery(request, SessionExportQuery);
      return reply
        .type(CSV_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="${csvFileName(tenantId)}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(sessionsCsv(allSessions(auditSource, { tenantId, ...query }))));
    },
    searchRefusals: async (request) => {
      const tenantId = tenantOf(request);
      const query = decodeQuery(request, RefusalQuery);
      const page = await withCursor(() => searchRefusals(auditSource, { tenantId, ...query }));
      return { items: page.items.map(refusalBody), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
    },
    getOccupancyAt: async (request) => {
      const { tenantId, identity } = decodePath(request, { tenantId: IncomingTenantId, identity: PolicyIdentity });
      const { instant } = decodeQuery(request, TimeTravelQuery);
      const then = await occupancyAt(deps.eventStore, tenantId, identity, instant);
      // Before its first event a tenant had its Global policy, at the defaults.
      const occupancy = then.eventsFolded === 0 ? occupancyOf(initialState(), identity) : then.occupancy;
      if (occupancy === undefined) {
        throw new ProblemError(rejectionProblem('policy-not-found', 404, `${sentenceFor('policy-not-found', { policy: identity })} It did not exist at ${Instant.encode(instant)}.`));
      }
      return { tenantId, instant: Instant.encode(instant), eventsFolded: then.eventsFolded, occupancy: occupancyBody(occupancy) };
    },
    // The page takes no parameters it would refuse: `?tenant=` preselects a tenant, others are ignored.
    supervisorPage: async (_request, reply) => sendSupervisorAsset(reply, folder(), 'index.html', { longWaitSeconds: deps.longWaitSeconds ?? DEFAULT_LONG_WAIT_SECONDS }),
    supervisorAsset: async (request, reply) => {
      const { asset } = (request.params ?? {}) as { asset?: string };
      if (asset === undefined || !isSupervisorAsset(asset)) throw new ProblemError(problems.routeNotFound(request.method, request.url.split('?')[0] ?? ''));
      return sendSupervisorAsset(reply, folder(), asset);
    },
  };
};

/** The read side's routes and the supervisors' page. See the file's comment for where to register it. */
export const readSideRoutes: FastifyPluginAsync<ReadSideDependencies> = async (app, deps) => {
  const streams = deps.streams ?? new OpenStreams();
  let folder: string | undefined;
  const answer = handlers(
    deps,
    streams,
    () => (folder ??= deps.supervisorFolder ?? supervisorFolder()),
    () => app.log,
  );

  // Fail closed: a guarded route reached without the access hook's principal (a server without
  // the hook) answers 401 rather than data.
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access !== undefined && access.kind !== 'open' && request.principal === undefined) {
      throw new ProblemError(problems.unauthorized('Send a bearer token: Authorization: Bearer <token>.'), { 'www-authenticate': 'Bearer realm="callpark"' });
    }
  });
  // Streams never end by themselves: end them when the server closes, so it can.
  app.addHook('preClose', async () => streams.endAll());

  for (const operation of readSideOperations) {
    app.route({
      method: operation.method,
      url: operation.url,
      config: { access: operation.access },
      handler: (request, reply) => answer[operation.doc.operationId](request, reply),
    });
  }
};
