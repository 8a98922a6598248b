import type { AccountService } from '../../auth/account-service.js';
import type { AgreementEventFeed } from '../../events/agreement-event-feed.js';
import type { SchemaModule } from '../../graphql/context.js';
import type { SettlementRuntime } from '../../settlement/settlement-runtime.js';
import type { LedgerAccess } from '../../ledger/ledger-access.js';
import { AgreementService } from '../agreement-service.js';
import { agreementEventSubscription } from './agreement-event-subscription.js';
import { agreementMutationResolvers } from './agreement-mutations.js';
import { agreementNodeResolvers } from './agreement-nodes.js';
import { agreementQueryResolvers } from './agreement-queries.js';
import { agreementTypeDefs } from './agreement-type-defs.js';

/**
 * Agreements over GraphQL: queries, mutations mirroring the REST commands through the
 * same service, and `agreementEvents` subscriptions (served over SSE by yoga).
 */
export function agreementSchema(deps: {
  ledger: LedgerAccess;
  accounts: AccountService;
  events: AgreementEventFeed;
  settlement?: SettlementRuntime;
}): SchemaModule {
  const service = new AgreementService(deps.ledger, deps.accounts, deps.settlement?.desk);
  return {
    typeDefs: agreementTypeDefs,
    access: {
      Query: {
        agreement: 'agreements:read',
        agreements: 'agreements:read',
        agreementPage: 'agreements:read',
        panelDisputes: 'agreements:read',
        panelDisputePage: 'agreements:read',
        milestoneHistory: 'agreements:read',
        tasks: 'agreements:read',
        agreementTerms: 'agreements:read',
        verifyAgreementTerms: 'agreements:read',
      },
      Mutation: {
        draftAgreement: 'agreements:write',
        acceptAgreement: 'agreements:write',
        declineAgreement: 'agreements:write',
        cancelAgreement: 'agreements:write',
        fundMilestone: 'agreements:write',
        submitDeliverable: 'agreements:write',
        acceptMilestone: 'agreements:write',
        rejectDeliverable: 'agreements:write',
        claimAcceptance: 'agreements:write',
        postEvaluation: 'agreements:write',
        releaseMilestone: 'agreements:write',
        retryHeldPayout: 'agreements:write',
        reissueFailedPayout: 'agreements:write',
        openDispute: 'agreements:write',
        castDisputeVote: 'agreements:write',
        submitTasks: 'agreements:write',
        reviewTasks: 'agreements:write',
        claimTasksAcceptance: 'agreements:write',
        confirmSettlement: 'settlements:write',
      },
      Subscription: {
        agreementEvents: 'agreements:read',
      },
    },
    // The terms re-sent to be checked against their hash may predate the rule on text.
    verbatimText: { Query: ['verifyAgreementTerms'] },
    resolvers: {
      ...agreementNodeResolvers(service),
      Query: agreementQueryResolvers(service),
      Mutation: agreementMutationResolvers(service),
      Subscription: { agreementEvents: agreementEventSubscription(service, deps.events) },
    },
  };
}
