import { z } from 'zod';
import {
  acceptAgreementRequestSchema,
  agreementIdSchema,
  agreementReasonRequestSchema,
  agreementTermsSchema,
  castDisputeVoteRequestSchema,
  confirmSettlementRequestSchema,
  draftAgreementRequestSchema,
  milestoneIdSchema,
  milestoneReasonRequestSchema,
  mspIdSchema,
  openDisputeRequestSchema,
  partyQueryRoleSchema,
  postEvaluationRequestSchema,
  reviewTasksRequestSchema,
  retryHeldPayoutRequestSchema,
  submitDeliverableRequestSchema,
  submitTasksRequestSchema,
  userIdSchema,
  verifyTermsRequestSchema,
} from '@gigledger/chaincode/model';
import { optionalRequestIdSchema } from '../http/request-ids.js';

/*
 * REST bodies are the model's request schemas minus what the path carries, still
 * strict so that an unknown field is a 422. Some model schemas carry cross-field
 * refinements, which zod will not `.omit()`; their shapes are copied instead and the
 * refinements run when the completed request is parsed with the model schema itself
 * (see `completeRequest`).
 */

export const agreementPathSchema = z.strictObject({ agreementId: agreementIdSchema });
export const milestonePathSchema = z.strictObject({ agreementId: agreementIdSchema, milestoneId: milestoneIdSchema });

const { requestId: _draftRequestId, ...draftFields } = draftAgreementRequestSchema.shape;
export const draftAgreementBodySchema = z.strictObject({
  requestId: optionalRequestIdSchema,
  ...draftFields,
  terms: agreementTermsSchema.describe(
    "Confidential terms: sent only to the parties' peers (transient map) and kept in a private data collection; the ledger holds their SHA-256",
  ),
});

const { agreementId: _acceptId, ...acceptFields } = acceptAgreementRequestSchema.shape;
export const acceptAgreementBodySchema = z.strictObject(acceptFields);

const { agreementId: _reasonId, ...agreementReasonFields } = agreementReasonRequestSchema.shape;
export const agreementReasonBodySchema = z.strictObject(agreementReasonFields);

export const creatingMilestoneBodySchema = z.strictObject({ requestId: optionalRequestIdSchema });

/** Commands whose path says everything. */
export const emptyBodySchema = z.strictObject({});

const {
  agreementId: _confirmId,
  milestoneId: _confirmMilestone,
  requestId: _confirmRequestId,
  ...confirmFields
} = confirmSettlementRequestSchema.shape;
export const confirmSettlementBodySchema = z.strictObject({ requestId: optionalRequestIdSchema, ...confirmFields });

export const retryHeldPayoutBodySchema = z.strictObject({
  instructionId: retryHeldPayoutRequestSchema.shape.instructionId,
});

const {
  agreementId: _submitId,
  milestoneId: _submitMilestone,
  requestId: _submitRequestId,
  ...submitFields
} = submitDeliverableRequestSchema.shape;
export const submitDeliverableBodySchema = z.strictObject({ requestId: optionalRequestIdSchema, ...submitFields });

const {
  agreementId: _rejectId,
  milestoneId: _rejectMilestone,
  ...milestoneReasonFields
} = milestoneReasonRequestSchema.shape;
export const milestoneReasonBodySchema = z.strictObject(milestoneReasonFields);

const {
  agreementId: _evaluationId,
  milestoneId: _evaluationMilestone,
  requestId: _evaluationRequestId,
  ...evaluationFields
} = postEvaluationRequestSchema.shape;
export const postEvaluationBodySchema = z.strictObject({ requestId: optionalRequestIdSchema, ...evaluationFields });

const {
  agreementId: _disputeId,
  milestoneId: _disputeMilestone,
  requestId: _disputeRequestId,
  ...disputeFields
} = openDisputeRequestSchema.shape;
export const openDisputeBodySchema = z.strictObject({ requestId: optionalRequestIdSchema, ...disputeFields });

const {
  agreementId: _voteId,
  milestoneId: _voteMilestone,
  requestId: _voteRequestId,
  ...voteFields
} = castDisputeVoteRequestSchema.shape;
export const castDisputeVoteBodySchema = z.strictObject({ requestId: optionalRequestIdSchema, ...voteFields });

const {
  agreementId: _tasksId,
  milestoneId: _tasksMilestone,
  requestId: _tasksRequestId,
  ...submitTasksFields
} = submitTasksRequestSchema.shape;
export const submitTasksBodySchema = z.strictObject({ requestId: optionalRequestIdSchema, ...submitTasksFields });

const { agreementId: _reviewId, milestoneId: _reviewMilestone, ...reviewFields } = reviewTasksRequestSchema.shape;
export const reviewTasksBodySchema = z.strictObject(reviewFields);

const { agreementId: _verifyId, ...verifyFields } = verifyTermsRequestSchema.shape;
export const verifyTermsBodySchema = z.strictObject(verifyFields);

/** `GET /v1/agreements`: the caller's own agreements, or another person's for auditors, admins and HR. */
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
  })
  .refine((query) => (query.mspId === undefined) === (query.userId === undefined), {
    message: "must come with mspId: give both to list another person's agreements, neither for your own",
    path: ['userId'],
  });
