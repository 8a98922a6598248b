import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { blockHeaderHash } from './block-hash.js';
import { headerChain, partHeaders, type ChainIndex } from './export-proof.js';

/*
 * The header chain of a proof from headers an index holds, against a chain of blocks
 * built as Fabric links them (each header's previous hash the SHA-256 of the one before,
 * as block-hash.test checks against Fabric's encoding). The proof end-to-end suite checks
 * the index's headers against the peer's on the real network.
 */

const sha = (text: string) => createHash('sha256').update(text).digest();

/**
 * A stand-in for the orderers' SIGNATURES metadata of a block: one signature whose bytes
 * name the block, none for block 0 (a genesis block carries none).
 */
function signaturesMetadata(number: number): Uint8Array {
  const metadata = new common.Metadata();
  if (number > 0) {
    const signature = new common.MetadataSignature();
    signature.setSignature(Buffer.from(`signature of ${String(number)}`));
    metadata.setSignaturesList([signature]);
  }
  return metadata.serializeBinary();
}

function chainOf(length: number): common.Block[] {
  const blocks: common.Block[] = [];
  let previousHash: Uint8Array = new Uint8Array();
  for (let number = 0; number < length; number += 1) {
    const header = new common.BlockHeader();
    header.setNumber(number);
    header.setPreviousHash(previousHash);
    header.setDataHash(sha(`data ${String(number)}`));
    const block = new common.Block();
    block.setHeader(header);
    const metadata = new common.BlockMetadata();
    metadata.setMetadataList([signaturesMetadata(number)]);
    block.setMetadata(metadata);
    blocks.push(block);
    previousHash = blockHeaderHash({
      number: BigInt(number),
      previousHash: header.getPreviousHash_asU8(),
      dataHash: header.getDataHash_asU8(),
    });
  }
  return blocks;
}

const chain = chainOf(40);
const signed = chain[39]!;
const expected = chain.slice(5).map((block) => Buffer.from(block.getHeader()!.serializeBinary()).toString('base64'));

/** Reads blocks of `blocks` by number, recording which were read. */
function peer(blocks: readonly common.Block[] = chain) {
  const read: number[] = [];
  return {
    read,
    blockByNumber: (number: number) => {
      read.push(number);
      const block = blocks[number];
      return block === undefined ? Promise.reject(new Error(`no block ${String(number)}`)) : Promise.resolve(block);
    },
  };
}

/** An index holding the headers of `numbers`, as `ix_blocks` rows give them, `alter`ed where it says. */
function index(
  numbers: readonly number[],
  alter: (number: number, fields: { previousHash: Uint8Array; dataHash: Uint8Array }) => void = () => undefined,
): Pick<ChainIndex, 'headersBetween'> {
  return {
    headersBetween: (from, to) => {
      const held = new Map<number, { previousHash: Uint8Array; dataHash: Uint8Array }>();
      for (const number of numbers) {
        if (number < from || number > to) continue;
        const header = chain[number]!.getHeader()!;
        const fields = {
          previousHash: Buffer.from(header.getPreviousHash_asU8()),
          dataHash: Buffer.from(header.getDataHash_asU8()),
        };
        alter(number, fields);
        held.set(number, fields);
      }
      return Promise.resolve(held);
    },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, at) => from + at);

describe('the header chain of a proof', () => {
  it('reads every block between the first and the signed one from the peer when no headers are known', async () => {
    const { read, blockByNumber } = peer();
    const forgotten: number[] = [];
    expect(await headerChain(5, signed, undefined, blockByNumber, (number) => forgotten.push(number))).toEqual(
      expected,
    );
    expect(read.sort((a, b) => a - b)).toEqual(range(5, 39));
    expect(forgotten.sort((a, b) => a - b)).toEqual(range(5, 39));
  });

  it('reads no block when an index holds every header, and gives the same headers', async () => {
    const { read, blockByNumber } = peer();
    expect(await headerChain(5, signed, index(range(0, 39)), blockByNumber)).toEqual(expected);
    expect(read).toEqual([]);
  });

  it('reads from the peer only the blocks the index has not reached', async () => {
    const { read, blockByNumber } = peer();
    expect(await headerChain(5, signed, index(range(0, 36)), blockByNumber)).toEqual(expected);
    expect(read.sort((a, b) => a - b)).toEqual([36, 37, 38]);
  });

  it('takes no header from the index that does not chain to the block after it, and reads that block instead', async () => {
    const { read, blockByNumber } = peer();
    const tampered = index(range(0, 39), (number, fields) => {
      if (number === 20) fields.dataHash = sha('another block 20');
    });
    expect(await headerChain(5, signed, tampered, blockByNumber)).toEqual(expected);
    expect(read).toEqual([20]);
  });

  it('gives the signed block alone when it is the first', async () => {
    const { read, blockByNumber } = peer();
    expect(await headerChain(39, signed, index(range(0, 39)), blockByNumber)).toEqual(expected.slice(-1));
    expect(read).toEqual([]);
  });

  it('fails naming the block when the peer gives one that does not chain', async () => {
    const forked = chainOf(40);
    forked[30]!.getHeader()!.setDataHash(sha('forked 30'));
    const { blockByNumber } = peer(forked);
    await expect(headerChain(5, signed, undefined, blockByNumber)).rejects.toThrow(
      'block 30 as the peer gives it does not chain to block 31',
    );
  });
});

describe('the headers of a proof whose parts are proven by their own blocks', () => {
  const headerOf = (number: number) => Buffer.from(chain[number]!.getHeader()!.serializeBinary()).toString('base64');
  const signaturesOf = (number: number) => Buffer.from(signaturesMetadata(number)).toString('base64');

  it('gives one header per block, in order, and the signatures of each block ending a run but the transaction and signed ones', async () => {
    const { read, blockByNumber } = peer();
    // Configuration block 7, definition commits 3 and 4, the transaction in 20, newest 39; 4 named twice.
    expect(await partHeaders([20, 7, 4, 3, 4, 39], 20, 39, blockByNumber)).toEqual({
      headers: [3, 4, 7, 20, 39].map(headerOf),
      anchors: [
        { number: 4, signatures: signaturesOf(4) },
        { number: 7, signatures: signaturesOf(7) },
      ],
    });
    // Only the parts' blocks are read, however long the chain between them.
    expect([...new Set(read)].sort((a, b) => a - b)).toEqual([3, 4, 7, 20, 39]);
  });

  it('proves a block the orderers did not sign (the genesis block) by the next one', async () => {
    const { blockByNumber } = peer();
    expect(await partHeaders([0, 4, 20, 39], 20, 39, blockByNumber)).toEqual({
      headers: [0, 1, 4, 20, 39].map(headerOf),
      anchors: [
        { number: 1, signatures: signaturesOf(1) },
        { number: 4, signatures: signaturesOf(4) },
      ],
    });
  });

  it('carries no anchors when the parts are the transaction block and the newest', async () => {
    const { blockByNumber } = peer();
    expect(await partHeaders([38, 39], 38, 39, blockByNumber)).toEqual({ headers: [38, 39].map(headerOf) });
    expect(await partHeaders([39], 39, 39, blockByNumber)).toEqual({ headers: [headerOf(39)] });
  });
});
