import { agreementEvents } from '../../model/agreement-events';
import type { MilestoneRecord, SettlementInstruction } from '../../model/agreement-records';
import { requireRole } from '../../ledger/caller';
import { minorUnits } from '../../model/money';
import { instructionIssue, requireSettlementOrganisation } from '../parameter/settlement-organisations';
import { refuse } from '../../ledger/refusal';
import { requireEitherSide, requireSide } from './access';
import { requireActive, requireStatus } from './guards';
import { checkPayeeCompliance, screenPayouts } from './compliance';
import { escrowOf, newInstruction, releaseInstruction, settledStatusOf } from './settlement';
import { milestoneLabel, requireAgreement, requireMilestone, writeMilestone } from './store';
import { touched, type Tx } from '../../ledger/tx';
import { commitMilestone, emitAgreementEvent } from './events';
import { answerInstruction } from '../settlement/answers';
import { settleWorkPledge } from '../ip/work-for-hire';

interface MilestoneRef {
  readonly agreementId: string;
  readonly milestoneId: string;
}

/**
 * Asks the settlement provider to collect the milestone's amount into escrow. The
 * milestone counts as funded only when the provider's confirmation is recorded.
 *
 * @throws RefusalError FORBIDDEN unless the client calls; INVALID_STATE unless the
 *   agreement is active and the milestone unfunded.
 */
export async function fundMilestone(tx: Tx, request: MilestoneRef): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  requireSide(tx.caller, agreement, 'client', `fund ${milestoneLabel(agreement.agreementId, request.milestoneId)}`);
  requireActive(agreement, request.milestoneId, 'funded');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireStatus(milestone, ['unfunded'], 'funded');
  const instruction = newInstruction(
    await instructionIssue(tx),
    agreement,
    milestone,
    milestone.instructions,
    'fund-escrow',
    'funding',
    escrowOf(milestone),
  );
  return issueInstruction(tx, milestone, 'funding', instruction, agreementEvents.fundingRequested);
}

/**
 * Records the settlement provider's answer to an instruction. A paid escrow funds the
 * milestone and a failed one returns it to unfunded; once every payout of a release,
 * dispute decision or refund is paid the milestone reaches its final status. A
 * work-for-hire milestone's delivered work moves to the client in the same transaction
 * that makes the milestone paid.
 *
 * @throws RefusalError FORBIDDEN without role settlement; NOT_FOUND for an unknown
 *   instruction; INVALID_STATE when the instruction was already answered.
 */
export async function confirmSettlement(
  tx: Tx,
  request: MilestoneRef & {
    instructionId: string;
    outcome: 'paid' | 'failed';
    providerReference: string;
    payoutAccountId?: string | undefined;
    reason?: string | undefined;
  },
): Promise<MilestoneRecord> {
  const label = milestoneLabel(request.agreementId, request.milestoneId);
  requireRole(tx.caller, ['settlement'], `confirm settlement of ${label}`);
  await requireSettlementOrganisation(tx, `confirm settlement of ${label}`);
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  const { answered, instructions } = answerInstruction(tx, milestone.instructions, request, label);
  let next: MilestoneRecord = { ...milestone, instructions };
  if (answered.kind === 'fund-escrow') {
    next =
      request.outcome === 'paid' ? { ...next, status: 'funded', fundedAt: tx.at } : { ...next, status: 'unfunded' };
  } else {
    const settled = settledStatusOf[milestone.status];
    // A failed payout that was issued again is settled by its replacement.
    const payouts = instructions.filter(
      (candidate) => candidate.kind !== 'fund-escrow' && candidate.reissuedAs === undefined,
    );
    if (settled !== undefined && payouts.every((payout) => payout.status === 'paid')) {
      next = { ...next, status: settled };
    }
  }
  const updated = touched(tx, next);
  await writeMilestone(tx.ctx, updated);
  if (updated.status !== milestone.status) await settleWorkPledge(tx, updated, agreement.client);
  emitAgreementEvent(tx, agreementEvents.settlementConfirmed, agreement.agreementId, {
    milestoneId: milestone.milestoneId,
    milestone: updated,
    instruction: answered,
  });
  return updated;
}

