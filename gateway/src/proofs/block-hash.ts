import { createHash } from 'node:crypto';

/*
 * Fabric's block hashing rules (fabric/protoutil/blockutils.go):
 * - BlockDataHash: SHA-256 over the concatenation of the block's data entries (the
 *   serialised envelopes, with nothing between them);
 * - BlockHeaderBytes: Go's encoding/asn1 of struct { Number *big.Int; PreviousHash,
 *   DataHash []byte }, i.e. DER SEQUENCE { INTEGER, OCTET STRING, OCTET STRING };
 * - BlockHeaderHash: SHA-256 over those bytes, which the next header carries as previous_hash.
 * No library here encodes DER from values, and three fields do not warrant one.
 */

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derElement(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

/** Minimal two's-complement big-endian bytes of a non-negative integer, as DER INTEGER wants. */
function derIntegerContent(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return (bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** The header fields that Fabric hashes. */
export interface HeaderFields {
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly dataHash: Uint8Array;
}

/** Fabric's `protoutil.BlockHeaderBytes`: the DER encoding the orderers sign and the chain hashes. */
export function blockHeaderBytes(header: HeaderFields): Buffer {
  return derElement(
    0x30,
    Buffer.concat([
      derElement(0x02, derIntegerContent(header.number)),
      derElement(0x04, header.previousHash),
      derElement(0x04, header.dataHash),
    ]),
  );
}

/** Fabric's `protoutil.BlockHeaderHash`: SHA-256 of {@link blockHeaderBytes}. */
export function blockHeaderHash(header: HeaderFields): Buffer {
  return createHash('sha256').update(blockHeaderBytes(header)).digest();
}

/** Fabric's `protoutil.BlockDataHash`: SHA-256 over the data entries joined without separator. */
export function blockDataHash(entries: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const entry of entries) hash.update(entry);
  return hash.digest();
}
