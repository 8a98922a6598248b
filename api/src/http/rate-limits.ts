import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit, type Store } from 'express-rate-limit';
import { ApiError } from '../errors/api-error.js';

/** A per-minute limit whose middleware counts one per request, and which can charge more. */
export interface RateLimit {
  /** Counts the request and answers 429 RATE_LIMITED once the caller is over the limit. */
  readonly middleware: RequestHandler;
  /**
   * Counts `count` more against the caller of a request the middleware already let
   * through (e.g. the further operations of a GraphQL batch).
   *
   * @throws ApiError 429 RATE_LIMITED when that takes the caller over the limit (and sets
   *   `Retry-After` to the seconds left in the window).
   */
  charge(request: Request, response: Response, count: number): Promise<void>;
}

/** The principal when there is one, else the address (IPv6 by its /56). */
function callerKey(request: Request, response: Response): string {
  const principal = response.locals.principal;
  return principal === undefined
    ? `address:${ipKeyGenerator(request.ip ?? 'unknown')}`
    : `principal:${principal.kind}:${principal.id}`;
}

function rateLimited(perMinute: number, counted: string): ApiError {
  return new ApiError(429, 'RATE_LIMITED', `at most ${String(perMinute)} ${counted} a minute; try again later`);
}

/** Requests some limit has counted, so that one refused before any limit saw it is counted once (see {@link refusalsCounted}). */
const countedRequests = new WeakSet<Request>();

/** Where a limit's counts live. */
export interface RateLimitStoreOptions {
  /**
   * The counts' store: in an HTTP worker of the API cluster, the primary's (so that N
   * workers are not N times more permissive); this process's memory without one.
   */
  readonly store?: Store | undefined;
  /** What the limit counts, in its refusal's words: `requests` unless said. */
  readonly counted?: string;
}

/**
 * A limit of `perMinute` requests per caller: per principal once the caller is
 * identified, per address before that (or for anonymous callers).
 */
export function callerRateLimit(perMinute: number, options: RateLimitStoreOptions = {}): RateLimit {
  const store: Store = options.store ?? new MemoryStore();
  const counted = options.counted ?? 'requests';
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store,
    keyGenerator: callerKey,
    // Through the error handler, which answers in the shape of the endpoint (REST or GraphQL).
    handler: (_request, _response, next) => {
      next(rateLimited(perMinute, counted));
    },
  });
  return {
    middleware: (request, response, next) => {
      // Once per request, wherever it is first counted (a console path no file answers goes on to the API's 404).
      if (countedRequests.has(request)) {
        next();
        return;
      }
      countedRequests.add(request);
      return limiter(request, response, next);
    },
    async charge(request, response, count) {
      countedRequests.add(request);
      const key = callerKey(request, response);
      let totalHits = 0;
      let resetTime: Date | undefined;
      for (let hit = 0; hit < count; hit += 1) ({ totalHits, resetTime } = await store.increment(key));
      if (totalHits > perMinute) {
        const seconds = resetTime === undefined ? 60 : Math.ceil((resetTime.getTime() - Date.now()) / 1000);
        response.setHeader('retry-after', String(Math.max(1, seconds)));
        throw rateLimited(perMinute, counted);
      }
    },
  };
}

/**
 * Counts each refused request that no limit has counted yet and that `counts` picks
 * against `limit`, per caller (per address, as such requests come before their caller is
 * known), and answers 429 `RATE_LIMITED` with `Retry-After` instead once the caller is over
 * it: refusing a request costs the server as much as answering one, and requests refused
 * before any limit saw them (a body that is not JSON, an encoding the API does not take, an
 * undecodable path, a body over the size limit) were otherwise never limited. Registered
 * after every route, as an error handler.
 */
export function refusalsCounted(
  limit: RateLimit,
  counts: (request: Request, error: unknown) => boolean,
): ErrorRequestHandler {
  return (error: unknown, request, response, next) => {
    if (countedRequests.has(request) || !counts(request, error)) {
      next(error);
      return;
    }
    limit.charge(request, response, 1).then(() => {
      next(error);
    }, next);
  };
}

/**
 * Whether an error refuses the sender (a 4xx: an ApiError's, a body parser's) rather than
 * being a failure of the server's own (5xx: a service off, the database busy).
 */
export function refusesSender(error: unknown): boolean {
  const status: unknown = error instanceof ApiError ? error.status : (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
