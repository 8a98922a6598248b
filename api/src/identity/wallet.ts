import type { SigningIdentity } from '@gigledger/gateway';
import type { Db } from '../db/database.js';
import { Sealer } from './sealer.js';

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
  readonly #sealer: Sealer;

  /** @param walletKey any string; its SHA-256 is the AES key. */
  constructor(db: Db, walletKey: string) {
    this.#db = db;
    this.#sealer = new Sealer(walletKey);
  }

  /** Seals other secrets the server keeps under the same key. */
  get sealer(): Sealer {
    return this.#sealer;
  }

  async put(identity: StoredIdentity): Promise<void> {
    const row = {
      label: identity.label,
      msp_id: identity.mspId,
      enrollment_id: identity.enrollmentId,
      certificate: identity.certificatePem,
      private_key: this.#sealer.seal(identity.privateKeyPem),
      created_at: new Date().toISOString(),
    };
    const { label: _label, ...stored } = row;
    await this.#db
      .insertInto('identities')
      .values(row)
      // Storing a label again replaces everything stored under it.
      .onConflict((conflict) => conflict.column('label').doUpdateSet(stored))
      .execute();
  }

  /** Forgets an identity, e.g. one replaced by a re-enrollment; its key is then gone from the server. */
  async delete(label: string): Promise<void> {
    await this.#db.deleteFrom('identities').where('label', '=', label).execute();
  }

  async get(label: string): Promise<StoredIdentity | undefined> {
    const row = await this.#db.selectFrom('identities').selectAll().where('label', '=', label).executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      label: row.label,
      mspId: row.msp_id,
      enrollmentId: row.enrollment_id,
      certificatePem: row.certificate,
      privateKeyPem: this.#sealer.open(row.private_key),
    };
  }
}
