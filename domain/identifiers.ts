/** The identifiers every message carries. */
import * as t from 'io-ts/lib/index.js';
import { text, withShape } from './codec/codec.js';
import { decodesToItself } from './codec/quickDecode.js';

/** A tenant id as the events record it: every one ever accepted stays readable. */
export const TenantId = text('TenantId', 128);

/**
 * Whether a tenant id is one the service's configuration gives a meaning to, so that no token of
 * its own could ever be written for it: `*` stands for every tenant in CALLPARK_TOKENS, and its
 * compact form `role@tenant=token,…` cannot hold a tenant with `,`, `=`, `@` or white space.
 */
export const isReservedTenantId = (tenantId: string): boolean => tenantId === '*' || /[,=@\s]/.test(tenantId);

/** A tenant id as a request or a message names it: a TenantId that is not reserved. */
export const IncomingTenantId = withShape(
  decodesToItself(
    new t.Type<string, string, unknown>(
      'TenantId',
      (u): u is string => TenantId.is(u) && !isReservedTenantId(u),
      (u, context) =>
        TenantId.is(u) && isReservedTenantId(u)
          ? t.failure(u, context, `expected TenantId: not "*" and without ",", "=", "@" or white space, which CALLPARK_TOKENS gives a meaning to, got ${JSON.stringify(u)}`)
          : TenantId.validate(u, context),
      t.identity,
    ),
  ),
  { kind: 'text', maxLength: 128, pattern: '^(?!\\*$)[^,=@\\s]+$' },
);

export const UserId = text('UserId', 256);
/** A SIP Call-ID. */
export const CallId = text('CallId', 256);
export const SessionId = text('SessionId', 128);
/** The id that makes a command idempotent (I6): a message's `eventId`, or an Idempotency-Key. */
export const CommandId = text('CommandId', 256);

/** The longest identifier the API accepts, in a body or in a path. */
export const MAX_IDENTIFIER_LENGTH = 256;

export type TenantId = t.TypeOf<typeof TenantId>;
export type UserId = t.TypeOf<typeof UserId>;
export type CallId = t.TypeOf<typeof CallId>;
export type SessionId = t.TypeOf<typeof SessionId>;
export type CommandId = t.TypeOf<typeof CommandId>;
