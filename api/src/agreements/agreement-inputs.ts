import { z } from 'zod';
import {
  agreementIdSchema,
  agreementTermsSchema,
  agreementTransactions,
  draftAgreementRequestSchema,
  milestoneIdSchema,
  mspIdSchema,
  partyQueryRoleSchema,
  userIdSchema,
  verifyTermsRequestSchema,
} from '@gigledger/chaincode/model';
import { commandBodySchema, optionalRequestIdSchema, withRefinementsOf } from '../http/request-ids.js';
import { ledgerPageShape } from '../http/ledger-pages.js';

/*
 * REST bodies are the transactions' request schemas minus what the path carries, still
 * strict so that an unknown field is a 422 (`commandBodySchema`); cross-field
 * refinements run when the body joined with the path is parsed with the request schema
 * itself.
 */

export const agreementPathSchema = z.strictObject({ agreementId: agreementIdSchema });
export const milestonePathSchema = z.strictObject({ agreementId: agreementIdSchema, milestoneId: milestoneIdSchema });

const { requestId: _draftRequestId, ...draftFields } = draftAgreementRequestSchema.shape;
export const draftAgreementBodySchema = withRefinementsOf(
  draftAgreementRequestSchema,
  z.strictObject({
    requestId: optionalRequestIdSchema,
    ...draftFields,
    terms: agreementTermsSchema.describe(
      "Confidential terms: sent only to the parties' peers (transient map) and kept in a private data collection; the ledger holds their SHA-256",
    ),
  }),
);

const commands = agreementTransactions;
const agreementFields = ['agreementId'] as const;
const milestoneFields = ['agreementId', 'milestoneId'] as const;

export const acceptAgreementBodySchema = commandBodySchema(commands.acceptAgreement.request, agreementFields);
export const agreementReasonBodySchema = commandBodySchema(commands.declineAgreement.request, agreementFields);
export const creatingMilestoneBodySchema = commandBodySchema(commands.fundMilestone.request, milestoneFields);
/** Commands whose path says everything but the request id. */
export const milestoneCommandBodySchema = commandBodySchema(commands.acceptMilestone.request, milestoneFields);
export const confirmSettlementBodySchema = commandBodySchema(commands.confirmSettlement.request, milestoneFields);
export const retryHeldPayoutBodySchema = commandBodySchema(commands.retryHeldPayout.request, milestoneFields);
export const submitDeliverableBodySchema = commandBodySchema(commands.submitDeliverable.request, milestoneFields);
export const milestoneReasonBodySchema = commandBodySchema(commands.rejectDeliverable.request, milestoneFields);
export const postEvaluationBodySchema = commandBodySchema(commands.postEvaluation.request, milestoneFields);
export const openDisputeBodySchema = commandBodySchema(commands.openDispute.request, milestoneFields);
export const castDisputeVoteBodySchema = commandBodySchema(commands.castDisputeVote.request, milestoneFields);
export const submitTasksBodySchema = commandBodySchema(commands.submitTasks.request, milestoneFields);
export const reviewTasksBodySchema = commandBodySchema(commands.reviewTasks.request, milestoneFields);

const { agreementId: _verifyId, ...verifyFields } = verifyTermsRequestSchema.shape;
export const verifyTermsBodySchema = z.strictObject(verifyFields);

/** `GET /v1/agreements`: the caller's own agreements, or another person's for auditors, admins and HR. */
export const listPanelDisputesQuerySchema = z.strictObject({
  decided: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('Only disputes the panel has decided (true), or those still awaiting a majority (false)'),
  ...ledgerPageShape,
});

export const listAgreementsQuerySchema = z
  .strictObject({
    role: partyQueryRoleSchema.optional().describe('Only agreements in which the party plays this role'),
    completed: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional()
      .describe('Only agreements whose milestones are all final (true), or not all (false)'),
    mspId: mspIdSchema.optional().describe("With userId: list this person's agreements instead of the caller's"),
    userId: userIdSchema.optional(),
    ...ledgerPageShape,
  })
  .refine((query) => (query.mspId === undefined) === (query.userId === undefined), {
    message: "must come with mspId: give both to list another person's agreements, neither for your own",
    path: ['userId'],
  });
