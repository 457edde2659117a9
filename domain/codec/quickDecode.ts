/**
 * The quick path of decoding: every codec of this service answers a valid input with its value
 * and nothing else, without building io-ts's context, its Either at each field or an error. Only
 * when the quick path refuses does the codec decode again the usual way, to say what is wrong.
 *
 * A quick decoder must accept exactly what its codec's `validate` accepts and answer the same
 * value: it is an optimisation, never a second opinion (test/domain/quickDecode.unit.spec.ts holds the
 * codecs to that). Stored events are read through it: a projection rebuild decodes every event of
 * the log, and io-ts's general machinery cost several microseconds an event.
 */
import type * as t from 'io-ts/lib/index.js';

let thorough = false;

/** Whether the quick path is off (inside `thoroughly`). */
export const quickPathOff = (): boolean => thorough;

/** Run `decode` with every quick path off: the tests compare the two paths' answers with it. */
export const thoroughly = <T>(decode: () => T): T => {
  thorough = true;
  try {
    return decode();
  } finally {
    thorough = false;
  }
};

/** What a quick decoder answers for an input its codec refuses. */
export const REFUSED: unique symbol = Symbol('refused');

/** The decoded value, or REFUSED. */
export type QuickDecoder = (input: unknown) => unknown;

const quickDecoders = new WeakMap<t.Decoder<unknown, unknown>, QuickDecoder>();

/** Give `codec` its quick decoder (the combinators of codec.ts do, for the codecs they make). */
export const withQuick = <C extends t.Decoder<unknown, unknown>>(codec: C, quick: QuickDecoder): C => {
  quickDecoders.set(codec, quick);
  return codec;
};

/** For a codec that decodes an input to itself exactly when `is` holds (validate is `is(u) ? success(u) : failure`). */
export const decodesToItself = <C extends t.Mixed>(codec: C): C => withQuick(codec, (input) => (codec.is(input) ? input : REFUSED));

const withQuickOf = (codec: t.Mixed, quick: QuickDecoder): QuickDecoder => {
  quickDecoders.set(codec, quick);
  return quick;
};

/** io-ts's own primitives decode an input to itself exactly when `is` holds. */
const identityTags = new Set(['StringType', 'NumberType', 'BooleanType', 'NullType', 'LiteralType']);

const hasOwn = Object.prototype.hasOwnProperty;

/** t.type: every property through its own quick decoder; the input itself unless one changed, else a copy (as io-ts answers). */
const quickInterface = (props: t.Props): QuickDecoder => {
  const entries = Object.entries(props).map(([key, codec]) => [key, quickOf(codec)] as const);
  return (u) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return REFUSED;
    const record = u as Record<string, unknown>;
    let value = record;
    for (const [key, quick] of entries) {
      const given = record[key];
      const decoded = quick(given);
      if (decoded === REFUSED) return REFUSED;
      if (decoded !== given || (decoded === undefined && !hasOwn.call(record, key))) {
        if (value === record) value = { ...record };
        value[key] = decoded;
      }
    }
    return value;
  };
};

/** t.array: each item through the item's quick decoder; the input itself unless an item changed. */
const quickArray = (item: t.Mixed): QuickDecoder => {
  const quick = quickOf(item);
  return (u) => {
    if (!Array.isArray(u)) return REFUSED;
    let value: unknown[] = u;
    for (let i = 0; i < u.length; i++) {
      const given: unknown = u[i];
      const decoded = quick(given);
      if (decoded === REFUSED) return REFUSED;
      if (decoded !== given) {
        if (value === u) value = u.slice();
        value[i] = decoded;
      }
    }
    return value;
  };
};

