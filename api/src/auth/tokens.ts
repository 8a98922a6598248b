import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { ApiConfig } from '../config.js';

const localIssuer = 'gigledger-api';
const localAudience = 'gigledger';

/** Claims a verified token contributes: whom it names and, for OIDC tokens, their organisation and role. */
export interface VerifiedToken {
  readonly subject: string;
  readonly issuer: 'local' | 'oidc';
  readonly org?: string;
  readonly role?: string;
  /** When the token expires (epoch milliseconds). */
  readonly expiresAt: number;
}

/** Verified tokens kept, the least recently presented dropped first. */
export const verifiedTokensKept = 10_000;

/**
 * How long an OIDC issuer's token stays verified without checking its signature again:
 * a key the issuer withdraws from its JWKS stops opening the API within this time.
 */
export const oidcVerificationKeptMs = 5 * 60_000;

/** The OIDC issuer whose tokens are accepted; tokens must name `audience`. */
interface OidcSettings {
  readonly issuer: string;
  readonly jwksUrl: string | undefined;
  readonly audience: string;
}

/**
 * Issues HS256 tokens for people who log in with a password, and verifies those and,
 * when configured, tokens of an OIDC issuer (keys from its JWKS).
 *
 * A verified token is kept, by its exact text, until it expires (an OIDC token at most
 * {@link oidcVerificationKeptMs}): a client sends the same token with every request,
 * and checking its signature each time was a measurable part of a read's cost (see
 * bench/README.md, audit index). Whom it names is still looked up on every request, so
 * a disabled account or a departed organisation is refused at once.
 */
export class TokenService {
  readonly #secret: Uint8Array;
  readonly #ttlSeconds: number;
  readonly #oidc: OidcSettings | undefined;
  readonly #orgClaim: string;
  readonly #roleClaim: string;
  #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  readonly #verified = new LRUCache<string, VerifiedToken>({ max: verifiedTokensKept });

  /**
   * @throws Error when an OIDC issuer is configured without an audience: any token that
   *   issuer signs for any of its clients would otherwise be accepted here.
   */
  constructor(jwt: ApiConfig['jwt'], secret: string) {
    this.#secret = new TextEncoder().encode(secret);
    this.#ttlSeconds = jwt.ttlSeconds;
    if (jwt.oidc !== undefined) {
      const { issuer, jwksUrl, audience } = jwt.oidc;
      if (audience === undefined || audience === '') {
        throw new Error('OIDC_AUDIENCE must be set when OIDC_ISSUER is: tokens must be meant for this API');
      }
      this.#oidc = { issuer, jwksUrl, audience };
    }
    this.#orgClaim = jwt.orgClaim;
    this.#roleClaim = jwt.roleClaim;
  }

  async issue(userId: string): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(localIssuer)
      .setAudience(localAudience)
      .setIssuedAt()
      // Two sign-ins within one second would otherwise get the same token, and signing
      // one out (revocation is by the token's hash) would sign out the other.
      .setJti(randomUUID())
      .setExpirationTime(`${this.#ttlSeconds}s`)
      .sign(this.#secret);
    return { token, expiresIn: this.#ttlSeconds };
  }

  /** @throws Error with the reason the token is not accepted. */
  async verify(token: string): Promise<VerifiedToken> {
    // An entry outlives neither its token nor its time to live (`get` drops it then).
    const kept = this.#verified.get(token);
    if (kept !== undefined) return kept;
    const verified = await this.#verifySignature(token);
    const untilExpiry = verified.expiresAt - Date.now();
    const ttl = verified.issuer === 'oidc' ? Math.min(untilExpiry, oidcVerificationKeptMs) : untilExpiry;
    if (ttl >= 1) this.#verified.set(token, verified, { ttl: Math.floor(ttl) });
    return verified;
  }

  async #verifySignature(token: string): Promise<VerifiedToken> {
    // base64url decoders accept padding and stray low bits, so one signature has many
    // spellings; anything keyed by the token's text (its revocation, this cache) must
    // see one token as one text.
    const signature = token.slice(token.lastIndexOf('.') + 1);
    if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) {
      throw new Error('token signature is not in canonical base64url');
    }
    const issuer = peekIssuer(token);
    if (issuer === localIssuer) {
      const { payload } = await jwtVerify(token, this.#secret, {
        issuer: localIssuer,
        audience: localAudience,
        algorithms: ['HS256'],
      });
      return { subject: requireSubject(payload), issuer: 'local', expiresAt: requireExpiry(payload) };
    }
    if (this.#oidc === undefined || issuer !== this.#oidc.issuer) throw new Error('token from an unknown issuer');
    this.#jwks ??= createRemoteJWKSet(new URL(this.#oidc.jwksUrl ?? (await discoverJwksUrl(this.#oidc.issuer))));
    const { payload } = await jwtVerify(token, this.#jwks, {
      issuer: this.#oidc.issuer,
      audience: this.#oidc.audience,
    });
    const org = payload[this.#orgClaim];
    const role = payload[this.#roleClaim];
    return {
      subject: requireSubject(payload),
      issuer: 'oidc',
      expiresAt: requireExpiry(payload),
      ...(typeof org === 'string' ? { org } : {}),
      ...(typeof role === 'string' ? { role } : {}),
    };
  }
}

function requireSubject(payload: JWTPayload): string {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('token has no subject');
  return payload.sub;
}

/** A token that never expires would outlive a disabled account on a long-lived request. */
function requireExpiry(payload: JWTPayload): number {
  if (typeof payload.exp !== 'number') throw new Error('token has no expiry');
  return payload.exp * 1000;
}

function peekIssuer(token: string): string | undefined {
  const [, body] = token.split('.');
  if (body === undefined) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

async function discoverJwksUrl(issuer: string): Promise<string> {
  const response = await fetch(
    new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`),
  );
  if (!response.ok) throw new Error(`OIDC discovery at ${issuer} answered ${response.status}`);
  const document = (await response.json()) as { jwks_uri?: unknown };
  if (typeof document.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${issuer} names no jwks_uri`);
  return document.jwks_uri;
}
