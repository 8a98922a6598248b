import { createHash } from 'node:crypto';
import { arbitrationMajority, legacyArbitrationPanelSize } from '../../model/agreement';
import { agreementEvents } from '../../model/agreement-events';
import type {
  AgreementRecord,
  Dispute,
  DisputeVote,
  MilestoneRecord,
  SettlementInstruction,
} from '../../model/agreement-records';
import type { Party } from '../../model/party';
import { minorUnits } from '../../model/money';
import { refuse } from '../../ledger/refusal';
import { requireArbitrator, requireEitherSide } from './access';
import { isParty } from '../../ledger/caller';
import { sameParty } from '../credential/store';
import { requireActive, requireStatus } from './guards';
import { readParameter } from '../parameter/store';
import { readArbitrators } from '../governance/store';
import { screenPayouts } from './compliance';
import { escrowOf, newInstruction, releaseInstruction } from './settlement';
import { indexPanelSeat, milestoneLabel, requireAgreement, requireMilestone } from './store';
import { touched, type Tx } from '../../ledger/tx';
import { instructionIssue } from '../parameter/settlement-organisations';
import { commitMilestone } from './events';

interface MilestoneRef {
  readonly agreementId: string;
  readonly milestoneId: string;
}

function underReview(milestone: MilestoneRecord): boolean {
  if (milestone.kind === 'deliverable') return milestone.status === 'submitted' || milestone.status === 'rejected';
  // A batch stays `funded` while its tasks are worked on; it can be disputed once some
  // task has been delivered, whether it now awaits review or was rejected.
  const batch = milestone.batch;
  return milestone.status === 'funded' && batch !== undefined && batch.submitted + batch.rejected > 0;
}

/**
 * Draws a dispute's panel from the governed arbitrators who belong to neither party's
 * organisation: a Fisher–Yates shuffle of them in key order, driven by SHA-256 of the
 * transaction id, so every endorsing peer draws the same panel and nobody can choose
 * it without choosing the transaction id. Fewer than `arbitrationPanelSize` eligible
 * arbitrators make a smaller panel.
 *
 * @throws RefusalError INVALID_STATE when no arbitrator is eligible.
 */
async function drawPanel(tx: Tx, agreement: AgreementRecord, label: string): Promise<Party[]> {
  const excluded = new Set([agreement.client.mspId, agreement.freelancer.mspId]);
  const eligible = (await readArbitrators(tx.ctx))
    .filter((record) => record.status === 'active' && !excluded.has(record.arbitrator.mspId))
    .map((record) => record.arbitrator);
  if (eligible.length === 0) {
    refuse(
      'INVALID_STATE',
      `no governed arbitrator outside ${[...excluded].join(' and ')} can hear a dispute over ${label}; the consortium must add one`,
    );
  }
  const size = Math.min((await readParameter(tx.ctx, 'arbitrationPanelSize')).value, eligible.length);
  for (let index = eligible.length - 1; index > 0; index -= 1) {
    const digest = createHash('sha256').update(`${tx.txId}:panel:${index}`).digest();
    const pick = digest.readUInt32BE(0) % (index + 1);
    [eligible[index], eligible[pick]] = [eligible[pick] as Party, eligible[index] as Party];
  }
  return eligible.slice(0, size);
}

/**
 * Freezes a submitted or rejected milestone until an arbitrator panel, drawn now,
 * decides how to split its escrow.
 *
 * @throws RefusalError FORBIDDEN unless a party calls; INVALID_STATE unless the
 *   milestone's delivery is under review or was rejected, or when no arbitrator is eligible.
 */
export async function openDispute(tx: Tx, request: MilestoneRef & { reason: string }): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const label = milestoneLabel(agreement.agreementId, request.milestoneId);
  const side = requireEitherSide(tx.caller, agreement, `open a dispute on ${label}`);
  requireActive(agreement, request.milestoneId, 'disputed');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  if (!underReview(milestone)) {
    const what =
      milestone.kind === 'batch' ? 'a funded batch with delivered tasks' : 'a submitted or rejected milestone';
    refuse('INVALID_STATE', `only ${what} can be disputed; ${label} is ${milestone.status}`, 'milestoneId');
  }
  const dispute: Dispute = {
    openedBy: side,
    reason: request.reason,
    openedAt: tx.at,
    txId: tx.txId,
    frozenStatus: milestone.status,
    panel: await drawPanel(tx, agreement, label),
    votes: [],
  };
  // Each member finds the dispute in their own list without being sent its id.
  for (const member of dispute.panel ?? []) {
    await indexPanelSeat(tx.ctx, member, agreement.agreementId, milestone.milestoneId);
  }
  const disputed = touched(tx, { ...milestone, status: 'disputed' as const, dispute });
  return commitMilestone(tx, disputed, agreementEvents.disputeOpened, { dispute });
}

