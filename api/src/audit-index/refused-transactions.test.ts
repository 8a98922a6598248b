import type { BlockTransaction } from '@gigledger/gateway';
import { openDatabase, type Db } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { BlockIndexer } from './block-indexer.js';
import { syntheticBlock, syntheticTransaction } from './synthetic-blocks.js';

/*
 * A transaction the peers refused carries whatever its client put in it: the index must
 * record it and go on, on PostgreSQL too (which stores no NUL character and checks each
 * column's length), or one such transaction would stop the index for good.
 */

const backends = storageBackends('gl-ix-refused');

const hostile: BlockTransaction = {
  transactionId: `${'x'.repeat(300)}\u0000`,
  position: 0,
  headerType: 'ENDORSER_TRANSACTION',
  creatorMspId: '\u0000'.repeat(100),
  validationCode: 4,
  validationName: 'BAD_PAYLOAD',
  timestamp: undefined,
  chaincode: 'c'.repeat(100),
  function: 'f\u0001'.repeat(200),
  keys: [
    { namespace: `${'n'.repeat(100)}\u0000`, collection: 'c'.repeat(100), keyHash: 'ab'.repeat(100), access: 'write' },
    { namespace: 'gigledger', key: 'k\u0000\ud800', access: 'read' },
  ],
  writes: [],
  metadataWrites: [{ namespace: 'n'.repeat(100), key: 'k\u0000' }],
  event: undefined,
};

const malformed: BlockTransaction = {
  ...hostile,
  transactionId: '',
  position: 1,
  headerType: 'MALFORMED',
  creatorMspId: '',
  chaincode: undefined,
  function: undefined,
  keys: [],
  metadataWrites: [],
};

describe.each(backends)('the audit index and transactions the peers refused, on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('records them with their text escaped and cut to its column, and indexes the next block', async () => {
    const indexer = new BlockIndexer(db, { chaincode: 'gigledger' });
    expect(await indexer.index(syntheticBlock(0n, [hostile, malformed]))).toBe('indexed');
    expect(await indexer.index(syntheticBlock(1n, [syntheticTransaction(0, 'tx-next', [])]))).toBe('indexed');
    expect(await indexer.height()).toBe(2n);
    const [first, second] = await db
      .selectFrom('ix_transactions')
      .selectAll()
      .where('block_number', '=', 0)
      .orderBy('position')
      .execute();
    expect(first?.tx_id).toHaveLength(128);
    expect(first?.tx_id.endsWith('…')).toBe(true);
    expect(first?.creator_msp.startsWith('\\u0000\\u0000')).toBe(true);
    expect(first?.creator_msp.length).toBeLessThanOrEqual(64);
    expect(first?.chaincode).toHaveLength(64);
    expect(first?.function_name?.startsWith('f\\u0001f')).toBe(true);
    expect(second).toMatchObject({ tx_id: '', header_type: 'MALFORMED', validation_name: 'BAD_PAYLOAD' });
    const keys = await db.selectFrom('ix_tx_keys').selectAll().where('block_number', '=', 0).orderBy('seq').execute();
    expect(
      keys.map((row) => [row.namespace.length <= 64, row.collection?.length ?? 0, row.key_hash?.length ?? 0]),
    ).toEqual([
      [true, 64, 64],
      [true, 0, 0],
    ]);
    expect(keys[1]?.key).toBe('k\\u0000\\ud800');
  });
});
