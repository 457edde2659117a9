/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 reads them) of what the API takes and answers. The
 * io-ts codecs of domain/ decide what is accepted; these describe the same shapes for people and
 * generators, with enums, ranges and defaults taken from the domain so they cannot drift.
 * test/http/openapi.spec.ts sends every documented example through its route.
 */
import { endpoints } from '../../domain/endpoint.js';
import { defaultSettings, settingRanges } from '../../domain/parkPolicy.js';
import { rejectionReasons } from '../../domain/rejection.js';
import { requestProblemReasons } from './problem.js';
import { roles } from './auth.js';

export type JsonSchema = Readonly<Record<string, unknown>>;

export const ref = (name: keyof typeof componentSchemas): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const text = (maxLength: number, description?: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength, ...(description ? { description } : {}) });
const object = (required: readonly string[], properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
  ...(description ? { description } : {}),
});

const instant = { type: 'string', format: 'date-time', description: 'ISO-8601 with its offset: 2026-11-22T09:30:00.000Z' } as const;
const policyIdentity = {
  type: 'string',
  pattern: '^(Tag:)?[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$',
  description: 'Global, or a policy name; "Tag:Name", as the cmdlets write it, means Name.',
} as const;

const envelope = (type: string) => ({
  type: { const: type },
  eventId: text(256, 'Unique per message: the command id (I6). May be left out when an Idempotency-Key header gives it.'),
  occurredAt: instant,
  tenantId: text(128),
  callId: text(256, 'The SIP Call-ID.'),
});
/** Required members of every signaling message on the HTTP API (`eventId` may come from a header). */
const envelopeRequired = ['occurredAt', 'tenantId', 'callId'];

const settingProperties: Record<string, JsonSchema> = {
  allowCallPark: { type: 'boolean', default: defaultSettings.allowCallPark },
  ...Object.fromEntries(
    Object.entries(settingRanges).map(([name, { min, max }]) => [name, { type: 'integer', minimum: min, maximum: max, default: defaultSettings[name as keyof typeof settingRanges] }]),
  ),
  orbitPrefix: { enum: ['', '*', '#'], default: defaultSettings.orbitPrefix, description: 'Lync form: a prefix with a fixed width (*3000..*3999).' },
  fallback: { type: 'string', minLength: 1, maxLength: 512, default: defaultSettings.fallback, description: 'voicemail, disconnect, or a sip: URI.' },
  musicOnHold: { type: 'boolean', default: defaultSettings.musicOnHold },
  orbitAllocation: { enum: ['sequential', 'lowest-free', 'random'], default: defaultSettings.orbitAllocation },
  allowDirectedPark: { type: 'boolean', default: defaultSettings.allowDirectedPark },
  description: { type: 'string', maxLength: 1024, default: defaultSettings.description },
};

const orbit = object(['code', 'number'], { code: { type: 'string', description: 'What people dial: 42, *3012.' }, number: { type: 'integer' } });
const answerBase = { commandId: text(256), outcome: { type: 'string' } };

export const componentSchemas = {
  Instant: instant,
  Endpoint: { enum: [...endpoints] },
  Media: { enum: ['audio', 'video', 'im', 'conference'] },
  Role: { enum: [...roles] },
  Party: object(['userId', 'endpoint'], { userId: text(256), endpoint: { $ref: '#/components/schemas/Endpoint' } }),
  ParkRequested: object(
    ['type', ...envelopeRequired, 'parker', 'media'],
    {
      ...envelope('park.requested'),
      parker: { $ref: '#/components/schemas/Party' },
      media: { $ref: '#/components/schemas/Media' },
      orbit: text(16, 'Directed park: the orbit the parker names (when the policy allows it).'),
      caller: text(256, 'Who waits on hold.'),
    },
    'REFER of the call to the park service: becomes ParkCall.',
  ),
  RetrieveRequested: object(
    ['type', ...envelopeRequired, 'retriever', 'orbit'],
    {
      ...envelope('retrieve.requested'),
      retriever: object(['userId', 'endpoint'], { userId: text(256), endpoint: { $ref: '#/components/schemas/Endpoint' }, federated: { type: 'boolean', default: false } }),
      orbit: text(16, 'The orbit code dialed.'),
    },
    "INVITE to an orbit: becomes RetrieveCall. callId is the retriever's own dialog.",
  ),
  CallEnded: object(['type', ...envelopeRequired], { ...envelope('call.ended'), sipMethod: { enum: ['BYE', 'CANCEL'] } }, 'BYE or CANCEL from the waiting party: the caller hung up.'),
  RingBackAnswered: object(['type', ...envelopeRequired], envelope('ringback.answered'), "200 OK from the parker's endpoint to the ring back."),
  RingBackFailed: object(
    ['type', ...envelopeRequired, 'sipStatus'],
    { ...envelope('ringback.failed'), sipStatus: { enum: [486, 480, 408, 603] } },
    "486, 480, 408 or 603 from the parker's endpoint: the ring back went unanswered.",
  ),
  SignalingMessage: {
    oneOf: ['ParkRequested', 'RetrieveRequested', 'CallEnded', 'RingBackAnswered', 'RingBackFailed'].map((name) => ({ $ref: `#/components/schemas/${name}` })),
    discriminator: { propertyName: 'type' },
  },
  PolicySettingsChange: object([], settingProperties, 'The settings to change; the others keep their value.'),
  NewPolicy: object(['identity'], { identity: policyIdentity, ...settingProperties }, 'New-CsTeamsCallParkPolicy: the identity and the settings that differ from the defaults.'),
  Policy: object(['identity', ...Object.keys(settingProperties)], { identity: policyIdentity, ...settingProperties }),
  PolicyList: object(['policies'], { policies: { type: 'array', items: { $ref: '#/components/schemas/Policy' } } }),
  Grant: object(['policy'], { policy: { oneOf: [policyIdentity, { type: 'null' }], description: 'null (or Global) takes the grant away, so Global applies.' } }),
  Capabilities: object(['park', 'retrieve', 'ringBack'], { park: { type: 'boolean' }, retrieve: { type: 'boolean' }, ringBack: { type: 'boolean' } }),
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

/** The schemas of path parameters, by name. */
export const parameterSchemas: Readonly<Record<string, JsonSchema>> = {
  tenantId: text(128),
  identity: policyIdentity,
  userId: text(256),
  endpoint: { $ref: '#/components/schemas/Endpoint' },
  sessionId: text(128),
};
