/**
 * The OpenAPI document and the decoders have one source, the io-ts codecs: every field a request
 * body's codec accepts is in its schema and no other, required alike, and the document's schema
 * and the codec accept and refuse the same variations of each documented example.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { describe, expect, it } from 'vitest';
import { Instant, closed, shapeOf, text } from '../../domain/codec/codec.js';
import { Capabilities } from '../../domain/endpoint.js';
import { PolicySettingsChange } from '../../domain/parkPolicy.js';
import { CallEnded, ParkRequested, RetrieveRequested, RingBackAnsweredMessage, RingBackFailedMessage } from '../../domain/signaling.js';
import { Grant } from '../../adapters/http/requestBodies.js';
import { jsonSchemaOf } from '../../adapters/http/codecSchema.js';
import { json, startService } from '../http/httpFixtures.js';

type Schema = { required?: string[]; properties?: Record<string, unknown> };
type Document = { components: { schemas: Record<string, Schema> }; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { example?: Record<string, unknown> }> } }>> };

const bodies: readonly (readonly [string, t.Mixed, readonly string[]])[] = [
  // component, codec, what the HTTP API takes from elsewhere (a header)
  ['ParkRequested', ParkRequested, ['eventId']],
  ['RetrieveRequested', RetrieveRequested, ['eventId']],
  ['CallEnded', CallEnded, ['eventId']],
  ['RingBackAnswered', RingBackAnsweredMessage, ['eventId']],
  ['RingBackFailed', RingBackFailedMessage, ['eventId']],
  ['PolicySettingsChange', PolicySettingsChange, []],
  ['Grant', Grant, []],
  ['Capabilities', Capabilities, []],
];

const served = async (): Promise<Document> => {
  const service = await startService();
  return json(await service.request({ method: 'GET', url: '/openapi.json' })) as unknown as Document;
};

describe('the OpenAPI document and the codecs', () => {
  it('names exactly the fields each request body’s codec accepts, and requires what it requires', async () => {
    const { components } = await served();
    for (const [name, codec, fromHeaders] of bodies) {
      const shape = shapeOf(codec);
      if (shape?.kind !== 'object') throw new Error(`${name}: expected an object codec`);
      const schema = components.schemas[name]!;
      expect(Object.keys(schema.properties!).sort(), name).toEqual([...Object.keys(shape.required), ...Object.keys(shape.optional)].sort());
      expect([...schema.required!].sort(), name).toEqual(Object.keys(shape.required).filter((key) => !fromHeaders.includes(key)).sort());
    }
  });

  it('accepts and refuses, by schema and by codec alike, each documented example and its variations', async () => {
    const document = await served();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'doc', components: document.components }, 'doc');
    const examples = Object.values(document.paths)
      .flatMap((operations) => Object.values(operations))
      .map((operation) => operation.requestBody?.content['application/json']?.example)
      .filter((example): example is Record<string, unknown> => example !== undefined && typeof example.type === 'string');
    expect(examples.length).toBeGreaterThanOrEqual(5);
    let compared = 0;
    for (const [name, codec] of bodies.slice(0, 5)) {
      const validate = ajv.getSchema(`doc#/components/schemas/${name}`)!;
      const example = examples.find((candidate) => E.isRight(codec.decode(candidate)));
      expect(example, name).toBeDefined();
      const variations: Record<string, unknown>[] = [
        example!,
        { ...example, colour: 'blue' },
        { ...example, occurredAt: '2026-11-22 09:30' },
        ...Object.keys(example!)
          .filter((key) => key !== 'eventId')
          .map((key) => Object.fromEntries(Object.entries(example!).filter(([other]) => other !== key))),
        ...Object.keys(example!).map((key) => ({ ...example, [key]: 42 })),
      ];
      for (const variation of variations) {
        expect(validate(variation), `${name} ${JSON.stringify(variation)}`).toBe(E.isRight(codec.decode(variation)));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(30);
  });

  it('describes a field added to a codec, and refuses to guess at a codec it cannot read', () => {
    const Before = closed('Before', { callId: text('CallId', 256) });
    const After = closed('After', { callId: text('CallId', 256) }, { answeredAt: Instant });
    expect(Object.keys(jsonSchemaOf(Before).properties as object)).toEqual(['callId']);
    expect(jsonSchemaOf(After)).toMatchObject({ required: ['callId'], properties: { answeredAt: { type: 'string', format: 'date-time' } } });
    const opaque = new t.Type<string, string, unknown>('Opaque', (u): u is string => typeof u === 'string', (u, c) => (typeof u === 'string' ? t.success(u) : t.failure(u, c)), t.identity);
    expect(() => jsonSchemaOf(closed('WithOpaque', { value: opaque }))).toThrow(/Opaque/);
  });
});
