/**
 * Applying who-may-do-what to each request, before its body is read: no token or an unknown one
 * is a 401 (with `WWW-Authenticate: Bearer`); a token without the route's role, or not for the
 * tenant in the path, a 403; a tenant nobody knows a 404. A tenant named in a message body is
 * checked the same way once the body is decoded (`authorizeTenant`).
 */
import type { FastifyRequest } from 'fastify';
import { IncomingTenantId } from '../../domain/identifiers.js';
import { bearerTokenOf, holdsRole, permits, type Principal } from './auth.js';
import type { HttpDependencies } from './dependencies.js';
import { ProblemError, problems } from './problem.js';
import { decodePath } from './requestDecoding.js';
import type { GuardedAccess, RouteAccess } from './route.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who presented the bearer token; undefined on open routes. */
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

const REALM = 'Bearer realm="callpark"';

const forbidden = (detail: string): ProblemError => new ProblemError(problems.forbidden(detail));

const rolesOf = (principal: Principal): string => [...new Set(principal.grants.map((grant) => grant.role))].join(', ');

/** Whether the principal may act on this tenant with the route's roles, and whether the tenant exists. */
export const authorizeTenant = async (dependencies: HttpDependencies, principal: Principal, access: GuardedAccess, tenantId: string, where: 'path' | 'body'): Promise<void> => {
  if (!permits(principal, access, tenantId)) throw forbidden(`Your token does not let you do this in tenant ${JSON.stringify(tenantId)}.`);
  if (access.provisions) return;
  if (!(await dependencies.tenants.exists(tenantId))) throw new ProblemError(where === 'path' ? problems.tenantNotFound(tenantId) : problems.tenantInBodyNotFound(tenantId));
};

/** The principal of a request to a guarded route (set by the access hook). */
export const principalOf = (request: FastifyRequest): Principal => {
  if (request.principal === undefined) throw new Error(`${request.method} ${request.url} reached its handler without a principal.`);
  return request.principal;
};

/** The onRequest hook: authenticate, then check the role, then the tenant of the path. */
export const accessHook =
  (dependencies: HttpDependencies) =>
  async (request: FastifyRequest): Promise<void> => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access.kind === 'open') return;

    const token = bearerTokenOf(request.headers.authorization);
    if (token === undefined) {
      throw new ProblemError(problems.unauthorized('Send a bearer token: Authorization: Bearer <token>.'), { 'www-authenticate': REALM });
    }
    const principal = dependencies.tokens.authenticate(token);
    if (principal === undefined) {
      throw new ProblemError(problems.unauthorized('The bearer token is not one this service issued.'), { 'www-authenticate': `${REALM}, error="invalid_token"` });
    }
    request.principal = principal;

    if (!holdsRole(principal, access)) throw forbidden(`This needs the role ${access.roles.join(' or ')}; your token has ${rolesOf(principal)}.`);
    switch (access.kind) {
      case 'all-tenants':
        if (!permits(principal, access, undefined)) throw forbidden('What this shows spans every tenant: it needs a token for all tenants (*).');
        return;
      case 'tenant-in-path': {
        const { tenantId } = decodePath(request, { tenantId: IncomingTenantId });
        await authorizeTenant(dependencies, principal, access, tenantId, 'path');
        return;
      }
      case 'tenant-in-body':
        // Checked by the route once the body is decoded.
        return;
      default: {
        const unhandled: never = access;
        return unhandled;
      }
    }
  };
