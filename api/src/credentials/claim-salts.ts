import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Derives what an issuance needs to be repeatable: the salt of each claim and, when the
 * issuer names none, the credential id, as HMAC-SHA256 under a server secret of the
 * issuer's identity, the request id and the claim. A retry with the same request id
 * therefore sends the same claims and salts, and the chaincode answers it with the
 * stored result instead of refusing it as a different request; while the secret stays
 * secret the salts are as unguessable as random ones (HMAC is a PRF), which is what
 * keeps a commitment's value hidden.
 */
export class ClaimSalts {
  readonly #key: Buffer;

  /** @param secret a server secret shared by every replica (the wallet key); a separate key is derived from it (HKDF-SHA256). */
  constructor(secret: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'gigledger', 'credential claim salts', 32));
  }

  #digest(...parts: readonly string[]): Buffer {
    const hmac = createHmac('sha256', this.#key);
    // Length-prefixed, so that no two different lists of parts give the same input.
    for (const part of parts) hmac.update(`${Buffer.byteLength(part)}:${part}`);
    return hmac.digest();
  }

  /** The 32-byte salt, as 64 hex characters, of claim `index` named `name` of one issuance. */
  salt(issuer: string, requestId: string, index: number, name: string): string {
    return this.#digest('salt', issuer, requestId, String(index), name).toString('hex');
  }

  /** A `urn:uuid:` id (RFC 9562 version 8, name-based) for the credential of one issuance. */
  credentialId(issuer: string, requestId: string): string {
    const bytes = this.#digest('credential', issuer, requestId).subarray(0, 16);
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
