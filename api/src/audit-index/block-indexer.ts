import type { BlockContents } from '@gigledger/gateway';
import { sql, SqliteAdapter, type Kysely } from 'kysely';
import type { DatabaseSchema, Db } from '../db/database.js';
import { splitCompositeKey, storedKey, type DomainIndexer, type IndexedWrite } from './domain-indexer.js';
import { domainIndexers } from './domain-indexers.js';
import { auditIndexTables } from './index-schema.js';

/** Name of the index's row in the `checkpoints` table: the next block to index (the indexed height). */
export const auditIndexCheckpointName = 'audit-index';

/** Where an index run may be stopped dead by a test (see {@link BlockIndexerOptions.crash}). */
export const indexCrashPoints = ['before-block', 'inside-transaction', 'after-commit'] as const;
export type IndexCrashPoint = (typeof indexCrashPoints)[number];

export interface BlockIndexerOptions {
  readonly indexers?: readonly DomainIndexer[];
  /** The chaincode whose writes hold domain records; other namespaces (lifecycle, system) are kept as keys only. */
  readonly chaincode?: string;
  /** Called at each crash point; tests kill the process there. */
  readonly crash?: (point: IndexCrashPoint) => void;
}

const validCode = 0;
const rowsPerInsert = 500;

/** The index's height: the number of blocks indexed (0 when empty). */
export async function indexedHeight(db: Kysely<DatabaseSchema>): Promise<bigint> {
  const row = await db
    .selectFrom('checkpoints')
    .select('block_number')
    .where('name', '=', auditIndexCheckpointName)
    .executeTakeFirst();
  return row === undefined ? 0n : BigInt(row.block_number);
}

/** Indexed blocks between two refreshes of SQLite's planner statistics. */
const plannerStatisticsEvery = 50n;

/**
 * Lets SQLite's planner know the index's tables as they grow (`PRAGMA optimize`, which
 * analyses only tables that changed much since their last analysis, with a bounded
 * sample). Without statistics it takes any index over a range for a party's few rows,
 * e.g. the status index for "active agreements of a quarter" seen by an auditor who
 * may read only their own: a scan of every active agreement of the quarter instead of
 * a look-up of the party's. PostgreSQL keeps its statistics itself.
 */
export async function refreshPlannerStatistics(db: Kysely<DatabaseSchema>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) await sql`pragma optimize=0x10002`.execute(db);
}

/**
 * Writes blocks into the audit index, each in one database transaction together with
 * the new indexed height, and only the block that comes next: a block already indexed
 * is skipped, a block beyond the next one is refused. Whatever point a crash stops it
 * at, the index holds whole blocks 0…height-1 and nothing else.
 */
export class BlockIndexer {
  readonly #db: Db;
  readonly #indexers: readonly DomainIndexer[];
  readonly #owner: Map<string, { indexer: DomainIndexer; order: number }>;
  readonly #chaincode: string | undefined;
  readonly #crash: (point: IndexCrashPoint) => void;

