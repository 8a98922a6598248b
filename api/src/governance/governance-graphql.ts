import { z } from 'zod';
import {
  mspIdSchema,
  parameterNameSchema,
  partySchema,
  proposalIdSchema,
  type ProposalView,
  type RuleRef,
} from '@gigledger/chaincode/model';
import { principalStanding } from '../auth/principal.js';
import { liveEvents, type CallerLapsed } from '../events/live-events.js';
import { unauthenticated } from '../errors/api-error.js';
import type { AgreementEventFeed, GovernanceEventMessage } from '../events/agreement-event-feed.js';
import {
  requireCaller,
  resolverRequester,
  resolveWith,
  type GraphqlContext,
  type SchemaModule,
} from '../graphql/context.js';
import { parseArguments, parseInput } from '../http/route.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import {
  acceptMembershipBodySchema,
  executeBodySchema,
  GovernanceService,
  proposeBodySchema,
  vetoBodySchema,
  voteBodySchema,
} from './governance-routes.js';
import { committed } from '../ledger/committed.js';
import { parseCommand } from '../http/request-ids.js';
import { inputFields } from '../graphql/input-arguments.js';
import type { Submitted } from '@gigledger/gateway';
import { ledgerPageTypeDefs } from '../http/ledger-pages.js';
import { ledgerListResolvers } from '../graphql/ledger-list-fields.js';

/** A proposal as GraphQL shows it: the record's fields beside its phase, tally and votes. */
function proposalNode(view: ProposalView) {
  return { ...view.proposal, phase: view.phase, tally: view.tally, votes: view.votes, asOf: view.asOf };
}

function payload(submitted: Submitted<ProposalView>, requestId: string) {
  const { result, ...done } = committed(submitted, requestId);
  return { ...done, proposal: proposalNode(result) };
}

const proposalArgs = z.strictObject({ proposalId: proposalIdSchema });

/**
 * Governance for members, auditors and anyone who asks where a rule came from:
 * proposals with their tallies, the commands (who may run each is the chaincode's
 * rule), the provenance of parameters, issuers, arbitrators and members, and live
 * governance events.
 */
