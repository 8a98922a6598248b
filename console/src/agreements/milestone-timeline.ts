import type { AgreementPageQuery } from '../gql/graphql.js';
import { formatMoney } from '../format.js';
import { claimedWords, evaluationWords } from './metric-words.js';

export type PageAgreement = NonNullable<AgreementPageQuery['agreement']>;
export type PageMilestone = PageAgreement['milestones'][number];

/** One step of a milestone's life, as the ledger recorded it. */
export interface TimelineStep {
  readonly label: string;
  readonly at: string;
  readonly detail?: string;
}

/**
 * A milestone's steps in the order they happened: drafted, agreement accepted, funding
 * requested (and failed, with the provider's reason) or funded, each delivery (with the
 * metrics it claims), evaluation and rejection, acceptance, dispute and votes (revised ones too), release
 * (the freelancer's net and the platform fee) or refund, payment. Only steps the ledger holds
 * appear; times are transaction timestamps.
 */
export function milestoneTimeline(agreement: PageAgreement, milestone: PageMilestone): TimelineStep[] {
  const steps: TimelineStep[] = [{ label: 'Drafted', at: milestone.createdAt }];
  if (agreement.acceptedAt != null) steps.push({ label: 'Agreement accepted', at: agreement.acceptedAt });
  for (const instruction of milestone.instructions) {
    if (instruction.kind === 'fund_escrow') {
      steps.push({ label: 'Funding requested', at: instruction.requestedAt });
      // A funding the provider refused leaves the milestone unfunded: say so and why, or
      // the page would show the request alone, as if still under way.
      if (instruction.confirmation?.outcome === 'failed') {
        steps.push({
          label: 'Funding failed',
          at: instruction.confirmation.at,
          ...(instruction.confirmation.reason == null ? {} : { detail: instruction.confirmation.reason }),
        });
      }
    }
  }
  if (milestone.fundedAt != null) steps.push({ label: 'Funded', at: milestone.fundedAt });
  for (const submission of milestone.submissions) {
    const claims = claimedWords(submission.claimedMetrics);
    steps.push({
      label: `Delivered (#${String(submission.number)})`,
      at: submission.submittedAt,
      detail: `${submission.uri}${submission.late ? ', late' : ''}${claims === '' ? '' : `; ${claims}`}`,
    });
    for (const evaluation of submission.evaluations) {
      steps.push({
        label: `Evaluated (#${String(submission.number)})`,
        at: evaluation.at,
        detail: `by ${evaluation.evaluator.userId}: ${evaluationWords(evaluation)}`,
      });
    }
    if (submission.rejection != null) {
      steps.push({ label: 'Rejected', at: submission.rejection.at, detail: submission.rejection.reason });
    }
  }
  if (milestone.acceptance != null) {
    const by = { client: 'by the client', review_window_lapsed: 'review window lapsed', evaluation: 'by evaluation' };
    steps.push({ label: 'Accepted', at: milestone.acceptance.at, detail: by[milestone.acceptance.by] });
  }
  const dispute = milestone.dispute;
  if (dispute != null) {
    steps.push({
      label: 'Dispute opened',
      at: dispute.openedAt,
      detail: `by the ${dispute.openedBy}: ${dispute.reason}`,
    });
    const split = (vote: { clientShare: string; freelancerShare: string }) =>
      `client ${formatMoney(vote.clientShare, milestone.currency)}, freelancer ${formatMoney(vote.freelancerShare, milestone.currency)}`;
    // A revised vote stays in the timeline: an arbitrator's change of mind is part of the record.
    for (const vote of dispute.supersededVotes) {
      steps.push({
        label: 'Arbitrator voted (changed later)',
        at: vote.at,
        detail: `${vote.arbitrator.userId}: ${split(vote)}`,
      });
    }
    for (const vote of dispute.votes) {
      steps.push({ label: 'Arbitrator voted', at: vote.at, detail: `${vote.arbitrator.userId}: ${split(vote)}` });
    }
    if (dispute.decision != null) {
      steps.push({ label: 'Dispute decided', at: dispute.decision.at, detail: split(dispute.decision) });
    }
  }
  for (const instruction of milestone.instructions) {
    if (instruction.kind === 'release') {
      // What moves is the freelancer's net; the platform fee is kept from escrow beside it.
      const fee =
        BigInt(instruction.platformFee) === 0n
          ? ''
          : `, platform fee ${formatMoney(instruction.platformFee, instruction.currency)}`;
      steps.push({
        label: instruction.reissueOf == null ? 'Released' : 'Payout reissued',
        at: instruction.requestedAt,
        detail: `${formatMoney(instruction.amount, instruction.currency)} to the freelancer${fee}`,
      });
    }
    if (instruction.kind === 'refund') {
      steps.push({
        label: 'Refund requested',
        at: instruction.requestedAt,
        detail: `${formatMoney(instruction.amount, instruction.currency)} to the client`,
      });
    }
    if (instruction.compliance?.outcome === 'held') {
      steps.push({ label: 'Payout held', at: instruction.requestedAt, detail: instruction.compliance.reason });
    }
    const confirmation = instruction.confirmation;
    if (confirmation != null && instruction.kind !== 'fund_escrow') {
      steps.push({
        label:
          confirmation.outcome === 'paid' ? (instruction.kind === 'refund' ? 'Refunded' : 'Paid') : 'Payment failed',
        at: confirmation.at,
        ...(confirmation.reason == null ? {} : { detail: confirmation.reason }),
      });
    }
  }
  // Stable: steps of one transaction keep the order above.
  return steps
    .map((step, index) => ({ step, index }))
    .sort((a, b) => Date.parse(a.step.at) - Date.parse(b.step.at) || a.index - b.index)
    .map(({ step }) => step);
}
