import type { BlockContents } from '@gigledger/gateway';
import { CompiledQuery, sql, SqliteAdapter, type Kysely, type RawBuilder } from 'kysely';
import type { DatabaseSchema, Db } from '../db/database.js';
import {
  splitCompositeKey,
  storedKey,
  type BlockRows,
  type DomainIndexer,
  type IndexColumn,
  type IndexRow,
  type IndexTable,
  type RecordIndexer,
} from './domain-indexer.js';
import { domainIndexers } from './domain-indexers.js';
import { auditIndexTables, keyMetadataWritesFromName, type AuditIndexTables } from './index-schema.js';

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
 * Text of a block as an index column holds it, `max` characters at most. A transaction the
 * peers refused can carry anything its client put there (an id of any length, control
 * characters PostgreSQL does not store): such text is kept escaped as in JSON and cut, so
 * that no block stops the index. A valid transaction's fields always fit as they are.
 */
function columnText(value: string, max: number): string {
  // Control characters and lone surrogates, which JSON escapes (all but U+007F to U+009F, which PostgreSQL stores).
  const printable = /[\p{Cc}\p{Cs}]/u.test(value) ? JSON.stringify(value).slice(1, -1) : value;
  return printable.length <= max ? printable : `${printable.slice(0, max - 1)}…`;
}

