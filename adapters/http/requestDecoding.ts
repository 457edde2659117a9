/**
 * Reading a request with the domain's io-ts codecs: the body, the path parameters and the
 * Idempotency-Key header. Whatever does not decode becomes a 400 problem naming the path of each
 * error (`$.parker.endpoint`, `$path.endpoint`, `$headers.idempotency-key`); nothing reaches the
 * handler.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts/lib/index.js';
import type { FastifyRequest } from 'fastify';
import { decode, type DecodeIssue } from '../../domain/codec/codec.js';
import { CommandId } from '../../domain/identifiers.js';
import { ProblemError, problems } from './problem.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export const invalid = (issues: readonly DecodeIssue[]): ProblemError => new ProblemError(problems.invalidRequest(issues));

/** Issues of a decode, each path moved under `prefix` (`$` → `$path.endpoint`). */
const under = (prefix: string, issues: readonly DecodeIssue[]): DecodeIssue[] => issues.map((issue) => ({ path: issue.path.replace(/^\$/, prefix), message: issue.message }));

/** Decode the body, or throw the 400 naming every error's path. */
export const decodeBody = <A>(codec: t.Type<A, unknown, unknown>, body: unknown): A => {
  const decoded = decode(codec, body);
  if (E.isLeft(decoded)) throw invalid(decoded.left.issues);
  return decoded.right;
};

/** Decode path parameters, each with its codec, or throw the 400 naming each (`$path.name`). */
export const decodePath = <C extends Record<string, t.Mixed>>(request: FastifyRequest, codecs: C): { [K in keyof C]: t.TypeOf<C[K]> } => {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const issues: DecodeIssue[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, codec] of Object.entries(codecs)) {
    const decoded = decode(codec, params[name]);
    if (E.isLeft(decoded)) issues.push(...under(`$path.${name}`, decoded.left.issues));
    else values[name] = decoded.right;
  }
  if (issues.length > 0) throw invalid(issues);
  return values as { [K in keyof C]: t.TypeOf<C[K]> };
};

/**
 * The Idempotency-Key header, if sent: its value with surrounding white space removed, and, when
 * written as a Structured Field string (`"abc"`, as draft-ietf-httpapi-idempotency-key-header
 * writes it), without the quotes. It must be a valid command id: 1 to 256 characters, no control
 * characters. Sent twice, it is an error.
 */
export const idempotencyKeyOf = (request: FastifyRequest): string | undefined => {
  const raw = request.headers[IDEMPOTENCY_KEY_HEADER];
  if (raw === undefined) return undefined;
  const path = `$headers.${IDEMPOTENCY_KEY_HEADER}`;
  if (Array.isArray(raw)) throw invalid([{ path, message: 'sent more than once' }]);
  const trimmed = raw.trim();
  const quoted = /^"((?:[^"\\]|\\[\\"])*)"$/.exec(trimmed);
  const key = quoted ? quoted[1]!.replace(/\\([\\"])/g, '$1') : trimmed;
  const decoded = decode(CommandId, key);
  if (E.isLeft(decoded)) throw invalid(under(path, decoded.left.issues));
  return decoded.right;
};
