import { transactionIdSchema } from '../proofs/proof-routes.js';
import type { Logger } from 'pino';
import { AuditScopes } from '../audit/audit-scopes.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { LedgerBlocks } from '@gigledger/gateway';
import type { z } from 'zod';
import type { Db } from '../db/database.js';
import { notFound } from '../errors/api-error.js';
import { resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { inputFields } from '../graphql/input-arguments.js';
import { parseInput } from '../http/route.js';
import {
  agreementNode,
  blockNode,
  credentialNode,
  keyAccessNode,
  milestoneNode,
  payoutNode,
  reputationNode,
  transactionNode,
} from './index-nodes.js';
import {
  agreementFilterSchema,
  blockFilterSchema,
  credentialFilterSchema,
  IndexQueries,
  milestoneFilterSchema,
  orderedRanges,
  pageSchema,
  payoutFilterSchema,
  reputationFilterSchema,
  transactionFilterSchema,
  type Connection,
} from './index-queries.js';

type Row = Record<string, unknown>;

interface ListArgs {
  filter?: unknown;
  sort?: unknown;
  direction?: unknown;
  first?: unknown;
  after?: unknown;
}

function connectionOf<Node>(connection: Connection<Row>, node: (row: Row) => Node) {
  return { ...connection, edges: connection.edges.map((edge) => ({ cursor: edge.cursor, node: node(edge.node) })) };
}

const connectionTypes = (name: string) => /* GraphQL */ `
  type ${name}Edge {
    node: ${name}!
    cursor: String!
  }
  type ${name}Connection {
    edges: [${name}Edge!]!
    pageInfo: IndexPageInfo!
    "Rows matching the filter that the caller may see, on every page."
    totalCount: Int!
    "The number of blocks the index held when it answered."
    indexedHeight: String!
  }
`;

/**
 * The audit index over GraphQL: agreements, milestones, payouts, credentials and
 * reputation records across the ledger for auditors and HR systems, and the block
 * explorer. Every listing is a Relay connection with a total and the indexed height; what
 * each caller sees is decided by `indexVisibility` alone.
 */
export function auditIndexSchema(deps: {
  db: Db;
  ledgerBlocks?: LedgerBlocks;
  ledger: LedgerAccess;
  log: Logger;
}): SchemaModule {
  const scopes = new AuditScopes(deps.ledger);
  const queries = new IndexQueries(deps.db, (principal) => scopes.scopeFor(principal, deps.log));
  const list =
    <Filter extends z.ZodType, Node>(
      filterSchema: Filter,
      run: (
        context: GraphqlContext,
        filter: z.output<Filter>,
        page: z.output<typeof pageSchema>,
      ) => Promise<Connection<Row>>,
      node: (row: Row) => Node,
    ) =>
    (_parent: unknown, args: ListArgs, context: GraphqlContext) =>
      resolveWith(context, async () => {
        const filter = parseInput(
          filterSchema.superRefine(orderedRanges),
          { ...inputFields(args.filter), ...(args.sort == null ? {} : { sort: args.sort }) },
          'filter',
        );
        const page = parseInput(
          pageSchema,
          inputFields({ first: args.first, after: args.after, direction: args.direction }),
          'page',
        );
        return connectionOf(await run(context, filter, page), node);
      });
  return {
    typeDefs: /* GraphQL */ `
      enum IndexSortDirection {
        ASC
        DESC
      }
      type IndexPageInfo {
        hasNextPage: Boolean!
        hasPreviousPage: Boolean!
        startCursor: String
        endCursor: String
      }
      type IndexParty {
        mspId: String!
        userId: String!
      }

      type IndexedAgreement {
        agreementId: ID!
        title: String!
        status: String!
        client: IndexParty!
        freelancer: IndexParty!
        evaluator: IndexParty
        milestoneCount: Int!
        createdAt: String!
        createdTxId: String!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        "The agreement record as the ledger holds it (public part; confidential terms only as their hash)."
        record: JSON!
      }
      type IndexedMilestone {
        agreementId: ID!
        milestoneId: ID!
        position: Int!
        kind: String!
        title: String!
        status: String!
        "Integer minor units as a decimal string."
        amount: String!
        currency: String!
        dueDate: String!
        client: IndexParty!
        freelancer: IndexParty!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        record: JSON!
      }
      "A settlement instruction of a milestone: escrow funding, release (payout) or refund."
      type IndexedPayout {
        instructionId: ID!
        agreementId: ID!
        milestoneId: ID!
        kind: String!
        cause: String!
        status: String!
        "Integer minor units as a decimal string."
        amount: String!
        platformFee: String!
        currency: String!
        client: IndexParty!
        payee: IndexParty!
        requestedAt: String!
        requestTxId: String!
        "The payout's basis: the compliance check's outcome and the credential that cleared the payee."
        complianceOutcome: String
        complianceCredentialId: String
        record: JSON!
      }
      type IndexedCredential {
        credentialId: ID!
        type: String!
        issuer: IndexParty!
        subject: IndexParty!
        status: String!
        issuanceDate: String!
        expirationDate: String
        issuedAt: String!
        issuedTxId: String!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        "Claim names and salted commitments only; values never reach the ledger."
        record: JSON!
      }
      type IndexedReputationRecord {
        "completion or attestation"
        kind: String!
        subject: IndexParty!
        "The completion's client or the attestation's attester."
        by: IndexParty!
        agreementId: ID!
        milestoneId: ID
        rating: Int
        skill: String
        level: Int
        recordedAt: String!
        txId: String!
        record: JSON!
      }
      type IndexedKeyAccess {
        namespace: String!
        "A private data collection: its keys and values are shown only as hashes."
        collection: String
        access: String!
        key: String
        keyParts: [String!]
        keyHash: String
        valueHash: String
      }
      type IndexedTransaction {
        transactionId: ID!
        blockNumber: String!
        position: Int!
        headerType: String!
        creatorMspId: String!
        validationCode: Int!
        "Fabric's name of the validation code, e.g. VALID or MVCC_READ_CONFLICT."
        validationName: String!
        timestamp: String
        chaincode: String
        function: String
        "The keys it read and wrote (the read/write set summary; private keys as hashes)."
        keys: [IndexedKeyAccess!]!
      }
      type IndexedBlock {
        blockNumber: String!
        hash: String!
        previousHash: String!
        dataHash: String!
        transactionCount: Int!
        transactions: [IndexedTransaction!]!
      }
      type LedgerHeights {
        "The channel's height as the peer reports it (blocks on the ledger)."
        channelHeight: String
        "Blocks in the index; the index lags the ledger by the difference."
        indexedHeight: String!
      }
      ${['IndexedAgreement', 'IndexedMilestone', 'IndexedPayout', 'IndexedCredential', 'IndexedReputationRecord', 'IndexedTransaction', 'IndexedBlock'].map(connectionTypes).join('\n')}

      enum AgreementIndexSort {
        CREATED_AT
        UPDATED_AT
        AGREEMENT_ID
      }
      enum MilestoneIndexSort {
        DUE_DATE
        AMOUNT
        UPDATED_AT
      }
      enum PayoutIndexSort {
        REQUESTED_AT
        AMOUNT
      }
      enum CredentialIndexSort {
        ISSUED_AT
        UPDATED_AT
      }
      input AgreementIndexFilter {
        "Agreements naming this person as client, freelancer or evaluator."
        party: PartyInput
        "Either side in this organisation (MSP id)."
        org: String
        status: String
        "Agreements with a milestone in this currency."
        currency: String
        "Created at or after (ISO 8601)."
        from: String
        "Created before (ISO 8601)."
        to: String
      }
      input MilestoneIndexFilter {
        party: PartyInput
        org: String
        agreementId: ID
        status: String
        currency: String
        "Minor units, inclusive, as a decimal string."
        minAmount: String
        maxAmount: String
        "Due date range."
        from: String
        to: String
      }
      input PayoutIndexFilter {
        "Payouts of agreements naming this person, or paid to them."
        party: PartyInput
        org: String
        agreementId: ID
        "fund-escrow, release or refund"
        kind: String
        status: String
        currency: String
        minAmount: String
        maxAmount: String
        "Request time range."
        from: String
        to: String
      }
      input CredentialIndexFilter {
        subject: PartyInput
        issuer: PartyInput
        org: String
        type: String
        status: String
        "Issuance time range."
        from: String
        to: String
      }
      input ReputationIndexFilter {
        subject: PartyInput
        kind: String
        agreementId: ID
        from: String
        to: String
      }
      input TransactionIndexFilter {
        transactionId: ID
        "Creator organisation (MSP id)."
        org: String
        "VALID, INVALID, or a code name such as MVCC_READ_CONFLICT."
        validation: String
        function: String
        fromBlock: Int
        toBlock: Int
        from: String
        to: String
      }
      input BlockIndexFilter {
        fromBlock: Int
        toBlock: Int
      }

      extend type Query {
        "Agreements across the ledger that the caller may read (parties see their own; auditors, admins, HR, arbitrators and settlement see all)."
        indexedAgreements(
          filter: AgreementIndexFilter
          sort: AgreementIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedAgreementConnection!
        indexedMilestones(
          filter: MilestoneIndexFilter
          sort: MilestoneIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedMilestoneConnection!
        indexedPayouts(
          filter: PayoutIndexFilter
          sort: PayoutIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedPayoutConnection!
        "Credentials the caller may read (subject and issuer see theirs; HR, auditors and admins see all)."
        indexedCredentials(
          filter: CredentialIndexFilter
          sort: CredentialIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedCredentialConnection!
        indexedReputationRecords(
          filter: ReputationIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedReputationRecordConnection!
        "Block explorer (auditors and admins): transactions in block order."
        indexedTransactions(
          filter: TransactionIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedTransactionConnection!
        "Block explorer (auditors and admins): blocks in order."
        indexedBlocks(
          filter: BlockIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedBlockConnection!
        "Block explorer: one transaction (the valid one when an id was submitted twice)."
        indexedTransaction(transactionId: ID!): IndexedTransaction!
        "Block explorer: the channel's height beside the index's."
        ledgerHeights: LedgerHeights!
      }
    `,
    resolvers: {
      Query: {
        indexedAgreements: list(
          agreementFilterSchema,
          (context, filter, page) => queries.agreements(context.principal, filter, page),
          agreementNode,
        ),
        indexedMilestones: list(
          milestoneFilterSchema,
          (context, filter, page) => queries.milestones(context.principal, filter, page),
          milestoneNode,
        ),
        indexedPayouts: list(
          payoutFilterSchema,
          (context, filter, page) => queries.payouts(context.principal, filter, page),
          payoutNode,
        ),
        indexedCredentials: list(
          credentialFilterSchema,
          (context, filter, page) => queries.credentials(context.principal, filter, page),
          credentialNode,
        ),
        indexedReputationRecords: list(
          reputationFilterSchema,
          (context, filter, page) => queries.reputation(context.principal, filter, page),
          reputationNode,
        ),
        indexedTransactions: list(
          transactionFilterSchema,
          (context, filter, page) => queries.transactions(context.principal, filter, page),
          transactionNode,
        ),
        indexedBlocks: list(
          blockFilterSchema,
          (context, filter, page) => queries.blocks(context.principal, filter, page),
          blockNode,
        ),
        indexedTransaction: (_parent: unknown, args: { transactionId: string }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const transactionId = parseInput(transactionIdSchema, args.transactionId, 'transactionId');
            const found = await queries.transaction(context.principal, transactionId);
            if (found === undefined) throw notFound(`transaction ${args.transactionId} in the index`);
            return transactionNode(found);
          }),
        ledgerHeights: (_parent: unknown, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            await queries.visibility(context.principal, 'ledger');
            const [indexed, channel] = await Promise.all([
              queries.height(),
              deps.ledgerBlocks?.height().catch(() => undefined),
            ]);
            return { indexedHeight: indexed.toString(), channelHeight: channel?.toString() ?? null };
          }),
      },
      IndexedTransaction: {
        keys: (parent: { blockNumber: string; position: number }, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () =>
            (await queries.transactionKeys(context.principal, Number(parent.blockNumber), parent.position)).map(
              keyAccessNode,
            ),
          ),
      },
      IndexedBlock: {
        transactions: (parent: { blockNumber: string }, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () =>
            (await queries.blockTransactions(context.principal, Number(parent.blockNumber))).map(transactionNode),
          ),
      },
    },
  };
}
