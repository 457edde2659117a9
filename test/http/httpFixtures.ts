/**
 * The HTTP API over the real command handler on the in-memory event store, with a clock the test
 * moves, tokens for every role, a session reader that folds the store's events, and the log lines
 * captured. Requests go through `app.inject`.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { createTokenRegistry, type TokenGrant } from '../../adapters/http/auth.js';
import type { Readiness, SessionReads } from '../../adapters/http/dependencies.js';
import { buildHttpServer } from '../../adapters/http/server.js';
import { tenantDirectory } from '../../adapters/http/tenantDirectory.js';
import { CommandHandler } from '../../adapters/commands/commandHandler.js';
import { InMemoryEventStore } from '../../adapters/eventStores/inMemory/inMemoryEventStore.js';
import { Metrics } from '../../adapters/observability/metrics.js';
import { callParkStream } from '../../domain/callPark.js';
import type { CallParkCommand } from '../../domain/commands.js';
import type { CallParkEvent } from '../../domain/events.js';
import { sessionView } from '../../domain/sessionTimeline.js';
import { fromStoredForm } from '../../domain/storedForm/storedEvent.js';
import { T0 } from '../support/callParkFixtures.js';

export const CONTOSO = 'contoso';
export const FABRIKAM = 'fabrikam';

/** One token per role and tenant the tests use; every token is long enough to be accepted. */
export const tokens = {
  signaling: 'signaling-contoso-0123456789',
  supervisor: 'supervisor-contoso-0123456789',
  reporting: 'reporting-contoso-0123456789',
  admin: 'admin-contoso-0123456789abcd',
  fabrikamAdmin: 'admin-fabrikam-0123456789abc',
  fabrikamSignaling: 'signaling-fabrikam-012345678',
  allAdmin: 'admin-every-tenant-0123456789',
  allReporting: 'reporting-every-tenant-012345',
} as const;

export const grants: TokenGrant[] = [
  { token: tokens.signaling, role: 'signaling', tenant: CONTOSO },
  { token: tokens.supervisor, role: 'supervisor', tenant: CONTOSO },
  { token: tokens.reporting, role: 'reporting', tenant: CONTOSO },
  { token: tokens.admin, role: 'admin', tenant: CONTOSO },
  { token: tokens.fabrikamAdmin, role: 'admin', tenant: FABRIKAM },
  { token: tokens.fabrikamSignaling, role: 'signaling', tenant: FABRIKAM },
  { token: tokens.allAdmin, role: 'admin', tenant: '*' },
  { token: tokens.allReporting, role: 'reporting', tenant: '*' },
];

export const alice = { userId: 'alice@contoso.com', endpoint: 'teams-desktop' } as const;
export const bob = { userId: 'bob@contoso.com', endpoint: 'teams-desktop' } as const;
export const carol = { userId: 'carol@contoso.com', endpoint: 'lync-2013' } as const;

const iso = (millis: number): string => new Date(millis).toISOString();

/** Every event of a tenant's call park stream, decoded. */
export const tenantEvents = async (store: InMemoryEventStore, tenantId: string): Promise<CallParkEvent[]> => {
  const events: CallParkEvent[] = [];
  for await (const recorded of store.readStream(callParkStream(tenantId))) {
    const decoded = fromStoredForm(recorded.type, recorded.data, recorded.metadata);
    if (E.isLeft(decoded)) throw decoded.left;
    events.push(decoded.right.event);
  }
  return events;
};

/** The session reader of the tests: the session's events, folded (the audit projection does this from its tables). */
export const sessionReadsOf = (store: InMemoryEventStore): SessionReads => ({
  session: async (tenantId, sessionId) => sessionView((await tenantEvents(store, tenantId)).filter((event) => 'sessionId' in event && event.sessionId === sessionId)),
});

export interface InjectOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export const startService = async () => {
  const store = new InMemoryEventStore();
  const handler = new CommandHandler({ store, sleep: async () => undefined });
  let now = T0;
  let sessions = 0;
  let readiness: Readiness | (() => Promise<Readiness>) = { ready: true, checks: { eventStore: { ok: true } } };
  const logLines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  const metrics = new Metrics();
  const tokenRegistry = createTokenRegistry(grants);
  const app: FastifyInstance = await buildHttpServer({
    handler,
    clock: () => now,
    newSessionId: () => `session-${++sessions}`,
    random: () => 0,
    tokens: tokenRegistry,
    tenants: tenantDirectory({ tokens: tokenRegistry, store }),
    reads: sessionReadsOf(store),
    readiness: async () => (typeof readiness === 'function' ? readiness() : readiness),
    metrics,
    logger,
  });
  await app.ready();

  let messages = 0;
  const request = (options: InjectOptions): Promise<LightMyRequestResponse> =>
    app.inject({
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      url: options.url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      ...(options.body === undefined ? {} : typeof options.body === 'string' ? { payload: options.body } : { payload: options.body as object }),
    });

  const service = {
    app,
    store,
    handler,
    metrics,
    logLines,
    request,
    /** The instant the service decides at. */
    now: () => now,
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
    setReadiness: (next: Readiness | (() => Promise<Readiness>)) => {
      readiness = next;
    },
    events: (tenantId = CONTOSO) => tenantEvents(store, tenantId),
    /** How many events the whole store holds. */
    storeSize: async () => Number((await store.headPosition())?.commit ?? -1n) + 1,
    /** A fresh signaling message of `type`, with its envelope filled in. */
    message: (type: string, fields: Record<string, unknown>, tenantId = CONTOSO): Record<string, unknown> => ({
      type,
      eventId: `evt-${++messages}`,
      occurredAt: iso(now),
      tenantId,
      ...fields,
    }),
    signal: (message: Record<string, unknown>, token: string = tokens.signaling, headers: Record<string, string> = {}) =>
      request({ method: 'POST', url: '/v1/signaling', token, body: message, headers }),
    park: (callId: string, parker: object = alice, extra: Record<string, unknown> = {}, tenantId = CONTOSO) =>
      service.signal(service.message('park.requested', { callId, parker, media: 'audio', ...extra }, tenantId), tenantId === CONTOSO ? tokens.signaling : tokens.fabrikamSignaling),
    retrieve: (orbit: string, retriever: object = bob, callId = `retriever-${messages + 1}`) =>
      service.signal(service.message('retrieve.requested', { callId, retriever, orbit })),
    /** Administration as the tenant's admin. */
    admin: (method: InjectOptions['method'], path: string, body?: unknown, tenantId = CONTOSO) =>
      request({ method, url: `/v1/tenants/${tenantId}${path}`, token: tenantId === CONTOSO ? tokens.admin : tokens.fabrikamAdmin, body }),
    /** Set-CsTeamsCallParkPolicy -Identity Global -AllowCallPark $true (and more). */
    allowPark: async (settings: Record<string, unknown> = {}, tenantId = CONTOSO) => {
      const response = await service.admin('PATCH', '/policies/Global', { allowCallPark: true, ...settings }, tenantId);
      if (response.statusCode !== 200) throw new Error(`allowPark: ${response.statusCode} ${response.body}`);
    },
    /** Send a command as the scheduler does: straight to the handler. */
    schedule: (command: CallParkCommand) => handler.handle(command),
  };
  return service;
};

export type Service = Awaited<ReturnType<typeof startService>>;

export const json = (response: LightMyRequestResponse): Record<string, unknown> => response.json() as Record<string, unknown>;
