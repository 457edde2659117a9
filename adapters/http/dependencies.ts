/**
 * What the HTTP API needs, as ports the composition root fills: the one way in (the command
 * handler), time and draws, who holds which token, which tenants exist, how a session reads, and
 * whether the stores answer.
 */
import type { Logger } from 'pino';
import type { SessionView } from '../../domain/sessionTimeline.js';
import type { CommandHandler } from '../commands/commandHandler.js';
import type { Metrics } from '../observability/metrics.js';
import type { TokenRegistry } from './auth.js';
import type { OpenApiExtension } from './openapi.js';

/** The command handler, as far as HTTP uses it: the one way in, and reads of a tenant's state. */
export type CallParkCommands = Pick<CommandHandler, 'handle' | 'query'>;

/** One park session with its timeline; the audit projection implements it. */
export interface SessionReads {
  session(tenantId: string, sessionId: string): Promise<SessionView | undefined>;
}

/**
 * Which tenants exist. A tenant is known when a token names it or when it has any event; the
 * composition root decides (see `tenantDirectory`). A request about any other tenant is a 404.
 */
export interface TenantDirectory {
  exists(tenantId: string): Promise<boolean>;
}

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
}

export interface HttpDependencies {
  readonly handler: CallParkCommands;
  /** The instant commands are decided at, in milliseconds since the epoch (I7: time enters here). */
  readonly clock: () => number;
  /** The id of the park session a park would start. */
  readonly newSessionId: () => string;
  /** The id of an administration command sent without an Idempotency-Key; a random UUID by default. */
  readonly newCommandId?: () => string;
  /** A draw in [0, 1) for random orbit allocation. */
  readonly random: () => number;
  readonly tokens: TokenRegistry;
  readonly tenants: TenantDirectory;
  readonly reads: SessionReads;
  /** Whether the stores (and Kafka, when configured) answer. */
  readonly readiness: () => Promise<Readiness>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The largest request body accepted, in bytes; 64 KiB by default. */
  readonly bodyLimit?: number;
  /** Routes registered beside these (the read side's plugin), for /openapi.json to describe too. */
  readonly openApiExtensions?: readonly OpenApiExtension[];
  /** Retry-After, in seconds, when every orbit is busy; 5 by default. */
  readonly retryAfterSeconds?: number;
}