  constructor(db: Db, options: BlockIndexerOptions = {}) {
    this.#db = db;
    this.#indexers = options.indexers ?? domainIndexers;
    this.#chaincode = options.chaincode;
    this.#crash = options.crash ?? (() => undefined);
    this.#owner = new Map();
    this.#indexers.forEach((indexer, indexerOrder) => {
      indexer.objectTypes.forEach((objectType, typeOrder) => {
        if (this.#owner.has(objectType)) throw new Error(`two domain indexers claim object type ${objectType}`);
        this.#owner.set(objectType, { indexer, order: indexerOrder * 1000 + typeOrder });
      });
    });
  }

  height(): Promise<bigint> {
    return indexedHeight(this.#db);
  }

  /**
   * @returns whether the block was indexed now, or had been already.
   * @throws Error when the block is not the next one (a gap), or a record does not decode.
   */
  async index(block: BlockContents): Promise<'indexed' | 'already-indexed'> {
    this.#crash('before-block');
    const outcome = await this.#db.transaction().execute(async (trx) => {
      const height = await indexedHeight(trx);
      if (block.blockNumber < height) return 'already-indexed' as const;
      if (block.blockNumber > height) {
        throw new Error(
          `block ${block.blockNumber.toString()} is not the next one: the index holds ${height.toString()} blocks`,
        );
      }
      await this.#write(trx, block);
      await trx
        .insertInto('checkpoints')
        .values({
          name: auditIndexCheckpointName,
          block_number: (block.blockNumber + 1n).toString(),
          transaction_id: null,
          updated_at: new Date().toISOString(),
        })
        .onConflict((conflict) =>
          conflict.column('name').doUpdateSet({
            block_number: (block.blockNumber + 1n).toString(),
            updated_at: new Date().toISOString(),
          }),
        )
        .execute();
      this.#crash('inside-transaction');
      return 'indexed' as const;
    });
    if (outcome === 'indexed') {
      this.#crash('after-commit');
      if (block.blockNumber % plannerStatisticsEvery === 0n) await refreshPlannerStatistics(this.#db);
    }
    return outcome;
  }

  /** Empties every index table and the height, for a rebuild from block 0. */
  async clear(): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (const table of auditIndexTables) await trx.deleteFrom(table).execute();
      await trx.deleteFrom('checkpoints').where('name', '=', auditIndexCheckpointName).execute();
    });
  }

  async #write(db: Kysely<DatabaseSchema>, block: BlockContents): Promise<void> {
    const blockNumber = Number(block.blockNumber);
    await db
      .insertInto('ix_blocks')
      .values({
        block_number: blockNumber,
        hash: block.hash,
        previous_hash: block.previousHash,
        data_hash: block.dataHash,
        tx_count: block.transactions.length,
      })
      .execute();
    const transactionRows = block.transactions.map((tx) => ({
      block_number: blockNumber,
      position: tx.position,
      tx_id: tx.transactionId,
      header_type: tx.headerType,
      creator_msp: tx.creatorMspId,
      validation_code: tx.validationCode,
      validation_name: tx.validationName,
      timestamp: tx.timestamp ?? null,
      chaincode: tx.chaincode ?? null,
      function_name: tx.function ?? null,
    }));
    const keyRows = block.transactions.flatMap((tx) =>
      tx.keys.map((access, seq) => ({
        block_number: blockNumber,
        position: tx.position,
        seq,
        namespace: access.namespace,
        collection: access.collection ?? null,
        key: access.key === undefined ? null : storedKey(access.key),
        key_hash: access.keyHash ?? null,
        value_hash: access.valueHash ?? null,
        access: access.access,
      })),
    );
    // In slices, so a full block stays under the databases' bound-parameter limits.
    for (let start = 0; start < transactionRows.length; start += rowsPerInsert) {
      await db
        .insertInto('ix_transactions')
        .values(transactionRows.slice(start, start + rowsPerInsert))
        .execute();
    }
    for (let start = 0; start < keyRows.length; start += rowsPerInsert) {
      await db
        .insertInto('ix_tx_keys')
        .values(keyRows.slice(start, start + rowsPerInsert))
        .execute();
    }
    for (const tx of block.transactions) {
      // An invalid transaction changed nothing on the ledger, so it changes no record here.
      if (tx.validationCode !== validCode) continue;
      const owned: { write: IndexedWrite; indexer: DomainIndexer; order: number }[] = [];
      for (const written of tx.writes) {
        if (this.#chaincode !== undefined && written.namespace !== this.#chaincode) continue;
        const parts = splitCompositeKey(written.key);
        const owner = parts && this.#owner.get(parts.objectType);
        if (parts === undefined || owner === undefined) continue;
        owned.push({
          indexer: owner.indexer,
          order: owner.order,
          write: {
            objectType: parts.objectType,
            attributes: parts.attributes,
            key: written.key,
            value: JSON.parse(Buffer.from(written.value).toString('utf8')) as unknown,
            transactionId: tx.transactionId,
            blockNumber,
          },
        });
      }
      owned.sort((a, b) => a.order - b.order);
      for (const { indexer, write } of owned) await indexer.apply(db, write);
    }
  }
}
