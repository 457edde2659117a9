/**
 * Signaling over HTTP: the messages of the media tier's signaling topic (DOMAIN.md, "Signaling
 * from the media tier"), in the same shapes, through the same handler, answered synchronously.
 *
 * The command id. The message's `eventId` is the command id. An `Idempotency-Key` header may
 * give it instead: when the body has no `eventId`, the header's value is the `eventId`. When both
 * are sent they must be equal (else a 400 naming `$.eventId`); when neither is, the request is a
 * 400 naming `$.eventId`. A command id seen before answers the first answer again (same status
 * and body) with `Idempotent-Replayed: true`, and records nothing new.
 */
import type * as t from 'io-ts/lib/index.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import { decode, type DecodeIssue } from '../../domain/codec/codec.js';
import { SignalingMessage, signalingTypes, toCommand, type SignalingType } from '../../domain/signaling.js';
import { authorizeTenant, principalOf } from './access.js';
import type { HttpDependencies } from './dependencies.js';
import { decodeBody, idempotencyKeyOf, invalid } from './requestDecoding.js';
import type { DocumentedResponse, GuardedAccess, RouteDefinition } from './route.js';
import { sendCommand } from './sendCommand.js';
import type { SchemaName } from './openapiSchemas.js';

const access: GuardedAccess = { kind: 'tenant-in-body', roles: ['signaling', 'admin'] };

const codecs = new Map<string, t.Type<SignalingMessage, unknown, unknown>>(
  SignalingMessage.types.map((codec) => [codec.name, codec as unknown as t.Type<SignalingMessage, unknown, unknown>]),
);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The message a request carries: the body, with `type` given by the route when it has one, and
 * `eventId` by the Idempotency-Key header when the body has none; decoded by its type's codec.
 */
export const signalingMessageOf = (request: FastifyRequest, routeType: SignalingType | undefined): SignalingMessage => {
  const key = idempotencyKeyOf(request);
  const body: unknown = request.body;
  if (!isObject(body)) throw invalid([{ path: '$', message: `expected a signaling message (a JSON object), got ${body === undefined ? 'no body' : body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}` }]);

  const issues: DecodeIssue[] = [];
  const type = body.type ?? routeType;
  if (routeType !== undefined && type !== routeType) {
    issues.push({ path: '$.type', message: `this route takes ${routeType} messages, got ${JSON.stringify(type)}; POST /v1/signaling takes any type` });
  } else if (typeof type !== 'string' || !codecs.has(type)) {
    issues.push({ path: '$.type', message: `expected one of ${signalingTypes.join(', ')}, got ${type === undefined ? 'nothing' : JSON.stringify(type)}` });
  }
  if (body.eventId === undefined && key === undefined) {
    issues.push({ path: '$.eventId', message: 'missing: give the message its eventId, or send an Idempotency-Key header' });
  } else if (body.eventId !== undefined && key !== undefined && body.eventId !== key) {
    issues.push({ path: '$.eventId', message: `differs from the Idempotency-Key header (${JSON.stringify(key)}); send one of them, or both the same` });
  }
  if (issues.length > 0) {
    // Report what else is wrong too, when the type is known: the event id's problem is named
    // already, so any id stands in for it while the rest of the message is checked.
    const codec = typeof type === 'string' ? codecs.get(type) : undefined;
    const rest = codec ? decode(codec, { ...body, type, eventId: body.eventId ?? key ?? 'event-id-checked-above' }) : undefined;
    if (rest && E.isLeft(rest)) issues.push(...rest.left.issues.filter((issue) => !issues.some((known) => known.path === issue.path)));
    throw invalid(issues);
  }
  return decodeBody(codecs.get(type as string)!, { ...body, type, eventId: body.eventId ?? key });
};

const respond = (dependencies: HttpDependencies, routeType: SignalingType | undefined) => async (request: FastifyRequest, reply: FastifyReply) => {
  const message = signalingMessageOf(request, routeType);
  await authorizeTenant(dependencies, principalOf(request), access, message.tenantId, 'body');
  const command = toCommand(message, { at: dependencies.clock(), sessionId: dependencies.newSessionId(), random: dependencies.random() });
  return sendCommand(dependencies, request, reply, command);
};

const problem = (description: string): DocumentedResponse => ({ description, schema: 'Problem' });

const rejections = {
  403: problem('Refused: call-park-not-allowed, endpoint-cannot-park, endpoint-cannot-retrieve, federated-user, directed-park-not-allowed, orbit-outside-your-policy; or the token may not do this in the tenant.'),
  404: problem('no-call-on-orbit, or the tenant does not exist.'),
  409: problem('call-already-parked, orbit-occupied, call-not-parked, no-ring-back-in-progress.'),
  422: problem('media-not-parkable, invalid-orbit-code; or the eventId was already used for a different request.'),
  503: { description: 'no-free-orbit: every orbit holds a call; try again after Retry-After with a new eventId (the same one replays this answer).', schema: 'Problem', headers: { 'Retry-After': 'Seconds to wait.' } } as DocumentedResponse,
};

