import type { Request, RequestHandler, Response } from 'express';
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

function rateLimited(perMinute: number): ApiError {
  return new ApiError(429, 'RATE_LIMITED', `at most ${String(perMinute)} requests a minute; try again later`);
}

/** Where a limit's counts live. */
export interface RateLimitStoreOptions {
  /**
   * The counts' store: in an HTTP worker of the API cluster, the primary's (so that N
   * workers are not N times more permissive); this process's memory without one.
   */
  readonly store?: Store | undefined;
}

/**
 * A limit of `perMinute` requests per caller: per principal once the caller is
 * identified, per address before that (or for anonymous callers).
 */
export function callerRateLimit(perMinute: number, options: RateLimitStoreOptions = {}): RateLimit {
  const store: Store = options.store ?? new MemoryStore();
  const middleware = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store,
    keyGenerator: callerKey,
    // Through the error handler, which answers in the shape of the endpoint (REST or GraphQL).
    handler: (_request, _response, next) => {
      next(rateLimited(perMinute));
    },
  });
  return {
    middleware,
    async charge(request, response, count) {
      const key = callerKey(request, response);
      let totalHits = 0;
      let resetTime: Date | undefined;
      for (let hit = 0; hit < count; hit += 1) ({ totalHits, resetTime } = await store.increment(key));
      if (totalHits > perMinute) {
        const seconds = resetTime === undefined ? 60 : Math.ceil((resetTime.getTime() - Date.now()) / 1000);
        response.setHeader('retry-after', String(Math.max(1, seconds)));
        throw rateLimited(perMinute);
      }
    },
  };
}
