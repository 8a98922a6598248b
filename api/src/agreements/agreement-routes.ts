import type { AccountService } from '../auth/account-service.js';
import { z } from 'zod';
import {
  agreementDetailsSchema,
  agreementRecordSchema,
  agreementTermsResultSchema,
  agreementTransactions as commands,
  agreementViewSchema,
  draftAgreementRequestSchema,
  milestoneHistoryEntrySchema,
  milestoneRecordSchema,
  panelDisputeSchema,
  partyAgreementSchema,
  taskBatchResultSchema,
  taskRecordSchema,
  termsVerificationSchema,
  verifyTermsRequestSchema,
} from '@gigledger/chaincode/model';
import { routeRequester } from '../http/route-requester.js';
import { parseInput, route, type RouteInput, type RouteSpec } from '../http/route.js';
import { committedSchema, type Committed, type CommandRequest } from '../ledger/committed.js';
import { withRequestId } from '../http/request-ids.js';
import type { Requester } from '../ledger/requester.js';
import type { SettlementRuntime } from '../settlement/settlement-runtime.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { answerWithPage, nextPageLinkHeader } from '../http/ledger-pages.js';
import {
  acceptAgreementBodySchema,
  agreementPathSchema,
  agreementReasonBodySchema,
  castDisputeVoteBodySchema,
  confirmSettlementBodySchema,
  creatingMilestoneBodySchema,
  draftAgreementBodySchema,
  milestoneCommandBodySchema,
  listAgreementsQuerySchema,
  listPanelDisputesQuerySchema,
  milestonePathSchema,
  milestoneReasonBodySchema,
  openDisputeBodySchema,
  postEvaluationBodySchema,
  retryHeldPayoutBodySchema,
  reviewTasksBodySchema,
  submitDeliverableBodySchema,
  submitTasksBodySchema,
  verifyTermsBodySchema,
} from './agreement-inputs.js';
import { AgreementService } from './agreement-service.js';

const agreementsPath = '/v1/agreements';
const disputesPath = '/v1/disputes';
const agreementPath = `${agreementsPath}/:agreementId`;
const milestonePath = `${agreementPath}/milestones/:milestoneId`;
const tag = 'agreements';

/**
 * The handler of a command: the body (with the request id `mountRoutes` settled) joined
 * with the path ids, validated with the transaction's own request schema, then the
 * service call.
 */
function bodyCommand<Schema extends z.ZodType<{ readonly requestId?: string | undefined }>, Value>(
  schema: Schema,
  run: (as: Requester, request: CommandRequest<z.output<Schema>>) => Promise<Committed<Value>>,
) {
  return (input: RouteInput<object, unknown, object>) =>
    run(routeRequester(input), withRequestId(parseInput(schema, { ...input.body, ...input.params }, 'body')));
}

/** Statuses a command on an existing agreement can answer with besides 401/403/422. */
const commandErrors = [404, 409, 503, 504] as const;
const readErrors = [404, 503] as const;

/** What every command on a milestone shares (a `route` spec's fields besides its own). */
const milestoneCommand = {
  method: 'post',
  tag,
  access: 'agreements:write',
  params: milestonePathSchema,
  errors: commandErrors,
  command: true,
} as const;
const committedMilestone = committedSchema(milestoneRecordSchema);

/**
 * Every agreement operation over REST. Commands need scope agreements:write (settlement
 * confirmations settlements:write) and the role the chaincode would accept; anything on
 * an existing agreement answers 404 unless the caller may read that agreement.
 */
