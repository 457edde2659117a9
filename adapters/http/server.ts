/**
 * The HTTP API (Fastify 5): registers the route table, reads JSON bodies (up to a limit), checks
 * tokens before a body is read, answers every error as a problem document, and counts every
 * request. The server is built, not started: the composition root calls `listen`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { MAX_IDENTIFIER_LENGTH } from '../../domain/identifiers.js';
import { ConcurrencyExhausted } from '../commands/commandHandler.js';
import { AppendLockTimeout } from '../eventStores/postgres/appendLockTimeout.js';
import { accessHook } from './access.js';
import { administrationRoutes } from './administrationRoutes.js';
import type { HttpDependencies } from './dependencies.js';
import { openApiDocument, withExtensions } from './openapi.js';
import { operationalRoutes } from './operationalRoutes.js';
import { PROBLEM_CONTENT_TYPE, ProblemError, problems, type Problem } from './problem.js';
import { readRoutes } from './readRoutes.js';
import type { Method, RouteDefinition } from './route.js';
import { supervisorRoutes } from './supervisorRoutes.js';
import { signalingRoutes } from './signalingRoutes.js';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** JSON bodies; merge-patch is JSON too (PATCH of a policy). Anything else is a 415. */
const JSON_CONTENT_TYPES = ['application/json', 'application/merge-patch+json'];

/**
 * The longest path parameter the router lets through (after percent-decoding). Longer than any
 * identifier (256), so one a little too long reaches its codec, which names it; beyond this, 414.
 */
export const MAX_PATH_PARAMETER_LENGTH = 4 * MAX_IDENTIFIER_LENGTH;

class MalformedJson extends Error {
  override readonly name = 'MalformedJson';
  readonly statusCode = 400;
}

class InvalidUtf8 extends Error {
  override readonly name = 'InvalidUtf8';
  readonly statusCode = 400;
}

/** Refuses bytes that are not UTF-8 rather than replacing them (two different keys must never read as one). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The problem of an error Fastify raises before a route runs (its `code`), if it is one. */
const frameworkProblem = (code: string | undefined, bodyLimit: number, contentType: string | undefined): Problem | undefined => {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problems.bodyTooLarge(bodyLimit);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problems.unsupportedMediaType(contentType);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problems.bodyLengthMismatch();
    case 'FST_ERR_BAD_URL':
      return problems.malformedUrl();
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return problems.pathParameterTooLong(MAX_PATH_PARAMETER_LENGTH);
    default:
      return undefined;
  }
};

/** What Node's HTTP parser refuses (before Fastify sees a request) is answered as a problem too. */
const clientError = (error: Error & { code?: string }, socket: Socket): void => {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const problem = error.code === 'HPE_HEADER_OVERFLOW' ? problems.headerTooLarge() : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? problems.requestTimeout() : problems.badRequest(400, 'Bad request', 'The request is not valid HTTP.');
    const body = JSON.stringify(problem);
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
};

const registered = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** The routes Fastify registered on this server, as its onRoute hook saw them. */
export const registeredRoutes = (app: FastifyInstance): readonly { method: string; url: string }[] => registered.get(app) ?? [];

const sendProblem = (reply: FastifyReply, problem: Problem, headers: Readonly<Record<string, string>> = {}): FastifyReply =>
  reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);

export const buildHttpServer = async (dependencies: HttpDependencies): Promise<FastifyInstance> => {
  const bodyLimit = dependencies.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    // A pino logger is Fastify's logger; typed as the base so the instance is the default FastifyInstance.
    loggerInstance: dependencies.logger as FastifyBaseLogger,
    // One line per command (sendCommand.ts) and one per failure; not two per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    // A bad percent-encoding or an over-long path parameter, found while routing.
    frameworkErrors: (error, request, reply) => sendProblem(reply, frameworkProblem(error.code, bodyLimit, request.headers['content-type']) ?? problems.internal()),
    clientErrorHandler: clientError,
  });

  const seen: { method: string; url: string }[] = [];
  registered.set(app, seen);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) seen.push({ method, url: route.url });
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPES, { parseAs: 'buffer' }, (_request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new InvalidUtf8('not valid UTF-8'), undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new MalformedJson(error instanceof Error ? error.message : String(error)), undefined);
    }
  });

  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', accessHook(dependencies));
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    dependencies.metrics.recordHttpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ProblemError) return sendProblem(reply, error.problem, error.headers);
    if (error instanceof MalformedJson) return sendProblem(reply, problems.malformedJson(error.message));
    if (error instanceof InvalidUtf8) return sendProblem(reply, problems.invalidUtf8());
    const framework = frameworkProblem((error as FastifyError).code, bodyLimit, request.headers['content-type']);
    if (framework !== undefined) return sendProblem(reply, framework);
    if (error instanceof ConcurrencyExhausted || error instanceof AppendLockTimeout) {
      request.log.warn({ err: error }, 'gave up after concurrent writers');
      return sendProblem(reply, problems.busy(), { 'retry-after': '1' });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendProblem(reply, problems.badRequest(status, STATUS_CODES[status] ?? 'Bad request', error.message));
    }
    // The path alone: a query may carry a token (the occupancy stream's `access_token`).
    request.log.error({ err: error, method: request.method, path: request.url.split('?')[0] }, 'request failed');
    return sendProblem(reply, problems.internal());
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problems.routeNotFound(request.method, request.url.split('?')[0] ?? '')));

  const routes: RouteDefinition[] = [
    ...signalingRoutes(dependencies),
    ...administrationRoutes(dependencies),
    ...supervisorRoutes(dependencies),
    ...readRoutes(dependencies),
    ...operationalRoutes(dependencies, () => document),
  ];
  // Read by the /openapi.json route when asked, after it is built.
  const document = withExtensions(openApiDocument(routes), dependencies.openApiExtensions ?? []);
  for (const route of routes) {
    app.route({
      method: route.method satisfies Method,
      url: route.url,
      config: { access: route.access },
      // Returns the body of a 200, or the reply it sent.
      handler: (request, reply) => route.handle(request, reply),
    });
  }

  return app;
};
