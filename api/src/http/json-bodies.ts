import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ApiError } from '../errors/api-error.js';
import { assertJsonDepth, assertUtf8Body, assertUtf8Json, maxRequestBodyBytes } from './json-limits.js';
import { assertUniqueMemberNames } from './json-member-names.js';
import type { RequestWithRawBody } from './route.js';
import { hasSignedBody } from './signed-bodies.js';

// A body is read before its caller is identified, and refused only once the route it was
// sent to is known and its path valid: an auditor's or HR system's read refused for its
// body is then logged under that route, for the record its path names, like any other
// refused read.
const heldRefusals = new WeakMap<Request, Error>();

/** The refusal of the request's body, held until its route answers it; undefined when the body was accepted. */
export function heldBodyRefusal(request: Request): Error | undefined {
  return heldRefusals.get(request);
}

/** Runs a body check, holding what it refuses; skipped once a refusal is held. */
function holdingRefusal(check: RequestHandler): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    if (heldRefusals.has(request) || hasSignedBody(request)) {
      next();
      return;
    }
    void check(request, response, (error?: unknown) => {
      if (error !== undefined && error !== null && error !== 'route' && error !== 'router') {
        heldRefusals.set(
          request,
          error instanceof Error ? error : new ApiError(400, 'MALFORMED_REQUEST', 'body: could not be read', 'body'),
        );
      }
      next();
    });
  };
}

/**
 * The JSON body readers of the REST routes: a body must be JSON in UTF-8 (415 otherwise),
 * parse (400), fit `maxRequestBodyBytes` (413), nest no deeper than the limit and repeat no
 * member name (422). What they refuse is held, not answered: the matched route answers it
 * (see {@link heldBodyRefusal}), or {@link answerHeldBodyRefusal} when none matched. A
 * signed message's body (a provider's callback) is read by its own reader.
 */
export function jsonBodyReaders(): RequestHandler[] {
  const mediaType: RequestHandler = (request, _response, next) => {
    // A body that is not JSON would otherwise reach the routes as an empty object.
    const hasBody =
      request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && !request.is('application/json')) {
      next(
        new ApiError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'header.content-type: the request body must be JSON (Content-Type: application/json)',
          'header.content-type',
        ),
      );
      return;
    }
    try {
      if (hasBody) assertUtf8Json(request.headers['content-type']);
    } catch (error) {
      next(error);
      return;
    }
    next();
  };
  const parse = express.json({
    limit: maxRequestBodyBytes,
    // Provider callbacks are verified over the bytes that were signed, not a re-serialisation.
    verify: (request, _response, buffer) => {
      (request as RequestWithRawBody).rawBody = buffer;
    },
  });
  const shape: RequestHandler = (request, _response, next) => {
    try {
      assertUtf8Body((request as RequestWithRawBody).rawBody);
      assertJsonDepth(request.body, 'body');
      assertUniqueMemberNames((request as RequestWithRawBody).rawBody, 'body');
    } catch (error) {
      next(error);
      return;
    }
    next();
  };
  return [holdingRefusal(mediaType), holdingRefusal(parse), holdingRefusal(shape)];
}

/**
 * Answers the body refusal {@link jsonBodyReaders} held for a path no REST route matched
 * (a matched route answers it itself: see `MountOptions.heldBodyRefusal`).
 */
export const answerHeldBodyRefusal: RequestHandler = (request, _response, next) => {
  next(heldRefusals.get(request));
};
