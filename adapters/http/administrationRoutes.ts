/**
 * Administration, mirroring the cmdlets people already know: New-, Set-, Get-, Remove- and
 * Grant-CsTeamsCallParkPolicy, and the tenant's override of the endpoint matrix. Role `admin`,
 * for the tenant of the path. A command's id is the Idempotency-Key header, or a fresh one.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { decode, type DecodeIssue } from '../../domain/codec/codec.js';
import type { CallParkCommand } from '../../domain/commands.js';
import { Capabilities, Endpoint, defaultCapabilities, endpoints } from '../../domain/endpoint.js';
import { IncomingTenantId, UserId } from '../../domain/identifiers.js';
import { GLOBAL_POLICY, PolicyIdentity, PolicySettingsChange } from '../../domain/parkPolicy.js';
import { sentenceFor } from '../../domain/rejection.js';
import { policyBody } from './commandAnswer.js';
import type { HttpDependencies } from './dependencies.js';
import { ProblemError, rejectionProblem } from './problem.js';
import { Grant } from './requestBodies.js';
import { decodeBody, decodePath, idempotencyKeyOf, invalid } from './requestDecoding.js';
import type { DocumentedResponse, GuardedAccess, RouteDefinition } from './route.js';
import { sendCommand } from './sendCommand.js';

const access: GuardedAccess = { kind: 'tenant-in-path', roles: ['admin'] };
/** New-, Set-, Remove-, Grant- and the matrix override may set up a tenant the service does not know yet. */
const provisioning: GuardedAccess = { ...access, provisions: true };

/** New-CsTeamsCallParkPolicy's body: `identity` and the settings, side by side as the cmdlet's parameters. */
const newPolicyBody = (body: unknown): { identity: string; settings: PolicySettingsChange } => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid([{ path: '$', message: 'expected an object: { "identity": "Sales", …settings }' }]);
  const { identity, ...settings } = body as Record<string, unknown>;
  const issues: DecodeIssue[] = [];
  const decodedIdentity = decode(PolicyIdentity, identity);
  if (E.isLeft(decodedIdentity)) issues.push(...decodedIdentity.left.issues.map((issue) => ({ path: '$.identity', message: identity === undefined ? 'missing: the identity of the new policy' : issue.message })));
  const decodedSettings = decode(PolicySettingsChange, settings);
  if (E.isLeft(decodedSettings)) issues.push(...decodedSettings.left.issues);
  if (E.isLeft(decodedIdentity) || E.isLeft(decodedSettings)) throw invalid(issues);
  return { identity: decodedIdentity.right, settings: decodedSettings.right };
};

const policyNotFound = (policy: string): ProblemError => new ProblemError(rejectionProblem('policy-not-found', 404, sentenceFor('policy-not-found', { policy })));

const problem = (description: string): DocumentedResponse => ({ description, schema: 'Problem' });
const answered = (description: string): DocumentedResponse => ({ description, schema: 'CommandAnswer' });
const tenantNotFound = problem('The tenant does not exist.');
const policyMissing = problem('policy-not-found, or the tenant does not exist.');
const invalidSetting = problem('invalid-setting: a setting is outside its range (the detail says which).');

