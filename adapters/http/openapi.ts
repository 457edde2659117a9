/**
 * The OpenAPI 3.1 document, generated from the route table: every route registered is described,
 * with who may use it, its parameters, its body and its answers. The answers every route of a
 * kind shares (400 for bad input, 401 and 403 for tokens, 413, 415, 500) are added here.
 */
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { componentSchemas, parameterSchemas, ref, type JsonSchema, type SchemaName } from './openapiSchemas.js';
import { openApiPath, pathParametersOf, type DocumentedResponse, type RouteDefinition } from './route.js';

const problemResponse = (description: string): DocumentedResponse => ({ description, schema: 'Problem' });

const responseObject = ({ description, schema, contentType, headers }: DocumentedResponse): Record<string, unknown> => {
  const type = contentType ?? (schema === 'Problem' ? PROBLEM_CONTENT_TYPE : 'application/json');
  return {
    description,
    ...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([name, text]) => [name, { description: text, schema: { type: 'string' } }])) } : {}),
    content: { [type]: schema ? { schema: ref(schema) } : {} },
  };
};

const idempotencyKeyParameter = (kind: 'instead-of-event-id' | 'command-id') => ({
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', minLength: 1, maxLength: 256 },
  description:
    kind === 'instead-of-event-id'
      ? "The message's eventId when the body has none (equal to it when both are sent). A repeated id answers the first answer again, with Idempotent-Replayed: true, and records nothing new."
      : 'The command id; a fresh one when absent. A repeated id answers the first answer again, with Idempotent-Replayed: true, and records nothing new.',
});

const operationOf = (route: RouteDefinition): Record<string, unknown> => {
  const { doc, access } = route;
  const guarded = access.kind !== 'open';
  const parameters = [
    ...pathParametersOf(route.url).map((name) => ({ name, in: 'path', required: true, schema: parameterSchemas[name] ?? { type: 'string' } })),
    ...(doc.idempotencyKey ? [idempotencyKeyParameter(doc.idempotencyKey)] : []),
  ];
  const responses: Record<number, DocumentedResponse> = { ...doc.responses };
  if (doc.body || parameters.length > 0) responses[400] = problemResponse('Bad input: malformed JSON, unknown or missing fields, wrong types; `errors` names the path of each.');
  if (guarded) {
    responses[401] = { description: 'No bearer token, or one this service did not issue.', schema: 'Problem', headers: { 'WWW-Authenticate': 'Bearer' } };
    responses[403] ??= problemResponse('The token lacks the role, or is not for this tenant.');
  }
  if (doc.body) {
    responses[413] = problemResponse('The body is larger than the limit.');
    responses[415] = problemResponse('The body is not application/json.');
  }
  responses[500] = problemResponse('Something went wrong on our side.');
  const schemaOf = (schema: SchemaName | JsonSchema): JsonSchema => (typeof schema === 'string' ? ref(schema as SchemaName) : schema);
  return {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: guarded ? [{ bearer: [] }] : [],
    ...(guarded ? { 'x-roles': access.roles, 'x-tenant': access.kind } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries(
              (doc.body.contentTypes ?? ['application/json']).map((type) => [type, { schema: schemaOf(doc.body!.schema), ...(doc.body!.example === undefined ? {} : { example: doc.body!.example }) }]),
            ),
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, responseObject(response)])),
  };
};

export const openApiDocument = (routes: readonly RouteDefinition[]): Record<string, unknown> => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'callpark',
      version: '1',
      // UNLICENSED as npm defines it: no right to use the package is granted under any terms.
      license: { name: 'UNLICENSED', url: 'https://docs.npmjs.com/cli/v11/configuring-npm/package-json#license' },
      description:
        'Event-sourced call park: park a call on an orbit, retrieve it by code, ring the parker back. Errors are application/problem+json (RFC 9457); domain rejections carry their stable `reason`. Bearer tokens carry a role (signaling, supervisor, reporting, admin) and a tenant (or * for all).',
    },
    // Relative: the service at whatever base URL served this document.
    servers: [{ url: '/', description: 'The service that serves this document.' }],
    tags: [
      { name: 'signaling', description: 'The media tier: the messages of the signaling topic, answered synchronously.' },
      { name: 'administration', description: 'New-, Set-, Get-, Remove- and Grant-CsTeamsCallParkPolicy, and the endpoint matrix.' },
      { name: 'supervisor', description: "A supervisor's actions on a parked call: send it to its fallback now, ring the parker now." },
      { name: 'reads', description: 'Park sessions and occupancy.' },
      { name: 'operations', description: 'Health, readiness, metrics and this document.' },
    ],
    paths,
    components: {
      schemas: componentSchemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from CALLPARK_TOKENS.' } },
    },
  };
};

/** Another part of the service's API, documented beside its routes (the read side's, for one). */
export interface OpenApiExtension {
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly schemas: Readonly<Record<string, unknown>>;
  readonly tags: readonly { readonly name: string; readonly description: string }[];
}

/** The document with the extensions' paths, schemas and tags merged in; a name used twice is an error. */
export const withExtensions = (document: Record<string, unknown>, extensions: readonly OpenApiExtension[]): Record<string, unknown> => {
  const paths = { ...(document.paths as Record<string, Record<string, unknown>>) };
  const components = document.components as { schemas: Record<string, unknown> };
  const schemas = { ...components.schemas };
  const tags = [...(document.tags as { name: string }[])];
  for (const extension of extensions) {
    for (const [path, operations] of Object.entries(extension.paths)) {
      for (const method of Object.keys(operations)) if (paths[path]?.[method] !== undefined) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} is documented twice.`);
      paths[path] = { ...paths[path], ...operations };
    }
    for (const [name, schema] of Object.entries(extension.schemas)) {
      if (name in schemas) throw new Error(`OpenAPI: the schema ${name} is defined twice.`);
      schemas[name] = schema;
    }
    for (const tag of extension.tags) if (!tags.some((known) => known.name === tag.name)) tags.push(tag);
  }
  return { ...document, tags, paths, components: { ...components, schemas } };
};
