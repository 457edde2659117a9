/**
 * The read side's routes as data: method, path, who may use them, their query parameters and
 * what they answer. The plugin (readSideRoutes.ts) registers them and the OpenAPI fragment
 * (readSideOpenApi.ts) is generated from the same list, so neither can drift from the other.
 */
import type * as t from 'io-ts/lib/index.js';
import type { Access } from './auth.js';
import { NoQuery, PresenceQuery, RefusalQuery, SessionExportQuery, SessionQuery, StreamQuery, TimeTravelQuery } from './readSideParameters.js';
import type { Method, OperationDoc, RouteAccess } from './route.js';

export type ReadSideOperationId =
  | 'getTenantOccupancy'
  | 'streamTenantOccupancy'
  | 'searchSessions'
  | 'exportSessions'
  | 'searchRefusals'
  | 'getOccupancyAt'
  | 'getOrbitPresence'
  | 'streamOrbitPresence'
  | 'supervisorPage'
  | 'supervisorAsset';

export interface ReadSideOperation {
  readonly method: Method;
  readonly url: string;
  /** How the access hook guards it; the stream is `open` to the hook and checks the token itself. */
  readonly access: RouteAccess;
  /** Who may use it, as documented (the stream's own check uses this too). */
  readonly documentedAccess: RouteAccess;
  readonly doc: OperationDoc & { readonly operationId: ReadSideOperationId };
  /** Its query string's codec (readSideParameters.ts): the document's parameters are made from it. */
  readonly query: t.Mixed;
  /** What a 200 holds: a schema of the fragment, or another content type. */
  readonly answer: { readonly schema: string } | { readonly contentType: string; readonly description: string };
}

export const readerRoles: Access = { roles: ['supervisor', 'reporting', 'admin'] };
const readers: RouteAccess = { kind: 'tenant-in-path', roles: readerRoles.roles };
const open: RouteAccess = { kind: 'open' };
const notFound = { 404: { description: 'No such tenant (or policy).', schema: 'Problem' as const } };

