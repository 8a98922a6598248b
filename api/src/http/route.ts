import { Router, type NextFunction, type Request, type Response } from 'express';
import { match } from 'path-to-regexp';
import { z } from 'zod';
import type { Logger } from 'pino';
import { requirePrincipal } from '../auth/authenticate.js';
import { requirePersonFor } from '../auth/person-only.js';
import type { Access, Principal } from '../auth/principal.js';
import { escapeControlText, findNonCanonical, findRefusedText, issueReason } from '@gigledger/chaincode/model';
import { ApiError } from '../errors/api-error.js';
import { declaredResponseCheck } from './response-check.js';
import { refusalsUnderSentParts } from './refusal-fields.js';
import { idempotencyKeyHeader, requestIdRefusalUnderHeader, withRequestId } from './request-ids.js';

type Method = 'get' | 'post' | 'put' | 'delete';

/** What a handler receives: validated input and the caller. */
export interface RouteInput<Params, Query, Body> {
  readonly params: Params;
  readonly query: Query;
  readonly body: Body;
  /** Undefined only on public routes. */
  readonly principal: Principal | undefined;
  readonly log: Logger;
  readonly requestId: string;
  /** A request header, e.g. `idempotency-key`. */
  readonly header: (name: string) => string | undefined;
  /** Sets a response header, e.g. `Location` of a created resource. */
  readonly setHeader: (name: string, value: string) => void;
  /** The JSON body exactly as it arrived, for signature checks over its bytes. */
  readonly rawBody: Buffer | undefined;
  /** Every request header, for signature checks. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What the JSON body parser keeps of the bytes it read. */
export interface RequestWithRawBody {
  rawBody?: Buffer;
}

/**
 * One REST operation: its HTTP shape, who may call it, the schemas its input is
 * validated with (and the OpenAPI document is generated from), and its handler.
 */
export interface RouteSpec<
  Params extends z.ZodType = z.ZodType,
  Query extends z.ZodType = z.ZodType,
  Body extends z.ZodType = z.ZodType,
  Result extends z.ZodType = z.ZodType,
  IsCommand extends boolean = boolean,
> {
  readonly method: Method;
  /** Express path, e.g. `/v1/agreements/:agreementId`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** Who may call it (see {@link Access}). */
  readonly access: Access;
  /**
   * An act only a person may do, as a phrase after "may" (see requirePersonFor): an API
   * key holding the scope is refused 403 before its input is judged.
   */
  readonly personOnly?: string;
  readonly params?: Params;
  readonly query?: Query;
  readonly body?: Body;
  /**
   * The operation takes text exactly as sent and stores none of it as the caller's own:
   * a password, a provider's signed message (whose signature is checked first), or a
   * document re-sent to be checked against what the ledger holds (which may predate the
   * rule). Every other operation refuses control and bidirectional formatting characters
   * in its path, query and body (see {@link refuseControlText}).
   */
  readonly verbatimText?: true;
  /**
   * The body is a signed message (a provider's callback), read only once the handler has
   * checked its signature: none of the JSON checks in front of the other routes (media
   * type, charset, parsing, depth, repeated member names) runs before it, so an unsigned
   * or forged message is refused as such (401) whatever its bytes. The handler gets the
   * bytes as `rawBody`, and `body` is never parsed; `body` here documents the message.
   * Implies {@link verbatimText}.
   */
  readonly signedBody?: true;
  readonly response: Result;
  /** Success status; 200 unless it creates something. */
  readonly status?: number;
  /** Request headers the operation reads, for the OpenAPI document. */
  readonly headers?: readonly {
    readonly name: string;
    readonly description: string;
    /** What the server accepts, for the OpenAPI document; any string when absent. */
    readonly schema?: z.ZodType;
  }[];
  /** Response headers of a success, for the OpenAPI document (e.g. `Link` of a list's next page). */
  readonly responseHeaders?: readonly { readonly name: string; readonly description: string }[];
  /** Error statuses the operation may answer with besides 401/403/422/500. */
  readonly errors?: readonly number[];
  /**
   * A command that submits a transaction: its body takes an optional `requestId`, the
   * `Idempotency-Key` header stands in for it, and when neither is sent it runs under the
   * request's own id (`x-request-id`). The handler finds the id used in `body.requestId`;
   * the answer (`committedSchema`) returns it, so any command can be retried safely.
   */
  readonly command?: IsCommand;
  /**
   * A POST that only reads (a document checked against the ledger, a statement of what it
   * holds exported): logged in the read log like a GET when an auditor or HR system sends
   * it, its body among the arguments (see `restReadLog`).
   */
  readonly reads?: true;
  readonly handler: (
    input: RouteInput<
      z.output<Params>,
      z.output<Query>,
      IsCommand extends true ? z.output<Body> & { readonly requestId: string } : z.output<Body>
    >,
  ) => Promise<z.input<Result>>;
}

/** Declares a route with its types inferred from its schemas. */
export function route<
  Params extends z.ZodType,
  Query extends z.ZodType,
  Body extends z.ZodType,
  Result extends z.ZodType,
  IsCommand extends boolean = false,
>(spec: RouteSpec<Params, Query, Body, Result, IsCommand>): RouteSpec {
  if (spec.command !== true) return spec;
  return { ...spec, headers: [idempotencyKeyHeader, ...(spec.headers ?? [])] } as RouteSpec;
}

/**
 * Validates one part of the request, naming the first field at fault as
 * `<part>.<path>` (e.g. `body.milestones.0.amount`).
 *
 * @throws ApiError 422 VALIDATION_FAILED.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, part: string): z.output<Schema> {
  return parseAt(schema, value, [part]);
}

/**
 * Validates a GraphQL field's arguments as one object, naming the first argument at
 * fault by its own path (`offerId`, `owner.mspId`): the arguments are the top level of
 * a GraphQL request, so no part name precedes them (a part name equal to the argument
 * would name it twice, `offerId.offerId`).
 *
 * @throws ApiError 422 VALIDATION_FAILED.
 */
export function parseArguments<Schema extends z.ZodType>(schema: Schema, args: unknown): z.output<Schema> {
  return parseAt(schema, args, []);
}

function parseAt<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  prefix: readonly string[],
): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // An unknown key is named by its own path, as a known one at fault is: `body.agreementId`, not `body`.
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  const path = [...prefix, ...(issue?.path.map(String) ?? []), ...unknownKey];
  // Text taken as sent (a verbatim route) may hold control characters; a refusal shows them escaped.
  const field = escapeControlText(path.length === 0 ? 'args' : path.join('.'));
  const reason = escapeControlText(issueReason(issue, value));
  throw new ApiError(422, 'VALIDATION_FAILED', `${field}: ${reason}`, field);
}

