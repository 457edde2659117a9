/** The identifiers every message carries. */
import type * as t from 'io-ts/lib/index.js';
import { text } from './codec.js';

export const TenantId = text('TenantId', 128);
export const UserId = text('UserId', 256);
/** A SIP Call-ID. */
export const CallId = text('CallId', 256);
export const SessionId = text('SessionId', 128);
/** The id that makes a command idempotent (I6): a message's `eventId`, or an Idempotency-Key. */
export const CommandId = text('CommandId', 256);

export type TenantId = t.TypeOf<typeof TenantId>;
export type UserId = t.TypeOf<typeof UserId>;
export type CallId = t.TypeOf<typeof CallId>;
export type SessionId = t.TypeOf<typeof SessionId>;
export type CommandId = t.TypeOf<typeof CommandId>;
