import type { KnownBlockHeaders } from '@gigledger/gateway';
import type { Db } from '../db/database.js';

/**
 * The audit index's block headers (`ix_blocks`: number, previous hash, data hash, as the
 * block follower wrote them from the peer's blocks) for a proof's header chain, so that an
 * export reads from the peer only the blocks the index has not reached. Empty when the
 * index is off. The exporter links each one to the block after it before using it.
 */
export function indexedBlockHeaders(db: Db): KnownBlockHeaders {
  return {
    async between(from, to) {
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
  };
}
