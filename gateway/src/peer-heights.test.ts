import { common, peer } from '@hyperledger/fabric-protos';
import { HeightBoard, settleCommits, type CommitSeen } from './peer-heights.js';

/** A filtered block, as a peer's `DeliverFiltered` sends it: each transaction's id, type and validation code. */
const blockOf = (
  number: number,
  transactionIds: string[],
  codes: peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap][],
) => {
  const block = new peer.FilteredBlock();
  block.setChannelId('gigledger');
  block.setNumber(number);
  block.setFilteredTransactionsList(
    transactionIds.map((transactionId, index) => {
      const transaction = new peer.FilteredTransaction();
      transaction.setTxid(transactionId);
      transaction.setType(common.HeaderType.ENDORSER_TRANSACTION);
      transaction.setTxValidationCode(codes[index] ?? peer.TxValidationCode.VALID);
      return transaction;
    }),
  );
  // Sent over the wire: what the stream hands over is decoded from bytes.
  return peer.FilteredBlock.deserializeBinary(block.serializeBinary());
};

describe('settleCommits', () => {
  it('settles the awaited transactions of a block with their validation code and block number, and no others', () => {
    const settled = new Map<string, CommitSeen | undefined>();
    const waits = new Map<string, (seen: CommitSeen | undefined) => void>();
    for (const id of ['tx-a', 'tx-c', 'tx-elsewhere']) {
      waits.set(id, (seen) => {
        settled.set(id, seen);
        waits.delete(id);
      });
    }
    const { VALID, MVCC_READ_CONFLICT } = peer.TxValidationCode;
    settleCommits(blockOf(12, ['tx-a', 'tx-b', 'tx-c'], [VALID, VALID, MVCC_READ_CONFLICT]), waits);
    expect(settled).toEqual(
      new Map([
        ['tx-a', { successful: true, code: VALID, blockNumber: 12n }],
        ['tx-c', { successful: false, code: MVCC_READ_CONFLICT, blockNumber: 12n }],
      ]),
    );
    expect([...waits.keys()]).toEqual(['tx-elsewhere']);
  });

  it('settles a DUPLICATE_TXID as unknown: the first occurrence was in a block the wait did not see', () => {
    let settled: CommitSeen | undefined | 'not yet' = 'not yet';
    const waits = new Map([['tx-a', (seen: CommitSeen | undefined) => (settled = seen)]]);
    settleCommits(blockOf(13, ['tx-a'], [peer.TxValidationCode.DUPLICATE_TXID]), waits);
    expect(settled).toBeUndefined();
  });
});

describe('HeightBoard', () => {
  const organisations = ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'];
  const recordAll = (board: HeightBoard, height: bigint, except?: string) => {
    for (const mspId of organisations) if (mspId !== except) board.record(mspId, height);
  };

  it('waits for a block on every peer, and answers at once when all have it', async () => {
    const board = new HeightBoard(organisations);
    recordAll(board, 5n);
    expect(await board.waitForBlock(4n)).toBe(true);
    const waiting = board.waitForBlock(5n, 60_000);
    recordAll(board, 6n);
    expect(await waiting).toBe(true);
    expect(board.lagging()).toEqual([]);
  });

  it('stops waiting for a peer that let a wait time out, until it has the block that was the highest then', async () => {
    const board = new HeightBoard(organisations);
    recordAll(board, 5n);
    // The AuditOrg peer stops (frozen, say) while the others commit block 5.
    const first = board.waitForBlock(5n, 50);
    recordAll(board, 6n, 'AuditOrgMSP');
    expect(await first).toBe(false);
    expect(board.lagging()).toEqual(['AuditOrgMSP']);

    // Later commands wait for the peers that keep up only: this wait would hang for a
    // minute, past the test's own limit, if the stopped peer still counted.
    const second = board.waitForBlock(6n, 60_000);
    recordAll(board, 7n, 'AuditOrgMSP');
    expect(await second).toBe(true);

    // Back, it is waited for again once it has block 5 (height 6), the highest when it fell behind.
    board.record('AuditOrgMSP', 6n);
    expect(board.lagging()).toEqual([]);
    const third = board.waitForBlock(6n, 60_000);
    board.record('AuditOrgMSP', 7n);
    expect(await third).toBe(true);
  });

  it('waits for lagging peers named as answering too, as after a lagging peer refused a command for old state', async () => {
    const board = new HeightBoard(organisations);
    recordAll(board, 5n);
    const first = board.waitForBlock(5n, 50);
    recordAll(board, 6n, 'ClientOrgMSP');
    expect(await first).toBe(false);
    expect(board.lagging()).toEqual(['ClientOrgMSP']);

    // Left out, the wait ends at once although ClientOrg's peer lacks block 5.
    expect(await board.waitForBlock(5n, 60_000)).toBe(true);
    // Named, it is waited for: the wait ends when that peer has the block.
    let ended = false;
    const named = board.waitForBlock(5n, 60_000, new Set(['ClientOrgMSP'])).then((outcome) => {
      ended = true;
      return outcome;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    board.record('ClientOrgMSP', 6n);
    expect(await named).toBe(true);
    expect(board.lagging()).toEqual([]);

    // A named lagging peer that does not catch up in time ends the wait false and stays lagging.
    const second = board.waitForBlock(6n, 50);
    recordAll(board, 7n, 'AuditOrgMSP');
    expect(await second).toBe(false);
    expect(await board.waitForBlock(6n, 50, new Set(['AuditOrgMSP']))).toBe(false);
    expect(board.lagging()).toEqual(['AuditOrgMSP']);
  });

  it('ends every wait when closed, with what it has', async () => {
    const board = new HeightBoard(organisations);
    recordAll(board, 5n);
    const waiting = board.waitForBlock(9n, 60_000);
    board.close();
    expect(await waiting).toBe(false);
  });
});
