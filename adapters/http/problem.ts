/**
 * Problem documents (RFC 9457, `application/problem+json`): every refusal and every error the API
 * answers. `type` identifies the kind of problem, `title` names it, `detail` says what happened in
 * a sentence for a person, and `reason` is the stable machine-readable code: a domain rejection's
 * reason, or one of `requestProblemReasons` (the last part of `type`). Decode errors add `errors`,
 * each naming the path of what is wrong (`$.parker.endpoint` in the body, `$path.tenantId`,
 * `$headers.idempotency-key`).
 */
import type { DecodeIssue } from '../../domain/codec/codec.js';
import type { RejectionReason } from '../../domain/rejection.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The reasons of problems that are not domain rejections: what is wrong with the request, or why the service cannot answer. */
export const requestProblemReasons = [
  'invalid-request',
  'malformed-json',
  'invalid-utf-8',
  'body-too-large',
  'body-length-mismatch',
  'unsupported-media-type',
  'malformed-url',
  'path-parameter-too-long',
  'header-too-large',
  'request-timeout',
  'bad-request',
  'unauthorized',
  'forbidden',
  'tenant-not-found',
  'session-not-found',
  'route-not-found',
  'idempotency-key-reused',
  'busy',
  'not-ready',
  'projection-behind',
  'internal-error',
] as const;
export type RequestProblemReason = (typeof requestProblemReasons)[number];

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly reason: RejectionReason | RequestProblemReason;
  readonly errors?: readonly DecodeIssue[];
  readonly [extension: string]: unknown;
}

/** Problem types are URNs: identifiers, not addresses to fetch. */
export const problemType = (slug: string): string => `urn:callpark:problem:${slug}`;

/** A problem to answer with, thrown from anywhere in a request and sent by the error handler. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly problem: Problem,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.detail);
  }
}

const make = (slug: RejectionReason | RequestProblemReason, title: string, status: number, detail: string, extensions: Record<string, unknown> = {}): Problem => ({
  type: problemType(slug),
  title,
  status,
  detail,
  reason: slug,
  ...extensions,
});

export const problems = {
  invalidRequest: (errors: readonly DecodeIssue[]): Problem =>
    make('invalid-request', 'The request is not valid', 400, `The request has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors }),
  malformedJson: (message: string): Problem =>
    make('malformed-json', 'The body is not JSON', 400, `The body could not be read as JSON: ${message}`, { errors: [{ path: '$', message }] }),
  invalidUtf8: (): Problem =>
    make('invalid-utf-8', 'The body is not UTF-8', 400, 'The body holds bytes that are not UTF-8; send JSON in UTF-8.', { errors: [{ path: '$', message: 'not valid UTF-8' }] }),
  bodyLengthMismatch: (): Problem =>
    make('body-length-mismatch', 'The body is not as long as it says', 400, 'The body did not have the length its Content-Length header gave.', { errors: [{ path: '$headers.content-length', message: 'does not match the body' }] }),
  malformedUrl: (): Problem => make('malformed-url', 'The URL is not valid', 400, 'The path holds a percent-encoding that is not valid UTF-8 (such as %FF); encode it as UTF-8.'),
  pathParameterTooLong: (limit: number): Problem =>
    make('path-parameter-too-long', 'A path parameter is too long', 414, `A part of the path is longer than ${limit} characters; no identifier is.`),
  headerTooLarge: (): Problem => make('header-too-large', 'The headers are too large', 431, 'The request headers are larger than the service accepts.'),
  requestTimeout: (): Problem => make('request-timeout', 'Request timeout', 408, 'The request did not arrive in time.'),
  badRequest: (status: number, title: string, detail: string): Problem => make('bad-request', title, status, detail),
  bodyTooLarge: (limit: number): Problem =>
    make('body-too-large', 'The body is too large', 413, `Bodies are limited to ${limit} bytes.`, { errors: [{ path: '$', message: `larger than ${limit} bytes` }] }),
  unsupportedMediaType: (contentType: string | undefined): Problem =>
    make('unsupported-media-type', 'Unsupported media type', 415, `Send the body as application/json${contentType ? `, not ${contentType}` : ''}.`, {
      errors: [{ path: '$headers.content-type', message: `expected application/json, got ${contentType ? JSON.stringify(contentType) : 'nothing'}` }],
    }),
  unauthorized: (detail: string): Problem => make('unauthorized', 'Unauthorized', 401, detail),
  forbidden: (detail: string): Problem => make('forbidden', 'Forbidden', 403, detail),
  tenantNotFound: (tenantId: string): Problem => make('tenant-not-found', 'No such tenant', 404, `There is no tenant ${JSON.stringify(tenantId)}.`, { errors: [{ path: '$path.tenantId', message: 'no such tenant' }] }),
  tenantInBodyNotFound: (tenantId: string): Problem =>
    make('tenant-not-found', 'No such tenant', 404, `There is no tenant ${JSON.stringify(tenantId)}.`, { errors: [{ path: '$.tenantId', message: 'no such tenant' }] }),
  sessionNotFound: (sessionId: string): Problem => make('session-not-found', 'No such park session', 404, `There is no park session ${JSON.stringify(sessionId)} in this tenant.`),
  routeNotFound: (method: string, url: string): Problem => make('route-not-found', 'No such route', 404, `Nothing answers ${method} ${url}; GET /openapi.json lists every route.`),
  idempotencyKeyReused: (commandId: string): Problem =>
    make(
      'idempotency-key-reused',
      'The idempotency key was used for another request',
      422,
      `The command id ${JSON.stringify(commandId)} (eventId or Idempotency-Key) was already used for a different request; send a new one.`,
    ),
  busy: (): Problem => make('busy', 'Busy', 503, 'Other writers kept changing this tenant; nothing was recorded for this request. Try again.'),
  notReady: (checks: unknown): Problem => make('not-ready', 'Not ready', 503, 'The service is not ready: `checks` names what does not work (a store that does not answer, a Kafka partition that cannot advance, a projection behind) and why.', { checks }),
  invalidPosition: (header: string): Problem =>
    make('invalid-request', 'Invalid request', 400, `The ${header} header is not a position this service answered with: it is one or two decimal numbers joined by a dot.`, {
      errors: [{ path: `$headers.${header}`, message: 'not a position' }],
    }),
  projectionBehind: (position: string, waitedMs: number): Problem =>
    make('projection-behind', 'The read side is behind', 503, `The read side has not reached position ${position} within ${waitedMs} ms; nothing is wrong with the request: try it again.`),
  internal: (): Problem => make('internal-error', 'Internal error', 500, 'Something went wrong on our side; it has been logged.'),
};

const titleOf = (reason: RejectionReason): string => {
  const words = reason.replace(/-/g, ' ');
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}`;
};

/** A domain rejection: its reason as the type, the status from the table, the sentence as detail. */
export const rejectionProblem = (reason: RejectionReason, status: number, message: string): Problem =>
  make(reason, titleOf(reason), status, message, { reason });
