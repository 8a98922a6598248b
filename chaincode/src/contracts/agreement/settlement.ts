import type {
  AgreementRecord,
  InstructionKind,
  MilestoneRecord,
  MilestoneStatus,
  SettlementCause,
  SettlementInstruction,
} from '../../model/agreement-records';
import { formatMinorUnits, minorUnits, splitPlatformFee } from '../../model/money';
import type { InstructionIssue } from '../parameter/settlement-organisations';

/** Pending-settlement statuses and the status each reaches once all its payouts are confirmed paid. */
export const settledStatusOf: Partial<Record<MilestoneStatus, MilestoneStatus>> = {
  released: 'paid',
  resolved: 'settled',
  refunding: 'refunded',
};

/** Statuses in which the milestone's escrow is held and not yet promised to anyone. */
export const escrowHeldStatuses: readonly MilestoneStatus[] = ['funded', 'submitted', 'rejected'];

/** Statuses after which nothing more happens to a milestone. */
export const finalStatuses: readonly MilestoneStatus[] = ['paid', 'settled', 'refunded', 'cancelled'];

/**
 * Builds a pending instruction. Its id counts instructions of the same kind already on
 * the milestone (including ones issued earlier in this transaction), so it is unique
 * per milestone and the same on every endorsing peer.
 */
export function newInstruction(
  issue: InstructionIssue,
  agreement: AgreementRecord,
  milestone: MilestoneRecord,
  issued: readonly SettlementInstruction[],
  kind: InstructionKind,
  cause: SettlementCause,
  amount: bigint,
  platformFee = 0n,
): SettlementInstruction {
  const sameKind = issued.filter((instruction) => instruction.kind === kind).length;
  return {
    instructionId: `${agreement.agreementId}/${milestone.milestoneId}/${kind}-${sameKind + 1}`,
    kind,
    cause,
    agreementId: agreement.agreementId,
    milestoneId: milestone.milestoneId,
    payer: agreement.client,
    payee: agreement.freelancer,
    ...(kind === 'fund-escrow' ? {} : { recipient: kind === 'refund' ? agreement.client : agreement.freelancer }),
    amount: formatMinorUnits(amount),
    platformFee: formatMinorUnits(platformFee),
    currency: milestone.currency,
    status: 'pending',
    requestedAt: issue.at,
    requestTxId: issue.txId,
    settlingOrganisation: issue.settlingOrganisation,
  };
}

/**
 * Pays `share` of the escrow to the freelancer, keeping the platform fee the parties
 * agreed to (floor of the basis points; the remainder goes to the freelancer).
 */
export function releaseInstruction(
  issue: InstructionIssue,
  agreement: AgreementRecord,
  milestone: MilestoneRecord,
  issued: readonly SettlementInstruction[],
  cause: SettlementCause,
  share: bigint,
): SettlementInstruction {
  const { fee, net } = splitPlatformFee(share, agreement.platformFeeBps);
  return newInstruction(issue, agreement, milestone, issued, 'release', cause, net, fee);
}

/** The escrowed amount of a milestone, in minor units. */
export function escrowOf(milestone: MilestoneRecord): bigint {
  return minorUnits(milestone.amount);
}