/**
 * Asks the settlement provider to pay an accepted milestone's escrow to the freelancer,
 * net of the platform fee. The instruction is pending when the freelancer passes the
 * payout compliance check, held otherwise (see {@link retryHeldPayout}).
 *
 * @throws RefusalError FORBIDDEN unless a party calls; INVALID_STATE unless accepted.
 */
export async function releaseMilestone(tx: Tx, request: MilestoneRef): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  requireEitherSide(tx.caller, agreement, `release ${milestoneLabel(agreement.agreementId, request.milestoneId)}`);
  requireActive(agreement, request.milestoneId, 'released');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireStatus(milestone, ['accepted'], 'released');
  const [instruction] = await screenPayouts(tx, [
    releaseInstruction(
      await instructionIssue(tx),
      agreement,
      milestone,
      milestone.instructions,
      'release',
      escrowOf(milestone),
    ),
  ]);
  if (instruction === undefined) throw new Error('screening dropped the release instruction');
  return issueInstruction(tx, milestone, 'released', instruction, agreementEvents.milestoneReleased);
}

/**
 * Moves the milestone to `status` with `instruction` added to its instructions, writes
 * it, and emits `event` carrying the instruction: as a settlement request when it is
 * pending, as a held payout when compliance held it.
 */
async function issueInstruction(
  tx: Tx,
  milestone: MilestoneRecord,
  status: 'funding' | 'released',
  instruction: SettlementInstruction,
  event: (typeof agreementEvents)['fundingRequested' | 'milestoneReleased'],
): Promise<MilestoneRecord> {
  const next = touched(tx, { ...milestone, status, instructions: [...milestone.instructions, instruction] });
  return commitMilestone(tx, next, event, {}, [instruction]);
}

/**
 * Runs the compliance check again on a held payout; once the payee holds a valid KYC
 * credential the payout becomes pending and is handed to the settlement provider. The
 * payee, the client, or the settlement service may ask.
 *
 * @throws RefusalError FORBIDDEN for a settlement service of an organisation not chosen
 *   for settlement, and for readers of the agreement who are not a party; NOT_FOUND, as for
 *   a missing agreement, for anyone else; NOT_FOUND for an unknown instruction;
 *   INVALID_STATE when the instruction is not held; COMPLIANCE_HOLD (nothing changes)
 *   while the payee still holds no valid credential.
 */
export async function retryHeldPayout(
  tx: Tx,
  request: MilestoneRef & { instructionId: string },
): Promise<MilestoneRecord> {
  const label = milestoneLabel(request.agreementId, request.milestoneId);
  // The settlement service's organisation is checked before the agreement is read, so
  // that a service of another organisation learns nothing of which ids exist.
  if (tx.caller.role === 'settlement') await requireSettlementOrganisation(tx, `retry a held payout of ${label}`);
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  if (tx.caller.role !== 'settlement') requireEitherSide(tx.caller, agreement, `retry a held payout of ${label}`);
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  const index = milestone.instructions.findIndex((instruction) => instruction.instructionId === request.instructionId);
  const instruction = milestone.instructions[index];
  if (instruction === undefined) {
    refuse('NOT_FOUND', `${label} has no settlement instruction ${request.instructionId}`, 'instructionId');
  }
  if (instruction.status !== 'held') {
    refuse(
      'INVALID_STATE',
      `settlement instruction ${instruction.instructionId} is ${instruction.status}, not held`,
      'instructionId',
    );
  }
  const check = await checkPayeeCompliance(tx, instruction.payee);
  if (check.outcome === 'held') {
    refuse('COMPLIANCE_HOLD', `payout ${instruction.instructionId} stays held: ${check.reason}`, 'instructionId');
  }
  const cleared: SettlementInstruction = { ...instruction, status: 'pending', compliance: check };
  const updated = touched(tx, {
    ...milestone,
    instructions: milestone.instructions.map((existing, position) => (position === index ? cleared : existing)),
  });
  return commitMilestone(tx, updated, agreementEvents.payoutCleared, { instruction: cleared }, [cleared]);
}

