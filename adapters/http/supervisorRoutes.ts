/**
 * A supervisor's actions on a parked call (DOMAIN.md, "Supervisors' actions"): send it to its
 * fallback now, ring the parker now. Roles `supervisor` or `admin`, for the tenant of the path.
 * The body names the supervisor, who is recorded on the event; a command's id is the
 * Idempotency-Key header, or a fresh one. A call that has moved on is a 409 `call-not-parked`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { IncomingTenantId, SessionId } from '../../domain/identifiers.js';
import type { HttpDependencies } from './dependencies.js';
import { SupervisorAction } from './requestBodies.js';
import { decodeBody, decodePath, idempotencyKeyOf } from './requestDecoding.js';
import type { DocumentedResponse, GuardedAccess, RouteDefinition } from './route.js';
import { sendCommand } from './sendCommand.js';

const access: GuardedAccess = { kind: 'tenant-in-path', roles: ['supervisor', 'admin'] };

const problem = (description: string): DocumentedResponse => ({ description, schema: 'Problem' });

export const supervisorRoutes = (dependencies: HttpDependencies): RouteDefinition[] => {
  const newCommandId = dependencies.newCommandId ?? randomUUID;
  const send =
    (type: 'SendToFallbackNow' | 'RingParkerNow') =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const { tenantId, sessionId } = decodePath(request, { tenantId: IncomingTenantId, sessionId: SessionId });
      const { supervisor } = decodeBody(SupervisorAction, request.body);
      const commandId = idempotencyKeyOf(request) ?? newCommandId();
      return sendCommand(dependencies, request, reply, { type, commandId, at: dependencies.clock(), tenantId, sessionId, supervisor });
    };
  const example = { supervisor: 'sam@contoso.com' };
  return [
    {
      method: 'POST',
      url: '/v1/tenants/:tenantId/sessions/:sessionId/send-to-fallback',
      access,
      doc: {
        operationId: 'sendToFallbackNow',
        summary: 'A supervisor sends a parked call to its fallback now: the session ends as expired, cause sent-by-supervisor, with who sent it.',
        description: 'Roles: supervisor or admin, for the tenant of the path.',
        tag: 'supervisor',
        body: { schema: 'SupervisorAction', example },
        idempotencyKey: 'command-id',
        responses: {
          200: { description: 'expired (sent to the fallback).', schema: 'CommandAnswer' },
          404: problem('The tenant does not exist.'),
          409: problem('call-not-parked: the call was already retrieved, sent on or hung up.'),
        },
      },
      handle: send('SendToFallbackNow'),
    },
    {
      method: 'POST',
      url: '/v1/tenants/:tenantId/sessions/:sessionId/ring-parker',
      access,
      doc: {
        operationId: 'ringParkerNow',
        summary: 'A supervisor rings the parker now: the next ring-back attempt starts at once, whatever is left of the wait.',
        description: 'Roles: supervisor or admin, for the tenant of the path.',
        tag: 'supervisor',
        body: { schema: 'SupervisorAction', example },
        idempotencyKey: 'command-id',
        responses: {
          200: { description: 'ringing-back, with the attempt and when it goes unanswered.', schema: 'CommandAnswer' },
          404: problem('The tenant does not exist.'),
          409: problem("call-not-parked, ring-back-in-progress, or endpoint-cannot-ring-back (the parker's endpoint cannot be rung)."),
        },
      },
      handle: send('RingParkerNow'),
    },
  ];
};
