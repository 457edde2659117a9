/**
 * Problem documents (RFC 9457, `application/problem+json`): every refusal and every error the API
 * answers. `type` identifies the kind of problem, `title` names it, `detail` says what happened in
 * a sentence for a person. Decode errors add `errors`, each naming the path of what is wrong
 * (`$.parker.endpoint` in the body, `$path.tenantId`, `$headers.idempotency-key`); domain
 * rejections add `reason`, the stable machine-readable code.
 */
import type { DecodeIssue } from '../../domain/codec.js';
import type { RejectionReason } from '../../domain/rejection.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly reason?: RejectionReason;
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

const make = (slug: string, title: string, status: number, detail: string, extensions: Record<string, unknown> = {}): Problem => ({
  type: problemType(slug),
  title,
  status,
  detail,
  ...extensions,
});

export const problems = {
  invalidRequest: (errors: readonly DecodeIssue[]): Problem =>
    make('invalid-request', 'The request is not valid', 400, `The request has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors }),
  malformedJson: (message: string): Problem =>
    make('malformed-json', 'The body is not JSON', 400, `The body could not be read as JSON: ${message}`, { errors: [{ path: '$', message }] }),
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
  internal: (): Problem => make('internal-error', 'Internal error', 500, 'Something went wrong on our side; it has been logged.'),
};

const titleOf = (reason: RejectionReason): string => {
  const words = reason.replace(/-/g, ' ');
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}`;
};

/** A domain rejection: its reason as the type, the status from the table, the sentence as detail. */
export const rejectionProblem = (reason: RejectionReason, status: number, message: string): Problem =>
  make(reason, titleOf(reason), status, message, { reason });