/**
 * Issues a failed payout (release or refund) again, e.g. after the payee corrected
 * their payout account: a new instruction for the same amount, fee and payee replaces
 * the failed one, which keeps its failure and names its replacement. A release is
 * screened for compliance again, so it may come out held. Either party or the
 * settlement service may ask.
 *
 * @throws RefusalError FORBIDDEN for a settlement service of an organisation not chosen
 *   for settlement, and for readers of the agreement who are not a party; NOT_FOUND, as for
 *   a missing agreement, for anyone else; NOT_FOUND for an unknown instruction;
 *   INVALID_STATE unless it is a failed payout not yet reissued on a
 *   milestone still awaiting settlement.
 */
export async function reissueFailedPayout(
  tx: Tx,
  request: MilestoneRef & { instructionId: string },
): Promise<MilestoneRecord> {
  const label = milestoneLabel(request.agreementId, request.milestoneId);
  // The settlement service's organisation is checked before the agreement is read, so
  // that a service of another organisation learns nothing of which ids exist.
  if (tx.caller.role === 'settlement') await requireSettlementOrganisation(tx, `reissue a failed payout of ${label}`);
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  if (tx.caller.role !== 'settlement') requireEitherSide(tx.caller, agreement, `reissue a failed payout of ${label}`);
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  const index = milestone.instructions.findIndex((instruction) => instruction.instructionId === request.instructionId);
  const failed = milestone.instructions[index];
  if (failed === undefined) {
    refuse('NOT_FOUND', `${label} has no settlement instruction ${request.instructionId}`, 'instructionId');
  }
  if (failed.kind === 'fund-escrow') {
    refuse(
      'INVALID_STATE',
      `${failed.instructionId} is a funding instruction; fund the milestone again instead`,
      'instructionId',
    );
  }
  if (failed.status !== 'failed') {
    refuse(
      'INVALID_STATE',
      `settlement instruction ${failed.instructionId} is ${failed.status}, not failed`,
      'instructionId',
    );
  }
  if (failed.reissuedAs !== undefined) {
    refuse(
      'INVALID_STATE',
      `settlement instruction ${failed.instructionId} was already reissued as ${failed.reissuedAs}`,
      'instructionId',
    );
  }
  if (settledStatusOf[milestone.status] === undefined) {
    refuse('INVALID_STATE', `${label} is ${milestone.status}, not awaiting settlement`, 'milestoneId');
  }
  const fresh = newInstruction(
    await instructionIssue(tx),
    agreement,
    milestone,
    milestone.instructions,
    failed.kind,
    failed.cause,
    minorUnits(failed.amount),
    minorUnits(failed.platformFee),
  );
  const [replacement] = await screenPayouts(tx, [{ ...fresh, reissueOf: failed.instructionId }]);
  if (replacement === undefined) throw new Error('screening dropped the reissued instruction');
  const instructions = [
    ...milestone.instructions.map((existing, position) =>
      position === index ? { ...existing, reissuedAs: replacement.instructionId } : existing,
    ),
    replacement,
  ];
  const updated = touched(tx, { ...milestone, instructions });
  await writeMilestone(tx.ctx, updated);
  emitAgreementEvent(
    tx,
    agreementEvents.payoutReissued,
    agreement.agreementId,
    {
      milestoneId: milestone.milestoneId,
      milestone: updated,
      instruction: replacement,
      replaces: failed.instructionId,
    },
    [replacement],
  );
  return updated;
}
