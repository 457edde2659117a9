/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 reads them) of what the API takes and answers. What it
 * takes is made from the io-ts codecs that decode it (codecSchema.ts), so the document cannot
 * name a field the decoder refuses or miss one it accepts; descriptions, defaults and the ranges
 * the domain checks are laid over named fields. The answers, which no codec decodes, are written
 * here, with their enums taken from the domain. test/http/openapi.http.spec.ts sends every documented
 * example through its route.
 */
import { Instant } from '../../domain/codec/codec.js';
import { Party } from '../../domain/commands.js';
import { Capabilities, Endpoint, Media } from '../../domain/endpoint.js';
import { SessionId, TenantId, UserId } from '../../domain/identifiers.js';
import { MAX_DESCRIPTION_LENGTH, PolicyIdentity, PolicySettings, PolicySettingsChange, defaultSettings, settingRanges } from '../../domain/parkPolicy.js';
import { rejectionReasons } from '../../domain/rejection.js';
import { CallEnded, ParkRequested, RetrieveRequested, RingBackAnsweredMessage, RingBackFailedMessage, SignalingMessage } from '../../domain/signaling.js';
import { Grant, SupervisorAction } from './requestBodies.js';
import { annotated, jsonSchemaOf, optional, type Components, type JsonSchema } from './codecSchema.js';
import { requestProblemReasons } from './problem.js';

export type { JsonSchema } from './codecSchema.js';

export const ref = (name: keyof typeof componentSchemas): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const object = (required: readonly string[], properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
  ...(description ? { description } : {}),
});

/** The codecs with a component of their own: where another schema uses one, it is a $ref. */
const components: Components = new Map<Parameters<typeof jsonSchemaOf>[0], string>([
  [Instant, 'Instant'],
  [Endpoint, 'Endpoint'],
  [Media, 'Media'],
  [Party, 'Party'],
  [ParkRequested, 'ParkRequested'],
  [RetrieveRequested, 'RetrieveRequested'],
  [CallEnded, 'CallEnded'],
  [RingBackAnsweredMessage, 'RingBackAnswered'],
  [RingBackFailedMessage, 'RingBackFailed'],
]);
/** The codec's own schema (not the $ref to it). */
const schemaOf = (codec: Parameters<typeof jsonSchemaOf>[0]): JsonSchema => jsonSchemaOf(codec, new Map([...components].filter(([known]) => known !== codec)));

const instant = jsonSchemaOf(Instant);

/** A signaling message on the HTTP API: `eventId` may come from the Idempotency-Key header instead. */
const signaling = (codec: Parameters<typeof jsonSchemaOf>[0], description: string, properties: Record<string, JsonSchema> = {}): JsonSchema =>
  optional(
    annotated(schemaOf(codec), {
      description,
      properties: {
        eventId: { description: 'Unique per message: the command id (I6). May be left out when an Idempotency-Key header gives it.' },
        occurredAt: { description: 'When the media tier saw it, by its clock. Optional, and not recorded: the service decides at its own clock (docs/domain.md).' },
        callId: { description: 'The SIP Call-ID.' },
        ...properties,
      },
    }),
    'eventId',
  );

/** The domain's defaults, and the ranges its rules check, laid over the settings the codecs accept. */
const settingDetails: Record<string, JsonSchema> = Object.fromEntries(
  Object.entries(defaultSettings).map(([name, value]) => {
    const range = settingRanges[name as keyof typeof settingRanges] as { min: number; max: number } | undefined;
    return [name, { default: value, ...(range ? { type: 'integer', minimum: range.min, maximum: range.max } : {}) }];
  }),
);
settingDetails.orbitPrefix = { ...settingDetails.orbitPrefix, description: 'Lync form: a prefix with a fixed width (*3000..*3999).' };
settingDetails.fallback = { ...settingDetails.fallback, description: 'voicemail, disconnect, or a sip: URI.' };
settingDetails.description = { ...settingDetails.description, maxLength: MAX_DESCRIPTION_LENGTH };

