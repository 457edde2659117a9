/**
 * The HTTP API (Fastify 5): registers the route table, reads JSON bodies (up to a limit), checks
 * tokens before a body is read, answers every error as a problem document, and counts every
 * request. The server is built, not started: the composition root calls `listen`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { ConcurrencyExhausted } from '../commandHandler.js';
import { accessHook } from './access.js';
import { administrationRoutes } from './administrationRoutes.js';
import type { HttpDependencies } from './dependencies.js';
import { openApiDocument, withExtensions } from './openapi.js';
import { operationalRoutes } from './operationalRoutes.js';
import { PROBLEM_CONTENT_TYPE, ProblemError, problems, type Problem } from './problem.js';
import { readRoutes } from './readRoutes.js';
import type { Method, RouteDefinition } from './route.js';
import { signalingRoutes } from './signalingRoutes.js';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** JSON bodies; merge-patch is JSON too (PATCH of a policy). Anything else is a 415. */
const JSON_CONTENT_TYPES = ['application/json', 'application/merge-patch+json'];

class MalformedJson extends Error {
  override readonly name = 'MalformedJson';
  readonly statusCode = 400;
}

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
  });

  const seen: { method: string; url: string }[] = [];
  registered.set(app, seen);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) seen.push({ method, url: route.url });
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
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
    const code = (error as FastifyError).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, problems.bodyTooLarge(bodyLimit));
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, problems.unsupportedMediaType(request.headers['content-type']));
    if (error instanceof ConcurrencyExhausted) {
      request.log.warn({ err: error }, 'gave up after concurrent writers');
      return sendProblem(reply, problems.busy(), { 'retry-after': '1' });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendProblem(reply, { type: 'about:blank', title: STATUS_CODES[status] ?? 'Bad request', status, detail: error.message });
    }
    request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    return sendProblem(reply, problems.internal());
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problems.routeNotFound(request.method, request.url.split('?')[0] ?? '')));

  const routes: RouteDefinition[] = [
    ...signalingRoutes(dependencies),
    ...administrationRoutes(dependencies),
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
