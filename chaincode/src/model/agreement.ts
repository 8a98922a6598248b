import { createHash } from 'node:crypto';
import { z } from 'zod';
import { nonBlankText, trimmedText } from './text-controls';
import { canonicalInput, canonicalJson } from './canonical-json';
import { artifactUriSchema, documentSaltSchema, isoInstantSchema, requestIdSchema, sha256HexSchema } from './common';
import { currencySchema } from './currency';
import { metricValuesSchema } from './metrics';
import { amountSchema, readMinorUnits, shareAmountSchema } from './money';
import { workIdSchema } from './ip';
import { parameterCatalogue } from './parameter';
import { pageRequestShape, pageSchema } from './page';
import { contractSpecs } from './spec';
import {
  acceptanceCriteriaSchema,
  agreementContractName,
  agreementIdSchema,
  agreementRecordSchema,
  ipAssignmentSchema,
  milestoneIdSchema,
  milestoneRecordSchema,
  providerReferenceSchema,
  payoutAccountIdSchema,
  settlementOutcomeSchema,
  taskIdSchema,
  taskRecordSchema,
} from './agreement-records';
import { partySchema, reasonSchema } from './party';

/** Private data collection shared by the client's and the talent organisation. */
export const agreementTermsCollection = 'agreementTerms';
/** Transient-map key under which `draftAgreement` receives the confidential terms. */
export const agreementTermsTransientKey = 'terms';

/** Most milestones one agreement may have. */
export const maxMilestonesPerAgreement = 50;
/** Most tasks one batch milestone may have; also the most one bulk transaction handles. */
export const maxTasksPerBatch = 500;
/** Most tasks across all batches of one agreement, so that drafting stays one reasonable transaction. */
export const maxTasksPerAgreement = 1000;
/**
 * Arbitrators on a dispute panel drawn before panels came from governance, when the
 * first arbitrators to vote formed it; newer disputes record their drawn panel.
 */
export const legacyArbitrationPanelSize = 3;

/** Votes for the same split that decide a dispute: a majority of the panel. */
export function arbitrationMajority(panelSize: number): number {
  return Math.floor(panelSize / 2) + 1;
}

export const rateSchema = z.strictObject({
  description: nonBlankText(200),
  amount: amountSchema,
  currency: currencySchema,
  per: z.enum(['hour', 'day', 'week', 'month', 'task', 'item', 'fixed']),
});

const agreementTermsFields = {
  scope: nonBlankText(20_000),
  rates: z.array(rateSchema).max(50, 'must have at most 50 rates').optional(),
  /** Personal data the parties exchange (legal names, addresses, tax ids), by label. */
  personalData: z
    .record(z.string().min(1).max(64), z.string().max(2000))
    .refine((data) => Object.keys(data).length <= 50, 'must have at most 50 entries')
    .optional(),
  additionalTerms: z.string().max(20_000, 'must be at most 20000 characters').optional(),
  /** The document's salt ({@link documentSaltSchema}); required of new drafts, absent from older ones. */
  salt: documentSaltSchema.optional(),
};

/**
 * The confidential part of an agreement: kept in the `agreementTerms` private data
 * collection, never on the channel ledger, which holds only its SHA-256. No field is
 * trimmed or defaulted, so the hash is over exactly the document the parties hold; a
 * document with no canonical encoding (a `__proto__` key, a lone surrogate) is refused
 * at the offending field rather than hashed without it.
 */
export const agreementTermsSchema = canonicalInput(z.strictObject(agreementTermsFields));
export type AgreementTerms = z.output<typeof agreementTermsSchema>;

/** Terms as a new draft must carry them: with a salt, so that their hash cannot be confirmed by guessing. */
export const draftedAgreementTermsSchema = canonicalInput(
  z.strictObject({ ...agreementTermsFields, salt: documentSaltSchema }),
);

/** Bytes the chaincode stores for the terms: their canonical JSON. */
export function agreementTermsBytes(terms: AgreementTerms): Uint8Array {
  return new TextEncoder().encode(canonicalJson(terms));
}

/**
 * SHA-256 of the terms' canonical JSON, as recorded on the agreement. It equals the
 * private data hash Fabric keeps on every peer, so anyone on the channel can compare.
 */
export function agreementTermsSha256(terms: AgreementTerms): string {
  return createHash('sha256').update(agreementTermsBytes(terms)).digest('hex');
}

