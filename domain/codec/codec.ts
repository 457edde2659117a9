/**
 * io-ts at every edge: the few combinators the codecs of this service share, and errors that
 * name the path of what is wrong in words a caller can act on.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { decodesToItself, quickObject, quickOf, quickPathOff, REFUSED, withQuick } from './quickDecode.js';

/**
 * What a codec of this module accepts, as data, for describing it to people and generators
 * (adapters/http/codecSchema.ts makes JSON Schema of it): the codecs are the one source of the
 * API's shapes.
 */
export type Shape =
  | { readonly kind: 'object'; readonly required: t.Props; readonly optional: t.Props }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'text'; readonly maxLength: number; readonly pattern?: string }
  | { readonly kind: 'integer'; readonly minimum: number; readonly maximum: number }
  | { readonly kind: 'unit-interval' }
  | { readonly kind: 'instant' };

const shapes = new WeakMap<object, Shape>();

/** Say what a hand-written codec accepts. */
export const withShape = <C extends object>(codec: C, shape: Shape): C => {
  shapes.set(codec, shape);
  return codec;
};

export const shapeOf = (codec: object): Shape | undefined => shapes.get(codec);

/** One thing wrong with a message: where (`$.parker.endpoint`) and what. */
export interface DecodeIssue {
  readonly path: string;
  readonly message: string;
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(readonly issues: readonly DecodeIssue[]) {
    super(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
  }
}

const describeValue = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
};

const isIndexed = (type: t.Decoder<unknown, unknown> | undefined): boolean =>
  type instanceof t.ArrayType || type instanceof t.ReadonlyArrayType || type instanceof t.TupleType;

const pathOf = (context: t.Context): string => {
  let path = '$';
  for (let i = 1; i < context.length; i++) {
    const { key } = context[i]!;
    // Unions and intersections record their members under numeric keys of their own; only an
    // array's or a tuple's numeric key is a place in the message.
    if (key === '') continue;
    if (/^\d+$/.test(key)) {
      if (isIndexed(context[i - 1]!.type)) path += `[${key}]`;
      continue;
    }
    path += `.${key}`;
  }
  return path;
};

