import { z } from 'zod';
import { eventSpec } from './spec';
import {
  acceptanceModeSchema,
  agreementRecordSchema,
  disputeDecisionSchema,
  disputeSchema,
  disputeVoteSchema,
  evaluationSchema,
  milestoneRecordSchema,
  partySideSchema,
  settlementInstructionSchema,
  submissionSchema,
} from './agreement-records';
import { actorSchema } from './party';

/**
 * Fields every `agreement.*` event carries. A consumer that only moves money (the
 * settlement worker) parses any agreement event with this schema and sends each of
 * its `settlementRequests`; the list is empty when the transition moves no money.
 */
export const agreementEventBaseSchema = z.object({
  agreementId: z.string(),
  /** Transaction timestamp. */
  at: z.string(),
  txId: z.string(),
  actor: actorSchema,
  /** Pending instructions this transaction issued (or cleared), each identified by its `instructionId`. */
  settlementRequests: z.array(settlementInstructionSchema),
  /** Payouts this transaction issued but the compliance check held; see each one's `compliance.reason`. */
  heldPayouts: z.array(settlementInstructionSchema).default([]),
});
export type AgreementEventBase = z.output<typeof agreementEventBaseSchema>;

const agreementEvent = <Shape extends z.ZodRawShape>(name: string, shape: Shape) =>
  eventSpec({ name: `agreement.${name}`, payload: agreementEventBaseSchema.extend(shape) });

const milestoneEventShape = {
  milestoneId: z.string(),
  /** The milestone as this transaction left it. */
  milestone: milestoneRecordSchema,
};

/** Every event of the `agreement` contract; a transaction emits exactly one. */
export const agreementEvents = {
  agreementDrafted: agreementEvent('AgreementDrafted', {
    agreement: agreementRecordSchema,
    milestones: z.array(milestoneRecordSchema),
  }),
  agreementAccepted: agreementEvent('AgreementAccepted', { agreement: agreementRecordSchema }),
  agreementDeclined: agreementEvent('AgreementDeclined', { agreement: agreementRecordSchema, reason: z.string() }),
  /** One side asked to cancel an agreement whose escrow has been funded; the other side must agree. */
  cancellationRequested: agreementEvent('CancellationRequested', {
    agreement: agreementRecordSchema,
    requestedBy: partySideSchema,
    reason: z.string(),
  }),
  /** Carries a refund request for every milestone whose escrow was still held. */
  agreementCancelled: agreementEvent('AgreementCancelled', {
    agreement: agreementRecordSchema,
    milestones: z.array(milestoneRecordSchema),
  }),
  /** Carries the `fund-escrow` request. */
  fundingRequested: agreementEvent('FundingRequested', milestoneEventShape),
  settlementConfirmed: agreementEvent('SettlementConfirmed', {
    ...milestoneEventShape,
    instruction: settlementInstructionSchema,
  }),
  deliverableSubmitted: agreementEvent('DeliverableSubmitted', {
    ...milestoneEventShape,
    submission: submissionSchema,
  }),
  deliverableRejected: agreementEvent('DeliverableRejected', {
    ...milestoneEventShape,
    reason: z.string(),
    rejectionCount: z.number().int(),
  }),
  /** The milestone was accepted by the client, by lapse of the review window, or by a passing evaluation. */
  milestoneAccepted: agreementEvent('MilestoneAccepted', {
    ...milestoneEventShape,
    acceptedBy: acceptanceModeSchema,
    evaluation: evaluationSchema.optional(),
  }),
  /** An evaluation report that did not meet every threshold; the client still decides. */
  evaluationRecorded: agreementEvent('EvaluationRecorded', { ...milestoneEventShape, evaluation: evaluationSchema }),
  /** Carries the `release` request (net of the platform fee), or lists it in `heldPayouts`. */
  milestoneReleased: agreementEvent('MilestoneReleased', milestoneEventShape),
  /** A held payout passed the compliance check on retry; carries it as a settlement request. */
  payoutCleared: agreementEvent('PayoutCleared', { ...milestoneEventShape, instruction: settlementInstructionSchema }),
  /** A failed payout was issued again; carries the replacement as a settlement request (or in `heldPayouts`). */
  payoutReissued: agreementEvent('PayoutReissued', {
    ...milestoneEventShape,
    instruction: settlementInstructionSchema,
    replaces: z.string(),
  }),
  disputeOpened: agreementEvent('DisputeOpened', { ...milestoneEventShape, dispute: disputeSchema }),
  disputeVoteCast: agreementEvent('DisputeVoteCast', { ...milestoneEventShape, vote: disputeVoteSchema }),
  /** Carries the refund of the client's share and the release of the freelancer's share. */
  disputeDecided: agreementEvent('DisputeDecided', {
    ...milestoneEventShape,
    vote: disputeVoteSchema,
    decision: disputeDecisionSchema,
  }),
  /** One event for the whole bulk submission. */
  tasksSubmitted: agreementEvent('TasksSubmitted', { ...milestoneEventShape, taskIds: z.array(z.string()) }),
  /** One event for the whole bulk review, by the client or by lapse of the review window. */
  tasksReviewed: agreementEvent('TasksReviewed', {
    ...milestoneEventShape,
    decidedBy: z.enum(['client', 'review-window-lapsed']),
    accepted: z.array(z.string()),
    rejected: z.array(z.object({ taskId: z.string(), reason: z.string() })),
  }),
} as const;

/** Names of every agreement event, for consumers that subscribe by name. */
export const agreementEventNames: readonly string[] = Object.values(agreementEvents).map((event) => event.name);
