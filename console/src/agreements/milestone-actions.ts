import type { PageAgreement, PageMilestone } from './milestone-timeline.js';

/** The commands a party may send on a milestone; the chaincode has the last word on each. */
export type MilestoneAction =
  | 'fund'
  | 'submit'
  | 'accept'
  | 'reject'
  | 'claimAcceptance'
  | 'release'
  | 'dispute'
  | 'retryHeldPayout'
  | 'reissueFailedPayout'
  | 'evaluate'
  | 'voteOnDispute';

/** The signed-in person's part in an agreement. */
export type AgreementPart = 'client' | 'freelancer' | 'evaluator';

/** A payout (or refund) the provider answered `failed` and nobody has issued again yet: it may be reissued. */
export function failedPayoutOf(milestone: PageMilestone): PageMilestone['instructions'][number] | undefined {
  return milestone.instructions.find(
    (instruction) =>
      instruction.status === 'failed' && instruction.kind !== 'fund_escrow' && instruction.reissuedAs == null,
  );
}

/**
 * Whether the person sits on the panel of the milestone's undecided dispute: the one
 * action an arbitrator takes, whatever part (none) they have in the agreement.
 */
export function arbitrates(milestone: PageMilestone, person: { mspId: string; userId: string }): boolean {
  const dispute = milestone.dispute;
  return (
    milestone.status === 'disputed' &&
    dispute != null &&
    dispute.decision == null &&
    (dispute.panel ?? []).some((member) => member.mspId === person.mspId && member.userId === person.userId)
  );
}

/** The signed-in person's part in an agreement, by the party their identity names. */
export function partOf(agreement: PageAgreement, person: { mspId: string; userId: string }): AgreementPart | undefined {
  const is = (party: { mspId: string; userId?: string | null } | null | undefined) =>
    party != null && party.mspId === person.mspId && party.userId === person.userId;
  if (is(agreement.client)) return 'client';
  if (is(agreement.freelancer)) return 'freelancer';
  if (is(agreement.evaluator)) return 'evaluator';
  return undefined;
}

/**
 * What the person may do on a milestone right now, following the agreement contract's
 * rules (chaincode/README.md): the client funds an unfunded milestone of an active
 * agreement, accepts or rejects a delivery; the freelancer delivers on a funded or
 * rejected milestone and claims acceptance once the review window has passed; either
 * releases an accepted milestone, disputes a delivery under review or rejected, asks
 * for a held payout to be checked again and issues a failed payout again (once the payee
 * has a working account). The agreement's evaluator reports on a delivery under review
 * against the milestone's metric thresholds, and does nothing else. Buttons appear only
 * for these; a refusal the ledger still makes (e.g. the revision limit) is shown in words.
 */
export function milestoneActions(
  agreement: PageAgreement,
  milestone: PageMilestone,
  part: AgreementPart | undefined,
  now: number,
): MilestoneAction[] {
  if (part === undefined) return [];
  if (part === 'evaluator') {
    const evaluated =
      agreement.status === 'active' &&
      milestone.kind === 'deliverable' &&
      milestone.status === 'submitted' &&
      milestone.acceptanceCriteria.thresholds.length > 0;
    return evaluated ? ['evaluate'] : [];
  }
  // A failed payout or refund is issued again whatever became of the agreement since (a
  // refund follows a cancellation).
  const reissue: MilestoneAction[] = failedPayoutOf(milestone) === undefined ? [] : ['reissueFailedPayout'];
  if (agreement.status !== 'active' || milestone.kind !== 'deliverable') return reissue;
  const actions: MilestoneAction[] = [];
  const status = milestone.status;
  const latest = milestone.submissions.at(-1);
  if (part === 'client') {
    if (status === 'unfunded') actions.push('fund');
    if (status === 'submitted') actions.push('accept', 'reject');
  } else {
    if (status === 'funded' || status === 'rejected') actions.push('submit');
    if (status === 'submitted' && latest !== undefined && Date.parse(latest.reviewDeadline) <= now) {
      actions.push('claimAcceptance');
    }
  }
  if (status === 'accepted') actions.push('release');
  if (status === 'submitted' || status === 'rejected') actions.push('dispute');
  if (milestone.instructions.some((instruction) => instruction.status === 'held')) actions.push('retryHeldPayout');
  return [...actions, ...reissue];
}
