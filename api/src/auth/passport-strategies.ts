import type { Request } from 'express';
import { Passport, type PassportStatic } from 'passport';
import { Strategy as CustomStrategy } from 'passport-custom';
import { ApiError, notMemberCode } from '../errors/api-error.js';
import type { AccountService } from './account-service.js';
import type { CredentialThrottle } from './credential-throttle.js';
import { standingCheck, type Principal } from './principal.js';
import type { TokenService } from './tokens.js';

/**
 * A passport instance of our own, not the module's shared singleton, with the counter
 * of failed credentials its strategies' callers share.
 */
export type PassportInstance = InstanceType<PassportStatic['Passport']> & {
  readonly credentialThrottle: CredentialThrottle;
};

export const bearerStrategy = 'gigledger-bearer';
export const apiKeyStrategy = 'gigledger-api-key';

/** The API key from `X-API-Key` or `Authorization: ApiKey <key>`. */
export function presentedApiKey(request: Request): string | undefined {
  const header = request.get('x-api-key');
  if (header !== undefined && header !== '') return header;
  const match = /^ApiKey\s+(\S+)$/i.exec(request.get('authorization') ?? '');
  return match?.[1];
}

/** The token of an `Authorization: Bearer <token>` header value. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}

export function presentedBearer(request: Request): string | undefined {
  return bearerToken(request.get('authorization'));
}

/**
 * Passport with two strategies: bearer JWTs for people (issued by this server or an
 * OIDC issuer) and API keys for services. Each resolves to a {@link Principal};
 * `false` means "not this kind of credential" so the next strategy is tried.
 */
export function createPassport(accounts: AccountService, tokens: TokenService): PassportInstance {
  const passport = Object.assign(new Passport(), { credentialThrottle: accounts.throttle });
  passport.use(
    bearerStrategy,
    new CustomStrategy((request, done) => {
      const token = presentedBearer(request);
      if (token === undefined) {
        done(null, false);
        return;
      }
      tokens
        .verify(token)
        .then(async (verified): Promise<Principal | false> => {
          // Checked on every request, not kept with the verified token: a sign-out holds
          // at once in every process that shares the database.
          if (await accounts.tokenRevoked(token)) return false;
          const principal =
            verified.issuer === 'oidc'
              ? await accounts.oidcPrincipal(verified.subject, verified.org, verified.role)
              : await accounts.personPrincipal(verified.subject, 'local');
          if (principal === undefined) return false;
          const accountStanding = principal[standingCheck];
          return {
            ...principal,
            expiresAt: verified.expiresAt,
            [standingCheck]: async () =>
              (await accounts.tokenRevoked(token)) ? 'the bearer token was signed out' : accountStanding?.(),
          };
        })
        .then(
          (principal) => {
            done(null, principal);
          },
          (error: unknown) => {
            // A valid token of a person whose organisation left the channel is answered as such, not as a bad token.
            if (error instanceof ApiError && error.code === notMemberCode) done(error);
            else done(null, false);
          },
        );
    }),
  );
  passport.use(
    apiKeyStrategy,
    new CustomStrategy((request, done) => {
      const key = presentedApiKey(request);
      if (key === undefined) {
        done(null, false);
        return;
      }
      accounts.apiKeyPrincipal(key).then(
        (principal) => {
          done(null, principal ?? false);
        },
        (error: unknown) => {
          done(error);
        },
      );
    }),
  );
  return passport;
}
