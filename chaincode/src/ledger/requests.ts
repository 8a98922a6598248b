import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import { canonicalJson } from '../model/canonical-json';
import { requestReplayedEvent } from '../model/common';
import { emitEvent } from './events';
import { readRecord, writeRecord } from './state';
import { refuse } from './refusal';

const requestObjectType = 'request';

const storedRequestSchema = z.object({
  fingerprint: z.string(),
  result: z.unknown(),
  txId: z.string(),
});

/**
 * Runs a creating operation at most once per (caller, operation, request id).
 *
 * A client that lost the commit status of its transaction asks again with the same
 * request id and gets the stored result, with the event `request.Replayed` naming the
 * transaction that acted (the gateway package answers with that one and orders nothing);
 * the same id with a different request is refused rather than silently answered with the
 * first result.
 *
 * @throws RefusalError REQUEST_ID_REUSED when the id was used for a different request.
 */
export async function runOnce<Result>(
  ctx: Context,
  operation: string,
  requestId: string,
  request: unknown,
  resultSchema: z.ZodType<Result>,
  run: () => Promise<Result>,
): Promise<Result> {
  const callerDigest = createHash('sha256').update(ctx.clientIdentity.getID()).digest('hex');
  const key = ctx.stub.createCompositeKey(requestObjectType, [callerDigest, operation, requestId]);
  const fingerprint = createHash('sha256').update(canonicalJson(request)).digest('hex');
  const stored = await readRecord(ctx, storedRequestSchema, key);
  if (stored !== undefined) {
    if (stored.fingerprint !== fingerprint) {
      refuse(
        'REQUEST_ID_REUSED',
        `request id ${requestId} was already used for a different ${operation} request`,
        'requestId',
      );
    }
    emitEvent(ctx, requestReplayedEvent, { txId: stored.txId });
    return resultSchema.parse(stored.result);
  }
  const result = await run();
  await writeRecord(ctx, key, { fingerprint, result, txId: ctx.stub.getTxID() });
  return result;
}
