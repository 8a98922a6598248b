import { nonBlankPattern, refusedCharacterClass } from '@gigledger/chaincode/model';
import { z } from 'zod';
import type { RouteSpec } from '../http/route.js';

export const errorBodySchema = z
  .object({
    status: z.number().int(),
    code: z.string().describe('Stable error code, e.g. VALIDATION_FAILED, FORBIDDEN, INVALID_STATE'),
    message: z.string(),
    field: z.string().optional().describe('The input field at fault, e.g. body.milestones.0.amount'),
    requestId: z.string().describe("The HTTP request's own id, as in x-request-id and the server's logs"),
    commandRequestId: z
      .string()
      .optional()
      .describe(
        "A command's request id (the body's requestId, the Idempotency-Key, or the HTTP request's own id): the id to send again with",
      ),
    transactionId: z
      .string()
      .optional()
      .describe(
        "The Fabric transaction id the command was proposed under. Only with ORDERING_FAILED (503), COMMIT_STATUS_UNKNOWN (504) and COMMIT_FAILED (409) was it handed to ordering; with a refusal, ENDORSEMENT_FAILED or PEERS_BUSY nothing was ordered, and the id names the proposal in the peers' logs only",
      ),
  })
  .describe('The one shape of every error answer');

const errorDescriptions: Record<number, string> = {
  400: 'Malformed request: a body that is not JSON, an undecodable path',
  401: 'No valid bearer token or API key',
  403: 'The caller may not do this',
  404: 'No such object, or not visible to the caller',
  408: 'The request line, headers or body did not arrive in time; the connection is closed after the answer',
  409: 'Conflicts with the current state of the object',
  422: 'Input fails validation; `field` names it',
  413: 'The request body is larger than 1 MB',
  415: 'The request body is not JSON, or in an unsupported encoding or charset',
  429: 'Rate limit reached; try again after `Retry-After` seconds',
  431: 'The request line and headers together exceed 16 KB; the connection is closed after the answer',
  500: 'Unexpected error; quote the request id',
  503: 'Endorsement or ordering failed, the peers were at capacity (PEERS_BUSY: nothing was sent), a service did not answer, or the database was busy; try again after `Retry-After` seconds',
  504: 'Sent for ordering but the commit status is not known yet; send it again with the same request id after `Retry-After` seconds',
};

/**
 * A zod schema as JSON Schema for the document. Definitions zod puts in a schema's own
 * `$defs` would be referred to as `#/$defs/…`, which resolves against the document's
 * root in OpenAPI 3.1 and so would dangle: they are refused here rather than emitted.
 *
 * @throws Error when a schema carries definitions of its own.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  const { $schema: _dialect, $defs, ...rest } = converted as Record<string, unknown>;
  if ($defs !== undefined) throw new Error('a schema of the REST API carries $defs; inline it or make it a component');
  return rest;
}

/** Text without the characters requests may not hold (chaincode model `text-controls`). */
const withoutRefusedCharacters = `^${refusedCharacterClass.replace('[', '[^')}*$`;
/** The same, with at least one character `trim` keeps ({@link nonBlankPattern}). */
const nonBlankWithoutRefusedCharacters = (() => {
  const allowed = refusedCharacterClass.replace('[', '[^');
  const kept = nonBlankPattern.replace('[^', `[^${refusedCharacterClass.slice(1, -1)}`);
  return `^${allowed}*${kept}${allowed}*$`;
})();

/**
 * Adds the rule every non-verbatim operation applies to the text it takes (see
 * `refuseControlText`) to each string of an input schema that does not already constrain
 * its characters: a free string gets a `pattern` of allowed characters, a not-blank one
 * the pattern of both rules. Strings with a pattern of their own (identifiers, hashes,
 * dates) or a `format`, `enum` or `const` allow none of the refused characters already.
 * Object keys (`propertyNames`) are strings too.
 */
function withTextRule(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withTextRule);
  if (typeof node !== 'object' || node === null) return node;
  const schema = Object.fromEntries(
    Object.entries(node as Record<string, unknown>).map(([key, value]) => [key, withTextRule(value)]),
  );
  if (schema.type !== 'string' || 'format' in schema || 'enum' in schema || 'const' in schema) return schema;
  if (schema.pattern === undefined) return { ...schema, pattern: withoutRefusedCharacters };
  if (schema.pattern === nonBlankPattern) return { ...schema, pattern: nonBlankWithoutRefusedCharacters };
  return schema;
}

