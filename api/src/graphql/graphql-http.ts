import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { getOperationAST, parse } from 'graphql';
import { findNonCanonical } from '@gigledger/chaincode/model';
import { ApiError } from '../errors/api-error.js';
import { assertJsonDepth, assertUtf8Body, assertUtf8Json, maxRequestBodyBytes } from '../http/json-limits.js';
import { assertUniqueMemberNames } from '../http/json-member-names.js';
import type { RateLimit } from '../http/rate-limits.js';
import { documentNesting, maxDocumentNesting } from './document-nesting.js';
import { graphiqlContentSecurityPolicy } from '../http/response-headers.js';
import type { FieldAccess, GraphqlContext } from './context.js';
import { getParameters, type GetParameters } from './get-parameters.js';
import { refusingCallersOfNoField } from './field-access.js';

/** The bytes of each POST body as received, for checks JSON.parse cannot make (duplicate names). */
const rawBodies = new WeakMap<object, Buffer>();

/** The bytes of a POSTed GraphQL request as received, once its body was read; undefined before (or for a GET). */
export function graphqlRequestBytes(request: Request): Buffer | undefined {
  return rawBodies.get(request);
}

/** Tokens a document may have: the bound yoga's parser applies, and the gate's for a GET subscription. */
export const maxDocumentTokens = 4000;

function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, 'METHOD_NOT_ALLOWED', message);
}

function accepts(request: Request, type: string): boolean {
  return (request.get('accept') ?? '').toLowerCase().includes(type);
}

/** What yoga can answer a POST in: a GraphQL response as JSON, or a stream of them. */
const answerMediaTypes = [
  'application/graphql-response+json',
  'application/json',
  'text/event-stream',
  'multipart/mixed',
];

/**
 * Refuses a POST whose Accept header allows none of {@link answerMediaTypes} (yoga would
 * answer it 406 with no body); no Accept header means any.
 *
 * @throws ApiError 406 NOT_ACCEPTABLE naming `header.accept`.
 */
function assertAnswerable(request: Request): void {
  if (request.get('accept') === undefined || request.accepts(answerMediaTypes) !== false) return;
  throw new ApiError(
    406,
    'NOT_ACCEPTABLE',
    `header.accept: a GraphQL answer is ${answerMediaTypes.slice(0, 2).join(' or ')} (${answerMediaTypes.slice(2).join(' or ')} for a stream)`,
    'header.accept',
  );
}

/**
 * Refuses a document nested deeper than the parser can take, naming its field
 * (`query`, or `1.query` in a batch).
 *
 * @throws ApiError 422 VALIDATION_FAILED.
 */
function assertDocumentNesting(query: unknown, field: string): void {
  if (typeof query === 'string' && documentNesting(query) > maxDocumentNesting) {
    throw new ApiError(
      422,
      'VALIDATION_FAILED',
      `${field}: nests brackets deeper than ${String(maxDocumentNesting)} levels`,
      field,
    );
  }
}

/**
 * Refuses variables with a part that has no canonical encoding (a lone surrogate, a
 * `__proto__` key): an auditor's or HR system's read is logged with its arguments as
 * canonical JSON before it is answered, so such a read would otherwise fail as
 * READ_LOG_UNAVAILABLE (503), and a command's hashed input is refused the same way over
 * REST (`body.<path>`). GraphQL's own lexer already refuses a lone surrogate written in
 * the document.
 *
 * @throws ApiError 422 VALIDATION_FAILED naming `<field>.<path>`.
 */
function assertCanonicalVariables(variables: unknown, field: string): void {
  if (variables === undefined || variables === null) return;
  const part = findNonCanonical(variables);
  if (part === undefined) return;
  const named = [field, ...part.path.map(String)].join('.');
  throw new ApiError(422, 'VALIDATION_FAILED', `${named}: ${part.message}`, named);
}

/**
 * Refuses a GET's `variables` or `extensions` that is not a JSON object (yoga would parse
 * it and fail with a 500), naming the parameter.
 *
 * @throws ApiError 400 MALFORMED_REQUEST `query.variables` / `query.extensions`; 422
 *   VALIDATION_FAILED `query.variables.<path>` for a part with no canonical encoding.
 */
