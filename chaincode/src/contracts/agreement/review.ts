import { agreementEvents } from '../../model/agreement-events';
import type { AcceptanceMode, Evaluation, MilestoneRecord, Submission } from '../../model/agreement-records';
import { evaluateThresholds, type MetricValues } from '../../model/metrics';
import { refuse } from '../../ledger/refusal';
import { requireEvaluator, requireSide } from './access';
import { requireActive, requireKind, requireStatus } from './guards';
import { milestoneLabel, requireAgreement, requireMilestone } from './store';
import { addSeconds, reached, touched, type Tx } from '../../ledger/tx';
import { commitMilestone } from './events';
import { pledgeDeliveredWork } from '../ip/work-for-hire';

interface MilestoneRef {
  readonly agreementId: string;
  readonly milestoneId: string;
}

const useTasks = 'its tasks are submitted and reviewed with submitTasks, reviewTasks and claimTasksAcceptance';

function latestSubmission(milestone: MilestoneRecord): Submission {
  const latest = milestone.submissions.at(-1);
  // A submitted milestone always has a delivery; a record without one is corrupt.
  if (latest === undefined) throw new Error(`${milestone.milestoneId} is ${milestone.status} without a submission`);
  return latest;
}

function withLatest(milestone: MilestoneRecord, latest: Submission): Submission[] {
  return [...milestone.submissions.slice(0, -1), latest];
}

/**
 * Records a delivery: the artifact's SHA-256, where to fetch it and the metrics the
 * freelancer claims. A delivery after a rejection appends, keeping the history.
 *
 * @throws RefusalError FORBIDDEN unless the freelancer calls; INVALID_STATE unless the
 *   milestone is a funded or rejected single deliverable; for the work link, what
 *   {@link pledgeDeliveredWork} refuses.
 */
export async function submitDeliverable(
  tx: Tx,
  request: MilestoneRef & {
    artifactSha256: string;
    uri: string;
    claimedMetrics: MetricValues;
    note?: string | undefined;
    workId?: string | undefined;
  },
): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  requireSide(
    tx.caller,
    agreement,
    'freelancer',
    `submit a deliverable for ${milestoneLabel(agreement.agreementId, request.milestoneId)}`,
  );
  requireActive(agreement, request.milestoneId, 'submitted');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireKind(milestone, 'deliverable', useTasks);
  requireStatus(milestone, ['funded', 'rejected'], 'submitted');
  await pledgeDeliveredWork(tx, milestone, agreement.freelancer, request.workId);
  const submission: Submission = {
    number: milestone.submissions.length + 1,
    artifactSha256: request.artifactSha256,
    uri: request.uri,
    claimedMetrics: request.claimedMetrics,
    ...(request.note === undefined ? {} : { note: request.note }),
    submittedAt: tx.at,
    txId: tx.txId,
    reviewDeadline: addSeconds(tx.at, milestone.reviewWindowSeconds),
    late: Date.parse(tx.at) > Date.parse(milestone.dueDate),
    evaluations: [],
    ...(request.workId === undefined ? {} : { workId: request.workId }),
  };
  const submitted = touched(tx, {
    ...milestone,
    status: 'submitted' as const,
    submissions: [...milestone.submissions, submission],
  });
  return commitMilestone(tx, submitted, agreementEvents.deliverableSubmitted, { submission });
}

async function accept(
  tx: Tx,
  milestone: MilestoneRecord,
  by: AcceptanceMode,
  evaluation?: Evaluation,
  submissions = milestone.submissions,
): Promise<MilestoneRecord> {
  const accepted = touched(tx, {
    ...milestone,
    submissions,
    status: 'accepted' as const,
    acceptance: { by, at: tx.at, txId: tx.txId },
  });
  return commitMilestone(tx, accepted, agreementEvents.milestoneAccepted, {
    acceptedBy: by,
    ...(evaluation === undefined ? {} : { evaluation }),
  });
}

/**
 * @throws RefusalError FORBIDDEN unless the client calls; INVALID_STATE unless submitted.
 */
export async function acceptMilestone(tx: Tx, request: MilestoneRef): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  requireSide(tx.caller, agreement, 'client', `accept ${milestoneLabel(agreement.agreementId, request.milestoneId)}`);
  requireActive(agreement, request.milestoneId, 'accepted');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireKind(milestone, 'deliverable', useTasks);
  requireStatus(milestone, ['submitted'], 'accepted');
  return accept(tx, milestone, 'client');
}

/**
 * Sends the latest delivery back with a reason, within the review window and the
 * agreement's revision limit.
 *
 * @throws RefusalError FORBIDDEN unless the client calls; INVALID_STATE unless submitted
 *   and within the review window; REVISION_LIMIT_REACHED after the last allowed rejection.
 */
