import { auditCommandRoles } from '../../model/access-roles';
import type { ReadLogAnchor } from '../../model/audit';
import { requireRole } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { actorOf, type Tx } from '../../ledger/tx';
import { readAnchorsPage, readLatestAnchor, writeAnchor } from './store';
import type { Page, PageRequest } from '../../model/page';

/**
 * Records the head of one of the caller organisation's read logs (`logId`; each API
 * deployment keeps its own). A log's head never goes back, and a sequence already
 * anchored keeps its hash: a different hash for it means rows before it changed, which is
 * what anchoring exists to expose. Repeating the latest anchor is a no-op answered with
 * the stored anchor.
 *
 * @throws RefusalError FORBIDDEN unless the caller holds the service role;
 *   READ_LOG_ANCHOR_CONFLICT when the sequence is below the latest anchor's, or equal to
 *   it with another hash.
 */
export async function anchor(
  tx: Tx,
  request: { sequence: number; headHash: string; logId?: string | undefined },
): Promise<ReadLogAnchor> {
  requireRole(tx.caller, auditCommandRoles.anchorReadLog, 'anchor a read log');
  const latest = await readLatestAnchor(tx.ctx, tx.caller.mspId, request.logId);
  const which = request.logId === undefined ? '' : ` ${request.logId.slice(0, 12)}`;
  if (latest !== undefined) {
    if (request.sequence < latest.sequence) {
      refuse(
        'READ_LOG_ANCHOR_CONFLICT',
        `the read log${which} of ${tx.caller.mspId} was anchored at sequence ${String(latest.sequence)}; a head at ${String(request.sequence)} would go back`,
        'sequence',
      );
    }
    if (request.sequence === latest.sequence) {
      if (request.headHash === latest.headHash) return latest;
      refuse(
        'READ_LOG_ANCHOR_CONFLICT',
        `sequence ${String(latest.sequence)} of the read log${which} of ${tx.caller.mspId} is anchored with hash ${latest.headHash}, not ${request.headHash}`,
        'headHash',
      );
    }
  }
  const anchored: ReadLogAnchor = {
    mspId: tx.caller.mspId,
    ...(request.logId === undefined ? {} : { logId: request.logId }),
    sequence: request.sequence,
    headHash: request.headHash,
    anchoredBy: actorOf(tx.caller),
    at: tx.at,
    txId: tx.txId,
  };
  await writeAnchor(tx.ctx, anchored);
  return anchored;
}

/**
 * One page of an organisation's anchors (of one log, or of all), in sequence order;
 * public to the channel, as they reveal only counts and hashes.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function listAnchors(
  tx: Tx,
  mspId: string,
  logId: string | undefined,
  page: PageRequest,
): Promise<Page<ReadLogAnchor>> {
  return readAnchorsPage(tx.ctx, mspId, logId, page);
}
