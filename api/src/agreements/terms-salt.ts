import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** Until the deployment's secret is given, salts come from a key of this process alone. */
let saltKey = randomBytes(32);

/**
 * Derives the key that salts confidential documents from the deployment's secret
 * (HKDF-SHA-256, RFC 5869), so every worker of a deployment, and the deployment after a
 * restart, gives a repeated request the salt it gave the first time.
 */
export function useTermsSaltSecret(secret: string): void {
  saltKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'gigledger confidential terms salt', 32));
}

/**
 * A confidential document (an agreement's terms) with a salt: its own when it has one,
 * else 16 bytes (32 hex digits) derived from the deployment's key and `request` (who
 * sends it and the request id), so that sending the same request again gives the same
 * salt, and so the same hash, as the ledger's idempotency check requires.
 *
 * Why: the ledger publishes the document's SHA-256, and Fabric every peer a hash of the
 * private data; terms are short and guessable (a scope, a tax id), so without a secret
 * mixed in anyone who may read the hash could confirm a guess offline (Fabric's private
 * data documentation advises the same for low-entropy values).
 */
export function withTermsSalt<Terms extends { salt?: string | undefined }>(
  terms: Terms,
  request: readonly string[],
): Terms & { salt: string } {
  if (terms.salt !== undefined) return { ...terms, salt: terms.salt };
  const salt = createHmac('sha256', saltKey).update(JSON.stringify(request)).digest('hex').slice(0, 32);
  return { ...terms, salt };
}
