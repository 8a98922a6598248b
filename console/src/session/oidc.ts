import * as oauth from 'oauth4webapi';
import { rest } from './api-client.js';

/** What `GET /v1/auth/oidc` answers when the API offers OIDC sign-in. */
export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scope: string;
  readonly redirectPath: string;
}

/**
 * The one thing that must outlive the trip to the identity provider: the PKCE verifier,
 * the state and the page to return to. It sits in sessionStorage (this tab only) for the
 * length of the redirect and is removed on return; the token never goes there.
 */
interface PendingSignIn {
  readonly verifier: string;
  readonly state: string;
  readonly next: string;
}

const pendingKey = 'gigledger.oidc.pending';

/**
 * The API's OIDC settings, or undefined when it offers none (`enabled: false`) or cannot
 * be asked; the password form works either way.
 */
export async function oidcSettings(): Promise<OidcSettings | undefined> {
  try {
    const answer = await rest<({ enabled: true } & OidcSettings) | { enabled: false }>(
      'GET',
      '/v1/auth/oidc',
      undefined,
    );
    return answer.enabled ? answer : undefined;
  } catch {
    return undefined;
  }
}

/** oauth4webapi refuses plain HTTP; only an issuer on this machine's loopback (a local IdP) may use it. */
function requestOptions(issuer: URL): Record<symbol, boolean> {
  const loopback = issuer.hostname === '127.0.0.1' || issuer.hostname === 'localhost' || issuer.hostname === '[::1]';
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- marked so on purpose by the library; allowed for a loopback IdP only.
  return issuer.protocol === 'http:' && loopback ? { [oauth.allowInsecureRequests]: true } : {};
}

async function discover(settings: OidcSettings): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(settings.issuer);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(issuer) });
  return oauth.processDiscoveryResponse(issuer, response);
}

const redirectUri = (settings: OidcSettings) => new URL(settings.redirectPath, window.location.origin).href;

/**
 * Sends the browser to the identity provider's sign-in page: authorization code flow with
 * PKCE (S256) for a public client (RFC 7636, OAuth 2.0 for Browser-Based Apps).
 *
 * @param next the console path to open after sign-in.
 * @throws Error when the issuer's discovery document cannot be read or names no authorization endpoint.
 */
export async function startOidcSignIn(settings: OidcSettings, next: string): Promise<void> {
  const server = await discover(settings);
  if (server.authorization_endpoint === undefined) throw new Error('the issuer names no authorization endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const pending: PendingSignIn = { verifier, state, next };
  sessionStorage.setItem(pendingKey, JSON.stringify(pending));
  const url = new URL(server.authorization_endpoint);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', redirectUri(settings));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', settings.scope);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  window.location.assign(url.href);
}

/**
 * Finishes the sign-in on the redirect page: checks the state, exchanges the code with the
 * PKCE verifier at the token endpoint and returns the access token for the API.
 *
 * @param callback the page's URL as the identity provider sent the browser back.
 * @throws Error when no sign-in was started in this tab, the state does not match, the
 *   provider answered with an error, or the token endpoint refused the code.
 */
export async function finishOidcSignIn(
  settings: OidcSettings,
  callback: URL,
): Promise<{ accessToken: string; expiresIn: number | undefined; next: string }> {
  const stored = sessionStorage.getItem(pendingKey);
  sessionStorage.removeItem(pendingKey);
  if (stored === null) throw new Error('no sign-in was started in this tab; start again from the sign-in page');
  const pending = JSON.parse(stored) as PendingSignIn;
  const server = await discover(settings);
  const client: oauth.Client = { client_id: settings.clientId };
  let parameters: URLSearchParams;
  try {
    parameters = oauth.validateAuthResponse(server, client, callback, pending.state);
  } catch (error) {
    // The provider's own code and sentence (e.g. access_denied) say more than the library's summary.
    if (error instanceof oauth.AuthorizationResponseError) {
      throw new Error(`${error.error}: ${error.error_description ?? 'the identity provider refused the sign-in'}`, {
        cause: error,
      });
    }
    throw error;
  }
  const response = await oauth.authorizationCodeGrantRequest(
    server,
    client,
    oauth.None(),
    parameters,
    redirectUri(settings),
    pending.verifier,
    requestOptions(new URL(settings.issuer)),
  );
  const tokens = await oauth.processAuthorizationCodeResponse(server, client, response);
  return { accessToken: tokens.access_token, expiresIn: tokens.expires_in, next: pending.next };
}
