import { z } from 'zod';
import { trimmedText } from './text-controls';
import { sha256HexSchema } from './common';
import { currencySchema } from './currency';
import { actorSchema, partySchema } from './party';
import { metricThresholdSchema, metricValuesSchema, thresholdResultSchema } from './metrics';
import { amountSchema, basisPointsSchema, shareAmountSchema } from './money';

export const agreementContractName = 'agreement';

const idMessage = (max: number): string =>
  `must be 1 to ${max} letters, digits, ".", "_" or "-", starting with a letter or digit`;

/** Caller-chosen agreement id, unique on the channel, e.g. `A-17`. */
export const agreementIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, idMessage(64));
/** Milestone id, unique within its agreement, e.g. `m2`. */
export const milestoneIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, idMessage(32));
/** Micro-task id, unique within its batch milestone. */
export const taskIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, idMessage(64));

export const partySides = ['client', 'freelancer'] as const;
export const partySideSchema = z.enum(partySides);
export type PartySide = z.infer<typeof partySideSchema>;

export const agreementStatuses = ['offered', 'active', 'declined', 'cancelled'] as const;
export const agreementStatusSchema = z.enum(agreementStatuses);
export type AgreementStatus = z.infer<typeof agreementStatusSchema>;

/**
 * Milestone life cycle. Money-moving endings come in pairs: the transition that asks
 * the settlement provider to move money (`released`, `resolved`, `refunding`) and the
 * state reached once every instruction it issued is confirmed paid (`paid`, `settled`,
 * `refunded`).
 */
export const milestoneStatuses = [
  'unfunded',
  'funding',
  'funded',
  'submitted',
  'rejected',
  'accepted',
  'disputed',
  'released',
  'paid',
  'resolved',
  'settled',
  'refunding',
  'refunded',
  'cancelled',
] as const;
export const milestoneStatusSchema = z.enum(milestoneStatuses);
export type MilestoneStatus = z.infer<typeof milestoneStatusSchema>;

/** A `deliverable` milestone has one artifact; a `batch` milestone is a set of micro-tasks, one key each. */
export const milestoneKinds = ['deliverable', 'batch'] as const;
export const milestoneKindSchema = z.enum(milestoneKinds);
export type MilestoneKind = z.infer<typeof milestoneKindSchema>;

export const taskStatuses = ['open', 'submitted', 'accepted', 'rejected'] as const;
export const taskStatusSchema = z.enum(taskStatuses);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

