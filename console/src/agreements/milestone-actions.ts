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
  | 'reissueFailedPayout';

/** A payout (or refund) the provider answered `failed` and nobody has issued again yet: it may be reissued. */
export function failedPayoutOf(milestone: PageMilestone): PageMilestone['instructions'][number] | undefined {
  return milestone.instructions.find(
    (instruction) =>
      instruction.status === 'failed' && instruction.kind !== 'fund_escrow' && instruction.reissuedAs == null,
  );
}

/** The signed-in person's part in an agreement, by the party their identity names. */
export function partOf(
  agreement: PageAgreement,
  person: { mspId: string; userId: string },
): 'client' | 'freelancer' | undefined {
  const is = (party: { mspId: string; userId: string }) =>
    party.mspId === person.mspId && party.userId === person.userId;
  if (is(agreement.client)) return 'client';
  if (is(agreement.freelancer)) return 'freelancer';
  return undefined;
}

/**
 * What the person may do on a milestone right now, following the agreement contract's
 * rules (chaincode/README.md): the client funds an unfunded milestone of an active
 * agreement, accepts or rejects a delivery; the freelancer delivers on a funded or
 * rejected milestone and claims acceptance once the review window has passed; either
 * releases an accepted milestone, disputes a delivery under review or rejected, asks
 * for a held payout to be checked again and issues a failed payout again (once the payee
 * has a working account). Buttons appear only for these; a refusal the
 * ledger still makes (e.g. the revision limit) is shown in words.
 */
export function milestoneActions(
  agreement: PageAgreement,
  milestone: PageMilestone,
  part: 'client' | 'freelancer' | undefined,
  now: number,
): MilestoneAction[] {
  if (part === undefined) return [];
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