/**
 * Refuses a path whose parameter is not valid percent-encoding (e.g. `%E0%A4%A`) before
 * the router tries to decode it, which fails with an error that names no parameter.
 * Matched like the router matches: case-insensitive, a trailing slash allowed.
 */
export function refuseUndecodableParameters(routes: readonly RouteSpec[]) {
  const matchers = routes.map((spec) => match(spec.path, { decode: false, sensitive: false, end: true }));
  return (request: Request, _response: Response, next: NextFunction) => {
    if (!request.path.includes('%')) {
      next();
      return;
    }
    const requestPath = request.path.length > 1 ? request.path.replace(/\/$/, '') : request.path;
    for (const matcher of matchers) {
      const matched = matcher(requestPath);
      if (matched === false) continue;
      for (const [name, raw] of Object.entries(matched.params)) {
        if (typeof raw === 'string' && !decodes(raw)) {
          const field = `path.${name}`;
          next(new ApiError(400, 'MALFORMED_REQUEST', `${field}: is not valid percent-encoded UTF-8`, field));
          return;
        }
      }
    }
    next();
  };
}

function decodes(raw: string): boolean {
  try {
    decodeURIComponent(raw);
    return true;
  } catch {
    return false;
  }
}

/** How routes are mounted. */
export interface MountOptions {
  /**
   * Check every success answer against the schema the route declares (and the OpenAPI
   * document publishes), answering 500 RESPONSE_SCHEMA_MISMATCH naming the operation
   * when it disagrees. For tests: it costs a validation per response.
   */
  readonly checkResponses?: boolean;
  /**
   * The refusal of the request's body its reader held (see `jsonBodyReaders`), answered
   * under the matched route once its caller may call it and its path parameters are valid.
   */
  readonly heldBodyRefusal?: (request: Request) => Error | undefined;
}

