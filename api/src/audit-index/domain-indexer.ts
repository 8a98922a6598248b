import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/database.js';

/** A public write of a VALID transaction whose key is a composite key. */
export interface IndexedWrite {
  /** The composite key's object type, e.g. `agreement`. */
  readonly objectType: string;
  readonly attributes: readonly string[];
  readonly key: string;
  /** The record as written (JSON), or undefined when the transaction deleted the key. */
  readonly value: unknown;
  readonly transactionId: string;
  readonly blockNumber: number;
}

/**
 * What the index keeps of one domain: the composite-key object types it owns and how a
 * written value becomes rows. Rows are written inside the block's database transaction
 * (`db` is that transaction), so a crash leaves all or none of a block.
 */
export interface DomainIndexer {
  readonly domain: string;
  /** Object types in the order a transaction's writes are applied (a record before the records that refer to it). */
  readonly objectTypes: readonly string[];
  /**
   * @throws Error when the value does not match the domain's record schema; the block is
   *   then not indexed, and indexing stops there until the indexer is fixed.
   */
  apply(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void>;
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
