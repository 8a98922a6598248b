import type { Insertable } from 'kysely';
import type { z } from 'zod';
import type { AuditIndexTables } from './index-schema.js';

/** A public write of a VALID transaction whose key is a composite key. */
export interface IndexedWrite {
  /** The composite key's object type, e.g. `agreement`. */
  readonly objectType: string;
  readonly attributes: readonly string[];
  readonly key: string;
  /** The record as written (JSON); deletions never reach an indexer. */
  readonly value: unknown;
  readonly transactionId: string;
  readonly blockNumber: number;
}

export type IndexTable = keyof AuditIndexTables;
export type IndexRow<T extends IndexTable> = Insertable<AuditIndexTables[T]>;
export type IndexColumn<T extends IndexTable> = keyof AuditIndexTables[T] & string;

/**
 * The rows one block makes. They are gathered while the block's writes are read and
 * written together at its end, in the block's database transaction (so a crash leaves
 * all or none of a block), a few statements per table instead of several per write.
 */
export interface BlockRows {
  /**
   * Inserts `row`, or replaces the row of `table` with the same `key` columns (the
   * table's primary key); of two such rows in one block, the later one stands.
   */
  upsert<T extends IndexTable>(table: T, key: readonly IndexColumn<T>[], row: IndexRow<T>): void;
  /**
   * Makes `rows` the only rows of `table` whose `parent` columns hold these values (a
   * work's owners, a milestone's payouts); of two such sets in one block, the later stands.
   */
  replace<T extends IndexTable>(table: T, parent: Partial<IndexRow<T>>, rows: readonly IndexRow<T>[]): void;
  /**
   * The `columns` of the row of `table` whose primary key is `key`: as written earlier
   * in this block, else as the index holds it, else undefined.
   */
  find<T extends IndexTable, C extends IndexColumn<T>>(
    table: T,
    key: Partial<IndexRow<T>>,
    columns: readonly C[],
  ): Promise<Pick<AuditIndexTables[T], C> | undefined>;
}

/**
 * Turns one written record into rows.
 *
 * @throws Error when the value does not match the domain's record schema, or a record
 *   it refers to is missing; the block is then not indexed, and indexing stops there
 *   until the indexer is fixed.
 */
export type RecordIndexer = (write: IndexedWrite, rows: BlockRows) => void | Promise<void>;

/** What the index keeps of one domain: the composite-key object types it owns and how each written value becomes rows. */
export interface DomainIndexer {
  readonly domain: string;
  /**
   * One indexer per object type, in the order a transaction's writes are applied (a
   * record before the records that refer to it).
   */
  readonly records: readonly (readonly [objectType: string, index: RecordIndexer])[];
}

/**
 * The indexer of a record kept as one row of `table`: the value parsed by `schema`, then
 * upserted on `key` as `row` makes it.
 */
export function oneRow<S extends z.ZodType, T extends IndexTable>(
  schema: S,
  table: T,
  key: readonly IndexColumn<T>[],
  row: (record: z.output<S>, write: IndexedWrite) => IndexRow<T>,
): RecordIndexer {
  return (write, rows) => {
    rows.upsert(table, key, row(schema.parse(write.value), write));
  };
}

/** The columns every domain row ends with: the block that last wrote it and the record as JSON. */
export function written(write: IndexedWrite, record: unknown): { updated_block: number; record: string } {
  return { updated_block: write.blockNumber, record: JSON.stringify(record) };
}

const separator = '\u0000';

/**
 * Splits a composite key (`\0objectType\0attr1\0…\0`, as `createCompositeKey` makes it);
 * undefined for a simple key.
 */
export function splitCompositeKey(key: string): { objectType: string; attributes: string[] } | undefined {
  if (!key.startsWith(separator) || !key.endsWith(separator)) return undefined;
  const [objectType, ...attributes] = key.slice(1, -1).split(separator);
  if (objectType === undefined || objectType === '') return undefined;
  return { objectType, attributes };
}

/**
 * A ledger key as the index stores it: JSON string escaping, so the U+0000 separators
 * of composite keys become `\u0000` (PostgreSQL text cannot hold U+0000), reversibly.
 */
export function storedKey(key: string): string {
  return JSON.stringify(key).slice(1, -1);
}

/** The ledger key a {@link storedKey} stands for. */
export function ledgerKey(stored: string): string {
  return JSON.parse(`"${stored}"`) as string;
}