/** Mounts every route on a router, with validation and access checks in front of each handler. */
export function mountRoutes(routes: readonly RouteSpec[], options: MountOptions = {}): Router {
  const router = Router();
  const check = (spec: RouteSpec) => (options.checkResponses === true ? declaredResponseCheck(spec) : undefined);
  router.use(refuseUndecodableParameters(routes));
  for (const spec of routes) {
    const checkResponse = check(spec);
    router[spec.method](spec.path, async (request: Request, response: Response) => {
      // Express restores `request.params` once an error leaves this router; what answers it (the read log) reads them here.
      response.locals.routeParams = request.params;
      const principal =
        spec.access === 'public'
          ? response.locals.principal
          : requirePrincipal(response, spec.access === 'signed-in' ? undefined : spec.access);
      if (spec.personOnly !== undefined && principal !== undefined) requirePersonFor(principal, spec.personOnly);
      if (spec.verbatimText !== true && spec.signedBody !== true) {
        refuseControlText(request.params, ['path']);
        refuseControlText(request.query, ['query']);
        refuseControlText(request.body, ['body']);
      }
      const params: unknown = spec.params === undefined ? {} : parseInput(spec.params, request.params, 'path');
      const heldRefusal = options.heldBodyRefusal?.(request);
      if (heldRefusal !== undefined) throw heldRefusal;
      if (spec.query === undefined) refuseAnyQuery(request.query);
      const query: unknown = spec.query === undefined ? {} : parseInput(spec.query, request.query, 'query');
      if (spec.body === undefined) refuseAnyBody(request.body);
      const body: unknown =
        spec.body === undefined || spec.signedBody === true
          ? undefined
          : parseInput(spec.body, canonicalBody(request.body), 'body');
      const input = {
        params,
        query,
        body:
          spec.command === true ? commandBody(body, request.get('idempotency-key'), response.locals.requestId) : body,
        principal,
        log: response.locals.log,
        requestId: response.locals.requestId,
        header: (name: string) => request.get(name),
        setHeader: (name: string, value: string) => {
          response.setHeader(name, value);
        },
        rawBody: (request as RequestWithRawBody).rawBody,
        headers: request.headers,
      };
      if (spec.command === true) response.locals.commandRequestId = (input.body as { requestId: string }).requestId;
      // An id sent only as Idempotency-Key is named after the header when the ledger refuses it.
      const idFromHeader =
        spec.command === true &&
        request.get('idempotency-key') !== undefined &&
        (body as { readonly requestId?: string } | undefined)?.requestId === undefined;
      // Named by what the caller sent: a request id the command took from the header is not the body's.
      const sent = { params, query, body };
      const result = await refusalsUnderSentParts(sent, () => spec.handler(input)).catch((error: unknown) => {
        throw idFromHeader ? requestIdRefusalUnderHeader(error) : error;
      });
      checkResponse?.(result);
      response.status(spec.status ?? 200).json(result);
    });
  }
  // The router tries every route's pattern in turn; a request under none of the routes'
  // first path segments (every GraphQL request) skips them all at once. Express matches
  // paths without regard to case, and so does this.
  const firstSegment = (path: string) => (path.split('/')[1] ?? '').toLowerCase();
  const segments = new Set(routes.map((spec) => firstSegment(spec.path)));
  if ([...segments].some((segment) => segment.startsWith(':') || segment === '')) return router;
  const outer = Router();
  outer.use((request, response, next) => {
    if (segments.has(firstSegment(request.path))) {
      router(request, response, next);
      return;
    }
    next();
  });
  return outer;
}

/**
 * A command's body with the request id it runs under (see {@link RouteSpec.command}):
 * when the caller gave none, the request's own correlation id, so that every answer,
 * an error's included, names the id a retry must repeat.
 */
function commandBody(
  body: unknown,
  idempotencyKey: string | undefined,
  correlationId: string,
): { readonly requestId: string } {
  return withRequestId((body ?? {}) as { readonly requestId?: string }, idempotencyKey, () => correlationId);
}

/**
 * An operation that declares no body takes none: an empty JSON object at most. Anything
 * else is refused rather than ignored, as an unknown field of a declared body is.
 *
 * @throws ApiError 422 naming `body`.
 */
function refuseAnyBody(body: unknown): void {
  const empty =
    body === undefined ||
    (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
  if (empty) return;
  throw new ApiError(422, 'VALIDATION_FAILED', 'body: this operation takes no body; send none or {}', 'body');
}

/**
 * An operation that declares no query parameters takes none: one sent is refused rather
 * than ignored, as an unknown parameter of a declared query is.
 *
 * @throws ApiError 422 naming `query.<parameter>`.
 */
function refuseAnyQuery(query: unknown): void {
  const [name] = Object.keys(query ?? {});
  if (name === undefined) return;
  const field = `query.${name}`;
  throw new ApiError(422, 'VALIDATION_FAILED', `${field}: this operation takes no query parameters`, field);
}

/**
 * Refuses a caller's value holding a control or bidirectional formatting character in
 * any string or key (the rule and its sources are in the chaincode model's
 * `text-controls`), naming it under `prefix` (`body.title`, `input.reason`; `args` for a
 * bare GraphQL argument list) with the character escaped.
 *
 * @throws ApiError 422 VALIDATION_FAILED.
 */
export function refuseControlText(value: unknown, prefix: readonly string[]): void {
  const part = findRefusedText(value);
  if (part === undefined) return;
  const path = [...prefix, ...part.path.map(String)];
  const field = escapeControlText(path.length === 0 ? 'args' : path.join('.'));
  throw new ApiError(422, 'VALIDATION_FAILED', `${field}: ${part.message}`, field);
}

/**
 * Refuses a body with parts that have no canonical encoding (a `__proto__` key, a lone
 * surrogate) before any schema sees it: zod drops a `__proto__` key from records
 * silently, so what is stored or hashed would differ from what the caller sent.
 *
 * @throws ApiError 422 VALIDATION_FAILED naming `body.<path>`.
 */
function canonicalBody(body: unknown): unknown {
  const part = findNonCanonical(body ?? {});
  if (part === undefined) return body ?? {};
  // A key that is not well-formed is named escaped, so that the refusal stays well-formed.
  const field = escapeControlText(['body', ...part.path.map(String)].join('.'));
  throw new ApiError(422, 'VALIDATION_FAILED', `${field}: ${part.message}`, field);
}
