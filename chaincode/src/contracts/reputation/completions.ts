import type { RecordCompletionRequest } from '../../model/reputation';
import { reputationEvents } from '../../model/reputation';
import {
  completedAtOf,
  disputeOutcomeOf,
  ratedMilestoneStatuses,
  timelinessOf,
  type CompletionRecord,
} from '../../model/reputation-records';
import { refuse } from '../../ledger/refusal';
import { requireSide } from '../agreement/access';
import { milestoneLabel, requireAgreement, requireMilestone } from '../agreement/store';
import type { Tx } from '../../ledger/tx';
import { emitReputationEvent } from './events';
import { completionKey, keyExists, writeCompletion } from './store';

/**
 * The client rates the finished work of one milestone. The subject, timeliness,
 * dispute outcome and completion time come from the agreement and milestone records.
 *
 * Reads only single keys — the agreement, the milestone and the completion key itself
 * (plus the request key of `runOnce`) — all belonging to this one agreement, and writes
 * one key belonging to it. Completions of different agreements therefore never read or
 * write each other's keys and cannot conflict (no MVCC or phantom read conflicts), however
 * many are recorded for the same freelancer at once.
 *
 * @throws RefusalError NOT_FOUND for an unknown agreement or milestone, or an agreement
 *   the caller may not read (the same answer); FORBIDDEN unless the agreement's client calls; INVALID_STATE unless the milestone's work is finished
 *   (accepted, released, paid, or decided by arbitration); ALREADY_EXISTS when the
 *   milestone has been rated.
 */
export async function recordCompletion(tx: Tx, request: RecordCompletionRequest): Promise<CompletionRecord> {
  const { ctx } = tx;
  const agreement = await requireAgreement(ctx, request.agreementId);
  const label = milestoneLabel(request.agreementId, request.milestoneId);
  requireSide(tx.caller, agreement, 'client', `rate ${label}`);
  const milestone = await requireMilestone(ctx, agreement, request.milestoneId);
  if (!ratedMilestoneStatuses.includes(milestone.status)) {
    refuse(
      'INVALID_STATE',
      `${label} is ${milestone.status}; only work that is ${ratedMilestoneStatuses.join(', ')} can be rated`,
      'milestoneId',
    );
  }
  const completedAt = completedAtOf(milestone);
  if (completedAt === undefined) throw new Error(`${label} is ${milestone.status} without acceptance or decision`);
  const subject = agreement.freelancer;
  const ref = { subject, agreementId: agreement.agreementId, milestoneId: milestone.milestoneId };
  if (await keyExists(ctx, completionKey(ctx, ref))) {
    refuse('ALREADY_EXISTS', `${label} has already been rated`, 'milestoneId');
  }
  const timeliness = timelinessOf(milestone);
  const completion: CompletionRecord = {
    ...ref,
    client: agreement.client,
    milestoneKind: milestone.kind,
    milestoneStatus: milestone.status,
    rating: request.rating,
    dueDate: milestone.dueDate,
    ...timeliness,
    disputeOutcome: disputeOutcomeOf(milestone),
    completedAt,
    recordedAt: tx.at,
    txId: tx.txId,
  };
  await writeCompletion(ctx, completion);
  emitReputationEvent(tx, reputationEvents.completionRecorded, subject, { completion });
  return completion;
}