/** The JSON Schema of a route's success answer, exactly as the document declares it. */
export function successSchemaOf(spec: RouteSpec): Record<string, unknown> {
  return jsonSchema(spec.response, 'output');
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** A route's input schema as the document states it: with the text rule unless the route takes text verbatim. */
function inputSchemaOf(schema: z.ZodType, textRule: boolean): Record<string, unknown> {
  const converted = jsonSchema(schema, 'input');
  return textRule ? (withTextRule(converted) as Record<string, unknown>) : converted;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query', textRule: boolean): unknown[] {
  if (schema === undefined) return [];
  const converted = inputSchemaOf(schema, textRule) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(converted.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (converted.required ?? []).includes(name),
    schema: property,
  }));
}

/** Refusals that say when to try again (RFC 9110 §10.2.3). */
const retryAfterStatuses = new Set([429, 503, 504]);
const retryAfterHeader = {
  description: 'Seconds to wait before sending the request again',
  schema: { type: 'string', pattern: '^[0-9]+$' },
};

/**
 * The OpenAPI 3.1 document of the REST API, generated from the same route specs and
 * zod schemas the handlers validate with, so the two cannot disagree.
 */
export function openApiDocument(routes: readonly RouteSpec[], info: { version: string; serverUrl?: string }): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const responses: Record<string, unknown> = {
      [String(spec.status ?? 200)]: {
        description: 'Success',
        ...(spec.responseHeaders === undefined
          ? {}
          : {
              headers: Object.fromEntries(
                spec.responseHeaders.map((header) => [
                  header.name,
                  { description: header.description, schema: { type: 'string' } },
                ]),
              ),
            }),
        content: { 'application/json': { schema: successSchemaOf(spec) } },
      },
    };
    const statuses = new Set([
      // More than one credential is refused before any route, public ones included.
      400,
      // A credential that is not valid is refused, public operations included (sending none is what they take).
      401,
      ...(spec.access === 'public' || spec.access === 'signed-in' ? [] : [403]),
      // Every operation refuses a query parameter or body member it does not declare.
      422,
      // Any request's body is read before its route, so a malformed or oversized one is
      // refused even where the operation takes none.
      413,
      415,
      // Refused by the HTTP parser before any route (`client-errors.ts`), in the same shape.
      408,
      431,
      429,
      500,
      ...(spec.errors ?? []),
    ]);
    for (const status of [...statuses].sort()) {
      responses[String(status)] = {
        description: errorDescriptions[status] ?? 'Error',
        ...(retryAfterStatuses.has(status) ? { headers: { 'Retry-After': retryAfterHeader } } : {}),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    // Verbatim operations (passwords, signed callbacks, documents re-sent to be checked) take any text.
    const textRule = spec.verbatimText !== true && spec.signedBody !== true;
    const operation = {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.access === 'public'
        ? { security: [] }
        : spec.access === 'signed-in'
          ? {}
          : { 'x-required-scope': spec.access }),
      parameters: [
        ...parameters(spec.params, 'path', textRule),
        ...parameters(spec.query, 'query', textRule),
        ...(spec.headers ?? []).map((header) => ({
          name: header.name,
          in: 'header',
          required: false,
          description: header.description,
          schema: header.schema === undefined ? { type: 'string' } : jsonSchema(header.schema, 'input'),
        })),
      ],
      ...(spec.body === undefined
        ? {}
        : {
            requestBody: {
              // A request without a body is read as `{}`: where that is a valid body, none is needed.
              required: !spec.body.safeParse({}).success,
              content: { 'application/json': { schema: inputSchemaOf(spec.body, textRule) } },
            },
          }),
      responses,
    };
    const path = openApiPath(spec.path);
    paths[path] = { ...paths[path], [spec.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'GigLedger API',
      version: info.version,
      description:
        'Commands over REST; queries, mutations and subscriptions over GraphQL at /graphql. Errors share one shape (Error).',
    },
    ...(info.serverUrl === undefined ? {} : { servers: [{ url: info.serverUrl }] }),
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
    },
    paths,
  };
}
