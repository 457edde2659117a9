/**
 * /openapi.json and the routes hold each other: every route Fastify registered is in the
 * document, every operation of the document is a registered route, every $ref resolves, and every
 * documented request example is accepted by its route.
 */
import { describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../adapters/http/server.js';
import { json, startService, tokens } from './httpFixtures.js';

const methods = ['get', 'post', 'put', 'patch', 'delete'];
const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

type Operation = { operationId: string; parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { example?: unknown }> }; security: unknown[] };

const operationsOf = (document: Record<string, unknown>): { key: string; path: string; method: string; operation: Operation }[] =>
  Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methods.includes(method))
      .map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, path, method, operation })),
  );

const refsIn = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, member]) => (key === '$ref' && typeof member === 'string' ? [member] : refsIn(member)));
};

describe('the OpenAPI document', () => {
  it('describes exactly the routes that are registered, both ways', async () => {
    const service = await startService();
    const response = await service.request({ url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = json(response);
    expect(document.openapi).toBe('3.1.0');
    const documented = operationsOf(document).map((operation) => operation.key).sort();
    const registered = registeredRoutes(service.app)
      .map((route) => `${route.method} ${openApiPath(route.url)}`)
      .sort();
    expect(registered.length).toBeGreaterThan(15);
    expect(documented).toEqual(registered);
    // And Fastify answers each of them (not the not-found handler).
    for (const route of registeredRoutes(service.app)) expect(service.app.hasRoute({ method: route.method as 'GET', url: route.url }), route.url).toBe(true);
  });

  it('documents every path parameter, gives each operation a unique id, and every $ref resolves', async () => {
    const service = await startService();
    const document = json(await service.request({ url: '/openapi.json' }));
    const operations = operationsOf(document);
    for (const { path, operation } of operations) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      expect((operation.parameters ?? []).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name)).toEqual(inPath);
    }
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    for (const ref of refsIn(document)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(schemas, ref).toHaveProperty([ref.replace('#/components/schemas/', '')]);
    }
    // Open routes say so; every other one needs the bearer token.
    const open = operations.filter(({ operation }) => operation.security.length === 0).map(({ key }) => key);
    expect(open.sort()).toEqual(['GET /healthz', 'GET /openapi.json', 'GET /readyz']);
  });

  it('gives request examples that their routes accept', async () => {
    const service = await startService();
    await service.allowPark();
    const document = json(await service.request({ url: '/openapi.json' }));
    const values: Record<string, string> = { tenantId: 'contoso', identity: 'Global', userId: 'alice@contoso.com', endpoint: 'mobile', sessionId: 'session-1' };
    let examples = 0;
    for (const { path, method, operation } of operationsOf(document)) {
      for (const [contentType, { example }] of Object.entries(operation.requestBody?.content ?? {})) {
        if (example === undefined) continue;
        examples++;
        const url = path.replace(/\{([^}]+)\}/g, (_whole, name: string) => values[name] ?? name);
        const body = typeof example === 'object' && example !== null && 'eventId' in example ? { ...example, eventId: `example-${examples}` } : example;
        const response = await service.request({
          method: method.toUpperCase() as 'POST',
          url,
          token: tokens.allAdmin,
          body: JSON.stringify(body),
          headers: { 'content-type': contentType },
        });
        // Accepted by the codecs: anything but bad input (a domain rejection is fine here).
        expect([400, 413, 415], `${method} ${path}: ${response.body}`).not.toContain(response.statusCode);
      }
    }
    expect(examples).toBeGreaterThanOrEqual(10);
  });
});
