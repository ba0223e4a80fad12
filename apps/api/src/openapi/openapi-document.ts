import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  ReferenceObject,
  ResponsesObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';
import { IS_DATE_STRING, IS_ISO8601 } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { DefinitionRegistry, PayloadClass } from '@app/workflows';
import { API_EXAMPLES } from './examples';

/** class-transformer's own metadata (which class an `@Type` nests); the package publishes no typings for the path */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: MetadataStorage;
};

/**
 * The OpenAPI document of the API, built from the controllers' decorators and, for what a decorator cannot say, from
 * the definition registry: every definition's start input and every event a client may send become schemas, so a
 * second definition (e.g. the RTD one) appears without touching this file.
 *
 * - `POST /v1/processes` takes `oneOf` the definitions' start requests, discriminated by `definition`;
 * - `POST /v1/processes/{id}/events` takes `oneOf` the events, discriminated by `type`; each event names its payload
 *   schema (generated from the class-validator DTO the engine validates with; unknown fields are refused, so every
 *   payload schema says `additionalProperties: false`); `system` events (timers) are not offered: the API refuses them;
 * - a history event's `payload` is `anyOf` every payload schema (timer events included);
 * - every 4xx/5xx answer has the error schema `{ code, message, details? }`.
 */
export function buildOpenApiDocument(
  app: INestApplication,
  registry: DefinitionRegistry,
): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Iter API')
    .setDescription(
      'Workflow engine for the approval of inter-municipal conventions (art. 30 TUEL) in Unioni dei Comuni. ' +
        'Errors are JSON { code, message, details? } with stable codes.',
    )
    .setVersion('1')
    .setLicense('Proprietary (UNLICENSED)', 'https://spdx.org/licenses/')
    .addServer('/', 'this server')
    .addBearerAuth()
    .addTag('processes', 'start processes, send events, read their state and audit history')
    .addTag('definitions', 'the deployed process definitions: events, roles, payload schemas')
    .addTag('entes', 'the registry of comuni and unioni')
    .addTag(
      'notifications',
      'the in-app inbox, delivery state and dead letters, the calendar feed (docs/notifications.md)',
    )
    .addTag('webhooks', 'signed webhooks per Unione (HMAC-SHA256 over timestamp.body)')
    .addTag('health', 'liveness of Postgres and Redis')
    .build();
  const doc = SwaggerModule.createDocument(app, config, {
    // a method without an explicit @ApiOperation({ operationId }) still gets a client-friendly, unique one
    // (`list` in SessionsController → `listSessions`), never `SessionsController_list`
    operationIdFactory: (controller, method) => `${method}${controller.replace(/Controller$/, '')}`,
  });
  const schemas = (doc.components ??= {}).schemas ?? {};
  doc.components.schemas = schemas;

  addPayloadSchemas(schemas, registry);
  schemas['SendEventDto'] = eventRequests(schemas, registry);
  schemas['CreateProcessDto'] = startRequests(schemas, registry);
  const history = schemas['HistoryEventDto'] as SchemaObject | undefined;
  if (history?.properties) {
    history.properties['payload'] = {
      description:
        'the payload of the event `type`, as accepted (an empty object when it has none)',
      anyOf: [
        ...[...payloadNames(registry)].sort().map((n): SchemaObject | ReferenceObject => ref(n)),
        EMPTY_PAYLOAD,
      ],
    };
  }
  for (const path of Object.values(doc.paths)) {
    if (path.get) completeOperation(path.get, false);
    for (const op of [path.post, path.put, path.patch, path.delete]) {
      if (op) completeOperation(op, true);
    }
  }
  return doc;
}

const PREFIX = '#/components/schemas/';
const ref = (name: string): ReferenceObject => ({ $ref: `${PREFIX}${name}` });
const ERROR = 'ErrorResponseDto';
const ISO_8601 = {
  type: 'string' as const,
  anyOf: [
    { type: 'string' as const, format: 'date' },
    { type: 'string' as const, format: 'date-time' },
  ],
};
const EMPTY_PAYLOAD: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  maxProperties: 0,
};

