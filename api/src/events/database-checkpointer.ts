import { StoredCheckpointer } from '@gigledger/gateway';
import type { Db } from '../db/database.js';

/**
 * A chaincode-event checkpoint in the `checkpoints` table, one row per consumer, so a
 * restarted server resumes each consumer where it stopped.
 */
export class DatabaseCheckpointer extends StoredCheckpointer {
  readonly #db: Db;
  readonly #name: string;

  constructor(db: Db, name: string) {
    super();
    this.#db = db;
    this.#name = name;
  }

  protected async read(): Promise<{ blockNumber: bigint; transactionId: string | undefined } | undefined> {
    const row = await this.#db.selectFrom('checkpoints').selectAll().where('name', '=', this.#name).executeTakeFirst();
    return row === undefined
      ? undefined
      : { blockNumber: BigInt(row.block_number), transactionId: row.transaction_id ?? undefined };
  }

  protected async write(blockNumber: bigint, transactionId: string | undefined): Promise<void> {
    const row = {
      name: this.#name,
      block_number: blockNumber.toString(),
      transaction_id: transactionId ?? null,
      updated_at: new Date().toISOString(),
    };
    await this.#db
      .insertInto('checkpoints')
      .values(row)
      .onConflict((conflict) =>
        conflict.column('name').doUpdateSet({
          block_number: row.block_number,
          transaction_id: row.transaction_id,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  }
}
