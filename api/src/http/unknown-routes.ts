import type { RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import { ApiError } from '../errors/api-error.js';

/** A path the server answers and a method it answers there (lower case, as Express names them). */
export interface KnownRoute {
  readonly method: string;
  readonly path: string;
  /** False where GET does not imply HEAD: a handler that answers every method itself (GraphQL). */
  readonly headWithGet?: boolean;
}

/**
 * The methods served on a path, as the router matches paths: without regard to case, a
 * trailing slash allowed. HEAD wherever GET is (Express answers it) unless the route says
 * otherwise, and OPTIONS on every path served at all (see {@link answerOptions}). Empty
 * for a path nothing serves.
 */
export function methodsServed(known: readonly KnownRoute[]): (path: string) => ReadonlySet<string> {
  const matchers = known.map((route) => ({
    method: route.method.toUpperCase(),
    headWithGet: route.headWithGet ?? true,
    matches: match(route.path, { decode: false, sensitive: false, end: true }),
  }));
  return (requestPath) => {
    const path = requestPath.length > 1 ? requestPath.replace(/\/$/, '') : requestPath;
    const allowed = new Set<string>();
    for (const route of matchers) {
      if (route.matches(path) === false) continue;
      allowed.add(route.method);
      if (route.method === 'GET' && route.headWithGet) allowed.add('HEAD');
    }
    if (allowed.size > 0) allowed.add('OPTIONS');
    return allowed;
  };
}

/** The `Allow` header's value for a set of methods, sorted so that answers compare. */
const allowHeader = (methods: ReadonlySet<string>): string => [...methods].sort().join(', ');

/**
 * Answers OPTIONS on a path the server serves with 204 and `Allow` naming its methods
 * (RFC 9110 §9.3.7), the same on every path, REST and GraphQL alike, before any credential
 * is asked for. A CORS preflight from an allowed origin is answered before this, by the
 * CORS handler; OPTIONS on a path nothing serves goes on to the 404 below.
 */
export function answerOptions(served: (path: string) => ReadonlySet<string>): RequestHandler {
  return (request, response, next) => {
    if (request.method !== 'OPTIONS') {
      next();
      return;
    }
    const allowed = served(request.path);
    if (allowed.size === 0) {
      next();
      return;
    }
    response.setHeader('allow', allowHeader(allowed));
    response.status(204).end();
  };
}

/**
 * The last handler: every request no route answered gets the API's JSON error envelope,
 * never an empty or HTML body. 405 METHOD_NOT_ALLOWED with `Allow` when the path is
 * known for other methods (RFC 9110 §15.5.6 requires it), else 404 ROUTE_NOT_FOUND
 * naming the method and path.
 */
export function unknownRoute(served: (path: string) => ReadonlySet<string>): RequestHandler {
  return (request, response, next) => {
    const allowed = served(request.path);
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const methods = allowHeader(allowed);
      response.setHeader('allow', methods);
      next(
        new ApiError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}; use ${methods}`),
      );
      return;
    }
    next(new ApiError(404, 'ROUTE_NOT_FOUND', `no route ${request.method} ${request.path}`));
  };
}
