import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SigningIdentity } from '@gigledger/gateway';
import type { Db } from '../db/database.js';

/** An enrolled Fabric identity as the wallet keeps it. */
export interface StoredIdentity extends SigningIdentity {
  readonly label: string;
  readonly enrollmentId: string;
}

/**
 * Enrolled identities in the server's database, private keys sealed with AES-256-GCM
 * under the wallet key. A database row alone does not give away a signing key.
 */
export class Wallet {
  readonly #db: Db;
  readonly #key: Buffer;

  /** @param walletKey any string; its SHA-256 is the AES key. */
  constructor(db: Db, walletKey: string) {
    this.#db = db;
    this.#key = createHash('sha256').update(walletKey).digest();
  }

  async put(identity: StoredIdentity): Promise<void> {
    const row = {
      label: identity.label,
      msp_id: identity.mspId,
      enrollment_id: identity.enrollmentId,
      certificate: identity.certificatePem,
      private_key: this.#seal(identity.privateKeyPem),
      created_at: new Date().toISOString(),
    };
    await this.#db
      .insertInto('identities')
      .values(row)
      .onConflict((conflict) =>
        conflict.column('label').doUpdateSet({
          msp_id: row.msp_id,
          enrollment_id: row.enrollment_id,
          certificate: row.certificate,
          private_key: row.private_key,
          created_at: row.created_at,
        }),
      )
      .execute();
  }

  async get(label: string): Promise<StoredIdentity | undefined> {
    const row = await this.#db.selectFrom('identities').selectAll().where('label', '=', label).executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      label: row.label,
      mspId: row.msp_id,
      enrollmentId: row.enrollment_id,
      certificatePem: row.certificate,
      privateKeyPem: this.#open(row.private_key),
    };
  }

  #seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join(':');
  }

  #open(stored: string): string {
    const [version, iv, tag, sealed] = stored.split(':');
    if (version !== 'v1' || iv === undefined || tag === undefined || sealed === undefined) {
      throw new Error('wallet entry is not in a format this server reads');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
  }
}