/** `convention.deliberation.record` → `ConventionDeliberationRecord` */
const pascal = (s: string): string =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** The DTO classes a definition names: start inputs and event payloads (of every event, timer ones included). */
function payloadClasses(registry: DefinitionRegistry): PayloadClass[] {
  const out = new Set<PayloadClass>();
  for (const d of registry.all()) {
    out.add(d.input);
    for (const e of Object.values(d.events)) if (e.payload) out.add(e.payload);
  }
  return [...out];
}

/** Schema names are class names: two different DTO classes with one name would silently share a schema. */
function payloadNames(registry: DefinitionRegistry): Set<string> {
  const byName = new Map<string, PayloadClass>();
  for (const c of payloadClasses(registry)) {
    const other = byName.get(c.name);
    if (other && other !== c) {
      throw new Error(`OpenAPI: two payload DTO classes are named ${c.name}; rename one`);
    }
    byName.set(c.name, c);
  }
  return new Set(byName.keys());
}

/** JSON schemas of the definitions' DTOs and of the DTOs they nest, as the engine validates them. */
function addPayloadSchemas(
  schemas: Record<string, SchemaObject | ReferenceObject>,
  registry: DefinitionRegistry,
): void {
  const all = validationMetadatasToSchemas({
    refPointerPrefix: PREFIX,
    // without class-transformer's metadata a nested array (`@Type(() => ParereDto) pareri`) becomes a `$ref` to `Array`
    classTransformerMetadataStorage: defaultMetadataStorage,
    // class-validator's ISO 8601 checks accept a date or an instant: `anyOf` (they overlap, so not `oneOf`), and
    // never the library's default date-time *pattern* for IsDateString (our date fields also carry YYYY-MM-DD)
    additionalConverters: { [IS_ISO8601]: ISO_8601, [IS_DATE_STRING]: ISO_8601 },
  }) as Record<string, SchemaObject>;
  const pending = [...payloadNames(registry)];
  const seen = new Set<string>();
  while (pending.length) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const schema = all[name];
    if (!schema) throw new Error(`OpenAPI: no JSON schema for the DTO ${name}`);
    // the engine validates with forbidNonWhitelisted: an unknown field is refused
    schemas[name] = { ...schema, additionalProperties: false };
    for (const m of JSON.stringify(schema).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      pending.push(m[1]!);
    }
  }
}

/** `SendEventDto`: oneOf the events a client may send, discriminated by `type`. */
function eventRequests(
  schemas: Record<string, SchemaObject | ReferenceObject>,
  registry: DefinitionRegistry,
): SchemaObject {
  const byType = new Map<
    string,
    { description: string; payloads: Set<PayloadClass | undefined> }
  >();
  for (const d of registry.all()) {
    for (const [type, e] of Object.entries(d.events)) {
      if (e.scope === 'system') continue;
      const entry = byType.get(type) ?? { description: e.description, payloads: new Set() };
      entry.payloads.add(e.payload);
      byType.set(type, entry);
    }
  }
  const mapping: Record<string, string> = {};
  for (const [type, { description, payloads }] of [...byType].sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const name = `${pascal(type)}Event`;
    const variants = [...payloads].map((p) => (p ? ref(p.name) : EMPTY_PAYLOAD));
    const needsPayload = [...payloads].every((p) => p !== undefined);
    const example = API_EXAMPLES.events[type];
    schemas[name] = {
      type: 'object',
      description,
      required: needsPayload ? ['type', 'payload'] : ['type'],
      additionalProperties: false,
      properties: {
        type: { type: 'string', enum: [type] },
        payload: variants.length === 1 ? variants[0]! : { oneOf: variants },
      },
      ...(example ? { example: { type, payload: example } } : {}),
    };
    mapping[type] = `${PREFIX}${name}`;
  }
  return {
    description:
      'An event: `type` selects the payload schema. GET /v1/processes/{id} lists the events the caller may send now.',
    oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
    discriminator: { propertyName: 'type', mapping },
  };
}