/** t.tuple: as io-ts, components beyond the tuple's are dropped. */
const quickTuple = (types: readonly t.Mixed[]): QuickDecoder => {
  const quicks = types.map(quickOf);
  return (u) => {
    if (!Array.isArray(u)) return REFUSED;
    let value: unknown[] = u.length > quicks.length ? u.slice(0, quicks.length) : u;
    for (let i = 0; i < quicks.length; i++) {
      const given: unknown = u[i];
      const decoded = quicks[i]!(given);
      if (decoded === REFUSED) return REFUSED;
      if (decoded !== given) {
        if (value === u) value = u.slice();
        value[i] = decoded;
      }
    }
    return value;
  };
};

/** The quick decoder of any codec: its own, an identity check for io-ts's primitives, else its `validate` with a bare context. */
export const quickOf = (codec: t.Mixed): QuickDecoder => {
  const own = quickDecoders.get(codec);
  if (own !== undefined) return own;
  const tag = (codec as { _tag?: unknown })._tag;
  if (typeof tag === 'string' && identityTags.has(tag)) return quickDecoders.get(decodesToItself(codec))!;
  // io-ts's containers, walked without its contexts and Eithers (a snapshot's state is made of them).
  if (tag === 'InterfaceType') return withQuickOf(codec, quickInterface((codec as t.InterfaceType<t.Props>).props));
  if (tag === 'ArrayType') return withQuickOf(codec, quickArray((codec as t.ArrayType<t.Mixed>).type));
  if (tag === 'TupleType') return withQuickOf(codec, quickTuple((codec as unknown as t.TupleType<t.Mixed[]>).types));
  // A union of primitives: the first that takes the input, as io-ts tries them (no tags to index by).
  if (tag === 'UnionType') {
    const members = (codec as t.UnionType<t.Mixed[]>).types;
    if (members.every((member) => identityTags.has(String((member as { _tag?: unknown })._tag)))) {
      return withQuickOf(codec, (input) => (members.some((member) => member.is(input)) ? input : REFUSED));
    }
  }
  const context: t.Context = [{ key: '', type: codec, actual: undefined }];
  return (input) => {
    const result = codec.validate(input, context);
    return result._tag === 'Left' ? REFUSED : result.right;
  };
};

/**
 * The quick decoder of a closed object: refuses a key it does not know, decodes each property
 * with its own quick decoder, and answers a new object with the required properties in order and
 * then the optional ones present. It is written out as code for each codec, once, when the codec
 * is made: a property read or written by a name known in advance is several times faster in V8
 * than one looked up by a variable key at a site that sees every kind of message. The names come
 * from the codec's definition, never from the input, and are quoted with JSON.stringify.
 */
export const quickObject = (required: readonly (readonly [string, QuickDecoder])[], optional: readonly (readonly [string, QuickDecoder])[]): QuickDecoder => {
  const known = new Set([...required, ...optional].map(([key]) => key));
  // In an object literal this name would set the prototype rather than a property.
  if (known.has('__proto__')) throw new Error('A closed codec cannot have a property named __proto__.');
  const name = (key: string): string => JSON.stringify(key);
  const body = [
    "if (typeof u !== 'object' || u === null || Array.isArray(u)) return REFUSED;",
    'for (const key in u) if (!known.has(key)) return REFUSED;',
    ...required.map(([key], i) => `const r${i} = required[${i}](u[${name(key)}]); if (r${i} === REFUSED) return REFUSED;`),
    `const value = { ${required.map(([key], i) => `${name(key)}: r${i}`).join(', ')} };`,
    ...optional.map(
      ([key], i) => `if (u[${name(key)}] !== undefined) { const o${i} = optional[${i}](u[${name(key)}]); if (o${i} === REFUSED) return REFUSED; value[${name(key)}] = o${i}; }`,
    ),
    'return value;',
  ].join('\n');
  const make = new Function('REFUSED', 'known', 'required', 'optional', `return (u) => {\n${body}\n};`) as (
    refused: typeof REFUSED,
    known: ReadonlySet<string>,
    required: readonly QuickDecoder[],
    optional: readonly QuickDecoder[],
  ) => QuickDecoder;
  return make(
    REFUSED,
    known,
    required.map(([, quick]) => quick),
    optional.map(([, quick]) => quick),
  );
};
