import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';

/** A local OpenID Provider on loopback with one person, for the console's OIDC sign-in. */
export interface LocalIdentityProvider {
  readonly issuer: string;
  close(): Promise<void>;
}

/**
 * Starts a real OpenID Provider (the maintained `oidc-provider` package) on
 * `127.0.0.1:port`: one public client (PKCE required, the console's redirect URI), one
 * person whose access tokens are JWTs for `audience` (an absolute URI, as resource indicators require) carrying the organisation and role
 * claims the API reads (`gigledger_org`, `gigledger_role`), and the package's own login
 * and consent pages. Only `person.userId` can sign in.
 */
export async function startIdentityProvider(options: {
  port: number;
  clientId: string;
  redirectUri: string;
  audience: string;
  person: { userId: string; org: string; role: string };
}): Promise<LocalIdentityProvider> {
  const issuer = `http://127.0.0.1:${String(options.port)}`;
  const { person } = options;
  const configuration: Configuration = {
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    // Lifetimes of its own rather than the package's defaults, which it warns about.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clientBasedCORS: (_ctx, origin) => origin === new URL(options.redirectUri).origin,
    findAccount: (_ctx, sub) => (sub === person.userId ? { accountId: sub, claims: () => ({ sub }) } : undefined),
    extraTokenClaims: () => ({ gigledger_org: person.org, gigledger_role: person.role }),
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openid',
          audience: options.audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
        }),
      },
    },
  };
  const provider = new Provider(issuer, configuration);
  const server: Server = provider.listen(options.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
