import {
  committedBlock,
  endorserEnvelope,
  metadataWrite,
  transactionWith,
  write,
} from '../test-support/ledger-blocks.js';
import { scanForKeyPolicies, type ChainIndex, type KeyHistory } from './export-proof.js';

/*
 * The search for the key-level policy of a key written without being read, over a chain
 * of built blocks: block 5 sets the policy of `k`, block 12 writes `k` without touching
 * its metadata, block 25 (position 1) is the transaction proven. Every other block holds
 * one transaction writing another key.
 */

const policy = Buffer.from('a signature policy envelope');

const blockOf = (number: number, payloads: readonly Uint8Array[]) =>
  committedBlock(
    number,
    payloads.map((payload, at) => endorserEnvelope(`tx-${String(number)}-${String(at)}`, payload)),
  );

const otherKey = transactionWith('gigledger', (kv) => {
  kv.setWritesList([write('other')]);
});
const chain = Array.from({ length: 30 }, (_, number) => {
  if (number === 5)
    return blockOf(number, [
      transactionWith('gigledger', (kv) => {
        kv.setWritesList([write('k')]);
        kv.setMetadataWritesList([metadataWrite('k', policy)]);
      }),
    ]);
  if (number === 12)
    return blockOf(number, [
      transactionWith('gigledger', (kv) => {
        kv.setWritesList([write('k')]);
      }),
    ]);
  if (number === 25)
    return blockOf(number, [
      otherKey,
      transactionWith('gigledger', (kv) => {
        kv.setWritesList([write('k')]);
      }),
    ]);
  return blockOf(number, [otherKey]);
});

function peerReads() {
  const read: number[] = [];
  return {
    read,
    blockByNumber: (number: number) => {
      read.push(number);
      const block = chain[number];
      return block === undefined ? Promise.reject(new Error(`no block ${String(number)}`)) : Promise.resolve(block);
    },
  };
}

function indexOf(history: KeyHistory): ChainIndex {
  return {
    headersBetween: () => Promise.resolve(new Map()),
    keyHistory: () => Promise.resolve(history),
  };
}

const proven = { block: 25, index: 1 };

describe('the search for the policy of a key written without being read', () => {
  it('reads every block down to the one that set it, eight at a time, when no index is known', async () => {
    const { read, blockByNumber } = peerReads();
    const found = await scanForKeyPolicies(['k'], proven, 'gigledger', blockByNumber, undefined);
    expect(found.map((entry) => [entry.key, entry.setBy.block, entry.setBy.index])).toEqual([['k', 5, 0]]);
    // Blocks 24 to 1: the third batch of eight holds block 5.
    expect(read).toEqual([25, ...Array.from({ length: 24 }, (_, at) => 24 - at)]);
  });

  it('reads only the blocks where the index saw the key change, with the same answer', async () => {
    const { read, blockByNumber } = peerReads();
    const index = indexOf({ blocks: new Set([5, 12]), coveredFrom: 0, coveredTo: 30 });
    const found = await scanForKeyPolicies(['k'], proven, 'gigledger', blockByNumber, index);
    expect(found.map((entry) => [entry.key, entry.setBy.block])).toEqual([['k', 5]]);
    expect(read).toEqual([25, 12, 5]);
  });

  it('reads every block outside the span the index covers: above its height, and below where it began to keep metadata', async () => {
    const { read, blockByNumber } = peerReads();
    const index = indexOf({ blocks: new Set([12]), coveredFrom: 10, coveredTo: 22 });
    const found = await scanForKeyPolicies(['k'], proven, 'gigledger', blockByNumber, index);
    expect(found.map((entry) => [entry.key, entry.setBy.block])).toEqual([['k', 5]]);
    expect(read).toEqual([25, 24, 23, 22, 12, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('finds no policy, reading nothing but the proven block, for a key the index never saw change before', async () => {
    const { read, blockByNumber } = peerReads();
    const index = indexOf({ blocks: new Set(), coveredFrom: 0, coveredTo: 30 });
    expect(await scanForKeyPolicies(['never'], proven, 'gigledger', blockByNumber, index)).toEqual([]);
    expect(read).toEqual([25]);
  });
});
