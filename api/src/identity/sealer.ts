import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Seals secrets kept in the server's database (wallet keys, payout account numbers)
 * with AES-256-GCM under the server's key, so a database row alone gives nothing away.
 * Sealed text is `v1:<iv>:<tag>:<ciphertext>`, each part base64.
 */
export class Sealer {
  readonly #key: Buffer;

  /** @param secret any string; its SHA-256 is the AES key. */
  constructor(secret: string) {
    this.#key = createHash('sha256').update(secret).digest();
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join(':');
  }

  /** @throws Error when the text is not sealed text, or was sealed under another key or altered. */
  open(stored: string): string {
    const [version, iv, tag, sealed] = stored.split(':');
    if (version !== 'v1' || iv === undefined || tag === undefined || sealed === undefined) {
      throw new Error('sealed value is not in a format this server reads');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
  }
}
