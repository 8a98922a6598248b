import { z } from 'zod';
import {
  ipTransactions as commands,
  ownershipChangeRefRequestSchema,
  partySchema,
  sha256HexSchema,
  workIdSchema,
  type IpCommand,
  type OwnershipChangeView,
} from '@gigledger/chaincode/model';
import type { Submitted } from '@gigledger/gateway';
import { resolverRequester, resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { inputFields } from '../graphql/input-arguments.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { parseCommand } from '../http/request-ids.js';
import { parseArguments, parseInput } from '../http/route.js';
import { committed } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { visible } from '../ledger/visible.js';
import type { AccountService } from '../auth/account-service.js';
import { IpService } from './ip-routes.js';
import { ledgerPageTypeDefs } from '../http/ledger-pages.js';
import { ledgerListResolvers } from '../graphql/ledger-list-fields.js';

/** An ownership change as GraphQL shows it: the record's fields beside what is awaited and the work now. */
function changeNode(view: OwnershipChangeView) {
  return { ...view.change, awaiting: view.awaiting, stale: view.stale, work: view.work };
}

function changePayload(submitted: Submitted<OwnershipChangeView>, requestId: string) {
  const done = committed(submitted, requestId);
  return { ...done, change: changeNode(done.result) };
}

const workArgs = z.strictObject({ workId: workIdSchema });

/**
 * IP records for the people who register and own works and for anyone checking
 * priority: works by id, content hash or owner; registration; ownership changes and
 * their approvals (who may run each is the chaincode's rule, mirrored at the edge).
 */
export function ipSchema(deps: { ledger: LedgerAccess; accounts: AccountService }): SchemaModule {
  const service = new IpService(deps.ledger, deps.accounts);
  const reader = (context: GraphqlContext) => service.client(resolverRequester(context, 'ip:read'));
  const workList = ledgerListResolvers(async (context, args, page) =>
    (await reader(context)).listWorksByOwner({ owner: parseInput(partySchema, args.owner, 'owner'), ...page }),
  );
  const changeList = ledgerListResolvers(async (context, args, page) => {
    const listed = await (await reader(context)).listOwnershipChanges({ ...parseArguments(workArgs, args), ...page });
    return { items: listed.items.map(changeNode), bookmark: listed.bookmark };
  });
  const commander = (context: GraphqlContext, command: IpCommand) =>
    service.commander(resolverRequester(context, 'ip:write'), command);
  return {
    typeDefs: /* GraphQL */ `
      enum WorkKind {
        model
        weights
        code
        dataset
        promptSet
        report
        other
      }

      enum OwnershipChangeStatus {
        open
        applied
        declined
        withdrawn
      }

      "One owner's share, in basis points; a work's shares sum to 10000."
      type OwnerShare {
        party: Party!
        shareBps: Int!
      }

      input OwnerShareInput {
        party: PartyInput!
        shareBps: Int!
      }

      "Where a paid work-for-hire milestone moved the work to the client."
      type WorkAssignment {
        agreementId: String!
        milestoneId: String!
        txId: String!
        at: String!
        from: [OwnerShare!]!
      }

      "The milestone a work is delivered under; its payment moves the work to the client."
      type WorkPledge {
        agreementId: String!
        milestoneId: String!
        txId: String!
      }

      type Work {
        workId: ID!
        kind: WorkKind!
        "SHA-256 of the content, 64 lowercase hex characters."
        contentHash: String!
        manifestHash: String
        title: String!
        uri: String!
        creators: [Party!]!
        owners: [OwnerShare!]!
        registrant: Actor!
        "The priority date: the registering transaction's timestamp."
        registeredAt: String!
        registrationTxId: String!
        ownershipVersion: Int!
        pledge: WorkPledge
        assignment: WorkAssignment
        updatedAt: String!
      }

      type OwnershipApproval {
        owner: Party!
        at: String!
        txId: String!
      }

      type OwnershipDecision {
        by: Party!
        reason: String
        at: String!
        txId: String!
      }

      type OwnershipChange {
        workId: ID!
        changeId: ID!
        proposer: Party!
        "The owners when it was proposed; each must approve."
        currentOwners: [OwnerShare!]!
        proposedOwners: [OwnerShare!]!
        reason: String
        status: OwnershipChangeStatus!
        approvals: [OwnershipApproval!]!
        awaiting: [Party!]!
        "Open, but the work's owners changed since: it can only be withdrawn or declined."
        stale: Boolean!
        decision: OwnershipDecision
        proposedAt: String!
        txId: String!
        work: Work!
      }

      type WorkPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        work: Work!
      }

      type OwnershipChangePayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        change: OwnershipChange!
      }

      input RegisterWorkInput {
        requestId: String
        workId: ID!
        kind: WorkKind!
        contentHash: String!
        manifestHash: String
        title: String!
        uri: String!
        creators: [PartyInput!]!
        "Left out: the caller owns the work alone (10000 basis points)."
        owners: [OwnerShareInput!]
      }

      input ProposeOwnershipChangeInput {
        requestId: String
        workId: ID!
        changeId: ID!
        owners: [OwnerShareInput!]!
        reason: String
      }

      "The organisations whose peers must each endorse a change of a work (its owners' organisations)."
      type WorkEndorsement {
        workId: ID!
        organisations: [String!]!
      }

      ${ledgerPageTypeDefs('WorkPage', 'Work', 'One page of works, in work id order.')}
      ${ledgerPageTypeDefs('OwnershipChangePage', 'OwnershipChange', "One page of a work's ownership changes, in change id order.")}
      extend type Query {
        work(workId: ID!): Work!
        workEndorsement(workId: ID!): WorkEndorsement!
        "The work registered first with this content hash."
        workByContentHash(contentHash: String!): Work!
        "Works the person owns a share of now, in work id order. One page: first (1 to 500, 100 when left out) from the cursor after; workPage says where the next starts."
        worksByOwner(owner: PartyInput!, first: Int, after: String): [Work!]!
        "The same list as worksByOwner, one page at a time: pass pageInfo.endCursor as after for the next."
        workPage(owner: PartyInput!, first: Int, after: String): WorkPage!
        "Changes the caller may see: as an owner concerned, or an auditor; in change id order. One page: first (1 to 500, 100 when left out) from the cursor after."
        ownershipChanges(workId: ID!, first: Int, after: String): [OwnershipChange!]!
        "The same list as ownershipChanges, one page at a time; a page may hold fewer than first, even none, with more to follow."
        ownershipChangePage(workId: ID!, first: Int, after: String): OwnershipChangePage!
        ownershipChange(workId: ID!, changeId: ID!): OwnershipChange!
      }

      extend type Mutation {
        "Role client or freelancer; a duplicate content hash is refused naming the first registration."
        registerWork(input: RegisterWorkInput!): WorkPayload!
        "A current owner; counts as their approval."
        proposeOwnershipChange(input: ProposeOwnershipChangeInput!): OwnershipChangePayload!
        "A current owner, in their own transaction; the last approval applies the change."
        approveOwnershipChange(
          workId: ID!
          changeId: ID!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): OwnershipChangePayload!
        "A current owner other than the proposer."
        declineOwnershipChange(
          workId: ID!
          changeId: ID!
          reason: String!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): OwnershipChangePayload!
        "The proposer, while the change is open."
        withdrawOwnershipChange(
          workId: ID!
          changeId: ID!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): OwnershipChangePayload!
      }
    `,
    access: {
      Query: {
        work: 'ip:read',
        workEndorsement: 'ip:read',
        workByContentHash: 'ip:read',
        worksByOwner: 'ip:read',
        workPage: 'ip:read',
        ownershipChanges: 'ip:read',
        ownershipChangePage: 'ip:read',
        ownershipChange: 'ip:read',
      },
      Mutation: {
        registerWork: 'ip:write',
        proposeOwnershipChange: 'ip:write',
        approveOwnershipChange: 'ip:write',
        declineOwnershipChange: 'ip:write',
        withdrawOwnershipChange: 'ip:write',
      },
    },
    resolvers: {
      Query: {
        work: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => (await reader(context)).getWork(parseArguments(workArgs, args))),
        workEndorsement: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => (await reader(context)).getWorkEndorsement(parseArguments(workArgs, args))),
        workByContentHash: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () =>
            (await reader(context)).findWorkByContentHash(
              parseArguments(z.strictObject({ contentHash: sha256HexSchema }), args),
            ),
          ),
        worksByOwner: workList.list,
        workPage: workList.page,
        ownershipChanges: changeList.list,
        ownershipChangePage: changeList.page,
        ownershipChange: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const ref = parseArguments(ownershipChangeRefRequestSchema, args);
            const client = await reader(context);
            return changeNode(
              await visible(`ownership change ${ref.changeId} of work ${ref.workId}`, 'changeId', () =>
                client.getOwnershipChange(ref),
              ),
            );
          }),
      },
      Mutation: {
        registerWork: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const client = await commander(context, 'registerWork');
            const request = parseCommand(commands.registerWork.request, inputFields(args.input), 'input');
            await service.requireKnownParties(request, 'input');
            const done = committed(await fieldsUnder('input', () => client.registerWork(request)), request.requestId);
            return { ...done, work: done.result };
          }),
        proposeOwnershipChange: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const client = await commander(context, 'proposeOwnershipChange');
            const request = parseCommand(commands.proposeOwnershipChange.request, inputFields(args.input), 'input');
            await service.requireKnownParties(request, 'input');
            return changePayload(
              await fieldsUnder('input', () => client.proposeOwnershipChange(request)),
              request.requestId,
            );
          }),
        approveOwnershipChange: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const client = await commander(context, 'approveOwnershipChange');
            const request = parseCommand(commands.approveOwnershipChange.request, inputFields(args), null);
            return changePayload(await client.approveOwnershipChange(request), request.requestId);
          }),
        declineOwnershipChange: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const client = await commander(context, 'declineOwnershipChange');
            const request = parseCommand(commands.declineOwnershipChange.request, inputFields(args), null);
            return changePayload(
              await fieldsUnder(null, () => client.declineOwnershipChange(request)),
              request.requestId,
            );
          }),
        withdrawOwnershipChange: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const client = await commander(context, 'withdrawOwnershipChange');
            const request = parseCommand(commands.withdrawOwnershipChange.request, inputFields(args), null);
            return changePayload(await client.withdrawOwnershipChange(request), request.requestId);
          }),
      },
    },
  };
}
