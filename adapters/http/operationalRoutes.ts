/**
 * Running the service: liveness and readiness (open), the OpenAPI document (open), and the
 * metrics. /metrics needs a `reporting` or `admin` token for all tenants (`*`): active parks are
 * labelled by tenant, so what it shows spans tenants.
 */
import { PROMETHEUS_CONTENT_TYPE } from '../observability/metrics.js';
import type { HttpDependencies, Readiness } from './dependencies.js';
import { PROBLEM_CONTENT_TYPE, problems } from './problem.js';
import type { RouteDefinition } from './route.js';

const open = { kind: 'open' } as const;

const readinessOf = async (dependencies: HttpDependencies): Promise<Readiness> => {
  try {
    return await dependencies.readiness();
  } catch (error) {
    return { ready: false, checks: { readiness: { ok: false, detail: error instanceof Error ? error.message : String(error) } } };
  }
};

export const operationalRoutes = (dependencies: HttpDependencies, openApiDocument: () => unknown): RouteDefinition[] => [
  {
    method: 'GET',
    url: '/healthz',
    access: open,
    doc: { operationId: 'health', summary: 'Liveness: 200 while the process runs.', tag: 'operations', responses: { 200: { description: 'Alive.', schema: 'Health' } } },
    handle: async () => ({ status: 'ok' }),
  },
  {
    method: 'GET',
    url: '/readyz',
    access: open,
    doc: {
      operationId: 'ready',
      summary: 'Readiness: 200 only when the stores (and Kafka, when configured) answer; 503 with the checks otherwise.',
      tag: 'operations',
      responses: { 200: { description: 'Ready.', schema: 'Readiness' }, 503: { description: 'Not ready; `checks` says what does not answer.', schema: 'Problem' } },
    },
    handle: async (_request, reply) => {
      const readiness = await readinessOf(dependencies);
      if (readiness.ready) return { status: 'ready', checks: readiness.checks };
      return reply.code(503).type(PROBLEM_CONTENT_TYPE).send(problems.notReady(readiness.checks));
    },
  },
  {
    method: 'GET',
    url: '/metrics',
    access: { kind: 'all-tenants', roles: ['reporting', 'admin'] },
    doc: {
      operationId: 'metrics',
      summary: 'Prometheus text format 0.0.4: commands by type and outcome, command latency, active parks by tenant, timer lateness, HTTP requests by route and status.',
      description: 'Needs a reporting or admin token for all tenants (*).',
      tag: 'operations',
      responses: { 200: { description: 'The exposition.', contentType: PROMETHEUS_CONTENT_TYPE } },
    },
    handle: async (request, reply) => {
      try {
        await dependencies.metrics.collect();
      } catch (error) {
        // The rest is still worth scraping; the active parks are the last ones read.
        request.log.warn({ err: error }, 'active parks could not be read for /metrics');
      }
      return reply.type(PROMETHEUS_CONTENT_TYPE).send(await dependencies.metrics.render());
    },
  },
  {
    method: 'GET',
    url: '/openapi.json',
    access: open,
    doc: { operationId: 'openApi', summary: 'This document: OpenAPI 3.1, every route.', tag: 'operations', responses: { 200: { description: 'The OpenAPI document.' } } },
    handle: async () => openApiDocument(),
  },
];
