/**
 * The live occupancy board as Server-Sent Events: `GET /v1/tenants/:tenantId/occupancy/stream`.
 *
 * On connect the client is sent `event: snapshot` (every policy of the tenant, as
 * `GET …/occupancy` answers, but listing only the orbits that hold a call, and those that were
 * freed as pairs of orbit and instant), then `event: change` for each change, pushed from the occupancy
 * projection's commits (the runner's `onApplied`), so a change reaches the client right after
 * the event is stored and projected. A comment line every `heartbeatMs` keeps proxies from
 * closing a quiet stream. A client that has more than `maxBufferedBytes` still unsent when the
 * next message is due is disconnected, its socket destroyed so that what it held is freed:
 * EventSource reconnects by itself and starts again from a snapshot. Every stream of a tenant is
 * handed the same update by the feed, which is encoded once and written to all of them a slice
 * at a time, what came within 20 ms in one write (streamFanOut.ts).
 *
 * EventSource cannot send an Authorization header, so this route also takes the bearer token as
 * `?access_token=` (RFC 6750 §2.3), and only this route. The token is then in a URL: the service
 * logs no URL's query (a failed request is logged with its path alone, server.ts), and tokens given to a supervisors' page should be supervisor
 * tokens of one tenant.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type * as t from 'io-ts/lib/index.js';
import { Instant } from '../../domain/codec/codec.js';
import { IncomingTenantId } from '../../domain/identifiers.js';
import type { OrbitOccupancy, PolicyOccupancy } from '../../domain/occupancy.js';
import type { OccupancyChange } from '../../projections/occupancyChanges.js';
import type { OccupancyFeed, OccupancyUpdate } from '../../projections/occupancyFeed.js';
import { bearerTokenOf, holdsRole, permits, type Access, type TokenRegistry } from './auth.js';
import type { TenantDirectory } from './dependencies.js';
import { ProblemError, problems } from './problem.js';
import { occupancyBody } from './readRoutes.js';
import { decodeQuery, StreamQuery } from './readSideParameters.js';
import { decodePath } from './requestDecoding.js';
import { StreamFanOut } from './streamFanOut.js';

/** A client may hold this much unsent before it is let go: a few snapshots of the largest policies. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const RETRY = Buffer.from('retry: 2000\n\n');

export interface OccupancyStreamOptions {
  readonly feed: OccupancyFeed;
  readonly tokens: TokenRegistry;
  readonly tenants: TenantDirectory;
  readonly access: Access;
  /** A comment line this often (15 s by default). */
  readonly heartbeatMs?: number;
  /** Disconnect a client whose unsent data exceeds this when a message is due (4 MiB by default). */
  readonly maxBufferedBytes?: number;
  readonly onError?: (error: unknown) => void;
  /** The query string's codec, which takes `access_token` (StreamQuery by default). */
  readonly query?: t.Type<{ readonly access_token?: string | undefined }, unknown, unknown>;
}

const iso = (millis: number | undefined): string | undefined => (millis === undefined ? undefined : Instant.encode(millis));

const orbitBody = (orbit: OrbitOccupancy): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries({ ...orbit, parkedAt: iso(orbit.parkedAt), ringBackDueAt: iso(orbit.ringBackDueAt), unansweredAt: iso(orbit.unansweredAt), freedAt: iso(orbit.freedAt) }).filter(
      ([, value]) => value !== undefined,
    ),
  );

/** A change as the stream sends it: instants in ISO-8601. */
export const changeBody = (change: OccupancyChange): Record<string, unknown> => {
  switch (change.kind) {
    case 'parked':
      return { ...change, orbit: orbitBody(change.orbit) };
    case 'ringing-back':
      return { ...change, unansweredAt: iso(change.unansweredAt) };
    case 'ring-back-unanswered':
      return { ...change, ringBackDueAt: iso(change.ringBackDueAt) };
    case 'freed':
      return { ...change, freedAt: iso(change.freedAt) };
    case 'policy-changed':
      return { ...change };
    default: {
      const unhandled: never = change;
      return unhandled;
    }
  }
};