export function agreementRoutes(deps: {
  ledger: LedgerAccess;
  accounts: AccountService;
  settlement?: SettlementRuntime;
}): RouteSpec[] {
  const service = new AgreementService(deps.ledger, deps.accounts, deps.settlement?.desk);
  return [
    route({
      method: 'get',
      path: agreementsPath,
      operationId: 'listAgreements',
      summary:
        "List the caller's agreements (or, for auditors, admins and HR systems, another person's), optionally by role and completion, one page at a time",
      tag,
      access: 'agreements:read',
      query: listAgreementsQuerySchema,
      response: z.array(partyAgreementSchema),
      responseHeaders: [nextPageLinkHeader],
      errors: [503],
      handler: async ({ query, setHeader, ...caller }) => {
        const listed = await service.listAgreements(routeRequester(caller), {
          party:
            query.mspId === undefined || query.userId === undefined
              ? undefined
              : { mspId: query.mspId, userId: query.userId },
          role: query.role,
          completed: query.completed,
          page: query,
          afterField: 'query.after',
        });
        return answerWithPage(listed, { path: agreementsPath, query, setHeader }).map(({ role, agreement }) => ({
          role,
          agreement,
        }));
      },
    }),
    route({
      method: 'get',
      path: disputesPath,
      operationId: 'listPanelDisputes',
      summary:
        'List the disputes whose arbitration panel holds the caller (role arbitrator), each with its milestone and agreement, open or decided, one page at a time',
      tag,
      access: 'agreements:read',
      query: listPanelDisputesQuerySchema,
      response: z.array(panelDisputeSchema),
      responseHeaders: [nextPageLinkHeader],
      errors: [503],
      handler: async ({ query, setHeader, ...caller }) => {
        const listed = await service.listPanelDisputes(routeRequester(caller), {
          decided: query.decided,
          page: query,
          afterField: 'query.after',
        });
        return answerWithPage(listed, { path: disputesPath, query, setHeader });
      },
    }),
    route({
      method: 'post',
      path: agreementsPath,
      operationId: 'draftAgreement',
      summary:
        'Draft an agreement and offer it to the freelancer (role client, naming themself as client); the confidential terms never reach the channel ledger',
      tag,
      command: true,
      access: 'agreements:write',
      body: draftAgreementBodySchema,
      response: committedSchema(agreementDetailsSchema),
      status: 201,
      errors: [409, 503, 504],
      handler: async ({ body, setHeader, ...caller }) => {
        const { terms, ...fields } = body;
        const request = parseInput(draftAgreementRequestSchema, fields, 'body');
        const drafted = await service.draftAgreement(routeRequester(caller), request, terms);
        setHeader('Location', `${agreementsPath}/${encodeURIComponent(request.agreementId)}`);
        return drafted;
      },
    }),
    route({
      method: 'get',
      path: agreementPath,
      operationId: 'getAgreement',
      summary: 'One agreement with its milestones, whether it is completed, and the history of its record',
      tag,
      access: 'agreements:read',
      params: agreementPathSchema,
      response: agreementViewSchema,
      errors: readErrors,
      handler: ({ params, ...caller }) => service.getAgreement(routeRequester(caller), params.agreementId),
    }),
    route({
      method: 'post',
      path: `${agreementPath}/accept`,
      operationId: 'acceptAgreement',
      summary: 'Accept the offer, binding it to the hash of the terms read (role freelancer, the one named)',
      tag,
      command: true,
      access: 'agreements:write',
      params: agreementPathSchema,
      body: acceptAgreementBodySchema,
      response: committedSchema(agreementRecordSchema),
      errors: commandErrors,
      handler: bodyCommand(commands.acceptAgreement.request, (as, request) => service.acceptAgreement(as, request)),
    }),
    route({
      method: 'post',
      path: `${agreementPath}/decline`,
      operationId: 'declineAgreement',
      summary: 'Decline the offer with a reason (role freelancer, the one named)',
      tag,
      command: true,
      access: 'agreements:write',
      params: agreementPathSchema,
      body: agreementReasonBodySchema,
      response: committedSchema(agreementRecordSchema),
      errors: commandErrors,
      handler: bodyCommand(commands.declineAgreement.request, (as, request) => service.declineAgreement(as, request)),
    }),
    route({
      method: 'post',
      path: `${agreementPath}/cancel`,
      operationId: 'cancelAgreement',
      summary:
        'Cancel the agreement (client or freelancer); once escrow is funded both must ask, and held escrow is refunded',
      tag,
      command: true,
      access: 'agreements:write',
      params: agreementPathSchema,
      body: agreementReasonBodySchema,
      response: committedSchema(agreementDetailsSchema),
      errors: commandErrors,
      handler: bodyCommand(commands.cancelAgreement.request, (as, request) => service.cancelAgreement(as, request)),
    }),
    route({
      method: 'get',
      path: `${agreementPath}/terms`,
      operationId: 'getAgreementTerms',
      summary: "The confidential terms, for the agreement's client and freelancer only",
      tag,
      access: 'agreements:read',
      params: agreementPathSchema,
      response: agreementTermsResultSchema,
      errors: readErrors,
      handler: ({ params, ...caller }) => service.getTerms(routeRequester(caller), params.agreementId),
    }),
    route({
      method: 'post',
      path: `${agreementPath}/terms/verify`,
      operationId: 'verifyAgreementTerms',
      reads: true,
      verbatimText: true,
      summary:
        "Check a terms document against the hash on the agreement and the private collection's hash (a read: nothing is written)",
      tag,
      access: 'agreements:read',
      params: agreementPathSchema,
      body: verifyTermsBodySchema,
      response: termsVerificationSchema,
      errors: readErrors,
      handler: ({ params, body, ...caller }) =>
        service.verifyTerms(
          routeRequester(caller),
          parseInput(verifyTermsRequestSchema, { ...body, ...params }, 'body'),
        ),
    }),
    route({
      method: 'get',
      path: `${milestonePath}/history`,
      operationId: 'getMilestoneHistory',
      summary: 'Every version of a milestone, newest first, from the ledger history',
      tag,
      access: 'agreements:read',
      params: milestonePathSchema,
      response: z.array(milestoneHistoryEntrySchema),
      errors: readErrors,
      handler: ({ params, ...caller }) => service.milestoneHistory(routeRequester(caller), params),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/fund`,
      operationId: 'fundMilestone',
      summary: "Ask the settlement provider to collect the milestone's amount into escrow (role client, the one named)",
      body: creatingMilestoneBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.fundMilestone.request, (as, request) => service.fundMilestone(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/settlement-confirmations`,
      operationId: 'confirmSettlement',
      summary:
        "Record the provider's confirmation (paid) or failure of a settlement instruction (role settlement, scope settlements:write)",
      access: 'settlements:write',
      body: confirmSettlementBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.confirmSettlement.request, (as, request) => service.confirmSettlement(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/held-payouts/retry`,
      operationId: 'retryHeldPayout',
      summary:
        'Check a payout held for compliance again; once the payee holds a valid KYC credential it goes to the settlement provider (client, freelancer or settlement)',
      body: retryHeldPayoutBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.retryHeldPayout.request, (as, request) => service.retryHeldPayout(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/failed-payouts/reissue`,
      operationId: 'reissueFailedPayout',
      summary:
        'Issue a failed payout (release or refund) again as a new instruction, e.g. after the payee corrected their payout account (client, freelancer or settlement)',
      body: retryHeldPayoutBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.reissueFailedPayout.request, (as, request) =>
        service.reissueFailedPayout(as, request),
      ),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/deliverables`,
      operationId: 'submitDeliverable',
      summary: "Deliver the milestone's artifact: SHA-256, URI and claimed metrics (role freelancer, the one named)",
      body: submitDeliverableBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.submitDeliverable.request, (as, request) => service.submitDeliverable(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/accept`,
      operationId: 'acceptMilestone',
      summary: 'Accept the latest delivery (role client, the one named)',
      body: milestoneCommandBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.acceptMilestone.request, (as, request) => service.acceptMilestone(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/reject`,
      operationId: 'rejectDeliverable',
      summary: 'Reject the latest delivery with a reason, within the revision limit (role client, the one named)',
      body: milestoneReasonBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.rejectDeliverable.request, (as, request) => service.rejectDeliverable(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/claim-acceptance`,
      operationId: 'claimAcceptance',
      summary: "Claim acceptance once the client's review window has passed unanswered (role freelancer)",
      body: milestoneCommandBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.claimAcceptance.request, (as, request) => service.claimAcceptance(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/evaluations`,
      operationId: 'postEvaluation',
      summary:
        "Post an evaluation report of the latest delivery; meeting every threshold accepts the milestone (role evaluator, the agreement's)",
      body: postEvaluationBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.postEvaluation.request, (as, request) => service.postEvaluation(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/release`,
      operationId: 'releaseMilestone',
      summary:
        'Release an accepted milestone: the payout, net of the platform fee, goes to the settlement provider (client or freelancer)',
      body: creatingMilestoneBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.releaseMilestone.request, (as, request) => service.releaseMilestone(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/disputes`,
      operationId: 'openDispute',
      summary:
        'Dispute a delivered or rejected milestone, freezing its escrow until arbitrators decide (client or freelancer)',
      body: openDisputeBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.openDispute.request, (as, request) => service.openDispute(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/dispute/votes`,
      operationId: 'castDisputeVote',
      summary: "Vote a split of a disputed milestone's escrow; a majority of the panel decides (role arbitrator)",
      body: castDisputeVoteBodySchema,
      response: committedMilestone,
      handler: bodyCommand(commands.castDisputeVote.request, (as, request) => service.castDisputeVote(as, request)),
    }),
    route({
      method: 'get',
      path: `${milestonePath}/tasks`,
      operationId: 'listTasks',
      summary: 'The micro-tasks of a batch milestone, in order',
      tag,
      access: 'agreements:read',
      params: milestonePathSchema,
      response: z.array(taskRecordSchema),
      errors: readErrors,
      handler: ({ params, ...caller }) => service.listTasks(routeRequester(caller), params),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/tasks/submissions`,
      operationId: 'submitTasks',
      summary: 'Deliver results for many tasks of a batch at once (role freelancer, the one named)',
      body: submitTasksBodySchema,
      response: committedSchema(taskBatchResultSchema),
      handler: bodyCommand(commands.submitTasks.request, (as, request) => service.submitTasks(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/tasks/reviews`,
      operationId: 'reviewTasks',
      summary: 'Accept and reject delivered tasks at once (role client, the one named)',
      body: reviewTasksBodySchema,
      response: committedSchema(taskBatchResultSchema),
      handler: bodyCommand(commands.reviewTasks.request, (as, request) => service.reviewTasks(as, request)),
    }),
    route({
      ...milestoneCommand,
      path: `${milestonePath}/tasks/claim-acceptance`,
      operationId: 'claimTasksAcceptance',
      summary: 'Claim acceptance of every delivered task whose review window has passed (role freelancer)',
      body: milestoneCommandBodySchema,
      response: committedSchema(taskBatchResultSchema),
      handler: bodyCommand(commands.claimTasksAcceptance.request, (as, request) =>
        service.claimTasksAcceptance(as, request),
      ),
    }),
  ];
}