function assertJsonObjectParameters(parameters: GetParameters): void {
  for (const name of ['variables', 'extensions'] as const) {
    const value = parameters[name];
    if (value === undefined) continue;
    const field = `query.${name}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ApiError(400, 'MALFORMED_REQUEST', `${field}: must be one JSON object`, field);
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ApiError(400, 'MALFORMED_REQUEST', `${field}: must be one JSON object`, field);
    }
    assertJsonDepth(parsed, field);
    assertUniqueMemberNames(value, field);
    if (name === 'variables') assertCanonicalVariables(parsed, field);
  }
}

/**
 * The operation a GET request names, or undefined when yoga should answer (it then
 * executes nothing).
 *
 * @throws ApiError 422 VALIDATION_FAILED when the document nests too deeply to parse.
 */
function getOperationType(parameters: GetParameters): string | undefined {
  const { query } = parameters;
  if (query === undefined) return undefined;
  assertDocumentNesting(query, 'query');
  // Yoga runs the only operation for an empty name, as for none.
  const operationName = parameters.operationName === '' ? undefined : parameters.operationName;
  try {
    return getOperationAST(parse(query, { maxTokens: maxDocumentTokens }), operationName)?.operation;
  } catch {
    return undefined;
  }
}

/**
 * Lets through only what may execute: a JSON POST, or a GET that subscribes over
 * server-sent events (what `EventSource` can send), or, when enabled, a browser asking
 * for the GraphiQL page. A GET could otherwise run queries from a link or an `<img>`,
 * and a form post mutations from any page, without a CORS preflight.
 */
function methodAndMediaType(options: { graphiql: boolean }): RequestHandler {
  return (request, response, next) => {
    if (request.method === 'POST') {
      if (typeof request.is('application/json') !== 'string') {
        next(
          new ApiError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'header.content-type: GraphQL operations are sent as JSON (Content-Type: application/json)',
            'header.content-type',
          ),
        );
        return;
      }
      try {
        assertUtf8Json(request.headers['content-type']);
        assertAnswerable(request);
      } catch (error) {
        next(error);
        return;
      }
      next();
      return;
    }
    if (request.method === 'GET') {
      let parameters: GetParameters;
      try {
        parameters = getParameters(request);
      } catch (error) {
        next(error);
        return;
      }
      if (options.graphiql && accepts(request, 'text/html') && parameters.query === undefined) {
        response.setHeader('Content-Security-Policy', graphiqlContentSecurityPolicy);
        next();
        return;
      }
      if (!accepts(request, 'text/event-stream')) {
        let operation: string | undefined;
        try {
          operation = getOperationType(parameters);
        } catch {
          operation = undefined;
        }
        if (operation === 'subscription') {
          // A subscription asked for without naming a stream type: the right method, and
          // an Accept that allows one (`*/*`, `text/*`, none) gets one; any other is refused.
          if (request.accepts('text/event-stream') === false) {
            next(
              new ApiError(
                406,
                'NOT_ACCEPTABLE',
                'header.accept: a subscription streams as server-sent events; send Accept: text/event-stream',
                'header.accept',
              ),
            );
            return;
          }
          // Yoga streams only for the type named.
          request.headers.accept = 'text/event-stream';
        }
      }
      if (accepts(request, 'text/event-stream')) {
        let operation: string | undefined;
        try {
          assertJsonObjectParameters(parameters);
          operation = getOperationType(parameters);
        } catch (error) {
          next(error);
          return;
        }
        if (operation === undefined || operation === 'subscription') {
          next();
          return;
        }
      }
      response.setHeader('Allow', 'POST');
      next(
        methodNotAllowed(
          'queries and mutations are sent as JSON POSTs; GET serves only subscriptions over server-sent events',
        ),
      );
      return;
    }
    response.setHeader('Allow', 'GET, OPTIONS, POST');
    next(methodNotAllowed(`${request.method} is not a GraphQL method; send a JSON POST`));
  };
}

/**
 * Whether a POSTed operation is a subscription whose caller does not accept its stream,
 * server-sent events (the one transport subscriptions have here; multipart/mixed answers
 * queries only): yoga would hold such a request open without a status line until the
 * first event, or answer 406 with no body. The document is parsed only when its text can
 * hold a subscription at all.
 */
function subscribesWithoutStream(request: Request, body: object): boolean {
  if (accepts(request, 'text/event-stream')) return false;
  const { query, operationName } = body as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string' || !query.includes('subscription')) return false;
  return (
    getOperationType({ query, ...(typeof operationName === 'string' ? { operationName } : {}) }) === 'subscription'
  );
}

const isJsonObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The members GraphQL over HTTP defines for a request; yoga refuses any other. */
const requestMembers: ReadonlySet<string> = new Set(['query', 'operationName', 'variables', 'extensions']);

/**
 * The first member of a POSTed GraphQL request of the wrong type, as GraphQL over HTTP
 * defines them (`query` a string; `operationName` a string or null; `variables` and
 * `extensions` a map or null), or of another name, named under `prefix` (`` or a batch
 * entry's `N.`); yoga would refuse it as BAD_REQUEST naming no field.
 */
function malformedMember(operation: object, prefix: string): ApiError | undefined {
  const { query, operationName, variables, extensions } = operation as Record<string, unknown>;
  const refused = (member: string, reason: string) =>
    new ApiError(400, 'MALFORMED_REQUEST', `${prefix}${member}: ${reason}`, `${prefix}${member}`);
  if (query === undefined) return refused('query', 'is missing: a GraphQL request carries its document');
  if (typeof query !== 'string') return refused('query', 'must be a string holding the GraphQL document');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
    return refused('operationName', 'must be a string or null');
  }
  if (variables !== undefined && variables !== null && !isJsonObject(variables)) {
    return refused('variables', 'must be one JSON object (or null)');
  }
  if (extensions !== undefined && extensions !== null && !isJsonObject(extensions)) {
    return refused('extensions', 'must be one JSON object (or null)');
  }
  const unknown = Object.keys(operation).find((member) => !requestMembers.has(member));
  if (unknown !== undefined) {
    return refused(unknown, `is not a member of a GraphQL request (${[...requestMembers].join(', ')})`);
  }
  return undefined;
}

/**
 * Checks what the body parser read: a request or a batch of them (413
 * QUERY_LIMIT_EXCEEDED past GRAPHQL_MAX_BATCH), nesting no deeper than the API accepts,
 * and charges every operation of a batch beyond the first against the caller's rate
 * limit (the request itself was counted already).
 */
function parsedRequest(options: { rateLimit: RateLimit; maxBatch: number }) {
  return (request: Request, response: Response, next: NextFunction) => {
    if (request.method !== 'POST') {
      next();
      return;
    }
    const body: unknown = request.body;
    const operations = Array.isArray(body) ? body.length : 1;
    // An empty body would send yoga back to a stream the parser has already read. The
    // parser leaves `{}` for a body of no bytes, so those are told by the bytes received.
    const received = rawBodies.get(request)?.length ?? 0;
    if (received === 0 || body === null || typeof body !== 'object' || (Array.isArray(body) && body.length === 0)) {
      next(
        new ApiError(400, 'MALFORMED_REQUEST', 'body: must be a GraphQL request or a non-empty batch of them', 'body'),
      );
      return;
    }
    // Refused like an empty batch: a batch entry that is no request object is a malformed body, not an operation.
    const notRequest = Array.isArray(body)
      ? body.findIndex((operation) => operation === null || typeof operation !== 'object' || Array.isArray(operation))
      : -1;
    if (notRequest >= 0) {
      const field = String(notRequest);
      next(
        new ApiError(
          400,
          'MALFORMED_REQUEST',
          `${field}: each entry of a batch must be a GraphQL request object`,
          field,
        ),
      );
      return;
    }
    const malformed = Array.isArray(body)
      ? body.map((operation: object, index) => malformedMember(operation, `${String(index)}.`)).find(Boolean)
      : malformedMember(body, '');
    if (malformed !== undefined) {
      next(malformed);
      return;
    }
    // An empty operation name runs the only operation, as over GET (yoga would look for an operation named "").
    for (const operation of Array.isArray(body) ? (body as object[]) : [body]) {
      if ((operation as { operationName?: unknown }).operationName === '') {
        delete (operation as { operationName?: unknown }).operationName;
      }
    }
    try {
      assertUtf8Body(rawBodies.get(request));
      assertJsonDepth(body, '');
      assertUniqueMemberNames(rawBodies.get(request), '');
      if (Array.isArray(body)) {
        body.forEach((operation, index) => {
          assertDocumentNesting((operation as { query?: unknown } | null)?.query, `${String(index)}.query`);
          assertCanonicalVariables((operation as { variables?: unknown }).variables, `${String(index)}.variables`);
        });
      } else {
        assertDocumentNesting((body as { query?: unknown }).query, 'query');
        assertCanonicalVariables((body as { variables?: unknown }).variables, 'variables');
      }
    } catch (error) {
      next(error);
      return;
    }
    if (!Array.isArray(body) && subscribesWithoutStream(request, body)) {
      next(
        new ApiError(
          406,
          'NOT_ACCEPTABLE',
          'header.accept: a subscription answers as a stream of server-sent events; accept text/event-stream',
          'header.accept',
        ),
      );
      return;
    }
    if (operations > options.maxBatch) {
      next(
        new ApiError(
          413,
          'QUERY_LIMIT_EXCEEDED',
          `a batch holds at most ${String(options.maxBatch)} operations (GRAPHQL_MAX_BATCH); this one holds ${String(operations)}`,
          'body',
        ),
      );
      return;
    }
    if (operations < 2) {
      next();
      return;
    }
    options.rateLimit.charge(request, response, operations - 1).then(() => {
      next();
    }, next);
  };
}

/**
 * Whether a request that passed the gate opens a subscription: a GET (the gate lets
 * through only subscriptions and the GraphiQL page) naming one, or a single POSTed
 * operation that is one.
 */
function opensSubscription(request: Request): boolean {
  const { query, operationName } =
    request.method === 'GET'
      ? getParameters(request)
      : Array.isArray(request.body)
        ? {}
        : (request.body as { query?: unknown; operationName?: unknown });
  if (typeof query !== 'string' || !query.includes('subscription')) return false;
  try {
    return (
      getOperationType({ query, ...(typeof operationName === 'string' ? { operationName } : {}) }) === 'subscription'
    );
  } catch {
    return false;
  }
}

/**
 * Caps the subscriptions one caller holds open at once in this process: each holds a
 * connection and a listener for as long as the client keeps it, so one token could
 * otherwise hold the process's file descriptors. The count drops as each connection
 * closes. Counted per process: with API_WORKERS, a caller may hold the cap in each.
 *
 * @throws ApiError 429 TOO_MANY_SUBSCRIPTIONS (to the error handler) past the cap.
 */
function subscriptionsPerCaller(maxOpen: number): RequestHandler {
  const open = new Map<string, number>();
  return (request, response, next) => {
    const principal = (response.locals as Partial<GraphqlContext>).principal;
    if (principal === undefined || !opensSubscription(request)) {
      next();
      return;
    }
    const caller = `${principal.kind}:${principal.id}`;
    const held = open.get(caller) ?? 0;
    if (held >= maxOpen) {
      next(
        new ApiError(
          429,
          'TOO_MANY_SUBSCRIPTIONS',
          `the caller holds ${String(held)} open subscriptions, the most GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER allows; close one first`,
        ),
      );
      return;
    }
    open.set(caller, held + 1);
    response.once('close', () => {
      const left = (open.get(caller) ?? 1) - 1;
      if (left > 0) open.set(caller, left);
      else open.delete(caller);
    });
    next();
  };
}

/**
 * What runs in front of yoga on /graphql: the method and media type, the body read with
 * the REST limit before anything parses it (413 past it, also after inflating), its
 * depth, the rate limit per operation, and the caller's access to at least one field of
 * each operation.
 *
 * Errors go to the central error handler: 405 METHOD_NOT_ALLOWED, 406 NOT_ACCEPTABLE
 * (a subscription POSTed without accepting a stream), 415
 * UNSUPPORTED_MEDIA_TYPE/UNSUPPORTED_CHARSET/UNSUPPORTED_ENCODING, 413
 * PAYLOAD_TOO_LARGE or QUERY_LIMIT_EXCEEDED (a batch too long), 400 MALFORMED_REQUEST,
 * 422 VALIDATION_FAILED, 429 RATE_LIMITED or TOO_MANY_SUBSCRIPTIONS. An operation the
 * caller may call no field of is answered by the gate itself, 401 or 403 (see
 * `refusingCallersOfNoField`).
 */
export function graphqlRequestGate(options: {
  readonly graphiql: boolean;
  readonly rateLimit: RateLimit;
  readonly maxBatch: number;
  /** Open subscriptions per caller in this process (see `subscriptionsPerCaller`). */
  readonly maxSubscriptionsPerCaller: number;
  /** The access of every root field (see `declaredAccess`). */
  readonly access: ReadonlyMap<string, FieldAccess>;
}): RequestHandler[] {
  return [
    methodAndMediaType(options),
    express.json({
      limit: maxRequestBodyBytes,
      type: 'application/json',
      verify: (request, _response, buffer) => {
        rawBodies.set(request, buffer);
      },
    }),
    parsedRequest(options),
    refusingCallersOfNoField(options.access),
    subscriptionsPerCaller(options.maxSubscriptionsPerCaller),
  ];
}
