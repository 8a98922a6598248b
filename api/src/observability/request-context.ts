import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

declare module 'express-serve-static-core' {
  interface Locals {
    /** What the caller offered as `x-request-id`, when well-formed; never the server's id. */
    clientRequestId?: string;
    /**
     * The request id a command runs under (the body's `requestId`, the `Idempotency-Key`,
     * or the HTTP request's own id), set once the route has settled it: an error answer
     * names it as its `commandRequestId`, the id a retry must repeat.
     */
    commandRequestId?: string;
  }
}

/** The header a client may offer its own id in; the server answers its own id in it. */
export const requestIdHeader = 'x-request-id';
/** The header that echoes the id the client offered, kept apart from the server's. */
export const clientRequestIdHeader = 'x-client-request-id';

const acceptableClientId = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives every request a correlation id of the server's own making (a client could
 * otherwise reuse another request's id and muddle logs and support), keeps the id a
 * client offers as `clientRequestId` beside it, and logs and measures the request when
 * it finishes.
 */
export function requestContext(deps: { log: Logger; metrics: Metrics }): RequestHandler {
  return (request, response, next) => {
    const requestId = randomUUID();
    const offered = request.get(requestIdHeader);
    const clientRequestId = offered !== undefined && acceptableClientId.test(offered) ? offered : undefined;
    response.locals.requestId = requestId;
    response.locals.log = deps.log.child(
      clientRequestId === undefined ? { requestId } : { requestId, clientRequestId },
    );
    response.setHeader(requestIdHeader, requestId);
    if (clientRequestId !== undefined) {
      response.locals.clientRequestId = clientRequestId;
      response.setHeader(clientRequestIdHeader, clientRequestId);
    }
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const routePath = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      deps.metrics.httpRequestSeconds.observe(
        { method: request.method, route: routePath, status: String(response.statusCode) },
        seconds,
      );
      response.locals.log.info(
        {
          method: request.method,
          path: request.path,
          status: response.statusCode,
          durationMs: Math.round(seconds * 1000),
          principal: response.locals.principal?.id,
          // A command's own id, which its answer names: logged so that either id finds the line.
          ...(response.locals.commandRequestId === undefined
            ? {}
            : { commandRequestId: response.locals.commandRequestId }),
        },
        'request',
      );
    });
    next();
  };
}
