import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import { readRecord, writeRecord } from './state';

/**
 * Marks on the channel ledger that a private data key was purged under GDPR Art. 17,
 * so that reads of the key answer "erased, see receipt R" instead of finding nothing.
 * One marker per purged key, written once by the erasure transaction.
 *
 *   personalDataErasure [collection, objectType, ...keyAttributes]
 */
const erasureObjectType = 'personalDataErasure';

export const erasureMarkerSchema = z.object({ receiptId: z.string(), at: z.string(), txId: z.string() });
export type ErasureMarker = z.output<typeof erasureMarkerSchema>;

function markerKey(ctx: Context, collection: string, privateKey: string): string {
  const { objectType, attributes } = ctx.stub.splitCompositeKey(privateKey);
  return ctx.stub.createCompositeKey(erasureObjectType, [collection, objectType, ...attributes]);
}

/** The erasure of a private key, or undefined while it has not been erased. */
export function readErasureMarker(
  ctx: Context,
  collection: string,
  privateKey: string,
): Promise<ErasureMarker | undefined> {
  return readRecord(ctx, erasureMarkerSchema, markerKey(ctx, collection, privateKey));
}

export async function writeErasureMarker(
  ctx: Context,
  collection: string,
  privateKey: string,
  marker: ErasureMarker,
): Promise<void> {
  await writeRecord(ctx, markerKey(ctx, collection, privateKey), marker);
}
