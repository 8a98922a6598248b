import type { RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import { ApiError } from '../errors/api-error.js';

/** A path the server answers and a method it answers there (lower case, as Express names them). */
export interface KnownRoute {
  readonly method: string;
  readonly path: string;
}

/**
 * The last handler: every request no route answered gets the API's JSON error envelope,
 * never an empty or HTML body. 405 METHOD_NOT_ALLOWED with `Allow` when the path is
 * known for other methods, else 404 ROUTE_NOT_FOUND naming the method and path. Paths
 * are matched as the router matches them: without regard to case, a trailing slash
 * allowed (RFC 9110 §15.5.6 requires `Allow` on a 405).
 */
export function unknownRoute(known: readonly KnownRoute[]): RequestHandler {
  const matchers = known.map((route) => ({
    method: route.method.toUpperCase(),
    matches: match(route.path, { decode: false, sensitive: false, end: true }),
  }));
  return (request, response, next) => {
    const path = request.path.length > 1 ? request.path.replace(/\/$/, '') : request.path;
    const allowed = new Set<string>();
    for (const route of matchers) {
      if (route.matches(path) === false) continue;
      allowed.add(route.method);
      // Express answers HEAD wherever it answers GET.
      if (route.method === 'GET') allowed.add('HEAD');
    }
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const methods = [...allowed].sort().join(', ');
      response.setHeader('allow', methods);
      next(
        new ApiError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}; use ${methods}`),
      );
      return;
    }
    next(new ApiError(404, 'ROUTE_NOT_FOUND', `no route ${request.method} ${request.path}`));
  };
}
