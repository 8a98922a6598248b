import { auditCommandRoles } from '../../model/access-roles';
import type { ReadLogAnchor } from '../../model/audit';
import { requireRole } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { actorOf, type Tx } from '../../ledger/tx';
import { readAnchors, readLatestAnchor, writeAnchor } from './store';

/**
 * Records the head of the caller organisation's read log. A head never goes back, and a
 * sequence already anchored keeps its hash: a different hash for it means rows before it
 * changed, which is what anchoring exists to expose. Repeating the latest anchor is a
 * no-op answered with the stored anchor.
 *
 * @throws RefusalError FORBIDDEN unless the caller holds the service role;
 *   READ_LOG_ANCHOR_CONFLICT when the sequence is below the latest anchor's, or equal to
 *   it with another hash.
 */
export async function anchor(tx: Tx, request: { sequence: number; headHash: string }): Promise<ReadLogAnchor> {
  requireRole(tx.caller, auditCommandRoles.anchorReadLog, 'anchor a read log');
  const latest = await readLatestAnchor(tx.ctx, tx.caller.mspId);
  if (latest !== undefined) {
    if (request.sequence < latest.sequence) {
      refuse(
        'READ_LOG_ANCHOR_CONFLICT',
        `the read log of ${tx.caller.mspId} was anchored at sequence ${String(latest.sequence)}; a head at ${String(request.sequence)} would go back`,
        'sequence',
      );
    }
    if (request.sequence === latest.sequence) {
      if (request.headHash === latest.headHash) return latest;
      refuse(
        'READ_LOG_ANCHOR_CONFLICT',
        `sequence ${String(latest.sequence)} of the read log of ${tx.caller.mspId} is anchored with hash ${latest.headHash}, not ${request.headHash}`,
        'headHash',
      );
    }
  }
  const anchored: ReadLogAnchor = {
    mspId: tx.caller.mspId,
    sequence: request.sequence,
    headHash: request.headHash,
    anchoredBy: actorOf(tx.caller),
    at: tx.at,
    txId: tx.txId,
  };
  await writeAnchor(tx.ctx, anchored);
  return anchored;
}

/** An organisation's anchors in sequence order; public to the channel, as they reveal only counts and hashes. */
export function listAnchors(tx: Tx, mspId: string): Promise<ReadLogAnchor[]> {
  return readAnchors(tx.ctx, mspId);
}
