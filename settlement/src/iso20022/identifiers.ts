import { createHash } from 'node:crypto';
import { textProblem } from './text.js';

/** ISO 20022 identifications (`MsgId`, `PmtInfId`, `EndToEndId`) are `Max35Text`. */
export const maxIdentifierLength = 35;

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding: upper case letters and digits, safe in every bank's charset. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet.charAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += base32Alphabet.charAt((buffer << (5 - bits)) & 31);
  return out;
}

/**
 * An ISO 20022 identification for `value`: `value` itself when it is a valid `Max35Text`,
 * otherwise the first 35 characters of the base32 SHA-256 of its UTF-8 bytes. The
 * short form is deterministic, so retries and restarts yield the same id, and 175 bits
 * leave collisions out of the question for any realistic volume.
 *
 * @throws never.
 */
export function shortIdentifier(value: string): string {
  if (textProblem(value, maxIdentifierLength) === undefined) return value;
  return digestIdentifier(value, maxIdentifierLength);
}

/**
 * The first `length` characters of the base32 SHA-256 of `value`'s UTF-8 bytes, whatever
 * `value` is: upper-case letters and digits only, 5 bits each.
 *
 * @throws never (a `length` above 52 gives the whole digest).
 */
export function digestIdentifier(value: string, length: number): string {
  return base32(createHash('sha256').update(value, 'utf8').digest()).slice(0, length);
}

/**
 * The `EndToEndId` a payout of `instructionId` carries, and that the bank echoes in its
 * `camt.054`: the instruction id when it fits in 35 characters, else its
 * {@link shortIdentifier}. In the second case the file also carries the full id as
 * unstructured remittance information, so that people reading a statement can find it.
 *
 * @throws never.
 */
export function endToEndIdFor(instructionId: string): string {
  return shortIdentifier(instructionId);
}