const titleSchema = trimmedText(200);

const milestoneDraftFields = {
  milestoneId: milestoneIdSchema,
  title: titleSchema,
  amount: amountSchema,
  currency: currencySchema,
  dueDate: isoInstantSchema,
  /** Seconds the client has to review a delivery; the consortium default when left out. */
  reviewWindowSeconds: parameterCatalogue.defaultReviewWindowSeconds.optional(),
};

export const deliverableMilestoneDraftSchema = z.strictObject({
  kind: z.literal('deliverable'),
  ...milestoneDraftFields,
  acceptanceCriteria: acceptanceCriteriaSchema,
  /** `client` makes the milestone work for hire: its payment moves the delivered work's IP to the client. `none` when left out. */
  ipAssignment: ipAssignmentSchema.optional(),
});

export const taskDraftSchema = z.strictObject({
  taskId: taskIdSchema,
  instructions: trimmedText(1000),
  /** Hash of the item to label, when the task is about one data item. */
  inputSha256: sha256HexSchema.optional(),
});

export const batchMilestoneDraftSchema = z
  .strictObject({
    kind: z.literal('batch'),
    ...milestoneDraftFields,
    acceptanceCriteria: z.strictObject({
      description: trimmedText(4000),
    }),
    /** Price of one task; the milestone amount must be exactly `taskAmount × tasks.length`. */
    taskAmount: amountSchema,
    tasks: z
      .array(taskDraftSchema)
      .min(1, 'must have at least one task')
      .max(maxTasksPerBatch, `must have at most ${maxTasksPerBatch} tasks`),
  })
  .superRefine((batch, ctx) => {
    const seen = new Set<string>();
    batch.tasks.forEach((task, index) => {
      if (seen.has(task.taskId)) {
        ctx.addIssue({ code: 'custom', message: `repeats task id ${task.taskId}`, path: ['tasks', index, 'taskId'] });
      }
      seen.add(task.taskId);
    });
    const taskAmount = readMinorUnits(batch.taskAmount);
    const amount = readMinorUnits(batch.amount);
    if (taskAmount !== undefined && amount !== undefined && taskAmount * BigInt(batch.tasks.length) !== amount) {
      ctx.addIssue({
        code: 'custom',
        message: `must equal taskAmount × number of tasks (${batch.taskAmount} × ${batch.tasks.length})`,
        path: ['amount'],
      });
    }
  });

export const milestoneDraftSchema = z.discriminatedUnion('kind', [
  deliverableMilestoneDraftSchema,
  batchMilestoneDraftSchema,
]);
export type MilestoneDraft = z.output<typeof milestoneDraftSchema>;

const samePerson = (a: { mspId: string; userId: string }, b: { mspId: string; userId: string }): boolean =>
  a.mspId === b.mspId && a.userId === b.userId;

export const draftAgreementRequestSchema = z
  .strictObject({
    requestId: requestIdSchema,
    agreementId: agreementIdSchema,
    title: titleSchema,
    client: partySchema,
    freelancer: partySchema,
    /** Identity (e.g. the client's test harness) whose evaluation reports may accept milestones. */
    evaluator: partySchema.optional(),
    /** Rejections allowed per milestone; at most, and by default, the consortium's `maxRevisions`. */
    maxRevisions: parameterCatalogue.maxRevisions.optional(),
    milestones: z
      .array(milestoneDraftSchema)
      .min(1, 'must have at least one milestone')
      .max(maxMilestonesPerAgreement, `must have at most ${maxMilestonesPerAgreement} milestones`),
  })
  .superRefine((draft, ctx) => {
    if (samePerson(draft.client, draft.freelancer)) {
      ctx.addIssue({ code: 'custom', message: 'must not be the client', path: ['freelancer'] });
    }
    if (
      draft.evaluator !== undefined &&
      (samePerson(draft.evaluator, draft.client) || samePerson(draft.evaluator, draft.freelancer))
    ) {
      ctx.addIssue({ code: 'custom', message: 'must not be a party to the agreement', path: ['evaluator'] });
    }
    const seen = new Set<string>();
    let tasks = 0;
    draft.milestones.forEach((milestone, index) => {
      if (seen.has(milestone.milestoneId)) {
        ctx.addIssue({
          code: 'custom',
          message: `repeats milestone id ${milestone.milestoneId}`,
          path: ['milestones', index, 'milestoneId'],
        });
      }
      seen.add(milestone.milestoneId);
      if (milestone.kind === 'batch') tasks += milestone.tasks.length;
    });
    if (tasks > maxTasksPerAgreement) {
      ctx.addIssue({
        code: 'custom',
        message: `must have at most ${maxTasksPerAgreement} tasks across all batches`,
        path: ['milestones'],
      });
    }
  });
