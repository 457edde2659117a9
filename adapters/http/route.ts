/**
 * A route as data: its method and path, who may use it, what it is for (its OpenAPI operation),
 * and what answers it. The server registers the table and the OpenAPI document is generated from
 * the same table, so a route cannot exist undocumented.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from './auth.js';
import type { JsonSchema, SchemaName } from './openapiSchemas.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may use a route.
 * - `open`: anyone, no token.
 * - `tenant-in-path`: one of the roles for the `:tenantId` of the path.
 * - `tenant-in-body`: one of the roles for the message's `tenantId` (checked once the body is decoded).
 * - `all-tenants`: one of the roles for every tenant (a `*` token): what it shows spans tenants.
 */
export type RouteAccess =
  | { readonly kind: 'open' }
  | {
      readonly kind: 'tenant-in-path' | 'tenant-in-body' | 'all-tenants';
      readonly roles: readonly Role[];
      /** An administrator's change here may be a tenant's first: the tenant comes to be with its first event. */
      readonly provisions?: boolean;
    };

export type GuardedAccess = Exclude<RouteAccess, { readonly kind: 'open' }>;

export interface DocumentedResponse {
  readonly description: string;
  /** A component schema (answered as application/json, or problem+json for a Problem). */
  readonly schema?: SchemaName;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface OperationDoc {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly body?: { readonly schema: SchemaName | JsonSchema; readonly contentTypes?: readonly string[]; readonly example?: unknown };
  /** The route takes an Idempotency-Key header. */
  readonly idempotencyKey?: 'instead-of-event-id' | 'command-id';
  readonly responses: Readonly<Record<number, DocumentedResponse>>;
}

export interface RouteDefinition {
  readonly method: Method;
  /** In Fastify's syntax: `/v1/tenants/:tenantId/policies`. */
  readonly url: string;
  readonly access: RouteAccess;
  readonly doc: OperationDoc;
  /** Answer the request: send through `reply`, or return the JSON body of a 200. */
  readonly handle: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** The path parameters of a Fastify url, in order. */
export const pathParametersOf = (url: string): string[] => [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);

/** A Fastify url in OpenAPI's syntax: `/v1/tenants/{tenantId}/policies`. */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
