import type { ChaincodeEvent } from '@hyperledger/fabric-gateway';
import type { DurableCheckpointer } from '@gigledger/gateway';
import type { Db } from '../db/database.js';

/**
 * A chaincode-event checkpoint in the `checkpoints` table, one row per consumer, so a
 * restarted server resumes each consumer where it stopped.
 */
export class DatabaseCheckpointer implements DurableCheckpointer {
  readonly #db: Db;
  readonly #name: string;
  #blockNumber: bigint | undefined;
  #transactionId: string | undefined;

  constructor(db: Db, name: string) {
    this.#db = db;
    this.#name = name;
  }

  async load(): Promise<void> {
    const row = await this.#db.selectFrom('checkpoints').selectAll().where('name', '=', this.#name).executeTakeFirst();
    this.#blockNumber = row === undefined ? undefined : BigInt(row.block_number);
    this.#transactionId = row?.transaction_id ?? undefined;
  }

  getBlockNumber(): bigint | undefined {
    return this.#blockNumber;
  }

  getTransactionId(): string | undefined {
    return this.#transactionId;
  }

  async checkpointBlock(blockNumber: bigint): Promise<void> {
    await this.#save(blockNumber + 1n, undefined);
  }

  async checkpointTransaction(blockNumber: bigint, transactionId: string): Promise<void> {
    await this.#save(blockNumber, transactionId);
  }

  async checkpointChaincodeEvent(event: ChaincodeEvent): Promise<void> {
    await this.checkpointTransaction(event.blockNumber, event.transactionId);
  }

  async #save(blockNumber: bigint, transactionId: string | undefined): Promise<void> {
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
    this.#blockNumber = blockNumber;
    this.#transactionId = transactionId;
  }
}