export type DraftAgreementRequest = z.output<typeof draftAgreementRequestSchema>;

const agreementRef = { agreementId: agreementIdSchema };
const milestoneRef = { agreementId: agreementIdSchema, milestoneId: milestoneIdSchema };

export const acceptAgreementRequestSchema = z.strictObject({
  ...agreementRef,
  /** Hash of the terms the freelancer read; acceptance binds them to exactly these terms. */
  termsSha256: sha256HexSchema,
});

export const agreementReasonRequestSchema = z.strictObject({ ...agreementRef, reason: reasonSchema });

export const milestoneRequestSchema = z.strictObject(milestoneRef);

export const creatingMilestoneRequestSchema = z.strictObject({ requestId: requestIdSchema, ...milestoneRef });

export const milestoneReasonRequestSchema = z.strictObject({ ...milestoneRef, reason: reasonSchema });

export const confirmSettlementRequestSchema = z
  .strictObject({
    requestId: requestIdSchema,
    ...milestoneRef,
    instructionId: z.string().min(1).max(200),
    outcome: settlementOutcomeSchema,
    providerReference: providerReferenceSchema,
    payoutAccountId: payoutAccountIdSchema.optional(),
    reason: reasonSchema.optional(),
  })
  .refine((request) => request.outcome === 'paid' || request.reason !== undefined, {
    message: 'must say why the payment failed',
    path: ['reason'],
  });

/** Names one settlement instruction of a milestone (retrying a held payout, reissuing a failed one). */
export const retryHeldPayoutRequestSchema = z.strictObject({
  ...milestoneRef,
  instructionId: z.string().min(1).max(200),
});

export const submitDeliverableRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  ...milestoneRef,
  artifactSha256: sha256HexSchema,
  uri: artifactUriSchema,
  claimedMetrics: metricValuesSchema.default({}),
  note: trimmedText(2000).optional(),
  /**
   * The registered work this delivery is; required by, and only accepted for, a
   * milestone that assigns its IP to the client. The freelancer must own it in full.
   */
  workId: workIdSchema.optional(),
});

export const postEvaluationRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  ...milestoneRef,
  /** The artifact the report is about; must be the milestone's latest delivery. */
  artifactSha256: sha256HexSchema,
  metrics: metricValuesSchema
    .refine((values) => Object.keys(values).length > 0, 'must measure at least one metric')
    .meta({ minProperties: 1 }),
  /** Hash of the full signed report, kept off-chain. */
  reportSha256: sha256HexSchema,
  reportUri: artifactUriSchema.optional(),
});

export const openDisputeRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  ...milestoneRef,
  reason: reasonSchema,
});

export const castDisputeVoteRequestSchema = z
  .strictObject({
    requestId: requestIdSchema,
    ...milestoneRef,
    /** The escrow being split, as the arbitrator saw it; it must match the ledger's. */
    escrowAmount: amountSchema,
    clientShare: shareAmountSchema,
    freelancerShare: shareAmountSchema,
    reason: reasonSchema,
  })
  .superRefine((vote, ctx) => {
    const clientShare = readMinorUnits(vote.clientShare);
    const freelancerShare = readMinorUnits(vote.freelancerShare);
    const escrow = readMinorUnits(vote.escrowAmount);
    // A share that failed its own format check is already reported.
    if (clientShare === undefined || freelancerShare === undefined || escrow === undefined) return;
    if (clientShare + freelancerShare !== escrow) {
      ctx.addIssue({
        code: 'custom',
        message: 'clientShare and freelancerShare must add up to escrowAmount',
        path: ['freelancerShare'],
      });
    }
  });

const taskListSchema = <T extends z.ZodType>(item: T, idOf: (value: z.output<T>) => string, what: string) =>
  z
    .array(item)
    .max(maxTasksPerBatch, `must list at most ${maxTasksPerBatch} tasks`)
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((value, index) => {
        const id = idOf(value);
        if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `repeats ${what} ${id}`, path: [index] });
        seen.add(id);
      });
    });