function optionalColumnText(value: string | undefined, max: number): string | null {
  return value === undefined ? null : columnText(value, max);
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
  readonly #owner: Map<string, { index: RecordIndexer; order: number }>;
  readonly #chaincode: string | undefined;
  readonly #crash: (point: IndexCrashPoint) => void;
  readonly #statements = new Map<string, string>();

  constructor(db: Db, options: BlockIndexerOptions = {}) {
    this.#db = db;
    this.#indexers = options.indexers ?? domainIndexers;
    this.#chaincode = options.chaincode;
    this.#crash = options.crash ?? (() => undefined);
    this.#owner = new Map();
    this.#indexers.forEach((indexer, indexerOrder) => {
      indexer.records.forEach(([objectType, index], typeOrder) => {
        if (this.#owner.has(objectType)) throw new Error(`two domain indexers claim object type ${objectType}`);
        this.#owner.set(objectType, { index, order: indexerOrder * 1000 + typeOrder });
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
      await trx
        .deleteFrom('checkpoints')
        .where('name', 'in', [auditIndexCheckpointName, keyMetadataWritesFromName])
        .execute();
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
      tx_id: columnText(tx.transactionId, 128),
      header_type: columnText(tx.headerType, 32),
      creator_msp: columnText(tx.creatorMspId, 64),
      validation_code: tx.validationCode,
      validation_name: columnText(tx.validationName, 64),
      timestamp: tx.timestamp ?? null,
      chaincode: optionalColumnText(tx.chaincode, 64),
      function_name: optionalColumnText(tx.function, 128),
    }));
    const keyRows = block.transactions.flatMap((tx) =>
      tx.keys.map((access, seq) => ({
        block_number: blockNumber,
        position: tx.position,
        seq,
        namespace: columnText(access.namespace, 64),
        collection: optionalColumnText(access.collection, 64),
        key: access.key === undefined ? null : storedKey(access.key),
        key_hash: optionalColumnText(access.keyHash, 64),
        value_hash: optionalColumnText(access.valueHash, 64),
        access: access.access,
      })),
    );
    const metadataRows = block.transactions.flatMap((tx) =>
      tx.metadataWrites.map((write, seq) => ({
        block_number: blockNumber,
        position: tx.position,
        seq,
        namespace: columnText(write.namespace, 64),
        key: storedKey(write.key),
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
    for (let start = 0; start < metadataRows.length; start += rowsPerInsert) {
      await db
        .insertInto('ix_key_metadata_writes')
        .values(metadataRows.slice(start, start + rowsPerInsert))
        .execute();
    }
    const rows = new PendingRows(db, this.#statements);
    for (const tx of block.transactions) {
      // An invalid transaction changed nothing on the ledger, so it changes no record here.
      if (tx.validationCode !== validCode) continue;
      const owned: {
        index: RecordIndexer;
        order: number;
        objectType: string;
        attributes: string[];
        key: string;
        value: Uint8Array;
      }[] = [];
      for (const written of tx.writes) {
        if (this.#chaincode !== undefined && written.namespace !== this.#chaincode) continue;
        const parts = splitCompositeKey(written.key);
        const owner = parts && this.#owner.get(parts.objectType);
        if (parts === undefined || owner === undefined) continue;
        owned.push({ ...owner, ...parts, key: written.key, value: written.value });
      }
      owned.sort((a, b) => a.order - b.order);
      for (const { index, objectType, attributes, key, value } of owned) {
        await index(
          {
            objectType,
            attributes,
            key,
            value: JSON.parse(Buffer.from(value).toString('utf8')) as unknown,
            transactionId: tx.transactionId,
            blockNumber,
          },
          rows,
        );
      }
    }
    await rows.flush();
  }
}

/** Rows per statement: a few fixed sizes, so a handful of SQL texts serve every block (prepared once each). */
const statementSizes = [64, 8, 1];

/** `items` in chunks of the fixed statement sizes, largest first. */
function statementChunks<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let start = 0;
  for (const size of statementSizes) {
    while (items.length - start >= size) {
      chunks.push(items.slice(start, start + size));
      start += size;
    }
  }
  return chunks;
}

type AnyRow = Readonly<Record<string, unknown>>;

/**
 * The {@link BlockRows} of one block, written by {@link PendingRows.flush} inside the
 * block's database transaction. Upserts of one key are merged (the last stands), so each
 * multi-row statement touches a row once, as PostgreSQL's ON CONFLICT requires.
 */
class PendingRows implements BlockRows {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #upserts = new Map<IndexTable, { key: readonly string[]; rows: Map<string, AnyRow> }>();
  readonly #replaced = new Map<IndexTable, { parents: Map<string, AnyRow>; rows: Map<string, readonly AnyRow[]> }>();
  readonly #texts: Map<string, string>;
  /** Rows read from the index in this block, by table and key. */
  readonly #read = new Map<string, AnyRow | undefined>();

  /** @param texts SQL texts by statement shape, kept from block to block by the caller (one database, one dialect). */
  constructor(db: Kysely<DatabaseSchema>, texts: Map<string, string>) {
    this.#db = db;
    this.#texts = texts;
  }

  upsert<T extends IndexTable>(table: T, key: readonly string[], row: IndexRow<T>): void {
    const pending = this.#upserts.get(table) ?? { key, rows: new Map<string, AnyRow>() };
    this.#upserts.set(table, pending);
    const id = keyOf(key, row);
    pending.rows.delete(id);
    pending.rows.set(id, row);
  }

  replace<T extends IndexTable>(table: T, parent: Partial<IndexRow<T>>, rows: readonly IndexRow<T>[]): void {
    const pending = this.#replaced.get(table) ?? { parents: new Map<string, AnyRow>(), rows: new Map() };
    this.#replaced.set(table, pending);
    const id = keyOf(Object.keys(parent), parent);
    pending.parents.set(id, parent);
    pending.rows.set(id, rows);
  }

  async find<T extends IndexTable, C extends IndexColumn<T>>(
    table: T,
    key: Partial<IndexRow<T>>,
    columns: readonly C[],
  ): Promise<Pick<AuditIndexTables[T], C> | undefined> {
    const pending = this.#upserts.get(table);
    const keyRow: AnyRow = key;
    const written = pending?.rows.get(keyOf(pending.key, keyRow));
    if (written !== undefined) return written as Pick<AuditIndexTables[T], C>;
    const keyColumns = Object.keys(key);
    const id = `${table} ${keyOf(keyColumns, keyRow)}`;
    if (!this.#read.has(id)) {
      const [found] = await this.#run(
        `select ${table} ${columns.join()} ${keyColumns.join()}`,
        [keyRow],
        keyColumns,
        () => {
          const where = keyColumns.map((column) => sql`${sql.ref(column)} = ${keyRow[column]}`);
          return sql`select ${sql.join(columns.map((column) => sql.ref(column)))} from ${sql.table(table)} where ${sql.join(where, sql` and `)}`;
        },
      );
      this.#read.set(id, found);
    }
    return this.#read.get(id) as Pick<AuditIndexTables[T], C> | undefined;
  }

  /** Writes every gathered row: each replaced set's old rows deleted, then all inserts and upserts. */
  async flush(): Promise<void> {
    for (const [table, { parents, rows }] of this.#replaced) {
      const columns = Object.keys(parents.values().next().value ?? {});
      for (const chunk of statementChunks([...parents.values()])) {
        await this.#run(
          `delete ${table} ${columns.join()} ${chunk.length}`,
          chunk,
          columns,
          (tuples) =>
            sql`delete from ${sql.table(table)} where (${sql.join(columns.map((column) => sql.ref(column)))}) in (${tuples})`,
        );
      }
      await this.#insert(table, [...rows.values()].flat(), []);
    }
    for (const [table, { key, rows }] of this.#upserts) await this.#insert(table, [...rows.values()], key);
  }

  /** Inserts rows (upserts them on `key` when it is given), grouped by the columns they fill. */
  async #insert(table: IndexTable, rows: readonly AnyRow[], key: readonly string[]): Promise<void> {
    const byColumns = new Map<string, AnyRow[]>();
    for (const row of rows) {
      const shape = Object.keys(row).join();
      byColumns.set(shape, [...(byColumns.get(shape) ?? []), row]);
    }
    for (const [shape, sameShape] of byColumns) {
      const columns = Object.keys(sameShape[0] ?? {});
      const names = sql.join(columns.map((column) => sql.ref(column)));
      const updates = columns
        .filter((column) => !key.includes(column))
        .map((column) => sql`${sql.ref(column)} = excluded.${sql.ref(column)}`);
      const onConflict =
        key.length === 0
          ? sql``
          : sql` on conflict (${sql.join(key.map((column) => sql.ref(column)))}) do update set ${sql.join(updates)}`;
      for (const chunk of statementChunks(sameShape)) {
        await this.#run(
          `insert ${table} ${shape} ${key.join()} ${chunk.length}`,
          chunk,
          columns,
          (tuples) => sql`insert into ${sql.table(table)} (${names}) values ${tuples}${onConflict}`,
        );
      }
    }
  }

  /**
   * Runs a statement over `rows` (each a tuple of `columns`), building its SQL text once
   * per shape: Kysely's builder costs more than the statement itself here.
   */
  async #run(
    shape: string,
    rows: readonly AnyRow[],
    columns: readonly string[],
    statement: (tuples: RawBuilder<unknown>) => RawBuilder<unknown>,
  ): Promise<AnyRow[]> {
    const parameters = rows.flatMap((row) => columns.map((column) => row[column] ?? null));
    let text = this.#texts.get(shape);
    if (text === undefined) {
      const tuples = sql.join(rows.map((row) => sql`(${sql.join(columns.map((column) => row[column] ?? null))})`));
      text = statement(tuples).compile(this.#db).sql;
      this.#texts.set(shape, text);
    }
    return (await this.#db.executeQuery<AnyRow>(CompiledQuery.raw(text, parameters))).rows;
  }
}

function keyOf(columns: readonly string[], row: AnyRow): string {
  return JSON.stringify(
    columns.map((column) => row[column] ?? null),
    (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
  );
}