const T0 = '2026-11-22T09:30:00.000Z';
const examples: Record<SignalingType, Record<string, unknown>> = {
  'park.requested': { type: 'park.requested', eventId: 'evt-1001', occurredAt: T0, tenantId: 'contoso', callId: 'a84b4c76e66710', parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' }, media: 'audio' },
  'retrieve.requested': { type: 'retrieve.requested', eventId: 'evt-1002', occurredAt: T0, tenantId: 'contoso', callId: 'b93c5d87f77821', retriever: { userId: 'bob@contoso.com', endpoint: 'teams-ip-phone' }, orbit: '10' },
  'call.ended': { type: 'call.ended', eventId: 'evt-1003', occurredAt: T0, tenantId: 'contoso', callId: 'a84b4c76e66710', sipMethod: 'BYE' },
  'ringback.answered': { type: 'ringback.answered', eventId: 'evt-1004', occurredAt: T0, tenantId: 'contoso', callId: 'a84b4c76e66710' },
  'ringback.failed': { type: 'ringback.failed', eventId: 'evt-1005', occurredAt: T0, tenantId: 'contoso', callId: 'a84b4c76e66710', sipStatus: 486 },
};

interface PerType {
  readonly type: SignalingType;
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly schema: SchemaName;
  readonly ok: Readonly<Record<number, DocumentedResponse>>;
}

const perType: readonly PerType[] = [
  {
    type: 'park.requested',
    path: '/v1/calls/park',
    operationId: 'parkCall',
    summary: 'Park a call (REFER to the park service): answers the orbit, the session and when the ring back is due.',
    schema: 'ParkRequested',
    ok: { 201: { description: 'Parked. Location names the park session.', schema: 'ParkAnswer', headers: { Location: 'The park session.' } } },
  },
  {
    type: 'retrieve.requested',
    path: '/v1/calls/retrieve',
    operationId: 'retrieveCall',
    summary: 'Retrieve the call parked on an orbit (INVITE to the orbit): answers who got the call.',
    schema: 'RetrieveRequested',
    ok: { 200: { description: 'Retrieved.', schema: 'RetrieveAnswer' } },
  },
  {
    type: 'ringback.answered',
    path: '/v1/calls/ringback-answered',
    operationId: 'ringBackAnswered',
    summary: "The parker answered the ring back (200 OK from the parker's endpoint).",
    schema: 'RingBackAnswered',
    ok: { 200: { description: 'Retrieved via ring back.', schema: 'RetrieveAnswer' } },
  },
  {
    type: 'ringback.failed',
    path: '/v1/calls/ringback-failed',
    operationId: 'ringBackFailed',
    summary: 'The ring back went unanswered (486, 480, 408 or 603): parked again, or sent to its fallback after the last attempt.',
    schema: 'RingBackFailed',
    ok: { 200: { description: 'ring-back-unanswered (parked again) or expired (sent to the fallback).', schema: 'CommandAnswer' } },
  },
  {
    type: 'call.ended',
    path: '/v1/calls/ended',
    operationId: 'callEnded',
    summary: 'The waiting party hung up (BYE or CANCEL).',
    schema: 'CallEnded',
    ok: { 200: { description: 'Abandoned.', schema: 'CommandAnswer' } },
  },
];

export const signalingRoutes = (dependencies: HttpDependencies): RouteDefinition[] => [
  {
    method: 'POST',
    url: '/v1/signaling',
    access,
    doc: {
      operationId: 'signal',
      summary: 'Any signaling message of the media tier, as on the signaling topic.',
      description: 'Roles: signaling or admin, for the tenant of the message.',
      tag: 'signaling',
      body: { schema: 'SignalingMessage', example: examples['park.requested'] },
      idempotencyKey: 'instead-of-event-id',
      responses: {
        200: { description: 'What the message did (retrieved, abandoned, ring-back-unanswered, expired, no-op).', schema: 'CommandAnswer' },
        201: { description: 'Parked. Location names the park session.', schema: 'ParkAnswer', headers: { Location: 'The park session.' } },
        ...rejections,
      },
    },
    handle: respond(dependencies, undefined),
  },
  ...perType.map(
    (route): RouteDefinition => ({
      method: 'POST',
      url: route.path,
      access,
      doc: {
        operationId: route.operationId,
        summary: route.summary,
        description: `Roles: signaling or admin, for the tenant of the message. The body is a ${route.type} message; its "type" may be left out.`,
        tag: 'signaling',
        body: { schema: route.schema, example: examples[route.type] },
        idempotencyKey: 'instead-of-event-id',
        responses: { ...route.ok, ...rejections },
      },
      handle: respond(dependencies, route.type),
    }),
  ),
];