export const taskResultSchema = z.strictObject({
  taskId: taskIdSchema,
  resultSha256: sha256HexSchema,
  uri: artifactUriSchema.optional(),
});

export const submitTasksRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  ...milestoneRef,
  results: taskListSchema(taskResultSchema, (result) => result.taskId, 'task')
    .refine((results) => results.length > 0, 'must list at least one task')
    .meta({ minItems: 1 }),
});

export const taskRejectionSchema = z.strictObject({ taskId: taskIdSchema, reason: reasonSchema });

export const reviewTasksRequestSchema = z
  .strictObject({
    ...milestoneRef,
    accept: taskListSchema(taskIdSchema, (taskId) => taskId, 'task').default([]),
    reject: taskListSchema(taskRejectionSchema, (rejection) => rejection.taskId, 'task').default([]),
  })
  .superRefine((review, ctx) => {
    if (review.accept.length + review.reject.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must accept or reject at least one task', path: ['accept'] });
    }
    if (review.accept.length + review.reject.length > maxTasksPerBatch) {
      ctx.addIssue({ code: 'custom', message: `must review at most ${maxTasksPerBatch} tasks`, path: ['reject'] });
    }
    const accepted = new Set(review.accept);
    review.reject.forEach((rejection, index) => {
      if (accepted.has(rejection.taskId)) {
        ctx.addIssue({
          code: 'custom',
          message: `task ${rejection.taskId} is both accepted and rejected`,
          path: ['reject', index, 'taskId'],
        });
      }
    });
  });

export const partyQueryRoles = ['client', 'freelancer', 'evaluator'] as const;
export const partyQueryRoleSchema = z.enum(partyQueryRoles);
export type PartyQueryRole = z.infer<typeof partyQueryRoleSchema>;

export const listAgreementsByPartyRequestSchema = z.strictObject({
  ...partySchema.shape,
  role: partyQueryRoleSchema.optional(),
  completed: z
    .boolean()
    .optional()
    .describe('Only agreements whose milestones are all final (true) or those with one still open (false)'),
  ...pageRequestShape,
});

export const listPanelDisputesRequestSchema = z.strictObject({
  decided: z
    .boolean()
    .optional()
    .describe('Only disputes the panel has decided (true) or those still awaiting a majority (false)'),
  ...pageRequestShape,
});

export const verifyTermsRequestSchema = z.strictObject({ ...agreementRef, terms: agreementTermsSchema });

/** An agreement with every milestone, in the client's order. */
export const agreementDetailsSchema = z.object({
  agreement: agreementRecordSchema,
  milestones: z.array(milestoneRecordSchema),
});
export type AgreementDetails = z.output<typeof agreementDetailsSchema>;

export const historyEntrySchema = z.object({
  txId: z.string(),
  at: z.string(),
  isDelete: z.boolean(),
});

export const agreementViewSchema = agreementDetailsSchema.extend({
  /** Every milestone has reached a final state (paid, settled, refunded or cancelled). */
  completed: z.boolean(),
  /** Modifications of the agreement record, newest first. */
  history: z.array(historyEntrySchema.extend({ status: agreementRecordSchema.shape.status.optional() })),
});
export type AgreementView = z.output<typeof agreementViewSchema>;

export const partyAgreementSchema = z.object({ role: partyQueryRoleSchema, agreement: agreementRecordSchema });

/** A dispute as its panel sees it: the milestone (with the dispute, its votes and any decision) and its agreement. */
export const panelDisputeSchema = z.object({ agreement: agreementRecordSchema, milestone: milestoneRecordSchema });
export type PanelDispute = z.output<typeof panelDisputeSchema>;

export const milestoneHistoryEntrySchema = historyEntrySchema.extend({ milestone: milestoneRecordSchema.optional() });
export type MilestoneHistoryEntry = z.output<typeof milestoneHistoryEntrySchema>;

export const taskBatchResultSchema = z.object({
  milestone: milestoneRecordSchema,
  /** The tasks the transaction changed, in request order. */
  tasks: z.array(taskRecordSchema),
});
export type TaskBatchResult = z.output<typeof taskBatchResultSchema>;

/**
 * An agreement's terms as a member peer holds them: `held` with the document, or
 * `erased` (purged from the collection under GDPR Art. 17) with the erasure receipt's
 * id; the hash on the agreement stays in both cases.
 */
