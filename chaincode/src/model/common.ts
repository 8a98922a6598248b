import { z } from 'zod';
import type { EventSpec } from './spec';

/** Caller-chosen id that makes a creating transaction safe to repeat. */
export const requestIdSchema = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be letters, digits, ".", "_", ":" or "-"');

/**
 * The event of a transaction that answered a repeated request from storage
 * (`runOnce`): it names the transaction that acted, so a client can answer with that
 * one and need not order a transaction that writes nothing. Any non-empty id is taken:
 * Fabric's are 64 hex characters, test ledgers name theirs otherwise.
 */
export const requestReplayedEvent = {
  name: 'request.Replayed',
  payload: z.object({ txId: z.string().min(1) }).strict(),
} satisfies EventSpec<z.ZodType>;

/** Hex SHA-256 digest. */
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (SHA-256)');

/** ISO 8601 instant in UTC with a `Z` suffix, as produced by `Date.prototype.toISOString`. */
export const isoInstantSchema = z.iso.datetime({ offset: false });

/** Where a deliverable or a registered work can be fetched: an https, object-store or content-addressed URI. */
export const artifactUriSchema = z
  .url({
    protocol: /^(https|s3|gs|az|ipfs|ar|hf)$/,
    error: 'must be an https, s3, gs, az, ipfs, ar or hf URI',
  })
  .max(2048, 'must be at most 2048 characters');

/**
 * Random bytes as hex, mixed into a confidential document so that the SHA-256 the ledger
 * publishes (and Fabric's own hash of the private data) cannot be confirmed by guessing
 * the document: terms are short and guessable. Fabric's private data documentation
 * advises a salt for such values.
 */
export const documentSaltSchema = z
  .string()
  .regex(/^[0-9a-f]{32,128}$/, 'must be 32 to 128 lowercase hexadecimal digits (16 to 64 random bytes)');
