import DataLoader from 'dataloader';
import { transactionIdSchema } from '../proofs/proof-routes.js';
import type { Logger } from 'pino';
import { AuditScopes } from '../audit/audit-scopes.js';
import { indexedKindScopes } from './index-visibility.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { LedgerBlocks } from '@gigledger/gateway';
import type { z } from 'zod';
import type { Db } from '../db/database.js';
import { notFound } from '../errors/api-error.js';
import { resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { inputFields } from '../graphql/input-arguments.js';
import {
  claimLedgerRecords,
  claimNestedRecords,
  nestedRecordsLeft,
  nestedRecordsRefusal,
} from '../graphql/ledger-list-fields.js';
import { parseArguments, parseInput } from '../http/route.js';
import {
  agreementNode,
  blockNode,
  credentialNode,
  datasetAccessGrantNode,
  datasetAccessNode,
  erasureReceiptNode,
  keyAccessNode,
  licenceNode,
  licenceOfferNode,
  lineageEdgeNode,
  milestoneNode,
  ownershipChangeNode,
  payoutNode,
  proposalNode,
  proposalVoteNode,
  provenanceRecordNode,
  reputationNode,
  royaltyPeriodNode,
  transactionNode,
  workNode,
} from './index-nodes.js';
import {
  agreementFilterSchema,
  blockFilterSchema,
  credentialFilterSchema,
  datasetAccessGrantFilterSchema,
  datasetAccessLogFilterSchema,
  erasureReceiptFilterSchema,
  IndexQueries,
  licenceFilterSchema,
  licenceOfferFilterSchema,
  lineageFilterSchema,
  ownershipChangeFilterSchema,
  proposalFilterSchema,
  provenanceRecordFilterSchema,
  royaltyPeriodFilterSchema,
  workFilterSchema,
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

/**
 * The most parents whose nested list one statement reads: a page holds at most 100, but
 * a block's transactions' keys are asked for by up to 500 transactions at once.
 */
const nestedListBatch = 500;

/**
 * Loaders of the lists nested in index nodes (a block's transactions, a transaction's
 * keys, a proposal's votes), one set per operation: the nested lists of a page's nodes
 * are read in one statement (where each node read its own before), and every list
 * answered counts against the request's bound on nested records (see claimNestedRecords),
 * a list answered again under an alias too, though its rows come from the loader's cache.
 */
function nestedListLoaders(queries: IndexQueries, context: GraphqlContext) {
  const loader = <Key, Item extends Row>(
    field: string,
    fewer: string,
    read: (keys: readonly Key[], limit: number) => Promise<Item[]>,
    keyOfKey: (key: Key) => string,
    keyOfRow: (row: Item) => string,
  ) => {
    const rowsOf = new DataLoader<Key, Item[], string>(
      async (keys) => {
        // No more rows than the request has left, and one to tell that there are more.
        const left = nestedRecordsLeft(context);
        const rows = await read(keys, left + 1);
        if (rows.length > left) throw nestedRecordsRefusal(field, fewer);
        const byKey = new Map<string, Item[]>();
        for (const row of rows) {
          const key = keyOfRow(row);
          const same = byKey.get(key);
          if (same === undefined) byKey.set(key, [row]);
          else same.push(row);
        }
        return keys.map((key) => byKey.get(keyOfKey(key)) ?? []);
      },
      { cacheKeyFn: keyOfKey, maxBatchSize: nestedListBatch },
    );
    return {
      async load(key: Key): Promise<Item[]> {
        const rows = await rowsOf.load(key);
        claimNestedRecords(context, rows.length, field, fewer);
        return rows;
      },
    };
  };
  const transactionKey = ({ blockNumber, position }: { blockNumber: number; position: number }) =>
    `${String(blockNumber)}/${String(position)}`;
  return {
    keys: loader(
      'keys',
      'fewer transactions',
      (transactions, limit) => queries.keysOfTransactions(context.principal, transactions, limit),
      transactionKey,
      (row) => transactionKey({ blockNumber: Number(row.block_number), position: Number(row.position) }),
    ),
    transactions: loader(
      'transactions',
      'fewer blocks',
      (blocks, limit) => queries.transactionsOfBlocks(context.principal, blocks, limit),
      (blockNumber: number) => String(blockNumber),
      (row) => String(Number(row.block_number)),
    ),
    votes: loader(
      'votes',
      'fewer proposals',
      (proposals, limit) => queries.votesOfProposals(context.principal, proposals, limit),
      (proposalId: string) => proposalId,
      (row) => row.proposal_id,
    ),
  };
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
 * The audit index over GraphQL: agreements, milestones, payouts, credentials,
 * reputation records, governance proposals, works and ownership changes, licence
 * offers, licences and royalty periods, dataset and model records with their lineage,
 * dataset access grants and uses, and erasure receipts across the ledger for auditors
 * and HR systems, and the block explorer. Every listing is a Relay connection with a total and the indexed height; what
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
  const nestedListsByContext = new WeakMap<GraphqlContext, ReturnType<typeof nestedListLoaders>>();
  const nestedLists = (context: GraphqlContext) => {
    let loaders = nestedListsByContext.get(context);
    if (loaders === undefined) {
      loaders = nestedListLoaders(queries, context);
      nestedListsByContext.set(context, loaders);
    }
    return loaders;
  };
  const list = <Filter extends z.ZodType, Node>(
    filterSchema: Filter,
    run: (
      context: GraphqlContext,
      filter: z.output<Filter>,
      page: z.output<typeof pageSchema>,
    ) => Promise<Connection<Row>>,
    node: (row: Row) => Node,
  ) => {
    // Built once per listing: a zod schema compiles itself on first use, and building it
    // in the resolver cost every request that compilation.
    const refined = filterSchema.superRefine(orderedRanges);
    return (_parent: unknown, args: ListArgs, context: GraphqlContext) =>
      resolveWith(context, async () => {
        const filter = parseInput(
          refined,
          { ...inputFields(args.filter), ...(args.sort == null ? {} : { sort: args.sort }) },
          'filter',
        );
        // first, after and direction are arguments of their own, named as the client wrote them.
        const page = parseArguments(
          pageSchema,
          inputFields({ first: args.first, after: args.after, direction: args.direction }),
        );
        // Index pages count against the request's records as ledger pages do: aliases and a
        // batch's operations of 100 each could otherwise ask for thousands of rows at once.
        claimLedgerRecords(context, page.first);
        return connectionOf(await run(context, filter, page), node);
      });
  };
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
        "The party the money goes to: the freelancer on a release (and on escrow funding, held for them), the client on a refund."
        payee: IndexParty!
        requestedAt: String!
        requestTxId: String!
        "The payout's basis: the compliance check's outcome and the credential that cleared the payee."
        complianceOutcome: String
        complianceCredentialId: String
        "MSP id of the organisation whose settlement service sends it (the first listed in settlementOrganisations when it was issued); null on instructions issued before the ledger named one."
        settlingOrganisation: String
        "The instruction as the ledger holds it, where payer and payee are always the agreement's client and freelancer and kind says which way the money moves; its recipient (on records since it was added) and payee above name who receives it."
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
      "Who acted, as the ledger records it: an organisation, and the person when known."
      type IndexActor {
        mspId: String!
        userId: String
      }
      type IndexOwnerShare {
        party: IndexParty!
        "Basis points of the whole (10000 = 100 %)."
        shareBps: Int!
      }
      type IndexedProposal {
        proposalId: ID!
        title: String!
        "Stored status: open, vetoed or executed (the phase follows from time and votes)."
        status: String!
        proposer: IndexActor!
        "The types of its actions, e.g. registerIssuer, setParameter."
        actionTypes: [String!]!
        proposedAt: String!
        votingEndsAt: String!
        executableAt: String!
        expiresAt: String!
        txId: String!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        "One vote per organisation of its electorate that voted, the latest of each."
        votes: [IndexedProposalVote!]!
        record: JSON!
      }
      type IndexedProposalVote {
        proposalId: ID!
        mspId: String!
        "yes, no or abstain"
        choice: String!
        voterUserId: String
        at: String!
        txId: String!
        updatedBlock: String!
        record: JSON!
      }
      type IndexedWork {
        workId: ID!
        kind: String!
        contentHash: String!
        title: String!
        registrant: IndexActor!
        "Owners now, with their shares."
        owners: [IndexOwnerShare!]!
        "The priority date: the registering transaction's time."
        registeredAt: String!
        registrationTxId: String!
        ownershipVersion: Int!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        record: JSON!
      }
      type IndexedOwnershipChange {
        workId: ID!
        changeId: ID!
        proposer: IndexParty!
        "The owners it was proposed to: each must approve."
        currentOwners: [IndexOwnerShare!]!
        proposedOwners: [IndexOwnerShare!]!
        "open, applied, declined or withdrawn"
        status: String!
        proposedAt: String!
        txId: String!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        record: JSON!
      }
      type IndexedLicenceOffer {
        offerId: ID!
        workId: ID!
        "Null for an offer any eligible party may accept."
        licensee: IndexParty
        "The work's owners when it was offered: each must consent."
        owners: [IndexOwnerShare!]!
        scope: String!
        exclusive: Boolean!
        termStart: String!
        termEnd: String!
        royaltyBps: Int
        "Integer minor units per reported unit, as a decimal string."
        perUnitAmount: String
        "The one-off fee, integer minor units as a decimal string."
        feeAmount: String
        currency: String!
        status: String!
        offeredAt: String!
        txId: String!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        "The offer as the ledger holds it; the terms document only as its hash."
        record: JSON!
      }
      type IndexedLicence {
        grantId: ID!
        offerId: ID!
        workId: ID!
        licensee: IndexParty!
        scope: String!
        exclusive: Boolean!
        termStart: String!
        expiresAt: String!
        royaltyBps: Int
        perUnitAmount: String
        "The one-off fee, integer minor units as a decimal string."
        feeAmount: String
        currency: String!
        "active or revoked"
        status: String!
        acceptedAt: String!
        txId: String!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        record: JSON!
      }
      type IndexedRoyaltyPeriod {
        grantId: ID!
        "A calendar month YYYY-MM, or fee for the licence's one-off fee."
        periodId: String!
        workId: ID!
        licensee: IndexParty!
        "What the period owes, integer minor units as a decimal string."
        royalty: String!
        currency: String!
        reported: Boolean!
        "collecting, settling, paid or nothing-due"
        status: String!
        closedAt: String!
        txId: String!
        updatedAt: String!
        updatedTxId: String!
        updatedBlock: String!
        "The period as the ledger holds it, with its collection and payout instructions."
        record: JSON!
      }
      type IndexedProvenanceRecord {
        recordId: ID!
        "dataset or model"
        kind: String!
        title: String!
        contentSha256: String!
        controller: IndexParty!
        legalBasis: String
        piiClass: String
        "held or erased, for a dataset registered with subject data (which never reaches the ledger)."
        subjectDataStatus: String
        registeredAt: String!
        txId: String!
        updatedTxId: String!
        updatedBlock: String!
        record: JSON!
      }
      "A lineage edge, from parent to child."
      type IndexedLineageEdge {
        parentId: ID!
        childId: ID!
        "derivedFrom or trainedOn"
        relation: String!
        txId: String!
        updatedBlock: String!
        record: JSON!
      }
      type IndexedDatasetAccessGrant {
        grantId: ID!
        datasetId: ID!
        controller: IndexParty!
        grantee: IndexParty!
        purpose: String!
        scopes: [String!]!
        expiresAt: String!
        "active or revoked"
        status: String!
        grantedAt: String!
        txId: String!
        updatedTxId: String!
        updatedBlock: String!
        record: JSON!
      }
      "One logged use of a dataset access grant."
      type IndexedDatasetAccess {
        "The id of the transaction that logged the use."
        accessId: ID!
        grantId: ID!
        datasetId: ID!
        controller: IndexParty!
        accessor: IndexParty!
        scope: String!
        at: String!
        updatedBlock: String!
        record: JSON!
      }
      type IndexedErasureReceipt {
        receiptId: ID!
        "agreementTerms or datasetSubjectData"
        targetKind: String!
        "The agreement's or the dataset's id."
        targetId: String!
        requester: IndexActor!
        dataSubject: IndexParty!
        "The data's controllers: the dataset's controller, or the agreement's client and freelancer."
        controllers: [IndexParty!]!
        at: String!
        txId: String!
        updatedBlock: String!
        record: JSON!
      }
      ${['IndexedAgreement', 'IndexedMilestone', 'IndexedPayout', 'IndexedCredential', 'IndexedReputationRecord', 'IndexedTransaction', 'IndexedBlock', 'IndexedProposal', 'IndexedWork', 'IndexedOwnershipChange', 'IndexedLicenceOffer', 'IndexedLicence', 'IndexedRoyaltyPeriod', 'IndexedProvenanceRecord', 'IndexedLineageEdge', 'IndexedDatasetAccessGrant', 'IndexedDatasetAccess', 'IndexedErasureReceipt'].map(connectionTypes).join('\n')}

      enum ProposalIndexSort {
        PROPOSED_AT
        UPDATED_AT
        PROPOSAL_ID
      }
      enum WorkIndexSort {
        REGISTERED_AT
        UPDATED_AT
        WORK_ID
      }
      "FEE lists only the licences that charge a fee."
      enum LicenceIndexSort {
        ACCEPTED_AT
        FEE
      }
      "FEE lists only the offers that charge a fee."
      enum LicenceOfferIndexSort {
        OFFERED_AT
        FEE
      }
      enum RoyaltyPeriodIndexSort {
        CLOSED_AT
        AMOUNT
      }
      enum ProvenanceRecordIndexSort {
        REGISTERED_AT
        RECORD_ID
      }
      input ProposalIndexFilter {
        "open, vetoed or executed"
        status: String
        "The proposer's organisation (MSP id)."
        org: String
        "Proposals with an action of this type, e.g. registerIssuer."
        actionType: String
        "Proposed at or after (ISO 8601)."
        from: String
        "Proposed before (ISO 8601)."
        to: String
      }
      input WorkIndexFilter {
        "Works this person owns a share of now."
        owner: PartyInput
        "Works with an owner in this organisation now."
        org: String
        kind: String
        contentHash: String
        "Registration time range."
        from: String
        to: String
      }
      input OwnershipChangeIndexFilter {
        workId: ID
        "Changes proposed to, or proposing, an owner in this organisation."
        org: String
        status: String
        "Proposal time range."
        from: String
        to: String
      }
      input LicenceOfferIndexFilter {
        workId: ID
        "Offers of works with an owner (as the offer recorded them) in this organisation."
        licensorOrg: String
        licenseeOrg: String
        status: String
        currency: String
        "The fee, minor units, inclusive, as a decimal string."
        minAmount: String
        maxAmount: String
        "Offer time range."
        from: String
        to: String
      }
      input LicenceIndexFilter {
        workId: ID
        licensee: PartyInput
        "Licences of works with an owner in this organisation now."
        licensorOrg: String
        licenseeOrg: String
        "active or revoked"
        status: String
        currency: String
        "The fee, minor units, inclusive, as a decimal string."
        minAmount: String
        maxAmount: String
        "Acceptance time range."
        from: String
        to: String
      }
      input RoyaltyPeriodIndexFilter {
        "The licence's grant id."
        grantId: ID
        workId: ID
        licensorOrg: String
        licenseeOrg: String
        "collecting, settling, paid or nothing-due"
        status: String
        currency: String
        "The royalty owed, minor units, inclusive, as a decimal string."
        minAmount: String
        maxAmount: String
        "Closing time range."
        from: String
        to: String
      }
      input ProvenanceRecordIndexFilter {
        "dataset or model"
        kind: String
        controller: PartyInput
        "The controller's organisation."
        org: String
        piiClass: String
        legalBasis: String
        contentSha256: String
        "Registration time range."
        from: String
        to: String
      }
      input LineageIndexFilter {
        parentId: ID
        childId: ID
        "derivedFrom or trainedOn"
        relation: String
      }
      input DatasetAccessGrantIndexFilter {
        datasetId: ID
        grantee: PartyInput
        "Grants whose dataset's controller or grantee is in this organisation."
        org: String
        status: String
        "Grant time range."
        from: String
        to: String
      }
      input DatasetAccessIndexFilter {
        datasetId: ID
        grantId: ID
        accessor: PartyInput
        "Uses whose dataset's controller or accessor is in this organisation."
        org: String
        scope: String
        "Access time range."
        from: String
        to: String
      }
      input ErasureReceiptIndexFilter {
        "agreementTerms or datasetSubjectData"
        targetKind: String
        targetId: ID
        "Receipts concerning this organisation as requester, data subject or controller."
        org: String
        "Erasure time range."
        from: String
        to: String
      }

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
        "Payouts the settlement service of this organisation (MSP id) sends."
        settlingOrganisation: String
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
        "Agreements across the ledger that the caller may read: parties and evaluators their own; auditors those their live grants cover; admins, HR and settlement people those naming a person of their organisation (a settlement person whose wider reach comes from a governance decision reads the others by id, through the chaincode, as an arbitrator does the agreements with a dispute whose panel holds it)."
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
        "Credentials the caller may read (subject and issuer see theirs; HR sees all, auditors those their grants cover, admins those whose subject or issuer is of their organisation)."
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
        "Governance proposals with their votes; every member reads them."
        indexedProposals(
          filter: ProposalIndexFilter
          sort: ProposalIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedProposalConnection!
        "Registered works with their owners now; every member reads them."
        indexedWorks(
          filter: WorkIndexFilter
          sort: WorkIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedWorkConnection!
        "Ownership changes of works: the owners they concern, and auditors under a grant naming ip."
        indexedOwnershipChanges(
          filter: OwnershipChangeIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedOwnershipChangeConnection!
        "Licence offers: their owners and licensee, offers open to anyone, and the licensing reader roles (auditors under a grant naming licensing)."
        indexedLicenceOffers(
          filter: LicenceOfferIndexFilter
          sort: LicenceOfferIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedLicenceOfferConnection!
        "Licences granted: their licensee, the work's owners, and the licensing reader roles (auditors under a grant naming licensing)."
        indexedLicences(
          filter: LicenceIndexFilter
          sort: LicenceIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedLicenceConnection!
        "Closed royalty periods and licence fees with their payouts, read as their licence."
        indexedRoyaltyPeriods(
          filter: RoyaltyPeriodIndexFilter
          sort: RoyaltyPeriodIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedRoyaltyPeriodConnection!
        "Dataset and model records; every member reads them."
        indexedProvenanceRecords(
          filter: ProvenanceRecordIndexFilter
          sort: ProvenanceRecordIndexSort
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedProvenanceRecordConnection!
        "Lineage edges between dataset and model records; every member reads them."
        indexedLineageEdges(
          filter: LineageIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedLineageEdgeConnection!
        "Dataset access grants: the dataset's controller, the grantee, and auditors under a grant naming provenance."
        indexedDatasetAccessGrants(
          filter: DatasetAccessGrantIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedDatasetAccessGrantConnection!
        "Logged uses of dataset access grants: the dataset's controller, and auditors under a grant naming provenance."
        indexedDatasetAccessLog(
          filter: DatasetAccessIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedDatasetAccessConnection!
        "Erasure receipts: the requester, the data subject, the data's controllers, and auditors under a grant naming provenance."
        indexedErasureReceipts(
          filter: ErasureReceiptIndexFilter
          direction: IndexSortDirection
          first: Int
          after: String
        ): IndexedErasureReceiptConnection!
        "Block explorer: one transaction (the valid one when an id was submitted twice)."
        indexedTransaction(transactionId: ID!): IndexedTransaction!
        "Block explorer: the channel's height beside the index's."
        ledgerHeights: LedgerHeights!
      }
    `,
    access: {
      Query: {
        indexedAgreements: indexedKindScopes.agreements,
        indexedMilestones: indexedKindScopes.milestones,
        indexedPayouts: indexedKindScopes.payouts,
        indexedCredentials: indexedKindScopes.credentials,
        indexedReputationRecords: indexedKindScopes.reputation,
        indexedTransactions: indexedKindScopes.transactions,
        indexedBlocks: indexedKindScopes.ledger,
        indexedProposals: indexedKindScopes.proposals,
        indexedWorks: indexedKindScopes.works,
        indexedOwnershipChanges: indexedKindScopes.ownershipChanges,
        indexedLicenceOffers: indexedKindScopes.licenceOffers,
        indexedLicences: indexedKindScopes.licences,
        indexedRoyaltyPeriods: indexedKindScopes.royaltyPeriods,
        indexedProvenanceRecords: indexedKindScopes.provenanceRecords,
        indexedLineageEdges: indexedKindScopes.lineage,
        indexedDatasetAccessGrants: indexedKindScopes.datasetAccessGrants,
        indexedDatasetAccessLog: indexedKindScopes.datasetAccessLog,
        indexedErasureReceipts: indexedKindScopes.erasureReceipts,
        indexedTransaction: indexedKindScopes.transactions,
        ledgerHeights: indexedKindScopes.ledger,
      },
    },
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
        indexedProposals: list(
          proposalFilterSchema,
          (context, filter, page) => queries.proposals(context.principal, filter, page),
          proposalNode,
        ),
        indexedWorks: list(
          workFilterSchema,
          (context, filter, page) => queries.works(context.principal, filter, page),
          workNode,
        ),
        indexedOwnershipChanges: list(
          ownershipChangeFilterSchema,
          (context, filter, page) => queries.ownershipChanges(context.principal, filter, page),
          ownershipChangeNode,
        ),
        indexedLicenceOffers: list(
          licenceOfferFilterSchema,
          (context, filter, page) => queries.licenceOffers(context.principal, filter, page),
          licenceOfferNode,
        ),
        indexedLicences: list(
          licenceFilterSchema,
          (context, filter, page) => queries.licences(context.principal, filter, page),
          licenceNode,
        ),
        indexedRoyaltyPeriods: list(
          royaltyPeriodFilterSchema,
          (context, filter, page) => queries.royaltyPeriods(context.principal, filter, page),
          royaltyPeriodNode,
        ),
        indexedProvenanceRecords: list(
          provenanceRecordFilterSchema,
          (context, filter, page) => queries.provenanceRecords(context.principal, filter, page),
          provenanceRecordNode,
        ),
        indexedLineageEdges: list(
          lineageFilterSchema,
          (context, filter, page) => queries.lineage(context.principal, filter, page),
          lineageEdgeNode,
        ),
        indexedDatasetAccessGrants: list(
          datasetAccessGrantFilterSchema,
          (context, filter, page) => queries.datasetAccessGrants(context.principal, filter, page),
          datasetAccessGrantNode,
        ),
        indexedDatasetAccessLog: list(
          datasetAccessLogFilterSchema,
          (context, filter, page) => queries.datasetAccessLog(context.principal, filter, page),
          datasetAccessNode,
        ),
        indexedErasureReceipts: list(
          erasureReceiptFilterSchema,
          (context, filter, page) => queries.erasureReceipts(context.principal, filter, page),
          erasureReceiptNode,
        ),
        indexedTransaction: (_parent: unknown, args: { transactionId: string }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const transactionId = parseInput(transactionIdSchema, args.transactionId, 'transactionId');
            const found = await queries.transaction(context.principal, transactionId);
            if (found === undefined) throw notFound(`transaction ${args.transactionId} in the index`, 'transactionId');
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
            (
              await nestedLists(context).keys.load({
                blockNumber: Number(parent.blockNumber),
                position: parent.position,
              })
            ).map(keyAccessNode),
          ),
      },
      IndexedProposal: {
        votes: (parent: { proposalId: string }, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () =>
            (await nestedLists(context).votes.load(parent.proposalId)).map(proposalVoteNode),
          ),
      },
      IndexedBlock: {
        transactions: (parent: { blockNumber: string }, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () =>
            (await nestedLists(context).transactions.load(Number(parent.blockNumber))).map(transactionNode),
          ),
      },
    },
  };
}
