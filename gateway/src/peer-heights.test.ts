import { HeightBoard } from './peer-heights.js';

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

  it('ends every wait when closed, with what it has', async () => {
    const board = new HeightBoard(organisations);
    recordAll(board, 5n);
    const waiting = board.waitForBlock(9n, 60_000);
    board.close();
    expect(await waiting).toBe(false);
  });
});
