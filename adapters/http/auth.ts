/**
 * Who may do what: bearer tokens from configuration, each with a role and a tenant (or `*`, every
 * tenant). Only the sha256 of each token is kept, and a presented token is compared with every
 * one of them in constant time. A token may appear more than once, to grant a role in several
 * tenants; what it may do is the union of its grants.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as t from 'io-ts/lib/index.js';
import { closed, oneOf } from '../../domain/codec/codec.js';
import { IncomingTenantId } from '../../domain/identifiers.js';

export const roles = ['signaling', 'supervisor', 'reporting', 'admin'] as const;
export const Role = oneOf('Role', roles);
export type Role = t.TypeOf<typeof Role>;

export const ALL_TENANTS = '*';

const TenantScope = new t.Type<string, string, unknown>(
  'TenantScope',
  (u): u is string => u === ALL_TENANTS || IncomingTenantId.is(u),
  (u, context) => (u === ALL_TENANTS ? t.success(u) : IncomingTenantId.validate(u, context)),
  t.identity,
);

const Sha256Hex = new t.Type<string, string, unknown>(
  'Sha256Hex',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
  (u, context) => (typeof u === 'string' && /^[0-9a-fA-F]{64}$/.test(u) ? t.success(u.toLowerCase()) : t.failure(u, context, 'expected the sha256 of a token: 64 hexadecimal digits')),
  t.identity,
);

/** Long enough not to be guessed; printable, no spaces, as RFC 6750's b64token. */
const MIN_TOKEN_LENGTH = 16;
const BearerToken = new t.Type<string, string, unknown>(
  'BearerToken',
  (u): u is string => typeof u === 'string' && u.length >= MIN_TOKEN_LENGTH && /^[A-Za-z0-9\-._~+/]+=*$/.test(u),
  (u, context) =>
    typeof u === 'string' && u.length >= MIN_TOKEN_LENGTH && u.length <= 1024 && /^[A-Za-z0-9\-._~+/]+=*$/.test(u)
      ? t.success(u)
      : t.failure(u, context, `expected a bearer token of at least ${MIN_TOKEN_LENGTH} characters from A-Z a-z 0-9 - . _ ~ + / (then = padding)`),
  t.identity,
);

/**
 * One grant of configuration (CALLPARK_TOKENS, decoded by the composition root): the token
 * itself, or only its sha256 so that the configuration holds no secret.
 */
export const TokenGrant = t.union([
  closed('TokenGrant', { token: BearerToken, role: Role, tenant: TenantScope }),
  closed('HashedTokenGrant', { sha256: Sha256Hex, role: Role, tenant: TenantScope }),
]);
export type TokenGrant = t.TypeOf<typeof TokenGrant>;
export const TokenGrants = t.array(TokenGrant);

export interface Grant {
  readonly role: Role;
  /** A tenant id, or `*` for every tenant. */
  readonly tenant: string;
}

/** Who presented the token: every grant it holds. */
export interface Principal {
  readonly grants: readonly Grant[];
}

export const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export interface TokenRegistry {
  /** The principal a presented token stands for, or undefined for a token nobody issued. */
  authenticate(token: string): Principal | undefined;
  /** Whether some token names this tenant (a `*` token names none). */
  namesTenant(tenantId: string): boolean;
}

export const createTokenRegistry = (grants: readonly TokenGrant[]): TokenRegistry => {
  const entries = grants.map((grant) => ({
    hash: 'token' in grant ? sha256(grant.token) : Buffer.from(grant.sha256, 'hex'),
    grant: { role: grant.role, tenant: grant.tenant },
  }));
  const named = new Set(entries.map(({ grant }) => grant.tenant).filter((tenant) => tenant !== ALL_TENANTS));
  return {
    authenticate: (token) => {
      const presented = sha256(token);
      const held: Grant[] = [];
      // Compare with every entry, whether or not an earlier one matched: the time says nothing.
      for (const entry of entries) if (timingSafeEqual(entry.hash, presented)) held.push(entry.grant);
      return held.length === 0 ? undefined : { grants: held };
    },
    namesTenant: (tenantId) => named.has(tenantId),
  };
};

/** The token of an `Authorization: Bearer …` header; undefined when there is none. */
export const bearerTokenOf = (authorization: string | undefined): string | undefined => {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? '');
  return match?.[1];
};

/** Who may use a route: the roles that may. */
export interface Access {
  readonly roles: readonly Role[];
}

const covers = (grant: Grant, tenantId: string | undefined): boolean => grant.tenant === ALL_TENANTS || (tenantId !== undefined && grant.tenant === tenantId);

/** Whether the principal holds one of the roles at all (before the tenant is known). */
export const holdsRole = (principal: Principal, access: Access): boolean => principal.grants.some((grant) => access.roles.includes(grant.role));

/**
 * Whether the principal may act on `tenantId` with one of the roles. With `tenantId` undefined
 * the route is about every tenant, and only a grant for all tenants covers it.
 */
export const permits = (principal: Principal, access: Access, tenantId: string | undefined): boolean =>
  principal.grants.some((grant) => access.roles.includes(grant.role) && covers(grant, tenantId));
