import { z } from 'zod';
import { callerSchema } from '@gigledger/chaincode/model';
import type { ApiConfig } from '../config.js';
import { routeRequester } from '../http/route-requester.js';
import { route, type RouteSpec } from '../http/route.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { passwordCredentialsSchema, type AccountService } from './account-service.js';
import { CredentialsThrottledError } from './credential-throttle.js';
import type { TokenService } from './tokens.js';
import { bearerToken } from './passport-strategies.js';
import { invalidInput } from '../errors/api-error.js';

const tokenResponseSchema = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('Seconds until the token expires'),
});

const oidcSignInSchema = z.discriminatedUnion('enabled', [
  z.object({
    enabled: z
      .literal(false)
      .describe('This API offers no OIDC sign-in (OIDC_ISSUER, OIDC_AUDIENCE and OIDC_CLIENT_ID are not all set)'),
  }),
  z.object({
    enabled: z.literal(true),
    issuer: z.string().describe('The OIDC issuer (OIDC_ISSUER); its discovery document names the endpoints'),
    clientId: z.string().describe("The console's public client id at the issuer (OIDC_CLIENT_ID)"),
    audience: z.string().describe('The audience the API accepts in access tokens (OIDC_AUDIENCE)'),
    scope: z.string().describe('Scopes to ask for (OIDC_SCOPE)'),
    redirectPath: z.string().describe("Where the issuer sends the browser back, on this API's origin"),
  }),
]);

/** The console's page that finishes an OIDC sign-in; the redirect URI to register at the issuer. */
export const oidcRedirectPath = '/console/oidc-callback';

const principalSchema = z.object({
  kind: z.enum(['person', 'service']),
  id: z.string(),
  userId: z.string(),
  org: z.string(),
  mspId: z.string(),
  role: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.number().int().optional().describe('When the bearer token stops being valid (epoch milliseconds)'),
});

/** Login for people with a password, and the caller's own identity. */
export function authRoutes(deps: {
  accounts: AccountService;
  tokens: TokenService;
  ledger: LedgerAccess;
  config: Pick<ApiConfig, 'jwt'>;
}): RouteSpec[] {
  const oidc = deps.config.jwt.oidc;
  return [
    route({
      method: 'get',
      path: '/v1/auth/oidc',
      operationId: 'getOidcSignIn',
      summary:
        'Whether this API offers OIDC sign-in and, when it does, what a browser needs for it (authorization code with PKCE, public client): the issuer, client id, audience and scope. `enabled: false` unless OIDC_ISSUER, OIDC_AUDIENCE and OIDC_CLIENT_ID are set; a question every console asks on load, so it is not an error',
      tag: 'auth',
      access: 'public',
      response: oidcSignInSchema,
      handler: () => {
        if (oidc?.consoleClientId === undefined || oidc.audience === undefined) {
          return Promise.resolve({ enabled: false as const });
        }
        return Promise.resolve({
          enabled: true as const,
          issuer: oidc.issuer,
          clientId: oidc.consoleClientId,
          audience: oidc.audience,
          scope: oidc.consoleScope,
          redirectPath: oidcRedirectPath,
        });
      },
    }),
    route({
      method: 'post',
      path: '/v1/auth/token',
      operationId: 'createToken',
      verbatimText: true,
      summary: 'Exchange a user id and password for a bearer token',
      tag: 'auth',
      access: 'public',
      body: passwordCredentialsSchema,
      response: tokenResponseSchema,
      errors: [401],
      handler: async ({ body, setHeader }) => {
        const principal = await deps.accounts.checkPassword(body.userId, body.password).catch((error: unknown) => {
          if (error instanceof CredentialsThrottledError) setHeader('retry-after', String(error.retryAfterSeconds));
          throw error;
        });
        const { token, expiresIn } = await deps.tokens.issue(principal.userId);
        return { accessToken: token, tokenType: 'Bearer' as const, expiresIn };
      },
    }),
    route({
      method: 'post',
      path: '/v1/auth/token/revocation',
      operationId: 'revokeToken',
      summary:
        'Sign out: revoke the bearer token this request presents (token revocation, RFC 7009), so that it authenticates nothing from now on in any process of this API, and subscriptions it opened end at their next check (GIGLEDGER_SUBSCRIPTION_RECHECK_SECONDS). Works for tokens of this API and of the OIDC issuer (which keeps its own session). A token already revoked or expired is 401; an API key is revoked by an administrator instead (DELETE /v1/admin/api-keys/{keyId})',
      tag: 'auth',
      access: 'signed-in',
      response: z.object({ revoked: z.literal(true) }),
      errors: [422],
      handler: async (caller) => {
        const { principal } = routeRequester(caller);
        const token = bearerToken(caller.header('authorization'));
        if (token === undefined || principal.expiresAt === undefined) {
          throw invalidInput(
            'header.authorization',
            'revokes the bearer token it carries; an API key is revoked by an administrator (DELETE /v1/admin/api-keys/{keyId})',
          );
        }
        await deps.accounts.revokeToken(token, { userId: principal.id, expiresAt: principal.expiresAt });
        return { revoked: true as const };
      },
    }),
    route({
      method: 'get',
      path: '/v1/me',
      operationId: 'getMe',
      summary:
        'The caller, and its Fabric identity as the chaincode sees it. Every signed-in caller may ask, whatever their scopes (an issuer or a governor holds no agreements:read)',
      tag: 'auth',
      access: 'signed-in',
      response: z.object({ principal: principalSchema, ledgerIdentity: callerSchema }),
      handler: async (caller) => {
        const { principal, log } = routeRequester(caller);
        const client = await deps.ledger.clientFor(principal, log);
        const { identityLabel: _label, ...shown } = principal;
        return { principal: { ...shown, scopes: [...shown.scopes] }, ledgerIdentity: await client.system.whoAmI() };
      },
    }),
  ];
}