export const issuesOf = (errors: t.Errors): DecodeIssue[] => {
  const seen = new Set<string>();
  const issues: DecodeIssue[] = [];
  for (const error of errors) {
    const path = pathOf(error.context);
    const expected = error.context.at(-1)?.type.name ?? 'a valid value';
    const message = error.message ?? `expected ${expected}, got ${describeValue(error.value)}`;
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues;
};

/** Decode, reporting what is wrong by path. */
export const decode = <A, O>(codec: t.Type<A, O, unknown>, input: unknown): E.Either<DecodeError, A> =>
  E.mapLeft((errors: t.Errors) => new DecodeError(issuesOf(errors)))(codec.decode(input));

/**
 * An object codec that refuses keys it does not know, so a misspelt field is an error rather
 * than silently ignored. Optional properties may be absent; present ones must be valid. It walks
 * its properties itself (rather than through t.intersection), since every stored event and every
 * message is decoded through it; a valid input takes the quick path (quickDecode.ts).
 */
export const closed = <R extends t.Props, O extends t.Props = Record<never, never>>(
  name: string,
  required: R,
  optional?: O,
): t.Type<t.TypeOf<t.TypeC<R>> & Partial<t.TypeOf<t.TypeC<O>>>, t.OutputOf<t.TypeC<R>> & Partial<t.OutputOf<t.TypeC<O>>>, unknown> => {
  type A = t.TypeOf<t.TypeC<R>> & Partial<t.TypeOf<t.TypeC<O>>>;
  type Out = t.OutputOf<t.TypeC<R>> & Partial<t.OutputOf<t.TypeC<O>>>;
  const requiredEntries = Object.entries(required) as [string, t.Mixed][];
  const optionalEntries = Object.entries(optional ?? {}) as [string, t.Mixed][];
  const known = new Set([...requiredEntries, ...optionalEntries].map(([key]) => key));
  const describeKnown = [...known].join(', ');
  const quick = quickObject(
    requiredEntries.map(([key, codec]) => [key, quickOf(codec)] as const),
    optionalEntries.map(([key, codec]) => [key, quickOf(codec)] as const),
  );
  const codec = new t.Type<A, Out, unknown>(
    name,
    (u): u is A => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return false;
      const record = u as Record<string, unknown>;
      for (const key in record) if (!known.has(key)) return false;
      return requiredEntries.every(([key, codec]) => codec.is(record[key])) && optionalEntries.every(([key, codec]) => record[key] === undefined || codec.is(record[key]));
    },
    (u, context) => {
      const decoded = quickPathOff() ? REFUSED : quick(u);
      if (decoded !== REFUSED) return t.success(decoded as A);
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, context, `expected an object (${name}), got ${describeValue(u)}`);
      const record = u as Record<string, unknown>;
      const errors: t.ValidationError[] = [];
      for (const key in record) {
        if (!known.has(key)) {
          errors.push({ value: record[key], context: [...context, { key, type: t.never, actual: record[key] }], message: `unknown field "${key}" (known fields: ${describeKnown})` });
        }
      }
      // A misspelt field is the one thing to say: the field it was meant to be is "missing" only because of it.
      if (errors.length > 0) return t.failures(errors);
      const value: Record<string, unknown> = {};
      const take = (key: string, codec: t.Mixed): void => {
        const result = codec.validate(record[key], t.appendContext(context, key, codec, record[key]));
        if (E.isLeft(result)) errors.push(...result.left);
        else value[key] = result.right;
      };
      for (const [key, codec] of requiredEntries) take(key, codec);
      for (const [key, codec] of optionalEntries) if (record[key] !== undefined) take(key, codec);
      return errors.length > 0 ? t.failures(errors) : t.success(value as A);
    },
    (a) => {
      const record = a as Record<string, unknown>;
      const encoded: Record<string, unknown> = {};
      for (const [key, codec] of requiredEntries) encoded[key] = codec.encode(record[key]);
      for (const [key, codec] of optionalEntries) if (record[key] !== undefined) encoded[key] = codec.encode(record[key]);
      return encoded as Out;
    },
  );
  return withShape(withQuick(codec, quick), { kind: 'object', required, optional: optional ?? {} });
};

/** A string from a fixed set, with the set in the error message. */
export const oneOf = <const L extends readonly [string, ...string[]]>(name: string, literals: L): t.Type<L[number], L[number], unknown> => {
  const allowed = new Set<string>(literals);
  const codec = new t.Type<L[number], L[number], unknown>(
    name,
    (u): u is L[number] => typeof u === 'string' && allowed.has(u),
    (u, context) => (typeof u === 'string' && allowed.has(u) ? t.success(u as L[number]) : t.failure(u, context, `expected one of ${literals.join(', ')}, got ${describeValue(u)}`)),
    t.identity,
  );
  return withShape(decodesToItself(codec), { kind: 'enum', values: literals });
};

/** One scan by the regular expression engine: faster than a loop of charCodeAt, and every identifier of every message goes through it. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f]/;
const hasControlCharacters = (value: string): boolean => controlCharacter.test(value);

/** A string that is not empty and not longer than `max`, without control characters. */
export const text = (name: string, max: number): t.Type<string, string, unknown> => {
  const valid = (u: unknown): u is string => typeof u === 'string' && u.length > 0 && u.length <= max && !hasControlCharacters(u);
  const codec = new t.Type<string, string, unknown>(
    name,
    valid,
    (u, context) =>
      valid(u)
        ? t.success(u)
        : t.failure(u, context, `expected ${name}: a non-empty string of at most ${max} characters without control characters, got ${describeValue(u)}`),
    t.identity,
  );
  return withShape(decodesToItself(codec), { kind: 'text', maxLength: max });
};