/**
 * Records a panel arbitrator's split of the escrow. Each may revise their vote, and as
 * soon as a majority of the panel votes for the same split the dispute is decided and
 * the refund and payout are requested. Only members still governed count: the vote of an
 * arbitrator removed by governance after casting it stays on the record and decides
 * nothing, and the majority is of the panel's members still governed. (On disputes opened
 * before panels were drawn, the first arbitrators to vote form the panel.)
 *
 * @throws RefusalError FORBIDDEN unless an arbitrator on the panel who is not a party
 *   calls; INVALID_STATE unless disputed or when a legacy panel is full;
 *   VALIDATION_FAILED when the escrow amount voted on is not the milestone's.
 */
export async function castDisputeVote(
  tx: Tx,
  request: MilestoneRef & { escrowAmount: string; clientShare: string; freelancerShare: string; reason: string },
): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const label = milestoneLabel(agreement.agreementId, request.milestoneId);
  const arbitrator = requireArbitrator(tx.caller, agreement, `vote on the dispute over ${label}`);
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireStatus(milestone, ['disputed'], 'arbitrated');
  const dispute = milestone.dispute;
  if (dispute === undefined) throw new Error(`${label} is disputed without a dispute record`);
  if (minorUnits(request.escrowAmount) !== escrowOf(milestone)) {
    refuse(
      'VALIDATION_FAILED',
      `escrowAmount: the escrow of ${label} is ${milestone.amount} ${milestone.currency}, not ${request.escrowAmount}`,
      'escrowAmount',
    );
  }
  const others = dispute.votes.filter((vote) => !isParty(tx.caller, vote.arbitrator));
  const panelSize = dispute.panel?.length ?? legacyArbitrationPanelSize;
  if (dispute.panel !== undefined && !dispute.panel.some((member) => isParty(tx.caller, member))) {
    const names = dispute.panel.map((member) => `${member.userId}@${member.mspId}`).join(', ');
    refuse('FORBIDDEN', `only the panel drawn for ${label} (${names}) may vote on its dispute`);
  }
  if (others.length === dispute.votes.length && dispute.votes.length >= panelSize) {
    refuse('INVALID_STATE', `the arbitration panel of ${label} is full (${panelSize} arbitrators)`, 'milestoneId');
  }
  const vote: DisputeVote = {
    arbitrator,
    clientShare: request.clientShare,
    freelancerShare: request.freelancerShare,
    reason: request.reason,
    at: tx.at,
    txId: tx.txId,
  };
  // Revising replaces the arbitrator's earlier vote in place, keeping the panel's order;
  // the earlier vote moves to the superseded ones, so the record keeps every vote cast.
  const earlier = dispute.votes.find((existing) => isParty(tx.caller, existing.arbitrator));
  const votes =
    earlier === undefined
      ? [...dispute.votes, vote]
      : dispute.votes.map((existing) => (existing === earlier ? vote : existing));
  const revised =
    earlier === undefined ? dispute : { ...dispute, supersededVotes: [...(dispute.supersededVotes ?? []), earlier] };
  // A vote counts while its arbitrator is governed: one the consortium removed after voting
  // stays on the record but decides nothing, and the majority is of the members still governed.
  const governed = (await readArbitrators(tx.ctx)).filter((record) => record.status === 'active');
  const isGoverned = (party: Party) => governed.some((record) => sameParty(record.arbitrator, party));
  const seated = dispute.panel?.filter(isGoverned).length ?? panelSize;
  const agreeing = votes.filter(
    (candidate) =>
      isGoverned(candidate.arbitrator) &&
      candidate.clientShare === vote.clientShare &&
      candidate.freelancerShare === vote.freelancerShare,
  );

  if (agreeing.length < arbitrationMajority(Math.max(seated, 1))) {
    const voted = touched(tx, { ...milestone, dispute: { ...revised, votes } });
    return commitMilestone(tx, voted, agreementEvents.disputeVoteCast, { vote });
  }

  const decision = {
    clientShare: vote.clientShare,
    freelancerShare: vote.freelancerShare,
    majority: agreeing.map((candidate) => candidate.arbitrator),
    at: tx.at,
    txId: tx.txId,
  };
  let issued: SettlementInstruction[] = [];
  const issue = await instructionIssue(tx);
  const clientShare = minorUnits(vote.clientShare);
  const freelancerShare = minorUnits(vote.freelancerShare);
  if (clientShare > 0n) {
    issued.push(
      newInstruction(
        issue,
        agreement,
        milestone,
        [...milestone.instructions, ...issued],
        'refund',
        'dispute',
        clientShare,
      ),
    );
  }
  if (freelancerShare > 0n) {
    issued.push(
      releaseInstruction(
        issue,
        agreement,
        milestone,
        [...milestone.instructions, ...issued],
        'dispute',
        freelancerShare,
      ),
    );
  }
  issued = await screenPayouts(tx, issued);
  const resolved = touched(tx, {
    ...milestone,
    status: 'resolved' as const,
    dispute: { ...revised, votes, decision },
    instructions: [...milestone.instructions, ...issued],
  });
  return commitMilestone(tx, resolved, agreementEvents.disputeDecided, { vote, decision }, issued);
}
