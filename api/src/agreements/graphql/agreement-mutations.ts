import type { z } from 'zod';
import {
  agreementTermsSchema,
  agreementTransactions as commands,
  draftAgreementRequestSchema,
} from '@gigledger/chaincode/model';
import type { Scope } from '../../auth/principal.js';
import { type GraphqlContext, resolverRequester, resolveWith } from '../../graphql/context.js';
import { parseInput } from '../../http/route.js';
import { fieldsUnder } from '../../http/refusal-fields.js';
import { parseCommand } from '../../http/request-ids.js';
import type { Committed, CommandRequest } from '../../ledger/committed.js';
import type { Requester } from '../../ledger/requester.js';
import type { AgreementService } from '../agreement-service.js';
import { agreementPayload, milestonePayload, taskBatchPayload } from './agreement-nodes.js';
import { inputFields } from '../../graphql/input-arguments.js';

/**
 * A mutation over one service command: scope check, the `input` argument validated
 * with the transaction's own request schema (errors name `input.<field>`), the command
 * under the input's `requestId` (generated when the caller gives none), and the payload
 * built from what committed.
 */
function command<Schema extends z.ZodType<{ readonly requestId?: string | undefined }>, Value, Payload>(
  scope: Scope,
  schema: Schema,
  run: (as: Requester, request: CommandRequest<z.output<Schema>>) => Promise<Committed<Value>>,
  payload: (done: Committed<Value>) => Payload,
) {
  return (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
    resolveWith(context, async () => {
      const as = resolverRequester(context, scope);
      const request = parseCommand(schema, inputFields(args.input), 'input');
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
        const request = parseCommand(draftAgreementRequestSchema, fields, 'input');
        const parsedTerms = parseInput(agreementTermsSchema, terms, 'input.terms');
        return agreementPayload(
          await fieldsUnder('input', () => service.draftAgreement(as, request, parsedTerms, 'input')),
        );
      }),
    acceptAgreement: command(
      write,
      commands.acceptAgreement.request,
      (as, request) => service.acceptAgreement(as, request),
      agreementPayload,
    ),
    declineAgreement: command(
      write,
      commands.declineAgreement.request,
      (as, request) => service.declineAgreement(as, request),
      agreementPayload,
    ),
    cancelAgreement: command(
      write,
      commands.cancelAgreement.request,
      (as, request) => service.cancelAgreement(as, request),
      agreementPayload,
    ),
    fundMilestone: command(
      write,
      commands.fundMilestone.request,
      (as, request) => service.fundMilestone(as, request),
      milestonePayload,
    ),
    confirmSettlement: command(
      'settlements:write',
      commands.confirmSettlement.request,
      (as, request) => service.confirmSettlement(as, request, 'input'),
      milestonePayload,
    ),
    submitDeliverable: command(
      write,
      commands.submitDeliverable.request,
      (as, request) => service.submitDeliverable(as, request),
      milestonePayload,
    ),
    acceptMilestone: command(
      write,
      commands.acceptMilestone.request,
      (as, request) => service.acceptMilestone(as, request),
      milestonePayload,
    ),
    rejectDeliverable: command(
      write,
      commands.rejectDeliverable.request,
      (as, request) => service.rejectDeliverable(as, request),
      milestonePayload,
    ),
    retryHeldPayout: command(
      write,
      commands.retryHeldPayout.request,
      (as, request) => service.retryHeldPayout(as, request),
      milestonePayload,
    ),
    reissueFailedPayout: command(
      write,
      commands.reissueFailedPayout.request,
      (as, request) => service.reissueFailedPayout(as, request),
      milestonePayload,
    ),
    claimAcceptance: command(
      write,
      commands.claimAcceptance.request,
      (as, request) => service.claimAcceptance(as, request),
      milestonePayload,
    ),
    postEvaluation: command(
      write,
      commands.postEvaluation.request,
      (as, request) => service.postEvaluation(as, request),
      milestonePayload,
    ),
    releaseMilestone: command(
      write,
      commands.releaseMilestone.request,
      (as, request) => service.releaseMilestone(as, request),
      milestonePayload,
    ),
    openDispute: command(
      write,
      commands.openDispute.request,
      (as, request) => service.openDispute(as, request),
      milestonePayload,
    ),
    castDisputeVote: command(
      write,
      commands.castDisputeVote.request,
      (as, request) => service.castDisputeVote(as, request),
      milestonePayload,
    ),
    submitTasks: command(
      write,
      commands.submitTasks.request,
      (as, request) => service.submitTasks(as, request),
      taskBatchPayload,
    ),
    reviewTasks: command(
      write,
      commands.reviewTasks.request,
      (as, request) => service.reviewTasks(as, request),
      taskBatchPayload,
    ),
    claimTasksAcceptance: command(
      write,
      commands.claimTasksAcceptance.request,
      (as, request) => service.claimTasksAcceptance(as, request),
      taskBatchPayload,
    ),
  };
}