const policyIdentity = annotated(schemaOf(PolicyIdentity), { description: 'Global, or a policy name; "Tag:Name", as the cmdlets write it, means Name.' });
const settingsChange = annotated(schemaOf(PolicySettingsChange), { properties: settingDetails });
const withIdentity = (schema: JsonSchema, required: readonly string[], description?: string): JsonSchema =>
  object(required, { identity: policyIdentity, ...(schema.properties as Record<string, JsonSchema>) }, description);

const orbit = object(['code', 'number'], { code: { type: 'string', description: 'What people dial: 42, *3012.' }, number: { type: 'integer' } });
const text = (maxLength: number, description?: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength, ...(description ? { description } : {}) });
const answerBase = { commandId: text(256), outcome: { type: 'string' } };

export const componentSchemas = {
  Instant: instant,
  Endpoint: schemaOf(Endpoint),
  Media: schemaOf(Media),
  Party: schemaOf(Party),
  ParkRequested: signaling(ParkRequested, 'REFER of the call to the park service: becomes ParkCall.', {
    orbit: { description: 'Directed park: the orbit the parker names (when the policy allows it).' },
    caller: { description: 'Who waits on hold.' },
  }),
  RetrieveRequested: signaling(RetrieveRequested, "INVITE to an orbit: becomes RetrieveCall. callId is the retriever's own dialog.", { orbit: { description: 'The orbit code dialed.' } }),
  CallEnded: signaling(CallEnded, 'BYE or CANCEL from the waiting party: the caller hung up.'),
  RingBackAnswered: signaling(RingBackAnsweredMessage, "200 OK from the parker's endpoint to the ring back."),
  RingBackFailed: signaling(RingBackFailedMessage, "486, 480, 408 or 603 from the parker's endpoint: the ring back went unanswered."),
  SignalingMessage: jsonSchemaOf(SignalingMessage, components),
  PolicySettingsChange: annotated(settingsChange, { description: 'The settings to change; the others keep their value.' }),
  NewPolicy: withIdentity(settingsChange, ['identity'], 'New-CsTeamsCallParkPolicy: the identity and the settings that differ from the defaults.'),
  Policy: withIdentity(annotated(schemaOf(PolicySettings), { properties: settingDetails }), ['identity', ...Object.keys(defaultSettings)]),
  PolicyList: object(['policies'], { policies: { type: 'array', items: { $ref: '#/components/schemas/Policy' } } }),
  Grant: annotated(schemaOf(Grant), { properties: { policy: { description: 'null (or Global) takes the grant away, so Global applies.' } } }),
  Capabilities: schemaOf(Capabilities),
  SupervisorAction: annotated(schemaOf(SupervisorAction), { properties: { supervisor: { description: 'Who acts: the supervisor, recorded on the event.' } } }),
  EndpointMatrix: object(['endpoints'], {
    endpoints: {
      type: 'array',
      items: object(['endpoint', 'park', 'retrieve', 'ringBack', 'overridden'], {
        endpoint: { $ref: '#/components/schemas/Endpoint' },
        park: { type: 'boolean' },
        retrieve: { type: 'boolean' },
        ringBack: { type: 'boolean' },
        overridden: { type: 'boolean', description: "The tenant's override, not the default row." },
      }),
    },
  }),
  ParkAnswer: object(['commandId', 'outcome', 'sessionId', 'callId', 'policy', 'orbit', 'directed', 'ringBackDueAt'], {
    ...answerBase,
    outcome: { const: 'parked' },
    sessionId: text(128),
    callId: text(256),
    policy: { type: 'string' },
    orbit,
    directed: { type: 'boolean' },
    musicOnHold: { type: 'boolean' },
    ringBackDueAt: instant,
  }),
  RetrieveAnswer: object(['commandId', 'outcome', 'sessionId', 'callId', 'orbit', 'via', 'retriever', 'parker', 'parkedAt', 'retrievedAt'], {
    ...answerBase,
    outcome: { const: 'retrieved' },
    sessionId: text(128),
    callId: text(256, 'The parked call.'),
    orbit,
    via: { enum: ['orbit', 'ring-back'] },
    retriever: { $ref: '#/components/schemas/Party', description: 'Who got the call.' },
    parker: { $ref: '#/components/schemas/Party' },
    parkedAt: instant,
    retrievedAt: instant,
    retrieverCallId: text(256),
  }),
  CommandAnswer: {
    type: 'object',
    required: ['commandId', 'outcome'],
    properties: {
      ...answerBase,
      outcome: { enum: ['parked', 'retrieved', 'abandoned', 'ringing-back', 'ring-back-unanswered', 'expired', 'created', 'changed', 'removed', 'granted', 'overridden', 'reset', 'no-op'] },
    },
    description: 'What the command did; the members besides commandId and outcome depend on the outcome.',
  },
  OrbitOccupancy: {
    type: 'object',
    required: ['orbit', 'code', 'status'],
    properties: {
      orbit: { type: 'integer' },
      code: { type: 'string' },
      status: { enum: ['free', 'parked', 'ringing-back'] },
      outsideRange: { const: true, description: "Held under an earlier range of the policy: a parked call keeps its settings (I5)." },
      callId: { type: 'string' },
      sessionId: { type: 'string' },
      parkedAt: instant,
      parkedBy: { $ref: '#/components/schemas/Party' },
      ringBackDueAt: instant,
      unansweredAt: instant,
      attempt: { type: 'integer' },
      freedAt: instant,
    },
  },
  Occupancy: object(['policy', 'rangeStart', 'rangeEnd', 'orbitPrefix', 'free', 'total', 'occupied', 'orbits'], {
    policy: { type: 'string' },
    rangeStart: { type: 'integer' },
    rangeEnd: { type: 'integer' },
    orbitPrefix: { enum: ['', '*', '#'] },
    free: { type: 'integer' },
    total: { type: 'integer' },
    occupied: { type: 'integer' },
    orbits: { type: 'array', items: { $ref: '#/components/schemas/OrbitOccupancy' } },
  }),
  SessionView: {
    type: 'object',
    required: ['tenantId', 'sessionId', 'callId', 'policy', 'orbit', 'orbitCode', 'parker', 'parkedAt', 'status', 'attempts', 'timeline'],
    properties: {
      tenantId: { type: 'string' },
      sessionId: { type: 'string' },
      callId: { type: 'string' },
      policy: { type: 'string' },
      orbit: { type: 'integer' },
      orbitCode: { type: 'string' },
      parker: { $ref: '#/components/schemas/Party' },
      caller: { type: 'string' },
      parkedAt: instant,
      status: { enum: ['parked', 'ringing-back', 'retrieved', 'expired', 'abandoned'] },
      attempts: { type: 'integer' },
      dueAt: instant,
      endedAt: instant,
      retrievedBy: { $ref: '#/components/schemas/Party' },
      via: { enum: ['orbit', 'ring-back'] },
      fallback: { type: 'string' },
      timeline: {
        type: 'array',
        items: object(['type', 'at', 'details'], { type: { type: 'string' }, at: instant, details: { type: 'object' } }),
      },
    },
  },
  Problem: {
    type: 'object',
    required: ['type', 'title', 'status', 'detail'],
    properties: {
      type: { type: 'string', format: 'uri-reference' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      reason: { enum: [...rejectionReasons, ...requestProblemReasons], description: 'The stable reason code: a domain rejection, or what is wrong with the request.' },
      errors: {
        type: 'array',
        description: 'Decode errors: each names the path of what is wrong ($.parker.endpoint in the body, $path.name, $headers.name).',
        items: object(['path', 'message'], { path: { type: 'string' }, message: { type: 'string' } }),
      },
    },
  },
  Health: object(['status'], { status: { const: 'ok' } }),
  Readiness: {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { enum: ['ready'] },
      checks: { type: 'object', additionalProperties: object(['ok'], { ok: { type: 'boolean' }, detail: { type: 'string' } }) },
    },
  },
} satisfies Record<string, JsonSchema>;

export type SchemaName = keyof typeof componentSchemas;

/** The schemas of path parameters, by name, from their codecs. */
export const parameterSchemas: Readonly<Record<string, JsonSchema>> = {
  tenantId: schemaOf(TenantId),
  identity: policyIdentity,
  userId: schemaOf(UserId),
  endpoint: { $ref: '#/components/schemas/Endpoint' },
  sessionId: schemaOf(SessionId),
  orbit: { type: 'string', pattern: '^[*#]?[0-9]{1,4}$', description: 'An orbit code (42, *3012) or its number.' },
};
