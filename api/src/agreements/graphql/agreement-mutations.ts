import type { z } from 'zod';
import {
  acceptAgreementRequestSchema,
  agreementReasonRequestSchema,
  agreementTermsSchema,
  castDisputeVoteRequestSchema,
  confirmSettlementRequestSchema,
  creatingMilestoneRequestSchema,
  draftAgreementRequestSchema,
  milestoneReasonRequestSchema,
  milestoneRequestSchema,
  openDisputeRequestSchema,
  postEvaluationRequestSchema,
  retryHeldPayoutRequestSchema,
  reviewTasksRequestSchema,
  submitDeliverableRequestSchema,
  submitTasksRequestSchema,
} from '@gigledger/chaincode/model';
import type { Scope } from '../../auth/principal.js';
import { type GraphqlContext, resolverRequester, resolveWith } from '../../graphql/context.js';
import { parseInput } from '../../http/route.js';
import { fieldsUnder } from '../../http/refusal-fields.js';
import { generateRequestId } from '../../http/request-ids.js';
import type { Committed } from '../../ledger/committed.js';
import type { Requester } from '../../ledger/requester.js';
import type { AgreementService } from '../agreement-service.js';
import { agreementPayload, milestonePayload, taskBatchPayload } from './agreement-nodes.js';
import { inputFields } from '../../graphql/input-arguments.js';

/** Whether the command takes a request id: creating ones do, generated when the caller gives none. */
type RequestIds = 'none' | 'generate';

/**
 * A mutation over one service command: scope check, the `input` argument validated
 * with the model's own request schema (errors name `input.<field>`), the command, and
 * the payload built from what committed.
 */
function command<Schema extends z.ZodType, Value, Payload>(
  scope: Scope,
  schema: Schema,
  requestIds: RequestIds,
  run: (as: Requester, request: z.output<Schema>) => Promise<Committed<Value>>,
  payload: (done: Committed<Value>) => Payload,
) {
  return (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
    resolveWith(context, async () => {
      const as = resolverRequester(context, scope);
      const fields = inputFields(args.input);
      if (requestIds === 'generate' && typeof fields.requestId !== 'string') fields.requestId = generateRequestId();
      const request = parseInput(schema, fields, 'input');
      return payload(await fieldsUnder('input', () => run(as, request)));
    });
}

/** The agreement mutations: the same service commands as REST, never Fabric directly. */
export function agreementMutationResolvers(service: AgreementService) {
  const write = 'agreements:write';
  return {
    draftAgreement: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
      resolveWith(context, async () => {
        const as = resolverRequester(context, write);
        const { terms, ...fields } = inputFields(args.input);
        if (typeof fields.requestId !== 'string') fields.requestId = generateRequestId();
        const request = parseInput(draftAgreementRequestSchema, fields, 'input');
        const parsedTerms = parseInput(agreementTermsSchema, terms, 'input.terms');
        return agreementPayload(await fieldsUnder('input', () => service.draftAgreement(as, request, parsedTerms)));
      }),
    acceptAgreement: command(
      write,
      acceptAgreementRequestSchema,
      'none',
      (as, request) => service.acceptAgreement(as, request),
      agreementPayload,
    ),
    declineAgreement: command(
      write,
      agreementReasonRequestSchema,
      'none',
      (as, request) => service.declineAgreement(as, request),
      agreementPayload,
    ),
    cancelAgreement: command(
      write,
      agreementReasonRequestSchema,
      'none',
      (as, request) => service.cancelAgreement(as, request),
      agreementPayload,
    ),
    fundMilestone: command(
      write,
      creatingMilestoneRequestSchema,
      'generate',
      (as, request) => service.fundMilestone(as, request),
      milestonePayload,
    ),
    confirmSettlement: command(
      'settlements:write',
      confirmSettlementRequestSchema,
      'generate',
      (as, request) => service.confirmSettlement(as, request),
      milestonePayload,
    ),
    submitDeliverable: command(
      write,
      submitDeliverableRequestSchema,
      'generate',
      (as, request) => service.submitDeliverable(as, request),
      milestonePayload,
    ),
    acceptMilestone: command(
      write,
      milestoneRequestSchema,
      'none',
      (as, request) => service.acceptMilestone(as, request),
      milestonePayload,
    ),
    rejectDeliverable: command(
      write,
      milestoneReasonRequestSchema,
      'none',
      (as, request) => service.rejectDeliverable(as, request),
      milestonePayload,
    ),
    retryHeldPayout: command(
      write,
      retryHeldPayoutRequestSchema,
      'none',
      (as, request) => service.retryHeldPayout(as, request),
      milestonePayload,
    ),
    reissueFailedPayout: command(
      write,
      retryHeldPayoutRequestSchema,
      'none',
      (as, request) => service.reissueFailedPayout(as, request),
      milestonePayload,
    ),
    claimAcceptance: command(
      write,
      milestoneRequestSchema,
      'none',
      (as, request) => service.claimAcceptance(as, request),
      milestonePayload,
    ),
    postEvaluation: command(
      write,
      postEvaluationRequestSchema,
      'generate',
      (as, request) => service.postEvaluation(as, request),
      milestonePayload,
    ),
    releaseMilestone: command(
      write,
      creatingMilestoneRequestSchema,
      'generate',
      (as, request) => service.releaseMilestone(as, request),
      milestonePayload,
    ),
    openDispute: command(
      write,
      openDisputeRequestSchema,
      'generate',
      (as, request) => service.openDispute(as, request),
      milestonePayload,
    ),
    castDisputeVote: command(
      write,
      castDisputeVoteRequestSchema,
      'generate',
      (as, request) => service.castDisputeVote(as, request),
      milestonePayload,
    ),
    submitTasks: command(
      write,
      submitTasksRequestSchema,
      'generate',
      (as, request) => service.submitTasks(as, request),
      taskBatchPayload,
    ),
    reviewTasks: command(
      write,
      reviewTasksRequestSchema,
      'none',
      (as, request) => service.reviewTasks(as, request),
      taskBatchPayload,
    ),
    claimTasksAcceptance: command(
      write,
      milestoneRequestSchema,
      'none',
      (as, request) => service.claimTasksAcceptance(as, request),
      taskBatchPayload,
    ),
  };
}
