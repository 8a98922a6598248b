import { BlockIndexer } from '../audit-index/block-indexer.js';
import { syntheticBlock } from '../audit-index/synthetic-blocks.js';
import { openDatabase, type Db } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { indexedBlockHeaders } from './indexed-headers.js';

/*
 * The index's headers as a proof's header chain takes them: by block number (a number on
 * every backend, though PostgreSQL answers a bigint as text), hashes as bytes. The proof
 * end-to-end suite checks that a chain built from them is the peer's.
 */

describe.each(storageBackends('gl-indexed-headers'))('the audit index block headers on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;
  const blocks = [0n, 1n, 2n, 3n].map((number) => syntheticBlock(number, []));

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
    const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    for (const block of blocks) await indexer.index(block);
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('gives the headers of the blocks in the range it holds, by number', async () => {
    const held = await indexedBlockHeaders(db).between(1, 5);
    expect([...held.keys()].sort()).toEqual([1, 2, 3]);
    for (const block of blocks.slice(1)) {
      const header = held.get(Number(block.blockNumber));
      expect(Buffer.from(header?.previousHash ?? []).toString('hex')).toBe(block.previousHash);
      expect(Buffer.from(header?.dataHash ?? []).toString('hex')).toBe(block.dataHash);
    }
    expect((await indexedBlockHeaders(db).between(7, 9)).size).toBe(0);
  });
});
