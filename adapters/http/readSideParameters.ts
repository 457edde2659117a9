/**
 * The query strings of the read side's routes, as io-ts codecs: what a search may filter on, the
 * page size and cursor, the instant of a time travel. An unknown parameter, one given twice or a
 * value that does not decode is a 400 naming it (`$query.limit`); nothing reaches the handler.
 * `access_token` is accepted by the occupancy stream only (EventSource cannot send headers).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import type { FastifyRequest } from 'fastify';
import { Instant, closed, decode, oneOf, text, withShape, type DecodeIssue } from '../../domain/codec/codec.js';
import { CallId, UserId } from '../../domain/identifiers.js';
import { PolicyIdentity } from '../../domain/parkPolicy.js';
import { rejectionReasons } from '../../domain/rejection.js';
import { sessionOutcomes } from '../../projections/auditHistory.js';
import { MAX_PAGE_SIZE } from '../../projections/auditQueries.js';
import { invalid } from './requestDecoding.js';
import type { JsonSchema } from './codecSchema.js';

/** A whole number written in a query string, in a range. */
const wholeNumberText = (name: string, min: number, max: number): t.Type<number, string, unknown> =>
  withShape(
    new t.Type<number, string, unknown>(
      name,
      (u): u is number => Number.isInteger(u) && (u as number) >= min && (u as number) <= max,
      (u, context) => {
        const value = typeof u === 'string' && /^\d{1,9}$/.test(u) ? Number(u) : Number.NaN;
        return value >= min && value <= max ? t.success(value) : t.failure(u, context, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(u)}`);
      },
      String,
    ),
    { kind: 'integer', minimum: min, maximum: max },
  );

const OrbitCode = text('OrbitCode', 16);
const Cursor = text('Cursor', 512);
const Outcome = oneOf('SessionOutcome', sessionOutcomes);
const Reason = oneOf('RejectionReason', rejectionReasons);
const RefusalType = oneOf('RefusalType', ['ParkRejected', 'RetrievalRejected']);
const Limit = wholeNumberText('Limit', 1, MAX_PAGE_SIZE);
const AccessToken = text('AccessToken', 1024);

const sessionFilters = { user: UserId, orbit: OrbitCode, call: CallId, policy: PolicyIdentity, outcome: Outcome, from: Instant, to: Instant };

export const SessionQuery = closed('SessionQuery', {}, { ...sessionFilters, limit: Limit, cursor: Cursor });
export const SessionExportQuery = closed('SessionExportQuery', {}, sessionFilters);
export const RefusalQuery = closed('RefusalQuery', {}, { user: UserId, orbit: OrbitCode, call: CallId, reason: Reason, type: RefusalType, from: Instant, to: Instant, limit: Limit, cursor: Cursor });
export const TimeTravelQuery = closed('TimeTravelQuery', { instant: Instant });
export const StreamQuery = closed('StreamQuery', {}, { access_token: AccessToken });
/** The presence stream: one policy, or a list of orbits (codes or numbers, separated by commas), or both. */
export const PresenceQuery = closed('PresenceQuery', {}, { access_token: AccessToken, policy: PolicyIdentity, orbits: text('OrbitList', 8_000) });
export const NoQuery = closed('NoQuery', {});

/** Decode the query string, or throw the 400 naming each wrong parameter (`$query.name`). */
export const decodeQuery = <A>(request: FastifyRequest, codec: t.Type<A, unknown, unknown>): A => {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const repeated: DecodeIssue[] = Object.entries(query)
    .filter(([, value]) => Array.isArray(value))
    .map(([name]) => ({ path: `$query.${name}`, message: 'given more than once' }));
  if (repeated.length > 0) throw invalid(repeated);
  const decoded = decode(codec, query);
  if (E.isLeft(decoded)) throw invalid(decoded.left.issues.map((issue) => ({ path: issue.path.replace(/^\$/, '$query'), message: issue.message })));
  return decoded.right;
};

/**
 * What the OpenAPI document says of each query parameter besides its schema, which is made from the
 * codecs above (codecSchema.ts), by name.
 */
export const queryParameterDocs: Readonly<Record<string, { readonly description: string; readonly schema?: JsonSchema }>> = {
  user: { description: 'Sessions the user parked or retrieved (refusals: the user refused).' },
  orbit: { description: 'An orbit code as dialed (42, *3012); for sessions the prefix may be left off.' },
  call: { description: "The call's SIP Call-ID (refusals: the call refused, or the retriever's own call)." },
  policy: { description: 'Sessions of this park policy (presence stream: the orbits of this policy only).' },
  orbits: { description: 'Presence stream: only these orbits, as codes or numbers separated by commas (10,11,*3012), at most 500.' },
  outcome: { description: 'How the session ended, or active.' },
  reason: { description: 'The stable reason code of the refusal.' },
  type: { description: 'Refused parks or refused retrievals.' },
  from: { description: 'Sessions parked (refusals made) at or after this instant, ISO-8601 with offset.' },
  to: { description: 'Sessions parked (refusals made) before this instant.' },
  limit: { description: 'Page size.', schema: { default: 50 } },
  cursor: { description: 'The nextCursor of the previous page.' },
  instant: { description: 'The past instant, ISO-8601 with offset.' },
  access_token: {
    description: 'The bearer token, for clients that cannot send an Authorization header (EventSource). Accepted on the stream routes only; prefer the header where you can.',
  },
};
