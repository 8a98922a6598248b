import { z } from 'zod';
import {
  milestoneKindSchema,
  milestoneStatusSchema,
  type MilestoneRecord,
  type MilestoneStatus,
} from './agreement-records';
import { partySchema, type Party } from './party';

export const reputationContractName = 'reputation';

/*
 * Reputation records
 * ==================
 *
 * Reputation rests on two kinds of ledger records, each under its own key and written
 * once, never updated, so that no key is shared by work on two agreements (no hot keys,
 * no MVCC conflicts under load). The score is computed when read; see
 * `model/reputation-score.ts`.
 *
 *   completion  [freelancer mspId, freelancer userId, agreementId, milestoneId]
 *   attestation [subject mspId, subject userId, attester mspId, attester userId, agreementId]
 *
 * Completion — one per milestone (not per agreement: a long agreement has many
 * milestones, each a piece of delivered work the client can judge, and a per-milestone
 * key is what keeps two ratings from ever touching the same record). The client of the
 * agreement records a rating from 1 to 5 once the milestone's work is done:
 * {@link ratedMilestoneStatuses}. Everything else on the record is read from the ledger,
 * never from the caller: the subject (the agreement's freelancer), whether the work was
 * on time ({@link timelinessOf}), the dispute outcome ({@link disputeOutcomeOf}) and
 * when the work completed.
 *
 * Attestation — an ML professional (role `freelancer`) vouches for another's skill
 * (name, level 1 to 5, optional comment). They must have *shared* work, which the
 * ledger shows as: the subject was the freelancer of agreement `agreementId`, the
 * attester was the freelancer of agreement `attesterAgreementId`, both agreements have
 * the same client (same MSP id and userId), both were accepted, and their work periods
 * overlap. An agreement's work period runs from its acceptance to its latest milestone
 * due date (or its cancellation, when earlier). One attestation per (subject,
 * attester, subject's agreement). Its weight depends on the attester's own credentials
 * (`attesterWeight`), counted when the attestation is recorded and stored on it.
 */

/** Object types of the reputation keys, for rebuilding a record's key from its attributes. */
export const completionObjectType = 'completion';
export const attestationObjectType = 'attestation';

/** Milestone statuses whose work is finished and can be rated: accepted (and paid out), or decided by arbitration. */
export const ratedMilestoneStatuses: readonly MilestoneStatus[] = [
  'accepted',
  'released',
  'paid',
  'resolved',
  'settled',
];

export const ratingSchema = z.number().int('must be a whole number').min(1, 'must be 1 to 5').max(5, 'must be 1 to 5');

/**
 * Outcome of a milestone's dispute from the freelancer's side, read from the
 * arbitrators' decision: `won` when the client gets nothing back, `lost` when the
 * freelancer gets nothing, `split` otherwise; `none` without a dispute.
 */
export const disputeOutcomes = ['none', 'won', 'lost', 'split'] as const;
export const disputeOutcomeSchema = z.enum(disputeOutcomes);
export type DisputeOutcome = z.infer<typeof disputeOutcomeSchema>;

/**
 * @throws Error when a dispute was decided with shares that are not amounts (never on a valid record).
 */
export function disputeOutcomeOf(milestone: MilestoneRecord): DisputeOutcome {
  const decision = milestone.dispute?.decision;
  if (decision === undefined) return 'none';
  if (BigInt(decision.clientShare) === 0n) return 'won';
  if (BigInt(decision.freelancerShare) === 0n) return 'lost';
  return 'split';
}

/**
 * Whether the work was on time. A deliverable milestone is on time when its latest
 * delivery (the one accepted or arbitrated) was submitted at or before the due date. A
 * batch milestone's record holds no delivery time, so a batch is on time when it was
 * accepted at or before the due date; a batch decided by arbitration has no known
 * timeliness and is left out of the on-time rate.
 */
export function timelinessOf(milestone: MilestoneRecord): { deliveredAt?: string; onTime?: boolean } {
  if (milestone.kind === 'deliverable') {
    const latest = milestone.submissions.at(-1);
    return latest === undefined ? {} : { deliveredAt: latest.submittedAt, onTime: !latest.late };
  }
  const acceptance = milestone.acceptance;
  if (acceptance === undefined) return {};
  return { deliveredAt: acceptance.at, onTime: Date.parse(acceptance.at) <= Date.parse(milestone.dueDate) };
}

/**
 * When the milestone's work was finished: its acceptance, or the arbitrators' decision.
 * Recency decay counts from here.
 */
export function completedAtOf(milestone: MilestoneRecord): string | undefined {
  return milestone.acceptance?.at ?? milestone.dispute?.decision?.at;
}

export const completionRecordSchema = z.object({
  /** The agreement's freelancer, whose reputation this is. */
  subject: partySchema,
  client: partySchema,
  agreementId: z.string(),
  milestoneId: z.string(),
  milestoneKind: milestoneKindSchema,
  /** The milestone's status when the rating was recorded. */
  milestoneStatus: milestoneStatusSchema,
  rating: ratingSchema,
  dueDate: z.string(),
  deliveredAt: z.string().optional(),
  /** Absent when the ledger cannot tell (a batch decided by arbitration). */
  onTime: z.boolean().optional(),
  disputeOutcome: disputeOutcomeSchema,
  completedAt: z.string(),
  recordedAt: z.string(),
  txId: z.string(),
});
export type CompletionRecord = z.output<typeof completionRecordSchema>;

/** A skill name as attested, e.g. `pytorch`, `computer vision`, `c++`. Lowercase; the API folds case. */
export const skillSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9+#._ /-]{0,63}$/,
    'must be 1 to 64 lowercase letters, digits, spaces or "+#._/-", starting with a letter or digit',
  );

export const skillLevelSchema = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be 1 to 5')
  .max(5, 'must be 1 to 5');

export const attestationRecordSchema = z.object({
  subject: partySchema,
  attester: partySchema,
  /** The subject's agreement… */
  agreementId: z.string(),
  /** …and the attester's, with the same client and an overlapping work period. */
  attesterAgreementId: z.string(),
  client: partySchema,
  skill: z.string(),
  level: skillLevelSchema,
  comment: z.string().optional(),
  /** The attester's credentials that were active and unexpired when the attestation was recorded. */
  attesterActiveCredentials: z.number().int().min(0),
  /** `attesterWeight(attesterActiveCredentials)`. */
  weight: z.number(),
  recordedAt: z.string(),
  txId: z.string(),
});
export type AttestationRecord = z.output<typeof attestationRecordSchema>;

/** Key attributes of a completion record (object type {@link completionObjectType}). */
export function completionKeyAttributes(record: {
  subject: Party;
  agreementId: string;
  milestoneId: string;
}): string[] {
  return [record.subject.mspId, record.subject.userId, record.agreementId, record.milestoneId];
}

/** Key attributes of an attestation record (object type {@link attestationObjectType}). */
export function attestationKeyAttributes(record: { subject: Party; attester: Party; agreementId: string }): string[] {
  return [
    record.subject.mspId,
    record.subject.userId,
    record.attester.mspId,
    record.attester.userId,
    record.agreementId,
  ];
}
