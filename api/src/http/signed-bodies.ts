import express, { Router, type Request, type RequestHandler } from 'express';
import { maxRequestBodyBytes } from './json-limits.js';
import { refuseUndecodableParameters, type RequestWithRawBody, type RouteSpec } from './route.js';

const signedBodies = new WeakSet<Request>();
const onSignedRoutes = new WeakSet<Request>();

/**
 * Marks each request to a route whose body is a signed message ({@link RouteSpec.signedBody}),
 * by its method and its path up to the first parameter, before anything reads or refuses
 * it: such a request is the provider's (or one pretending to be), and whatever refuses it
 * (an oversize or undecodable body, an undecodable path, a bad signature) counts against
 * the callback budget, not the address's budget for people (see `createApp`).
 * Express matches paths without regard to case, and so does this.
 */
export function markSignedRoutes(routes: readonly RouteSpec[]): RequestHandler {
  const signed = routes
    .filter((spec) => spec.signedBody === true)
    .map((spec) => {
      const parameter = spec.path.indexOf('/:');
      return {
        method: spec.method.toUpperCase(),
        path: (parameter === -1 ? spec.path : spec.path.slice(0, parameter + 1)).toLowerCase(),
        exact: parameter === -1,
      };
    });
  return (request, _response, next) => {
    const path = request.path.toLowerCase();
    if (
      signed.some(
        (route) =>
          route.method === request.method &&
          (route.exact ? path.replace(/\/$/, '') === route.path : path.startsWith(route.path)),
      )
    ) {
      onSignedRoutes.add(request);
    }
    next();
  };
}

/** Whether {@link markSignedRoutes} marked this request as sent to a signed-message route. */
export const onSignedRoute = (request: Request): boolean => onSignedRoutes.has(request);

/**
 * Reads the body of every route whose body is a signed message ({@link RouteSpec.signedBody})
 * as bytes, ahead of the JSON checks the other routes get: the handler checks the
 * signature over exactly these bytes before it reads them, so that an unsigned or forged
 * message is refused as such (401) whatever it holds. Bodies stay bounded by
 * {@link maxRequestBodyBytes} (413 beyond) and are inflated as the JSON parser would.
 */
export function signedBodyReader(routes: readonly RouteSpec[]): Router {
  const router = Router();
  const signed = routes.filter((spec) => spec.signedBody === true);
  // A path parameter that is not valid percent-encoding is named, as on every other route.
  router.use(refuseUndecodableParameters(signed));
  const readBytes = express.raw({ type: () => true, limit: maxRequestBodyBytes });
  for (const spec of signed) {
    router[spec.method](spec.path, readBytes, (request, _response, next) => {
      const body: unknown = request.body;
      (request as RequestWithRawBody).rawBody = Buffer.isBuffer(body) ? body : undefined;
      request.body = undefined;
      signedBodies.add(request);
      next();
    });
  }
  return router;
}

/** Whether {@link signedBodyReader} took this request's body, so that the JSON checks leave it alone. */
export const hasSignedBody = (request: Request): boolean => signedBodies.has(request);