export function governanceSchema(deps: { ledger: LedgerAccess; events: AgreementEventFeed }): SchemaModule {
  const service = new GovernanceService(deps.ledger);
  const reader = (context: GraphqlContext) => service.client(resolverRequester(context, 'governance:read'));
  const proposalList = ledgerListResolvers(async (context, _args, page) => {
    const listed = await (await reader(context)).listProposals(page);
    return { items: listed.items.map(proposalNode), bookmark: listed.bookmark };
  });
  const writer = (context: GraphqlContext) => service.client(resolverRequester(context, 'governance:write'));
  const describe = (context: GraphqlContext, rule: () => RuleRef) =>
    resolveWith(context, async () => {
      const description = await (await reader(context)).describeRule(rule());
      return { ...description, proposal: description.proposal && proposalNode(description.proposal) };
    });
  return {
    typeDefs: /* GraphQL */ `
      enum VoteChoice {
        yes
        no
        abstain
      }

      "Where a proposal stands: voting, then failed or timelocked (vetoable), then executable; vetoed and executed are final."
      enum ProposalPhase {
        voting
        failed
        timelocked
        executable
        expired
        vetoed
        executed
      }

      "Tallied from one vote per organisation of the electorate (the voting members when the proposal was made)."
      type GovernanceTally {
        members: Int!
        yes: Int!
        no: Int!
        abstain: Int!
        "Votes of any choice needed for the quorum."
        quorum: Int!
        quorumReached: Boolean!
        passed: Boolean!
      }

      type GovernanceVote {
        mspId: String!
        choice: VoteChoice!
        voter: Actor!
        reason: String
        at: String!
        txId: String!
      }

      type ProposalVeto {
        by: Actor!
        reason: String!
        at: String!
        txId: String!
      }

      type ProposalExecution {
        by: Actor!
        at: String!
        txId: String!
        tally: GovernanceTally!
      }

      type Proposal {
        proposalId: ID!
        title: String!
        text: String!
        "The machine-readable actions, as in the REST API's ProposeRequest."
        actions: JSON!
        proposer: Actor!
        proposedAt: String!
        txId: String!
        votingEndsAt: String!
        timelockSeconds: Int!
        executableAt: String!
        expiresAt: String!
        "Member organisations with a voting right when the proposal was made; only they vote on it."
        electorate: [String!]!
        "The quorum and pass threshold in force when the proposal was made, in basis points."
        quorumBps: Int!
        passThresholdBps: Int!
        phase: ProposalPhase!
        tally: GovernanceTally!
        votes: [GovernanceVote!]!
        veto: ProposalVeto
        execution: ProposalExecution
        "The transaction time phase and tally were judged at."
        asOf: String!
      }

      "Who put a rule in its current state: genesis (by the bootstrap administrator) or an executed proposal."
      type RuleProvenance {
        source: String!
        proposalId: String
        by: Actor
        executedBy: Actor
        at: String!
        txId: String!
      }

      type MemberRights {
        voting: Boolean!
        veto: Boolean!
      }

      type GovernanceMember {
        mspId: String!
        voting: Boolean!
        veto: Boolean!
        "Rights an executed proposal offered, in force once the organisation's governor accepts them."
        invitation: MemberRights
        updatedAt: String!
        provenance: RuleProvenance!
      }

      type GovernedArbitrator {
        arbitrator: Party!
        displayName: String!
        status: String!
        updatedAt: String!
        provenance: RuleProvenance!
      }

      type RuleDescription {
        "The rule's current record (parameter, issuer, arbitrator or member)."
        record: JSON!
        provenance: RuleProvenance
        "The proposal that put the rule there, with its votes; null for genesis values."
        proposal: Proposal
      }

      type ProposalPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        proposal: Proposal!
      }

      type MembershipPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        member: GovernanceMember!
      }

      input ProposeInput {
        "Makes the request safe to repeat; generated when left out."
        requestId: String
        proposalId: ID!
        title: String!
        text: String!
        "A list of actions, e.g. [{type: \\"setParameter\\", name: \\"platformFeeBps\\", value: 200}]."
        actions: JSON!
        votingSeconds: Int!
        timelockSeconds: Int!
      }

      type GovernanceEvent {
        name: String!
        proposalId: String
        transactionId: String!
        blockNumber: String!
        at: String!
        actor: Actor!
        payload: JSON!
      }

      ${ledgerPageTypeDefs('ProposalPage', 'Proposal', 'One page of proposals, in proposal id order.')}
      extend type Query {
        "The proposals, in proposal id order. One page: first (1 to 500, 100 when left out) from the cursor after; proposalPage says where the next starts."
        proposals(first: Int, after: String): [Proposal!]!
        "The same list as proposals, one page at a time: pass pageInfo.endCursor as after for the next."
        proposalPage(first: Int, after: String): ProposalPage!
        proposal(proposalId: ID!): Proposal!
        governanceMembers: [GovernanceMember!]!
        governedArbitrators: [GovernedArbitrator!]!
        parameterRule(name: String!): RuleDescription!
        issuerRule(issuer: PartyInput!): RuleDescription!
        arbitratorRule(arbitrator: PartyInput!): RuleDescription!
        memberRule(mspId: String!): RuleDescription!
      }

      extend type Mutation {
        "Role governor of a member organisation with a voting right."
        propose(input: ProposeInput!): ProposalPayload!
        "Role governor; one vote per organisation."
        voteOnProposal(
          proposalId: ID!
          choice: VoteChoice!
          reason: String
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): ProposalPayload!
        "Governor or auditor of a member holding the veto right, during the timelock."
        vetoProposal(
          proposalId: ID!
          reason: String!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): ProposalPayload!
        "Anyone signed in, once the timelock has run out."
        executeProposal(
          proposalId: ID!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): ProposalPayload!
        "A governor of an organisation an executed proposal invited."
        acceptMembership(
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): MembershipPayload!
      }

      extend type Subscription {
        "Committed governance events from now on: proposals, votes, vetoes, executions."
        governanceEvents: GovernanceEvent!
      }
    `,
    access: {
      Query: {
        proposals: 'governance:read',
        proposalPage: 'governance:read',
        proposal: 'governance:read',
        governanceMembers: 'governance:read',
        governedArbitrators: 'governance:read',
        parameterRule: 'governance:read',
        issuerRule: 'governance:read',
        arbitratorRule: 'governance:read',
        memberRule: 'governance:read',
      },
      Mutation: {
        propose: 'governance:write',
        voteOnProposal: 'governance:write',
        vetoProposal: 'governance:write',
        executeProposal: 'governance:read',
        acceptMembership: 'governance:write',
      },
      Subscription: {
        governanceEvents: 'governance:read',
      },
    },
    resolvers: {
      Query: {
        proposals: proposalList.list,
        proposalPage: proposalList.page,
        proposal: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () =>
            proposalNode(await (await reader(context)).getProposal(parseArguments(proposalArgs, args))),
          ),
        governanceMembers: (_parent: unknown, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => (await reader(context)).listMembers()),
        governedArbitrators: (_parent: unknown, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => (await reader(context)).listArbitrators()),
        parameterRule: (_parent: unknown, args: { name: string }, context: GraphqlContext) =>
          describe(context, () => ({ kind: 'parameter', name: parseInput(parameterNameSchema, args.name, 'name') })),
        issuerRule: (_parent: unknown, args: { issuer: unknown }, context: GraphqlContext) =>
          describe(context, () => ({ kind: 'issuer', issuer: parseInput(partySchema, args.issuer, 'issuer') })),
        arbitratorRule: (_parent: unknown, args: { arbitrator: unknown }, context: GraphqlContext) =>
          describe(context, () => ({
            kind: 'arbitrator',
            arbitrator: parseInput(partySchema, args.arbitrator, 'arbitrator'),
          })),
        memberRule: (_parent: unknown, args: { mspId: string }, context: GraphqlContext) =>
          describe(context, () => ({ kind: 'member', mspId: parseInput(mspIdSchema, args.mspId, 'mspId') })),
      },
      Mutation: {
        propose: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = parseCommand(proposeBodySchema, inputFields(args.input), 'input');
            const client = await writer(context);
            return payload(await fieldsUnder('input', () => client.propose(request)), request.requestId);
          }),
        voteOnProposal: (
          _parent: unknown,
          args: { proposalId: string; choice: string; reason?: string | null; requestId?: string | null },
          context: GraphqlContext,
        ) =>
          resolveWith(context, async () => {
            const { proposalId } = parseArguments(proposalArgs, { proposalId: args.proposalId });
            const { choice, reason, requestId } = args;
            const body = parseCommand(voteBodySchema, inputFields({ choice, reason, requestId }), null);
            const client = await writer(context);
            return payload(await fieldsUnder(null, () => client.vote({ proposalId, ...body })), body.requestId);
          }),
        vetoProposal: (
          _parent: unknown,
          args: { proposalId: string; reason: string; requestId?: string | null },
          context: GraphqlContext,
        ) =>
          resolveWith(context, async () => {
            const { proposalId } = parseArguments(proposalArgs, { proposalId: args.proposalId });
            const { reason, requestId } = args;
            const body = parseCommand(vetoBodySchema, inputFields({ reason, requestId }), null);
            const client = await writer(context);
            return payload(await fieldsUnder(null, () => client.veto({ proposalId, ...body })), body.requestId);
          }),
        executeProposal: (
          _parent: unknown,
          args: { proposalId: string; requestId?: string | null },
          context: GraphqlContext,
        ) =>
          resolveWith(context, async () => {
            const { proposalId } = parseArguments(proposalArgs, { proposalId: args.proposalId });
            const body = parseCommand(executeBodySchema, inputFields({ requestId: args.requestId }), null);
            return payload(await (await reader(context)).execute({ proposalId, ...body }), body.requestId);
          }),
        acceptMembership: (_parent: unknown, args: { requestId?: string | null }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const body = parseCommand(acceptMembershipBodySchema, inputFields({ requestId: args.requestId }), null);
            const { result, ...done } = committed(await (await writer(context)).acceptMembership(body), body.requestId);
            return { ...done, member: result };
          }),
      },
      Subscription: {
        governanceEvents: {
          subscribe: (_parent: unknown, _args: unknown, context: GraphqlContext) =>
            resolveWith(context, () => {
              const principal = requireCaller(context, 'governance:read');
              return liveEvents<GovernanceEventMessage>(
                deps.events.governance,
                () => true,
                () => principalStanding(principal),
              );
            }),
          resolve: (message: GovernanceEventMessage | CallerLapsed, _args: unknown, context: GraphqlContext) =>
            'lapsed' in message
              ? resolveWith(context, () => {
                  throw unauthenticated(`the subscription has ended: ${message.lapsed}`);
                })
              : message,
        },
      },
    },
  };
}
