/**
 * The quick path of decoding: every codec of this service answers a valid input with its value
 * and nothing else, without building io-ts's context, its Either at each field or an error. Only
 * when the quick path refuses does the codec decode again the usual way, to say what is wrong.
 *
 * A quick decoder must accept exactly what its codec's `validate` accepts and answer the same
 * value: it is an optimisation, never a second opinion (test/domain/quickDecode.spec.ts holds the
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

/** io-ts's own primitives decode an input to itself exactly when `is` holds. */
const identityTags = new Set(['StringType', 'NumberType', 'BooleanType', 'NullType', 'LiteralType']);

/** The quick decoder of any codec: its own, an identity check for io-ts's primitives, else its `validate` with a bare context. */
export const quickOf = (codec: t.Mixed): QuickDecoder => {
  const own = quickDecoders.get(codec);
  if (own !== undefined) return own;
  const tag = (codec as { _tag?: unknown })._tag;
  if (typeof tag === 'string' && identityTags.has(tag)) return quickDecoders.get(decodesToItself(codec))!;
  const context: t.Context = [{ key: '', type: codec, actual: undefined }];
  return (input) => {
    const result = codec.validate(input, context);
    return result._tag === 'Left' ? REFUSED : result.right;
  };
};