/** One Server-Sent Event: its name, an id, and its data as one line of JSON. */
export const sseMessage = (event: string, data: unknown, id?: string): string => `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;

/**
 * A policy as a snapshot sends it: the counts, the orbits that hold a call, and the free orbits
 * that were freed as `freed: [[orbit, freedAt], …]` (the board shows when); every other orbit of
 * the range is free. A 9,000-orbit policy is then a few kilobytes, not 400, to each of thousands
 * of streams at each policy change.
 */
const snapshotPolicyBody = (occupancy: PolicyOccupancy): Record<string, unknown> => {
  const held: OrbitOccupancy[] = [];
  const freed: [number, string][] = [];
  for (const orbit of occupancy.orbits) {
    if (orbit.status !== 'free') held.push(orbit);
    else if (orbit.freedAt !== undefined) freed.push([orbit.orbit, Instant.encode(orbit.freedAt)]);
  }
  return { ...occupancyBody({ ...occupancy, orbits: held }), freed };
};

export const updateMessage = (update: OccupancyUpdate): string =>
  update.kind === 'snapshot'
    ? sseMessage('snapshot', { tenantId: update.tenantId, policies: update.policies.map(snapshotPolicyBody) })
    : sseMessage('change', changeBody(update.change), update.position);

/** Each update as bytes, encoded once for every stream it goes to (the feed hands them all the same object). */
const encoded = new WeakMap<OccupancyUpdate, Buffer>();
const encodedUpdate = (update: OccupancyUpdate): Buffer => {
  let bytes = encoded.get(update);
  if (bytes === undefined) {
    bytes = Buffer.from(updateMessage(update), 'utf8');
    encoded.set(update, bytes);
  }
  return bytes;
};

/** Who may follow the stream: the same roles as the occupancy read, the token from the header or from `access_token`. */
const authorize = async (request: FastifyRequest, options: Omit<OccupancyStreamOptions, 'feed'>): Promise<string> => {
  const { tenantId } = decodePath(request, { tenantId: IncomingTenantId });
  const { access_token: fromQuery } = decodeQuery(request, options.query ?? StreamQuery);
  const token = bearerTokenOf(request.headers.authorization) ?? fromQuery;
  const realm = 'Bearer realm="callpark"';
  if (token === undefined) throw new ProblemError(problems.unauthorized('Send a bearer token: Authorization: Bearer <token>, or ?access_token=<token> from EventSource.'), { 'www-authenticate': realm });
  const principal = options.tokens.authenticate(token);
  if (principal === undefined) throw new ProblemError(problems.unauthorized('The bearer token is not one this service issued.'), { 'www-authenticate': `${realm}, error="invalid_token"` });
  if (!holdsRole(principal, options.access)) throw new ProblemError(problems.forbidden(`This needs the role ${options.access.roles.join(' or ')}.`));
  if (!permits(principal, options.access, tenantId)) throw new ProblemError(problems.forbidden(`Your token does not let you do this in tenant ${JSON.stringify(tenantId)}.`));
  if (!(await options.tenants.exists(tenantId))) throw new ProblemError(problems.tenantNotFound(tenantId));
  return tenantId;
};

/** The open streams of a server, so it can end them when it closes, and the writes they wait for. */
export class OpenStreams {
  private readonly ends = new Set<() => void>();
  readonly fanOut = new StreamFanOut();
  /** How many clients were disconnected for falling behind. */
  dropped = 0;

  add(end: () => void): () => void {
    this.ends.add(end);
    return () => this.ends.delete(end);
  }

  get size(): number {
    return this.ends.size;
  }

  endAll(): void {
    for (const end of [...this.ends]) end();
  }
}

/** What an event stream follows: it writes each message with `write`, and is closed when the stream ends. */
export type EventSource = (tenantId: string, write: (chunk: Buffer) => void, fail: (error: unknown) => void) => { close(): void };

/**
 * Serve one tenant's events to a client, after checking its token: the headers, a heartbeat,
 * the writes through the shared fan-out, the client let go when it falls behind, and the end
 * when either side closes. `follow` says what the stream sends.
 */
export const serveEventStream =
  (options: Omit<OccupancyStreamOptions, 'feed'>, open: OpenStreams, follow: (request: FastifyRequest) => EventSource) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let tenantId: string;
    let source: EventSource;
    try {
      tenantId = await authorize(request, options);
      source = follow(request);
    } catch (error) {
      // Never handed to the server's error handler, which would log the URL, token and all.
      if (error instanceof ProblemError) throw error;
      options.onError?.(error);
      throw new ProblemError(problems.internal());
    }

    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    let ended = false;
    const sink = {
      deliver: (chunks: readonly Buffer[]): void => {
        if (ended) return;
        if (response.writableLength > maxBuffered) {
          // It did not take what it was sent: let it go, and what it held with it.
          open.dropped++;
          end();
          response.destroy();
          return;
        }
        if (chunks.length === 1) {
          response.write(chunks[0]);
          return;
        }
        response.cork();
        for (const chunk of chunks) response.write(chunk);
        response.uncork();
      },
    };
    const write = (chunk: Buffer): void => open.fanOut.write(sink, chunk);
    const heartbeat = setInterval(() => write(Buffer.from(`: heartbeat ${new Date().toISOString()}\n\n`)), options.heartbeatMs ?? 15_000);
    const subscription = source(tenantId, write, (error) => {
      options.onError?.(error);
      end();
      response.end();
    });
    const forget = open.add(() => {
      end();
      response.end();
    });
    function end(): void {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      subscription.close();
      forget();
    }
    // Tell EventSource how long to wait before it reconnects.
    write(RETRY);
    request.raw.on('close', end);
    response.on('close', end);
    response.on('error', end);
  };

export const streamOccupancy = (options: OccupancyStreamOptions, open: OpenStreams) =>
  serveEventStream(options, open, () => (tenantId, write, fail) => options.feed.subscribe(tenantId, (update) => write(encodedUpdate(update)), fail));