export const agreementTermsResultSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('held'),
    agreementId: z.string(),
    termsSha256: z.string(),
    terms: agreementTermsSchema,
  }),
  z.object({
    status: z.literal('erased'),
    agreementId: z.string(),
    termsSha256: z.string(),
    receiptId: z.string(),
    erasedAt: z.string(),
  }),
]);
export type AgreementTermsResult = z.output<typeof agreementTermsResultSchema>;

export const termsVerificationSchema = z.object({
  agreementId: z.string(),
  /** Hash recorded on the agreement. */
  termsSha256: z.string(),
  /** Hash of the document given to the query. */
  documentSha256: z.string(),
  matches: z.boolean(),
  /** The collection's own hash (kept by every peer, members or not) agrees with the document. */
  privateDataHashMatches: z.boolean(),
});
export type TermsVerification = z.output<typeof termsVerificationSchema>;

const { submit, evaluate } = contractSpecs(agreementContractName);

/**
 * Every transaction of the `agreement` contract. `draftAgreement` also takes the
 * confidential terms in the transient map under {@link agreementTermsTransientKey}.
 */
export const agreementTransactions = {
  draftAgreement: {
    ...submit('draftAgreement', draftAgreementRequestSchema, agreementDetailsSchema),
    privateCollection: agreementTermsCollection,
  },
  acceptAgreement: submit('acceptAgreement', acceptAgreementRequestSchema, agreementRecordSchema),
  declineAgreement: submit('declineAgreement', agreementReasonRequestSchema, agreementRecordSchema),
  cancelAgreement: submit('cancelAgreement', agreementReasonRequestSchema, agreementDetailsSchema),
  fundMilestone: submit('fundMilestone', creatingMilestoneRequestSchema, milestoneRecordSchema),
  confirmSettlement: submit('confirmSettlement', confirmSettlementRequestSchema, milestoneRecordSchema),
  retryHeldPayout: submit('retryHeldPayout', retryHeldPayoutRequestSchema, milestoneRecordSchema),
  reissueFailedPayout: submit('reissueFailedPayout', retryHeldPayoutRequestSchema, milestoneRecordSchema),
  submitDeliverable: submit('submitDeliverable', submitDeliverableRequestSchema, milestoneRecordSchema),
  acceptMilestone: submit('acceptMilestone', milestoneRequestSchema, milestoneRecordSchema),
  rejectDeliverable: submit('rejectDeliverable', milestoneReasonRequestSchema, milestoneRecordSchema),
  claimAcceptance: submit('claimAcceptance', milestoneRequestSchema, milestoneRecordSchema),
  postEvaluation: submit('postEvaluation', postEvaluationRequestSchema, milestoneRecordSchema),
  releaseMilestone: submit('releaseMilestone', creatingMilestoneRequestSchema, milestoneRecordSchema),
  openDispute: submit('openDispute', openDisputeRequestSchema, milestoneRecordSchema),
  castDisputeVote: submit('castDisputeVote', castDisputeVoteRequestSchema, milestoneRecordSchema),
  submitTasks: submit('submitTasks', submitTasksRequestSchema, taskBatchResultSchema),
  reviewTasks: submit('reviewTasks', reviewTasksRequestSchema, taskBatchResultSchema),
  claimTasksAcceptance: submit('claimTasksAcceptance', milestoneRequestSchema, taskBatchResultSchema),
  getAgreement: evaluate('getAgreement', z.strictObject(agreementRef), agreementViewSchema),
  listAgreementsByParty: evaluate(
    'listAgreementsByParty',
    listAgreementsByPartyRequestSchema,
    pageSchema(partyAgreementSchema),
  ),
  listPanelDisputes: evaluate('listPanelDisputes', listPanelDisputesRequestSchema, pageSchema(panelDisputeSchema)),
  getMilestoneHistory: evaluate('getMilestoneHistory', milestoneRequestSchema, z.array(milestoneHistoryEntrySchema)),
  listTasks: evaluate('listTasks', milestoneRequestSchema, z.array(taskRecordSchema)),
  getTerms: evaluate('getTerms', z.strictObject(agreementRef), agreementTermsResultSchema),
  verifyTerms: evaluate('verifyTerms', verifyTermsRequestSchema, termsVerificationSchema),
} as const;
