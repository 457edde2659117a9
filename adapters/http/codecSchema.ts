/**
 * JSON Schema (2020-12, as OpenAPI 3.1 reads it) made from the io-ts codecs that decide what the
 * API accepts, so that the document and the decoder have one source: a field added to a codec is
 * in the document, and a field the document names is one the codec has. The codecs of
 * domain/codec/codec.ts say what they accept (`shapeOf`); io-ts's own are read from their structure. A
 * codec of neither kind is an error that names it, never a guess.
 */
import * as t from 'io-ts/lib/index.js';
import { shapeOf, TaggedUnion } from '../../domain/codec/codec.js';

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Codecs with a component of their own in the document, by codec: they are written as a $ref. */
export type Components = ReadonlyMap<t.Mixed, string>;

const propertiesOf = (props: t.Props, components: Components): Record<string, JsonSchema> =>
  Object.fromEntries(Object.entries(props).map(([key, codec]) => [key, jsonSchemaOf(codec as t.Mixed, components)]));

export const jsonSchemaOf = (codec: t.Mixed, components: Components = new Map()): JsonSchema => {
  const component = components.get(codec);
  if (component !== undefined) return { $ref: `#/components/schemas/${component}` };
  const shape = shapeOf(codec);
  if (shape !== undefined) {
    switch (shape.kind) {
      case 'object':
        return {
          type: 'object',
          additionalProperties: false,
          required: Object.keys(shape.required),
          properties: { ...propertiesOf(shape.required, components), ...propertiesOf(shape.optional, components) },
        };
      case 'enum':
        return { enum: [...shape.values] };
      case 'text':
        return { type: 'string', minLength: 1, maxLength: shape.maxLength, ...(shape.pattern === undefined ? {} : { pattern: shape.pattern }) };
      case 'integer':
        return { type: 'integer', minimum: shape.minimum, maximum: shape.maximum };
      case 'unit-interval':
        return { type: 'number', minimum: 0, exclusiveMaximum: 1 };
      case 'instant':
        return { type: 'string', format: 'date-time', description: 'ISO-8601 with its offset: 2026-11-22T09:30:00.000Z' };
      default: {
        const unknown: never = shape;
        throw new Error(`No JSON Schema for the shape ${JSON.stringify(unknown)}.`);
      }
    }
  }
  if (codec instanceof TaggedUnion) {
    return { oneOf: (codec.types as readonly t.Mixed[]).map((member) => jsonSchemaOf(member, components)), discriminator: { propertyName: 'type' } };
  }
  if (codec instanceof t.LiteralType) return { const: codec.value };
  if (codec instanceof t.StringType) return { type: 'string' };
  if (codec instanceof t.NumberType) return { type: 'number' };
  if (codec instanceof t.BooleanType) return { type: 'boolean' };
  if (codec instanceof t.NullType) return { type: 'null' };
  if (codec instanceof t.UnionType) {
    const members = (codec.types as t.Mixed[]).map((member) => jsonSchemaOf(member, components));
    return members.every((member) => 'const' in member && Object.keys(member).length === 1) ? { enum: members.map((member) => member.const) } : { oneOf: members };
  }
  if (codec instanceof t.ArrayType || codec instanceof t.ReadonlyArrayType) return { type: 'array', items: jsonSchemaOf(codec.type as t.Mixed, components) };
  throw new Error(`No JSON Schema for the codec ${codec.name}: give it a shape (domain/codec/codec.ts withShape).`);
};

/**
 * A derived schema with what a codec cannot say (descriptions, defaults, ranges the domain checks
 * later) laid over named properties. A property the schema does not have is an error: an overlay
 * never adds a field the codec does not accept.
 */
export const annotated = (schema: JsonSchema, overlay: { readonly description?: string; readonly properties?: Readonly<Record<string, JsonSchema>> }): JsonSchema => {
  const properties = { ...(schema.properties as Record<string, JsonSchema> | undefined) };
  for (const [name, extra] of Object.entries(overlay.properties ?? {})) {
    const property = properties[name];
    if (property === undefined) throw new Error(`The codec has no property "${name}" to describe.`);
    properties[name] = { ...property, ...extra };
  }
  return { ...schema, ...(overlay.description === undefined ? {} : { description: overlay.description }), ...(schema.properties === undefined ? {} : { properties }) };
};

/** The schema with some required members made optional (where the HTTP API takes them from elsewhere, a header). */
export const optional = (schema: JsonSchema, ...names: readonly string[]): JsonSchema => ({
  ...schema,
  required: (schema.required as string[]).filter((name) => !names.includes(name)),
});