/** What the client will check; thresholds let an evaluator's report accept the milestone automatically. */
export const acceptanceCriteriaSchema = z
  .strictObject({
    description: trimmedText(4000),
    thresholds: z.array(metricThresholdSchema).max(20, 'must have at most 20 thresholds').default([]),
    /** The data the metrics are measured on, e.g. "client hold-out set v3". */
    evaluationDataset: trimmedText(256).optional(),
  })
  .superRefine((criteria, ctx) => {
    const seen = new Set<string>();
    criteria.thresholds.forEach((threshold, index) => {
      const key = `${threshold.metric} ${threshold.operator}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          message: `repeats the threshold ${key}`,
          path: ['thresholds', index],
        });
      }
      seen.add(key);
    });
  });
export type AcceptanceCriteria = z.output<typeof acceptanceCriteriaSchema>;

/** Settlement instruction kinds: collect into escrow, pay out of escrow to the payee, return escrow to the payer. */
export const instructionKinds = ['fund-escrow', 'release', 'refund'] as const;
export const instructionKindSchema = z.enum(instructionKinds);
export type InstructionKind = z.infer<typeof instructionKindSchema>;

/** Why an instruction was issued. */
export const settlementCauses = ['funding', 'release', 'dispute', 'cancellation'] as const;
export const settlementCauseSchema = z.enum(settlementCauses);
export type SettlementCause = z.infer<typeof settlementCauseSchema>;

/**
 * `held`: a payout the compliance check stopped (the payee holds no valid KYC
 * credential); it becomes `pending` once a retry finds one. Only `pending`
 * instructions are handed to the settlement provider.
 */
export const instructionStatuses = ['held', 'pending', 'paid', 'failed'] as const;
export const instructionStatusSchema = z.enum(instructionStatuses);

export const settlementOutcomes = ['paid', 'failed'] as const;
export const settlementOutcomeSchema = z.enum(settlementOutcomes);

/** Provider's reference for a confirmation (payment id, bank reference). */
export const providerReferenceSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:/-]+$/, 'must be letters, digits, ".", "_", ":", "/" or "-"');

/** The settlement service's id of the payout account it paid to (the account's number never reaches the ledger). */
export const payoutAccountIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must be letters, digits, "_", ".", ":" or "-"');

export const settlementConfirmationSchema = z.object({
  outcome: settlementOutcomeSchema,
  providerReference: z.string(),
  payoutAccountId: z.string().optional(),
  reason: z.string().optional(),
  at: z.string(),
  txId: z.string(),
  by: actorSchema,
});

/**
 * The payout compliance check as the transaction that ran it saw it: which credential
 * cleared the payee, or why none did. Auditors read it to see the basis of every payout.
 */
export const complianceCheckSchema = z.object({
  outcome: z.enum(['cleared', 'held']),
  /** The credential types the consortium listed as KYC at the time (governed parameter `kycCredentialTypes`). */
  requiredTypes: z.array(z.string()),
  /** The credential that cleared the payee; absent when held, or when no type was required. */
  credentialId: z.string().optional(),
  credentialType: z.string().optional(),
  credentialIssuer: partySchema.optional(),
  /** Why the payout is held, or why it was cleared without a credential. */
  reason: z.string(),
  at: z.string(),
  txId: z.string(),
});
export type ComplianceCheck = z.output<typeof complianceCheckSchema>;

/**
 * A payment the settlement provider is asked to make. The payer is always the
 * agreement's client and the payee its freelancer; `kind` says which way money moves
 * relative to escrow, and `recipient` who receives it. `amount` is what moves; on a
 * release `platformFee` is kept from escrow on top of it, so `amount + platformFee` is
 * what leaves escrow.
 */
export const settlementInstructionSchema = z.object({
  /** `<agreementId>/<milestoneId>/<kind>-<n>`: unique, and stable across retries. */
  instructionId: z.string(),
  kind: instructionKindSchema,
  cause: settlementCauseSchema,
  agreementId: z.string(),
  milestoneId: z.string(),
  payer: partySchema,
  payee: partySchema,
  /**
   * Who receives the money: the freelancer on a release, the client on a refund; absent
   * on escrow funding, which pays into escrow, and on instructions issued before it was
   * recorded (read `kind` there).
   */
  recipient: partySchema.optional(),
  /** Zero only when a platform fee of 100% takes a whole release. */
  amount: shareAmountSchema,
  platformFee: shareAmountSchema,
  currency: currencySchema,
  status: instructionStatusSchema,
  requestedAt: z.string(),
  requestTxId: z.string(),
  /**
   * The organisation whose settlement service sends this instruction to its provider: the
   * first of the governed `settlementOrganisations` when it was issued. Every listed
   * organisation may run a settlement service, and each follows every instruction; one
   * named sender keeps two of them from paying the same instruction. Absent on
   * instructions issued before it was recorded.
   */
  settlingOrganisation: z.string().optional(),
  /** On payouts to the freelancer: the latest compliance check (a held payout is checked again on retry). */
  compliance: complianceCheckSchema.optional(),
  /** On a failed payout that was issued again: the id of the instruction that replaces it. */
  reissuedAs: z.string().optional(),
  /** On a reissued payout: the failed instruction it replaces. */
  reissueOf: z.string().optional(),
  confirmation: settlementConfirmationSchema.optional(),
});
export type SettlementInstruction = z.output<typeof settlementInstructionSchema>;

export const evaluationSchema = z.object({
  evaluator: partySchema,
  artifactSha256: z.string(),
  metrics: z.record(z.string(), z.number()),
  reportSha256: z.string(),
  reportUri: z.string().optional(),
  results: z.array(thresholdResultSchema),
  allThresholdsMet: z.boolean(),
  at: z.string(),
  txId: z.string(),
});
export type Evaluation = z.output<typeof evaluationSchema>;

export const rejectionSchema = z.object({ reason: z.string(), at: z.string(), txId: z.string() });
export type Rejection = z.output<typeof rejectionSchema>;

/** One delivery of a milestone's artifact; resubmissions append, so the list is the milestone's delivery history. */
export const submissionSchema = z.object({
  /** 1 for the first delivery, 2 for the first revision… */
  number: z.number().int().min(1),
  artifactSha256: sha256HexSchema,
  uri: z.string(),
  claimedMetrics: metricValuesSchema,
  note: z.string().optional(),
  submittedAt: z.string(),
  txId: z.string(),
  /** When the client's review window closes; from then on the freelancer may claim acceptance. */
  reviewDeadline: z.string(),
  /** Delivered after the milestone's due date. */
  late: z.boolean(),
  rejection: rejectionSchema.optional(),
  evaluations: z.array(evaluationSchema),
  /** The registered work (`ip` contract) this delivery is, for a milestone that assigns its IP to the client. */
  workId: z.string().optional(),
});
export type Submission = z.output<typeof submissionSchema>;

export const acceptanceModes = ['client', 'review-window-lapsed', 'evaluation'] as const;
export const acceptanceModeSchema = z.enum(acceptanceModes);
export type AcceptanceMode = z.infer<typeof acceptanceModeSchema>;

export const acceptanceSchema = z.object({ by: acceptanceModeSchema, at: z.string(), txId: z.string() });
export type Acceptance = z.output<typeof acceptanceSchema>;

export const disputeVoteSchema = z.object({
  arbitrator: partySchema,
  clientShare: shareAmountSchema,
  freelancerShare: shareAmountSchema,
  reason: z.string(),
  at: z.string(),
  txId: z.string(),
});
export type DisputeVote = z.output<typeof disputeVoteSchema>;

export const disputeDecisionSchema = z.object({
  clientShare: shareAmountSchema,
  freelancerShare: shareAmountSchema,
  /** The arbitrators whose votes formed the majority. */
  majority: z.array(partySchema),
  at: z.string(),
  txId: z.string(),
});
export type DisputeDecision = z.output<typeof disputeDecisionSchema>;

export const disputeSchema = z.object({
  openedBy: partySideSchema,
  reason: z.string(),
  openedAt: z.string(),
  txId: z.string(),
  /** The status the milestone was frozen in. */
  frozenStatus: milestoneStatusSchema,
  /**
   * Arbitrators drawn when the dispute was opened, from the governed arbitrators of
   * neither party's organisation; only they may vote. Absent on disputes opened before
   * panels were drawn.
   */
  panel: z.array(partySchema).optional(),
  /** The latest vote of each arbitrator on the panel; an arbitrator may revise theirs until a majority decides. */
  votes: z.array(disputeVoteSchema),
  /**
   * Votes their arbitrators later revised, oldest first: what each arbitrator said before,
   * kept on the record so a reader of the dispute sees every vote cast, not only the
   * last. Absent until a vote is revised.
   */
  supersededVotes: z.array(disputeVoteSchema).optional(),
  decision: disputeDecisionSchema.optional(),
});
export type Dispute = z.output<typeof disputeSchema>;

/** Counts of a batch milestone's tasks by status; `open` tasks are the rest. */
export const batchProgressSchema = z.object({
  taskAmount: amountSchema,
  taskCount: z.number().int().min(1),
  submitted: z.number().int().min(0),
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
});
export type BatchProgress = z.output<typeof batchProgressSchema>;

/**
 * Who owns the deliverable's IP once the milestone is paid: `none` leaves it with
 * whoever owns it (the freelancer, by default); `client` makes the milestone work for
 * hire, whose payment moves the delivered work's IP record to the client.
 */
export const ipAssignments = ['none', 'client'] as const;
export const ipAssignmentSchema = z.enum(ipAssignments);
export type IpAssignment = z.infer<typeof ipAssignmentSchema>;

export const milestoneRecordSchema = z.object({
  agreementId: z.string(),
  milestoneId: z.string(),
  /** Order within the agreement, from 1. */
  position: z.number().int().min(1),
  kind: milestoneKindSchema,
  title: z.string(),
  amount: amountSchema,
  currency: currencySchema,
  acceptanceCriteria: acceptanceCriteriaSchema,
  dueDate: z.string(),
  reviewWindowSeconds: z.number().int(),
  /** Absent on milestones drafted without it, which assign nothing (`none`). */
  ipAssignment: ipAssignmentSchema.optional(),
  status: milestoneStatusSchema,
  fundedAt: z.string().optional(),
  submissions: z.array(submissionSchema),
  rejectionCount: z.number().int().min(0),
  acceptance: acceptanceSchema.optional(),
  dispute: disputeSchema.optional(),
  instructions: z.array(settlementInstructionSchema),
  batch: batchProgressSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type MilestoneRecord = z.output<typeof milestoneRecordSchema>;

export const taskSubmissionSchema = z.object({
  number: z.number().int().min(1),
  resultSha256: sha256HexSchema,
  uri: z.string().optional(),
  submittedAt: z.string(),
  txId: z.string(),
  reviewDeadline: z.string(),
  rejection: rejectionSchema.optional(),
});
export type TaskSubmission = z.output<typeof taskSubmissionSchema>;

export const taskRecordSchema = z.object({
  agreementId: z.string(),
  milestoneId: z.string(),
  taskId: z.string(),
  position: z.number().int().min(1),
  instructions: z.string(),
  inputSha256: sha256HexSchema.optional(),
  status: taskStatusSchema,
  submissions: z.array(taskSubmissionSchema),
  rejectionCount: z.number().int().min(0),
  acceptance: acceptanceSchema.optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type TaskRecord = z.output<typeof taskRecordSchema>;

export const cancellationRequestSchema = z.object({
  by: partySideSchema,
  reason: z.string(),
  at: z.string(),
  txId: z.string(),
});

export const cancellationSchema = z.object({
  /** One side when the agreement was cancelled before any escrow was funded, both sides after. */
  agreedBy: z.array(partySideSchema),
  reason: z.string(),
  at: z.string(),
  txId: z.string(),
});

export const agreementRecordSchema = z.object({
  agreementId: z.string(),
  title: z.string(),
  client: partySchema,
  freelancer: partySchema,
  evaluator: partySchema.optional(),
  status: agreementStatusSchema,
  /** SHA-256 of the canonical JSON of the confidential terms kept in the `agreementTerms` collection. */
  termsSha256: sha256HexSchema,
  /** Milestone ids in the order the client listed them. */
  milestoneIds: z.array(z.string()),
  /** How many times the client may reject the deliverable of one milestone (or one task). */
  revisionLimit: z.number().int().min(0),
  /** Platform fee in force when the agreement was drafted; the parties agreed to it. */
  platformFeeBps: basisPointsSchema,
  createdAt: z.string(),
  createdTxId: z.string(),
  acceptedAt: z.string().optional(),
  declined: rejectionSchema.optional(),
  /** A pending request by one side to cancel an agreement whose escrow has been funded. */
  cancellationRequest: cancellationRequestSchema.optional(),
  cancellation: cancellationSchema.optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type AgreementRecord = z.output<typeof agreementRecordSchema>;