export const administrationRoutes = (dependencies: HttpDependencies): RouteDefinition[] => {
  const newCommandId = dependencies.newCommandId ?? randomUUID;

  /** Send an administration command built from the tenant, a command id and the instant. */
  const send =
    (build: (request: FastifyRequest, base: { commandId: string; at: number; tenantId: string }) => CallParkCommand) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const { tenantId } = decodePath(request, { tenantId: IncomingTenantId });
      const commandId = idempotencyKeyOf(request) ?? newCommandId();
      return sendCommand(dependencies, request, reply, build(request, { commandId, at: dependencies.clock(), tenantId }));
    };

  const routes: RouteDefinition[] = [
    {
      method: 'POST',
      url: '/v1/tenants/:tenantId/policies',
      access: provisioning,
      doc: {
        operationId: 'newPolicy',
        summary: 'New-CsTeamsCallParkPolicy: create a park policy.',
        tag: 'administration',
        body: { schema: 'NewPolicy', example: { identity: 'Sales', allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 199 } },
        idempotencyKey: 'command-id',
        responses: {
          201: { description: 'Created. Location names the policy.', schema: 'CommandAnswer', headers: { Location: 'The policy.' } },
          404: tenantNotFound,
          409: problem('policy-already-exists.'),
          422: invalidSetting,
        },
      },
      handle: send((request, base) => {
        const { identity, settings } = newPolicyBody(request.body);
        return { type: 'NewPolicy', ...base, policy: identity, settings };
      }),
    },
    {
      method: 'PATCH',
      url: '/v1/tenants/:tenantId/policies/:identity',
      access: provisioning,
      doc: {
        operationId: 'setPolicy',
        summary: 'Set-CsTeamsCallParkPolicy: change some settings of a policy; parks already made keep theirs (I5).',
        tag: 'administration',
        body: { schema: 'PolicySettingsChange', contentTypes: ['application/json', 'application/merge-patch+json'], example: { allowCallPark: true } },
        idempotencyKey: 'command-id',
        responses: { 200: answered('changed (with the names of the settings that changed), or no-op.'), 404: policyMissing, 422: invalidSetting },
      },
      handle: send((request, base) => ({
        type: 'SetPolicy',
        ...base,
        policy: decodePath(request, { identity: PolicyIdentity }).identity,
        settings: decodeBody(PolicySettingsChange, request.body),
      })),
    },
    {
      method: 'DELETE',
      url: '/v1/tenants/:tenantId/policies/:identity',
      access,
      doc: {
        operationId: 'removePolicy',
        summary: 'Remove-CsTeamsCallParkPolicy: remove a policy (Global goes back to its defaults); its users fall back to Global.',
        tag: 'administration',
        idempotencyKey: 'command-id',
        responses: { 200: answered('removed, or no-op.'), 404: policyMissing, 409: problem('policy-has-parked-calls.') },
      },
      handle: send((request, base) => ({ type: 'RemovePolicy', ...base, policy: decodePath(request, { identity: PolicyIdentity }).identity })),
    },
    {
      method: 'PUT',
      url: '/v1/tenants/:tenantId/grants/:userId',
      access: provisioning,
      doc: {
        operationId: 'grantPolicy',
        summary: 'Grant-CsTeamsCallParkPolicy: grant a user a policy; null (or Global) takes the grant away.',
        tag: 'administration',
        body: { schema: 'Grant', example: { policy: 'Sales' } },
        idempotencyKey: 'command-id',
        responses: { 200: answered('granted, or no-op.'), 404: policyMissing },
      },
      handle: send((request, base) => ({
        type: 'GrantPolicy',
        ...base,
        userId: decodePath(request, { userId: UserId }).userId,
        policy: decodeBody(Grant, request.body).policy,
      })),
    },
    {
      method: 'PUT',
      url: '/v1/tenants/:tenantId/endpoints/:endpoint',
      access: provisioning,
      doc: {
        operationId: 'setEndpointCapabilities',
        summary: "Override one row of the tenant's endpoint matrix.",
        tag: 'administration',
        body: { schema: 'Capabilities', example: { park: false, retrieve: true, ringBack: false } },
        idempotencyKey: 'command-id',
        responses: { 200: answered('overridden, or no-op.'), 404: tenantNotFound },
      },
      handle: send((request, base) => ({
        type: 'SetEndpointCapabilities',
        ...base,
        endpoint: decodePath(request, { endpoint: Endpoint }).endpoint,
        capabilities: decodeBody(Capabilities, request.body),
      })),
    },
    {
      method: 'DELETE',
      url: '/v1/tenants/:tenantId/endpoints/:endpoint',
      access,
      doc: {
        operationId: 'resetEndpointCapabilities',
        summary: 'Put one row of the endpoint matrix back to its default.',
        tag: 'administration',
        idempotencyKey: 'command-id',
        responses: { 200: answered('reset, or no-op.'), 404: tenantNotFound },
      },
      handle: send((request, base) => ({ type: 'ResetEndpointCapabilities', ...base, endpoint: decodePath(request, { endpoint: Endpoint }).endpoint })),
    },
    {
      method: 'GET',
      url: '/v1/tenants/:tenantId/policies',
      access,
      doc: {
        operationId: 'getPolicies',
        summary: "Get-CsTeamsCallParkPolicy: every policy of the tenant, Global first, with every setting.",
        tag: 'administration',
        responses: { 200: { description: 'The policies.', schema: 'PolicyList' }, 404: tenantNotFound },
      },
      handle: async (request) => {
        const { tenantId } = decodePath(request, { tenantId: IncomingTenantId });
        const policies = await dependencies.handler.query(tenantId, (state) =>
          [...state.policies.values()]
            .sort((a, b) => (a.policy === GLOBAL_POLICY ? -1 : b.policy === GLOBAL_POLICY ? 1 : a.policy.localeCompare(b.policy)))
            .map((lot) => policyBody(lot.policy, lot.settings)),
        );
        return { policies };
      },
    },
    {
      method: 'GET',
      url: '/v1/tenants/:tenantId/policies/:identity',
      access,
      doc: {
        operationId: 'getPolicy',
        summary: 'Get-CsTeamsCallParkPolicy -Identity: one policy with every setting.',
        tag: 'administration',
        responses: { 200: { description: 'The policy.', schema: 'Policy' }, 404: policyMissing },
      },
      handle: async (request) => {
        const { tenantId, identity } = decodePath(request, { tenantId: IncomingTenantId, identity: PolicyIdentity });
        const policy = await dependencies.handler.query(tenantId, (state) => {
          const lot = state.policies.get(identity);
          return lot === undefined ? undefined : policyBody(lot.policy, lot.settings);
        });
        if (policy === undefined) throw policyNotFound(identity);
        return policy;
      },
    },
    {
      method: 'GET',
      url: '/v1/tenants/:tenantId/endpoints',
      access,
      doc: {
        operationId: 'getEndpointMatrix',
        summary: "The tenant's effective endpoint matrix: who can park, retrieve and be rung back.",
        tag: 'administration',
        responses: { 200: { description: 'Every endpoint with its effective row.', schema: 'EndpointMatrix' }, 404: tenantNotFound },
      },
      handle: async (request) => {
        const { tenantId } = decodePath(request, { tenantId: IncomingTenantId });
        return dependencies.handler.query(tenantId, (state) => ({
          endpoints: endpoints.map((endpoint) => {
            const override = state.endpointOverrides.get(endpoint);
            return { endpoint, ...(override ?? defaultCapabilities[endpoint]), overridden: override !== undefined };
          }),
        }));
      },
    },
  ];
  return routes;
};