/** A random draw in [0, 1): randomness comes in with the command. */
export const unitInterval = withShape(
  decodesToItself(
    new t.Type<number, number, unknown>(
      'UnitInterval',
      (u): u is number => typeof u === 'number' && u >= 0 && u < 1,
      (u, context) => (typeof u === 'number' && u >= 0 && u < 1 ? t.success(u) : t.failure(u, context, `expected a number from 0 (inclusive) to 1 (exclusive), got ${describeValue(u)}`)),
      t.identity,
    ),
  ),
  { kind: 'unit-interval' },
);

const isoInstant = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number): number => [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;

/** Whether every field of an ISO-8601 timestamp is in its range: no 30 February rolled over into March. */
const isRealInstant = (match: RegExpExecArray): boolean => {
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHours = match[9] === undefined ? 0 : Number(match[9]);
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
};

const digitsAt = (value: string, from: number, count: number): number => {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
};

/**
 * The form this service writes (`toISOString`: `2026-11-22T09:30:00.000Z`), read without a
 * regular expression, since every stored event holds a few; undefined for any other form, which
 * then takes the general path.
 */
const canonicalInstant = (value: string): number | undefined => {
  if (value.length !== 24 || value[4] !== '-' || value[7] !== '-' || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':' || value[19] !== '.' || value[23] !== 'Z') return undefined;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  const millis = digitsAt(value, 20, 3);
  // Date.UTC reads the years 0 to 99 as 1900 to 1999: those take the general path.
  if (year < 100 || millis < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis);
};

/**
 * An instant: milliseconds since the epoch in the domain, an ISO-8601 timestamp with its offset
 * on the wire and in the store. Time is data (I7): it only ever enters through a message.
 */
export const Instant: t.Type<number, string, unknown> = withShape(new t.Type<number, string, unknown>(
  'Instant',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, context) => {
    const canonical = typeof u === 'string' && !quickPathOff() ? canonicalInstant(u) : undefined;
    if (canonical !== undefined) return t.success(canonical);
    const match = typeof u === 'string' ? isoInstant.exec(u) : null;
    if (match === null) return t.failure(u, context, `expected an ISO-8601 timestamp with offset (2026-11-22T09:30:00.000Z), got ${describeValue(u)}`);
    const millis = Date.parse(u as string);
    return Number.isFinite(millis) && isRealInstant(match) ? t.success(millis) : t.failure(u, context, `expected a real date and time, got ${describeValue(u)}`);
  },
  (millis) => new Date(millis).toISOString(),
), { kind: 'instant' });
export type Instant = t.TypeOf<typeof Instant>;

type Tagged = t.Mixed;

/**
 * A union of closed object codecs told apart by their `type`, each codec named after its tag
 * (`closed('ParkCall', { type: t.literal('ParkCall'), … })`). A message of a known type is checked
 * against that member alone, so its errors are its own; an unknown type is one error naming the
 * types there are.
 */
export class TaggedUnion<C extends readonly [Tagged, Tagged, ...Tagged[]]> extends t.Type<t.TypeOf<C[number]>, t.OutputOf<C[number]>, unknown> {
  readonly _tag = 'TaggedUnion' as const;
  constructor(
    name: string,
    readonly types: C,
  ) {
    const byTag = new Map<string, Tagged>(types.map((codec) => [codec.name, codec]));
    const tags = [...byTag.keys()];
    super(
      name,
      (u): u is t.TypeOf<C[number]> => types.some((codec) => codec.is(u)),
      (u, context) => {
        if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, context, `expected an object (${name}), got ${describeValue(u)}`);
        const tag = (u as { type?: unknown }).type;
        const member = typeof tag === 'string' ? byTag.get(tag) : undefined;
        if (member === undefined) {
          return t.failure(tag, [...context, { key: 'type', type: t.string, actual: tag }], `expected one of ${tags.join(', ')}, got ${describeValue(tag)}`);
        }
        return member.validate(u, context) as t.Validation<t.TypeOf<C[number]>>;
      },
      (a) => byTag.get((a as { type: string }).type)!.encode(a) as t.OutputOf<C[number]>,
    );
  }
}

export const taggedUnion = <const C extends readonly [Tagged, Tagged, ...Tagged[]]>(name: string, types: C): TaggedUnion<C> => new TaggedUnion(name, types);