export const readSideOperations: readonly ReadSideOperation[] = [
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/occupancy',
    access: readers,
    documentedAccess: readers,
    query: NoQuery,
    answer: { schema: 'TenantOccupancy' },
    doc: {
      operationId: 'getTenantOccupancy',
      summary: "Every policy's live occupancy, from the occupancy projection: which orbit holds which call, since when, parked by whom, when it rings back, which attempt; free and total counts.",
      tag: 'reads',
      responses: { 200: { description: 'The occupancy of each policy, in policy-name order.' }, ...notFound },
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/occupancy/stream',
    access: open,
    documentedAccess: readers,
    query: StreamQuery,
    answer: {
      contentType: 'text/event-stream',
      description:
        'Server-Sent Events: `snapshot` (data: {tenantId, policies: [Occupancy]}, each policy listing in orbits only those that hold a call, and in freed: [[orbit, freedAt], …] the free ones that were freed; every other orbit from rangeStart to rangeEnd is free) on connect and after a policy changes, then `change` for each change (data: {kind: parked | ringing-back | ring-back-unanswered | freed, tenantId, policy, orbit, …}, id: the log position), and a comment line as heartbeat.',
    },
    doc: {
      operationId: 'streamTenantOccupancy',
      summary: 'The live occupancy board, pushed as Server-Sent Events: a snapshot, then every change within moments of its event being stored.',
      description:
        'EventSource cannot send headers: this route also takes the bearer token as ?access_token= (RFC 6750 §2.3), and is the only one that does. A client that falls behind is disconnected and reconnects to a fresh snapshot.',
      tag: 'reads',
      responses: { 200: { description: 'The stream.' }, ...notFound },
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/audit/sessions',
    access: readers,
    documentedAccess: readers,
    query: SessionQuery,
    answer: { schema: 'SessionPage' },
    doc: {
      operationId: 'searchSessions',
      summary: 'Search the audit history of park sessions: by user (as parker or retriever), orbit, call, policy, outcome and time range; newest first, a page at a time.',
      tag: 'audit',
      responses: { 200: { description: 'A page of sessions; nextCursor fetches the next.' }, ...notFound },
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/audit/sessions.csv',
    access: readers,
    documentedAccess: readers,
    query: SessionExportQuery,
    answer: {
      contentType: 'text/csv',
      description:
        'RFC 4180 CSV with a header line: tenant_id, session_id, call_id, policy, orbit_code, caller, parker_user_id, parker_endpoint, retriever_user_id, retriever_endpoint, outcome, parked_at, ended_at, time_to_retrieve_ms, ring_back_attempts, fallback.',
    },
    doc: {
      operationId: 'exportSessions',
      summary: 'Every session the search finds, as CSV, newest first.',
      tag: 'audit',
      responses: { 200: { description: 'The export.' }, ...notFound },
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/audit/refusals',
    access: readers,
    documentedAccess: readers,
    query: RefusalQuery,
    answer: { schema: 'RefusalPage' },
    doc: {
      operationId: 'searchRefusals',
      summary: 'Refused parks and retrievals, with the stable reason and the sentence the person was told; newest first, a page at a time.',
      tag: 'audit',
      responses: { 200: { description: 'A page of refusals; nextCursor fetches the next.' }, ...notFound },
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/policies/:identity/occupancy/at',
    access: readers,
    documentedAccess: readers,
    query: TimeTravelQuery,
    answer: { schema: 'OccupancyAt' },
    doc: {
      operationId: 'getOccupancyAt',
      summary: "A policy's occupancy as it stood at a past instant, rebuilt from the tenant's events up to that instant.",
      tag: 'audit',
      responses: { 200: { description: 'The occupancy then.' }, 404: { description: 'policy-not-found (then), or no such tenant.', schema: 'Problem' } },
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/policies/:identity/orbits/:orbit/presence',
    access: readers,
    documentedAccess: readers,
    query: NoQuery,
    answer: { contentType: 'application/json', description: 'busy (sessionId, callId, parker, since, ringingBack, attempt) or free (freedAt when it was freed).' },
    doc: {
      operationId: 'getOrbitPresence',
      summary: "One orbit's presence, as a busy lamp shows it: busy with the call waiting on it, or free.",
      tag: 'presence',
      responses: { 200: { description: 'The orbit state.' }, 400: { description: 'Not an orbit code.', schema: 'Problem' }, ...notFound },
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/presence/stream',
    access: open,
    documentedAccess: readers,
    query: PresenceQuery,
    answer: {
      contentType: 'text/event-stream',
      description:
        'Server-Sent Events: `snapshot` (data: {tenantId, busy: [orbit state]}; every other orbit is free) on connect and after a policy changes, then `orbit` (data: the orbit state after the change: busy or free; id: the log position), and a comment line as heartbeat.',
    },
    doc: {
      operationId: 'streamOrbitPresence',
      summary: "One tenant's orbit changes for busy lamps, filtered by ?policy= or ?orbits=10,11,*3012, as Server-Sent Events.",
      description: 'Takes the bearer token as ?access_token= too, as the occupancy stream does.',
      tag: 'presence',
      responses: { 200: { description: 'The stream.' }, 400: { description: 'A wrong policy or orbit list.', schema: 'Problem' }, ...notFound },
    },
  },
  {
    method: 'GET',
    url: '/supervisor',
    access: open,
    documentedAccess: open,
    query: NoQuery,
    answer: { contentType: 'text/html', description: 'The page.' },
    doc: {
      operationId: 'supervisorPage',
      summary: "The supervisors' page: the live occupancy board, the audit search with each session's timeline, and the CSV export. It asks for a token.",
      tag: 'supervisors',
      responses: { 200: { description: 'The page.' } },
    },
  },
  {
    method: 'GET',
    url: '/supervisor/:asset',
    access: open,
    documentedAccess: open,
    query: NoQuery,
    answer: { contentType: 'text/javascript', description: 'board.js (or style.css, or index.html).' },
    doc: {
      operationId: 'supervisorAsset',
      summary: "The supervisors' page's script and style sheet.",
      tag: 'supervisors',
      responses: { 200: { description: 'The file.' }, 404: { description: 'No such file.', schema: 'Problem' } },
    },
  },
];
