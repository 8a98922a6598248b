import { createHash } from 'node:crypto';
import { blockDataHash, blockHeaderBytes } from './block-hash.js';

describe("Fabric's block hashing rules", () => {
  it('encodes a header as DER SEQUENCE { INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash }', () => {
    const dataHash = Buffer.alloc(32, 0xab);
    expect(blockHeaderBytes({ number: 0n, previousHash: new Uint8Array(), dataHash }).toString('hex')).toBe(
      `3027020100040004 20${dataHash.toString('hex')}`.replaceAll(' ', ''),
    );
  });

  it('gives INTEGER its minimal two’s-complement form, with a leading zero byte above 0x7f', () => {
    const bytes = (number: bigint) =>
      blockHeaderBytes({ number, previousHash: new Uint8Array(), dataHash: new Uint8Array() }).toString('hex');
    expect(bytes(127n)).toBe('300702017f04000400');
    expect(bytes(128n)).toBe('30080202008004000400');
    expect(bytes(65_536n)).toBe('3009020301000004000400');
  });

  it('uses the long DER length form once the content reaches 128 bytes', () => {
    const previousHash = Buffer.alloc(200, 1);
    const bytes = blockHeaderBytes({ number: 1n, previousHash, dataHash: new Uint8Array() });
    expect(bytes.subarray(0, 3).toString('hex')).toBe('3081d0');
    expect(bytes.subarray(6, 9).toString('hex')).toBe('0481c8');
  });

  it('hashes block data as SHA-256 over the entries joined without separator', () => {
    const entries = [Buffer.from('first'), Buffer.from('second')];
    expect(blockDataHash(entries)).toEqual(createHash('sha256').update('firstsecond').digest());
  });
});