export async function rejectDeliverable(tx: Tx, request: MilestoneRef & { reason: string }): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const label = milestoneLabel(agreement.agreementId, request.milestoneId);
  requireSide(tx.caller, agreement, 'client', `reject the deliverable of ${label}`);
  requireActive(agreement, request.milestoneId, 'rejected');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireKind(milestone, 'deliverable', useTasks);
  requireStatus(milestone, ['submitted'], 'rejected');
  const latest = latestSubmission(milestone);
  if (reached(tx, latest.reviewDeadline)) {
    refuse(
      'INVALID_STATE',
      `the review window of ${label} closed at ${latest.reviewDeadline}; the client may accept or dispute, and the freelancer may claim acceptance`,
      'milestoneId',
    );
  }
  if (milestone.rejectionCount >= agreement.revisionLimit) {
    refuse(
      'REVISION_LIMIT_REACHED',
      `${label} has been rejected ${milestone.rejectionCount} times, the limit agreement ${agreement.agreementId} allows; accept it or open a dispute`,
      'milestoneId',
    );
  }
  const rejectionCount = milestone.rejectionCount + 1;
  const rejected = touched(tx, {
    ...milestone,
    status: 'rejected' as const,
    rejectionCount,
    submissions: withLatest(milestone, {
      ...latest,
      rejection: { reason: request.reason, at: tx.at, txId: tx.txId },
    }),
  });
  return commitMilestone(tx, rejected, agreementEvents.deliverableRejected, { reason: request.reason, rejectionCount });
}

/**
 * Accepts a delivery the client left unanswered past its review window, judged by the
 * transaction timestamp.
 *
 * @throws RefusalError FORBIDDEN unless the freelancer calls; INVALID_STATE unless
 *   submitted and the review window has closed.
 */
export async function claimAcceptance(tx: Tx, request: MilestoneRef): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const label = milestoneLabel(agreement.agreementId, request.milestoneId);
  requireSide(tx.caller, agreement, 'freelancer', `claim acceptance of ${label}`);
  requireActive(agreement, request.milestoneId, 'accepted');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireKind(milestone, 'deliverable', useTasks);
  requireStatus(milestone, ['submitted'], 'accepted');
  const latest = latestSubmission(milestone);
  if (!reached(tx, latest.reviewDeadline)) {
    refuse(
      'INVALID_STATE',
      `the review window of ${label} is open until ${latest.reviewDeadline}; acceptance can be claimed only after it closes`,
      'milestoneId',
    );
  }
  return accept(tx, milestone, 'review-window-lapsed');
}

/**
 * Records the agreement evaluator's report on the latest delivery. When the report
 * meets every threshold of the milestone's acceptance criteria the milestone is
 * accepted at once, without waiting for the client.
 *
 * @throws RefusalError FORBIDDEN unless the named evaluator calls; INVALID_STATE unless
 *   submitted and the report is about the latest delivery.
 */
export async function postEvaluation(
  tx: Tx,
  request: MilestoneRef & {
    artifactSha256: string;
    metrics: MetricValues;
    reportSha256: string;
    reportUri?: string | undefined;
  },
): Promise<MilestoneRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const label = milestoneLabel(agreement.agreementId, request.milestoneId);
  const evaluator = requireEvaluator(tx.caller, agreement, `post an evaluation of ${label}`);
  requireActive(agreement, request.milestoneId, 'evaluated');
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireKind(milestone, 'deliverable', 'batches of tasks are not evaluated against metric thresholds');
  requireStatus(milestone, ['submitted'], 'evaluated');
  const latest = latestSubmission(milestone);
  if (latest.artifactSha256 !== request.artifactSha256) {
    refuse(
      'INVALID_STATE',
      `the evaluation is of artifact ${request.artifactSha256}, but the latest delivery of ${label} is ${latest.artifactSha256}`,
      'artifactSha256',
    );
  }
  const { allMet, results } = evaluateThresholds(milestone.acceptanceCriteria.thresholds, request.metrics);
  const evaluation: Evaluation = {
    evaluator,
    artifactSha256: request.artifactSha256,
    metrics: request.metrics,
    reportSha256: request.reportSha256,
    ...(request.reportUri === undefined ? {} : { reportUri: request.reportUri }),
    results,
    allThresholdsMet: allMet,
    at: tx.at,
    txId: tx.txId,
  };
  const submissions = withLatest(milestone, { ...latest, evaluations: [...latest.evaluations, evaluation] });
  if (allMet) return accept(tx, milestone, 'evaluation', evaluation, submissions);
  const recorded = touched(tx, { ...milestone, submissions });
  return commitMilestone(tx, recorded, agreementEvents.evaluationRecorded, { evaluation });
}
