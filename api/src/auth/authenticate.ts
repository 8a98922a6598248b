import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { PassportInstance } from './passport-strategies.js';
import { ApiError, forbidden, unauthenticated } from '../errors/api-error.js';
import { CredentialsThrottledError } from './credential-throttle.js';
import { apiKeyStrategy, bearerStrategy } from './passport-strategies.js';
import type { Principal, Scope } from './principal.js';

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
    requestId: string;
    log: Logger;
  }
}

/** The credential headers (`authorization`, `x-api-key`, lower case) a request carries, repeats included, in order. */
function credentialHeaders(rawHeaders: readonly string[]): string[] {
  const names: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]?.toLowerCase();
    if (name === 'authorization' || name === 'x-api-key') names.push(name);
  }
  return names;
}

/** Whether the one credential header is blank: `Authorization: Bearer` with no token, or an empty API key. */
function carriesNoCredential(request: Request): boolean {
  const authorization = request.get('authorization');
  if (authorization !== undefined) return /^\s*(bearer)?\s*$/i.test(authorization);
  return (request.get('x-api-key') ?? '').trim() === '';
}

/**
 * Resolves the caller, if any credential is presented, into `response.locals.principal`.
 * A presented but invalid credential is a 401 at once; no credential passes on as anonymous.
 *
 * Wrong credentials are counted per client address (with the password checks further
 * on, which run with the address in context); once an address is over the limit, every
 * credential it presents is answered 429 with `Retry-After` before being looked at, so
 * that a correct guess is indistinguishable from a wrong one. A request presenting more
 * than one credential (a bearer token and an API key) is refused even if one is valid:
 * which of them would act is not the client's to leave open.
 */
export function identifyCaller(passport: PassportInstance): RequestHandler {
  const throttle = passport.credentialThrottle;
  return (request: Request, response: Response, next: NextFunction) => {
    const address = ipKeyGenerator(request.ip ?? 'unknown');
    throttle.runFor(address, () => {
      // Counted from the raw headers: Node keeps only the first of repeated Authorization headers.
      const headers = credentialHeaders(request.rawHeaders);
      const presented = headers.length;
      if (presented === 0) {
        next();
        return;
      }
      if (presented > 1) {
        // Refused before either is examined, so nothing is learnt and nothing counted: a
        // client that sends both would otherwise lock its own address's bad credentials
        // out for the window, and is told the same whether or not the address is throttled.
        // Named after the header repeated when only one kind is sent; both kinds name Authorization.
        const field = headers.every((name) => name === 'x-api-key') ? 'header.x-api-key' : 'header.authorization';
        next(
          new ApiError(
            400,
            'MALFORMED_REQUEST',
            `${field}: present exactly one credential: one bearer token or one API key`,
            field,
          ),
        );
        return;
      }
      if (presented === 1 && carriesNoCredential(request)) {
        // Nothing was guessed (e.g. a shell variable left empty), so nothing is counted
        // against the address; counting it would lock the sender out for the window.
        next(unauthenticated('the Authorization or X-API-Key header is empty: send a bearer token or an API key'));
        return;
      }
      void (async () => {
        // A throttled address still gets its valid credentials examined: tokens and API keys
        // carry 256 bits or a signature, so no answer helps anyone guess them, and one client
        // spraying bad ones must not lock out everyone behind the same address (a proxy, a
        // NAT). Its bad ones are refused 429 without being counted, as before.
        let throttled: CredentialsThrottledError | undefined;
        try {
          await throttle.assertMayTry({ address, credential: 'token' });
        } catch (error) {
          if (!(error instanceof CredentialsThrottledError)) {
            next(error);
            return;
          }
          throttled = error;
        }
        const refuse = (refusal: ApiError) => {
          if (throttled !== undefined) {
            response.setHeader('retry-after', throttled.retryAfterSeconds);
            next(throttled);
            return;
          }
          void throttle.recordFailure({ address, credential: 'token' }).then(() => {
            next(refusal);
          });
        };
        const authenticate = passport.authenticate(
          [bearerStrategy, apiKeyStrategy],
          { session: false },
          (error: unknown, principal: Principal | false) => {
            if (error !== null && error !== undefined) {
              next(error);
              return;
            }
            if (principal === false) {
              refuse(unauthenticated('the bearer token or API key is not valid'));
              return;
            }
            response.locals.principal = principal;
            next();
          },
        ) as RequestHandler;
        authenticate(request, response, next);
      })();
    });
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
