import type { ChainIndex } from '@gigledger/gateway';
import { indexedHeight } from '../audit-index/block-indexer.js';
import { storedKey } from '../audit-index/domain-indexer.js';
import { keyMetadataWritesFromName } from '../audit-index/index-schema.js';
import type { Db } from '../db/database.js';

/**
 * The audit index as a proof exporter's view of the chain (empty when the index is off):
 *
 * - block headers (`ix_blocks`: number, previous hash, data hash, as the block follower
 *   wrote them from the peer's blocks) for a bundle that carries the long header chain
 *   (an anchor's orderer no longer accepted), which the exporter links to the block after
 *   each before using one;
 * - where a key was written or deleted (`ix_tx_keys`) or given metadata
 *   (`ix_key_metadata_writes`), so that the search for the key-level policy of a key
 *   written without being read reads only those blocks of the index's span, and every
 *   block outside it (above its height, or indexed before it kept metadata writes).
 */
export function indexedChain(db: Db): ChainIndex {
  return {
    async headersBetween(from, to) {
      const rows = await db
        .selectFrom('ix_blocks')
        .select(['block_number', 'previous_hash', 'data_hash'])
        .where('block_number', '>=', from)
        .where('block_number', '<=', to)
        .execute();
      return new Map(
        rows.map((row) => [
          Number(row.block_number),
          { previousHash: Buffer.from(row.previous_hash, 'hex'), dataHash: Buffer.from(row.data_hash, 'hex') },
        ]),
      );
    },

    async keyHistory(namespace, key, below) {
      const stored = storedKey(key);
      // Read before the rows, so that no block indexed meanwhile counts as covered without its rows.
      const [height, metadataFrom] = await Promise.all([
        indexedHeight(db),
        db
          .selectFrom('checkpoints')
          .select('block_number')
          .where('name', '=', keyMetadataWritesFromName)
          .executeTakeFirst(),
      ]);
      const [written, metadata] = await Promise.all([
        db
          .selectFrom('ix_tx_keys')
          .select('block_number')
          .distinct()
          .where('key', '=', stored)
          .where('namespace', '=', namespace)
          .where('collection', 'is', null)
          .where('access', 'in', ['write', 'delete'])
          .where('block_number', '<', below)
          .execute(),
        db
          .selectFrom('ix_key_metadata_writes')
          .select('block_number')
          .distinct()
          .where('key', '=', stored)
          .where('namespace', '=', namespace)
          .where('block_number', '<', below)
          .execute(),
      ]);
      return {
        blocks: new Set([...written, ...metadata].map((row) => Number(row.block_number))),
        coveredFrom: metadataFrom === undefined ? 0 : Number(metadataFrom.block_number),
        coveredTo: Number(height),
      };
    },
  };
}
