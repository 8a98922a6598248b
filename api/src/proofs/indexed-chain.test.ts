import { sql } from 'kysely';
import { BlockIndexer } from '../audit-index/block-indexer.js';
import { keyMetadataWritesFromName } from '../audit-index/index-schema.js';
import { compositeKey, syntheticBlock, syntheticTransaction } from '../audit-index/synthetic-blocks.js';
import { openDatabase, type Db } from '../db/database.js';
import type { ApiConfig } from '../config.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { indexedChain } from './indexed-chain.js';

/*
 * The audit index as a proof exporter sees the chain: headers by block number (a number
 * on every backend, though PostgreSQL answers a bigint as text), and the blocks where a
 * key changed. The exporter's use of them is tested against built blocks in the gateway
 * (header-chain.test); the proof end-to-end suite compares its bundles with the peer's.
 */

// Keys no domain indexer reads, so that empty values pass.
const key = compositeKey('note', ['A-1']);
const other = compositeKey('note', ['A-2']);

/** Blocks 0–5: the key written in 1 (invalid), 3 and given metadata alone in 4; another key in 2. */
function chain() {
  return [
    syntheticBlock(0n, []),
    syntheticBlock(1n, [syntheticTransaction(0, 'tx-1', [[key, {}]], { validationCode: 11, validationName: 'MVCC' })]),
    syntheticBlock(2n, [syntheticTransaction(0, 'tx-2', [[other, {}]], { metadataKeys: [other] })]),
    syntheticBlock(3n, [
      syntheticTransaction(0, 'tx-3a', [[other, {}]]),
      syntheticTransaction(1, 'tx-3b', [[key, {}]]),
    ]),
    syntheticBlock(4n, [syntheticTransaction(0, 'tx-4', [], { metadataKeys: [key] })]),
    syntheticBlock(5n, [syntheticTransaction(0, 'tx-5', [[key, {}]])]),
  ];
}

describe.each(storageBackends('gl-indexed-chain'))('the audit index as a chain index on $name', (backend) => {
  let database: ApiConfig['database'];
  let db: Db;
  let drop: () => Promise<void>;
  const blocks = chain();

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    database = opened.database;
    db = await openDatabase(database);
    const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    for (const block of blocks) await indexer.index(block);
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('gives the headers of the blocks in the range it holds, by number', async () => {
    const held = await indexedChain(db).headersBetween(1, 8);
    expect([...held.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    for (const block of blocks.slice(1)) {
      const header = held.get(Number(block.blockNumber));
      expect(Buffer.from(header?.previousHash ?? []).toString('hex')).toBe(block.previousHash);
      expect(Buffer.from(header?.dataHash ?? []).toString('hex')).toBe(block.dataHash);
    }
    expect((await indexedChain(db).headersBetween(7, 9)).size).toBe(0);
  });

  it('names the blocks below a height where a key was written, deleted or given metadata, valid or not, and its span', async () => {
    const history = await indexedChain(db).keyHistory('gigledger', key, 5);
    expect([...history.blocks].sort()).toEqual([1, 3, 4]);
    expect(history).toMatchObject({ coveredFrom: 0, coveredTo: 6 });
    expect([...(await indexedChain(db).keyHistory('gigledger', other, 6)).blocks].sort()).toEqual([2, 3]);
    expect((await indexedChain(db).keyHistory('another-chaincode', key, 6)).blocks.size).toBe(0);
  });

  it('covers, after an upgrade, only the blocks indexed since the index kept metadata writes; a rebuild covers them all', async () => {
    // The index as the release before this table left it: its blocks, no metadata rows,
    // neither this table's migration nor any later one run.
    await db.schema.dropTable('ix_key_metadata_writes').execute();
    await sql`delete from kysely_migration where name >= '2026-12-07-002-audit-index-key-metadata-writes'`.execute(db);
    await db.destroy();
    db = await openDatabase(database);
    const upgraded = await indexedChain(db).keyHistory('gigledger', key, 6);
    expect(upgraded).toMatchObject({ coveredFrom: 6, coveredTo: 6 });
    expect([...upgraded.blocks].sort()).toEqual([1, 3, 5]);

    const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    await indexer.index(syntheticBlock(6n, [syntheticTransaction(0, 'tx-6', [], { metadataKeys: [key] })]));
    const after = await indexedChain(db).keyHistory('gigledger', key, 7);
    expect(after).toMatchObject({ coveredFrom: 6, coveredTo: 7 });
    expect([...after.blocks].sort()).toEqual([1, 3, 5, 6]);

    await indexer.clear();
    expect(
      await db.selectFrom('checkpoints').selectAll().where('name', '=', keyMetadataWritesFromName).execute(),
    ).toEqual([]);
    for (const block of chain()) await indexer.index(block);
    expect(await indexedChain(db).keyHistory('gigledger', key, 6)).toMatchObject({ coveredFrom: 0, coveredTo: 6 });
  });
});