/** `CreateProcessDto`: oneOf the definitions' start requests, discriminated by `definition`. */
function startRequests(
  schemas: Record<string, SchemaObject | ReferenceObject>,
  registry: DefinitionRegistry,
): SchemaObject {
  const mapping: Record<string, string> = {};
  const keys = [...new Set(registry.all().map((d) => d.key))].sort();
  for (const key of keys) {
    const latest = registry.latest(key);
    const name = `Start${pascal(key)}Request`;
    const input = API_EXAMPLES.inputs[key];
    schemas[name] = {
      type: 'object',
      description: `${latest.title}: start a process of the latest version of \`${key}\``,
      required: ['definition', 'input'],
      additionalProperties: false,
      properties: {
        definition: { type: 'string', enum: [key] },
        businessKey: {
          type: 'string',
          pattern: '^[A-Za-z0-9._-]{1,100}$',
          description: 'unique per unione and definition; defaults to the id',
        },
        input: ref(latest.input.name),
      },
      ...(input
        ? { example: { definition: key, businessKey: input.businessKey, input: input.input } }
        : {}),
    };
    mapping[key] = `${PREFIX}${name}`;
  }
  return {
    description: 'Which definition to start, with its start input.',
    oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
    discriminator: { propertyName: 'definition', mapping },
  };
}

const ERROR_DESCRIPTIONS: Record<string, string> = {
  '400':
    'INVALID_CHARACTERS / VALIDATION_FAILED / MALFORMED_JSON: NUL, a lone surrogate or broken percent-encoding in the URL, an unknown query parameter or body field, a body that is not a JSON object',
  '401': 'UNAUTHENTICATED: missing, expired or invalid token',
  '413': 'PAYLOAD_TOO_LARGE / JSON_TOO_MANY_KEYS: body over BODY_LIMIT or too many keys',
  '415':
    'UNSUPPORTED_MEDIA_TYPE / UNSUPPORTED_CHARSET / UNSUPPORTED_CONTENT_ENCODING: a body that is not UTF-8 JSON without content coding',
  '429': 'RATE_LIMITED: too many requests (Retry-After says when to retry)',
  '500': 'INTERNAL_ERROR: an unexpected failure (logged); nothing half-done is committed',
  '503':
    'DATABASE_UNAVAILABLE / QUEUE_UNAVAILABLE: PostgreSQL or Redis cannot be reached or does not answer in time; nothing was changed (Retry-After says when to retry)',
};

/** a write that waited longer than DATABASE_LOCK_TIMEOUT_MS for a row another request holds */
const PROCESS_BUSY =
  'PROCESS_BUSY: the record is being changed by another request for longer than DATABASE_LOCK_TIMEOUT_MS; nothing was changed (Retry-After)';

/** Every operation: the error schema on each 4xx/5xx answer, and the answers any request may get. */
function completeOperation(op: OperationObject, write: boolean): void {
  const responses: ResponsesObject = op.responses;
  for (const p of op.parameters ?? []) {
    // every `:id` goes through UuidPipe (400 INVALID_ID otherwise)
    if (!('$ref' in p) && p.in === 'path' && p.name === 'id' && p.schema && !('$ref' in p.schema)) {
      p.schema.format = 'uuid';
    }
  }
  const isPublic = !op.security || op.security.length === 0;
  if (isPublic) op.security = [];
  // the edge checks every request before its route (docs/security.md): the URL and query (400), and a body
  // sent to any route, declared or not (413, 415)
  // and every answer may meet a dependency that is down (503; /health declares its own) or, for a write, a
  // row held by a slower request (409 PROCESS_BUSY, beside the operation's own 409s)
  const common = [...(isPublic ? [] : ['401']), '400', '413', '415', '429', '500', '503'];
  for (const status of common) {
    responses[status] ??= { description: ERROR_DESCRIPTIONS[status]! };
  }
  if (write) {
    const conflict = responses['409'];
    if (!conflict) responses['409'] = { description: PROCESS_BUSY };
    else if (!('$ref' in conflict) && !conflict.description.includes('PROCESS_BUSY'))
      conflict.description = `${conflict.description}; ${PROCESS_BUSY}`;
  }
  for (const [status, response] of Object.entries(responses)) {
    if (!response || Number(status) < 400 || '$ref' in response) continue;
    // /health answers 503 with its own (terminus) JSON body, declared on the controller; any other error is the
    // error schema in JSON, also where the success is a download (history export)
    if (response.content?.['application/json']?.schema) continue;
    response.content = { 'application/json': { schema: ref(ERROR) } };
  }
}
