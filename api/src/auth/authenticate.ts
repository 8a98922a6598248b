import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { PassportInstance } from './passport-strategies.js';
import { forbidden, unauthenticated } from '../errors/api-error.js';
import { apiKeyStrategy, bearerStrategy } from './passport-strategies.js';
import type { Principal, Scope } from './principal.js';

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
    requestId: string;
    log: Logger;
  }
}

/**
 * Resolves the caller, if any credential is presented, into `response.locals.principal`.
 * A presented but invalid credential is a 401 at once; no credential passes on as anonymous.
 */
export function identifyCaller(passport: PassportInstance): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const presented = request.get('authorization') !== undefined || request.get('x-api-key') !== undefined;
    if (!presented) {
      next();
      return;
    }
    const authenticate = passport.authenticate(
      [bearerStrategy, apiKeyStrategy],
      { session: false },
      (error: unknown, principal: Principal | false) => {
        if (error !== null && error !== undefined) {
          next(error);
          return;
        }
        if (principal === false) {
          next(unauthenticated('the bearer token or API key is not valid'));
          return;
        }
        response.locals.principal = principal;
        next();
      },
    ) as RequestHandler;
    authenticate(request, response, next);
  };
}

/**
 * @throws ApiError 401 without a principal; 403 when it lacks the scope.
 */
export function requirePrincipal(response: Response, scope?: Scope): Principal {
  const principal = response.locals.principal;
  if (principal === undefined) throw unauthenticated();
  if (scope !== undefined && !principal.scopes.includes(scope)) {
    throw forbidden(`this operation needs scope ${scope}; the caller (role ${principal.role}) does not have it`);
  }
  return principal;
}
