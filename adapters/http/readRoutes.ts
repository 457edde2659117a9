/**
 * Reads: one park session with its timeline (the audit; supervisor or admin), and the live
 * occupancy of a policy (supervisor, reporting or admin). Instants are ISO-8601 on the wire.
 */
import { Instant } from '../../domain/codec/codec.js';
import { SessionId, IncomingTenantId } from '../../domain/identifiers.js';
import { occupancyOf, type OrbitOccupancy, type PolicyOccupancy } from '../../domain/occupancy.js';
import { PolicyIdentity } from '../../domain/parkPolicy.js';
import { sentenceFor } from '../../domain/rejection.js';
import type { SessionView } from '../../domain/sessionTimeline.js';
import type { HttpDependencies } from './dependencies.js';
import { ProblemError, problems, rejectionProblem } from './problem.js';
import { decodePath } from './requestDecoding.js';
import type { RouteDefinition } from './route.js';

const iso = (millis: number | undefined): string | undefined => (millis === undefined ? undefined : Instant.encode(millis));

/** Drop the members that are undefined, so they are absent rather than null. */
const defined = (value: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));

export const sessionBody = (view: SessionView): Record<string, unknown> =>
  defined({
    ...view,
    parkedAt: iso(view.parkedAt),
    dueAt: iso(view.dueAt),
    endedAt: iso(view.endedAt),
    timeline: view.timeline.map((entry) => ({ type: entry.type, at: iso(entry.at), details: entry.details })),
  });

const orbitBody = (orbit: OrbitOccupancy): Record<string, unknown> =>
  defined({ ...orbit, parkedAt: iso(orbit.parkedAt), ringBackDueAt: iso(orbit.ringBackDueAt), unansweredAt: iso(orbit.unansweredAt), freedAt: iso(orbit.freedAt) });

export const occupancyBody = (occupancy: PolicyOccupancy): Record<string, unknown> => ({ ...occupancy, orbits: occupancy.orbits.map(orbitBody) });

export const readRoutes = (dependencies: HttpDependencies): RouteDefinition[] => [
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/sessions/:sessionId',
    access: { kind: 'tenant-in-path', roles: ['supervisor', 'admin'] },
    doc: {
      operationId: 'getSession',
      summary: 'One park session: its facts and its timeline, every event in order with its type, instant and details.',
      tag: 'reads',
      responses: { 200: { description: 'The session.', schema: 'SessionView' }, 404: { description: 'No such session, or no such tenant.', schema: 'Problem' } },
    },
    handle: async (request) => {
      const { tenantId, sessionId } = decodePath(request, { tenantId: IncomingTenantId, sessionId: SessionId });
      const view = await dependencies.reads.session(tenantId, sessionId);
      // A reader that answered about another tenant answers nothing here.
      if (view === undefined || view.tenantId !== tenantId) throw new ProblemError(problems.sessionNotFound(sessionId));
      return sessionBody(view);
    },
  },
  {
    method: 'GET',
    url: '/v1/tenants/:tenantId/policies/:identity/occupancy',
    access: { kind: 'tenant-in-path', roles: ['supervisor', 'reporting', 'admin'] },
    doc: {
      operationId: 'getOccupancy',
      summary: 'The live occupancy of a policy: every orbit of its range, free or holding which call, since when, parked by whom, when it rings back, which attempt; free and total counts.',
      tag: 'reads',
      responses: { 200: { description: 'The occupancy.', schema: 'Occupancy' }, 404: { description: 'policy-not-found, or no such tenant.', schema: 'Problem' } },
    },
    handle: async (request) => {
      const { tenantId, identity } = decodePath(request, { tenantId: IncomingTenantId, identity: PolicyIdentity });
      const occupancy = await dependencies.handler.query(tenantId, (state) => occupancyOf(state, identity));
      if (occupancy === undefined) throw new ProblemError(rejectionProblem('policy-not-found', 404, sentenceFor('policy-not-found', { policy: identity })));
      return occupancyBody(occupancy);
    },
  },
];
