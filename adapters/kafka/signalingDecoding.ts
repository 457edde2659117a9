/**
 * Reading a signaling record: bytes to a SignalingMessage, or the reason it cannot be one. What
 * cannot be read goes to the dead-letter topic and never reaches the domain; the reasons are:
 * - `empty`: no value at all (a tombstone or an empty record);
 * - `invalid-json`: not UTF-8, or not JSON;
 * - `unknown-type`: JSON whose `type` is none of the signaling types;
 * - `invalid-message`: a known type whose fields do not fit it (each wrong field by its path);
 * - `unreadable-batch`: a record of a compressed batch that cannot be decompressed (a stand-in,
 *   unreadableBatch.ts; the first of the batch carries its compressed bytes).
 */
import { isUtf8 } from 'node:buffer';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts/lib/index.js';
import { decode, type DecodeIssue } from '../../domain/codec/codec.js';
import { SignalingMessage, signalingTypes } from '../../domain/signaling.js';

/** Why a record went to the dead-letter topic: it cannot be read (`unreadable-batch`: its batch could not be decompressed), or (`unrecordable`) the store can never take its command. */
export type UndecodableReason = 'empty' | 'invalid-json' | 'unknown-type' | 'invalid-message' | 'unreadable-batch' | 'unrecordable';

export interface Undecodable {
  readonly reason: UndecodableReason;
  readonly issues: readonly DecodeIssue[];
}

const codecs = new Map<string, t.Type<SignalingMessage, unknown, unknown>>(
  SignalingMessage.types.map((codec) => [codec.name, codec as unknown as t.Type<SignalingMessage, unknown, unknown>]),
);

const undecodable = (reason: UndecodableReason, path: string, message: string): E.Either<Undecodable, never> => E.left({ reason, issues: [{ path, message }] });

export const decodeSignaling = (value: Buffer | null): E.Either<Undecodable, SignalingMessage> => {
  if (value === null || value.length === 0) return undecodable('empty', '$', 'the record has no value (a tombstone or an empty record)');
  // Checked first (natively, without copying), since toString would replace bad bytes silently.
  if (!isUtf8(value)) return undecodable('invalid-json', '$', 'the value is not UTF-8 text');
  let json: unknown;
  try {
    const text = value.toString('utf8');
    // A leading byte order mark is not part of the JSON (TextDecoder dropped it too).
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    return undecodable('invalid-json', '$', `the value is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return undecodable('invalid-message', '$', `expected a signaling message (a JSON object), got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`}`);
  }
  const type = (json as Record<string, unknown>).type;
  const codec = typeof type === 'string' ? codecs.get(type) : undefined;
  if (codec === undefined) {
    return undecodable('unknown-type', '$.type', `expected one of ${signalingTypes.join(', ')}, got ${type === undefined ? 'nothing' : JSON.stringify(type)}`);
  }
  return E.mapLeft((error: { issues: readonly DecodeIssue[] }): Undecodable => ({ reason: 'invalid-message', issues: error.issues }))(decode(codec, json));
};
