import { transactionIdSchema } from '../proofs/proof-routes.js';
import type { Logger } from 'pino';
import { AuditScopes } from '../audit/audit-scopes.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { mspIdSchema, userIdSchema } from '@gigledger/chaincode/model';
import type { LedgerBlocks } from '@gigledger/gateway';
import { z } from 'zod';
import type { Db } from '../db/database.js';
import { notFound } from '../errors/api-error.js';
import { route, type RouteSpec } from '../http/route.js';
import {
  agreementNode,
  blockNode,
  credentialNode,
  datasetAccessGrantNode,
  indexedDatasetAccessGrantSchema,
  indexedLicenceSchema,
  indexedProposalSchema,
  indexedProvenanceRecordSchema,
  indexedRoyaltyPeriodSchema,
  indexedWorkSchema,
  licenceNode,
  proposalNode,
  provenanceRecordNode,
  royaltyPeriodNode,
  workNode,
  indexedAgreementSchema,
  indexedBlockSchema,
  indexedCredentialSchema,
  indexedPayoutSchema,
  indexedTransactionSchema,
  keyAccessNode,
  keyAccessSchema,
  payoutNode,
  transactionNode,
} from './index-nodes.js';
import {
  agreementFilterSchema,
  blockNumberSchema,
  credentialFilterSchema,
  datasetAccessGrantFilterSchema,
  IndexQueries,
  licenceFilterSchema,
  proposalFilterSchema,
  provenanceRecordFilterSchema,
  royaltyPeriodFilterSchema,
  workFilterSchema,
  orderedRanges,
  pageSchema,
  payoutFilterSchema,
  transactionFilterSchema,
  type Connection,
} from './index-queries.js';

const tag = 'audit-index';
type Row = Record<string, unknown>;

/** A page of a listing over REST: the items, where to go on, the total and the indexed height. */
function pageResponse<Item extends z.ZodType>(item: Item) {
  return z.object({
    indexedHeight: z.string().describe('Blocks the index held when it answered'),
    totalCount: z.number().int(),
    items: z.array(item),
    pageInfo: z.object({
      hasNextPage: z.boolean(),
      hasPreviousPage: z.boolean(),
      startCursor: z.string().nullable(),
      endCursor: z.string().nullable().describe('Pass as `after` for the next page'),
    }),
  });
}

async function pageOf<Node>(connection: Connection<Row>, node: (row: Row) => Node) {
  return {
    indexedHeight: connection.indexedHeight,
    totalCount: await connection.totalCount(),
    items: connection.edges.map((edge) => node(edge.node)),
    pageInfo: connection.pageInfo,
  };
}

/** A person named in query parameters as `<name>MspId` and `<name>UserId`, both or neither. */
function personOf(mspId: string | undefined, userId: string | undefined) {
  return mspId === undefined || userId === undefined ? undefined : { mspId, userId };
}

function bothOrNeither(name: string) {
  return (query: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const msp = query[`${name}MspId`];
    const user = query[`${name}UserId`];
    if ((msp === undefined) !== (user === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: `${name}MspId and ${name}UserId name one person together: give both or neither`,
        path: [msp === undefined ? `${name}MspId` : `${name}UserId`],
      });
    }
  };
}

const listQuery = { ...pageSchema.shape };

const agreementsQuery = z
  .strictObject({
    ...listQuery,
    ...agreementFilterSchema.omit({ party: true }).shape,
    partyMspId: mspIdSchema.optional(),
    partyUserId: userIdSchema.optional(),
  })
  .superRefine(bothOrNeither('party'))
  .superRefine(orderedRanges);
const payoutsQuery = z
  .strictObject({
    ...listQuery,
    ...payoutFilterSchema.omit({ party: true }).shape,
    partyMspId: mspIdSchema.optional(),
    partyUserId: userIdSchema.optional(),
  })
  .superRefine(bothOrNeither('party'))
  .superRefine(orderedRanges);
const credentialsQuery = z
  .strictObject({
    ...listQuery,
    ...credentialFilterSchema.omit({ subject: true, issuer: true }).shape,
    subjectMspId: mspIdSchema.optional(),
    subjectUserId: userIdSchema.optional(),
    issuerMspId: mspIdSchema.optional(),
    issuerUserId: userIdSchema.optional(),
  })
  .superRefine(bothOrNeither('subject'))
  .superRefine(bothOrNeither('issuer'))
  .superRefine(orderedRanges);
const proposalsQuery = z.strictObject({ ...listQuery, ...proposalFilterSchema.shape }).superRefine(orderedRanges);
const worksQuery = z
  .strictObject({
    ...listQuery,
    ...workFilterSchema.omit({ owner: true }).shape,
    ownerMspId: mspIdSchema.optional(),
    ownerUserId: userIdSchema.optional(),
  })
  .superRefine(bothOrNeither('owner'))
  .superRefine(orderedRanges);
const licencesQuery = z
  .strictObject({
    ...listQuery,
    ...licenceFilterSchema.omit({ licensee: true }).shape,
    licenseeMspId: mspIdSchema.optional(),
    licenseeUserId: userIdSchema.optional(),
  })
  .superRefine(bothOrNeither('licensee'))
  .superRefine(orderedRanges);
const royaltyPeriodsQuery = z
  .strictObject({ ...listQuery, ...royaltyPeriodFilterSchema.shape })
  .superRefine(orderedRanges);
const provenanceRecordsQuery = z
  .strictObject({
    ...listQuery,
    ...provenanceRecordFilterSchema.omit({ controller: true }).shape,
    controllerMspId: mspIdSchema.optional(),
    controllerUserId: userIdSchema.optional(),
  })
  .superRefine(bothOrNeither('controller'))
  .superRefine(orderedRanges);
const datasetAccessGrantsQuery = z
  .strictObject({
    ...listQuery,
    ...datasetAccessGrantFilterSchema.omit({ grantee: true }).shape,
    granteeMspId: mspIdSchema.optional(),
    granteeUserId: userIdSchema.optional(),
  })
  .superRefine(bothOrNeither('grantee'))
  .superRefine(orderedRanges);
const transactionsQuery = z.strictObject({ ...listQuery, ...transactionFilterSchema.shape }).superRefine(orderedRanges);

const pageOptions = (query: { first: number; after?: string | undefined; direction: 'ASC' | 'DESC' }) => ({
  first: query.first,
  after: query.after,
  direction: query.direction,
});

const transactionDetailSchema = indexedTransactionSchema.extend({ keys: z.array(keyAccessSchema) });
const blockDetailSchema = indexedBlockSchema.extend({ transactions: z.array(indexedTransactionSchema) });
const heightsSchema = z.object({
  channelHeight: z.string().nullable().describe("The channel's height as the peer reports it; null when unreachable"),
  indexedHeight: z.string(),
});
const noQuery = z.strictObject({});

/**
 * The audit index over REST, for the most common listings (agreements, payouts,
 * credentials, transactions, proposals, works, licences, royalty periods, dataset and
 * model records, dataset access grants) and the block explorer. The same filters, sorts and
 * cursors as GraphQL; visibility from `indexVisibility`.
 */
export function auditIndexRoutes(deps: {
  db: Db;
  ledgerBlocks?: LedgerBlocks;
  ledger: LedgerAccess;
  log: Logger;
}): RouteSpec[] {
  const scopes = new AuditScopes(deps.ledger);
  const queries = new IndexQueries(deps.db, (principal) => scopes.scopeFor(principal, deps.log));
  return [
    route({
      method: 'get',
      path: '/v1/index/agreements',
      operationId: 'listIndexedAgreements',
      summary:
        'Agreements across the ledger from the audit index, filtered, sorted and paged; only those the caller may read through the chaincode',
      tag,
      access: 'agreements:read',
      query: agreementsQuery,
      response: pageResponse(indexedAgreementSchema),
      handler: async ({ query, principal }) => {
        const { partyMspId, partyUserId, first: _first, after: _after, direction: _direction, ...filter } = query;
        const party = personOf(partyMspId, partyUserId);
        return pageOf(
          await queries.agreements(principal, { ...filter, ...(party && { party }) }, pageOptions(query), 'query'),
          agreementNode,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/payouts',
      operationId: 'listIndexedPayouts',
      summary:
        'Settlement instructions (escrow funding, payouts, refunds) with their compliance basis, filtered by party, organisation, status, currency, amount (minor units) and time',
      tag,
      access: 'agreements:read',
      query: payoutsQuery,
      response: pageResponse(indexedPayoutSchema),
      handler: async ({ query, principal }) => {
        const { partyMspId, partyUserId, first: _first, after: _after, direction: _direction, ...filter } = query;
        const party = personOf(partyMspId, partyUserId);
        return pageOf(
          await queries.payouts(principal, { ...filter, ...(party && { party }) }, pageOptions(query), 'query'),
          payoutNode,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/credentials',
      operationId: 'listIndexedCredentials',
      summary:
        'Credentials by issuer, subject, organisation, type, status and issuance time (commitments, never claim values)',
      tag,
      access: 'credentials:read',
      query: credentialsQuery,
      response: pageResponse(indexedCredentialSchema),
      handler: async ({ query, principal }) => {
        const {
          subjectMspId,
          subjectUserId,
          issuerMspId,
          issuerUserId,
          first: _first,
          after: _after,
          direction: _direction,
          ...filter
        } = query;
        const subject = personOf(subjectMspId, subjectUserId);
        const issuer = personOf(issuerMspId, issuerUserId);
        return pageOf(
          await queries.credentials(
            principal,
            { ...filter, ...(subject && { subject }), ...(issuer && { issuer }) },
            pageOptions(query),
            'query',
          ),
          credentialNode,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/proposals',
      operationId: 'listIndexedProposals',
      summary:
        'Governance proposals by status, proposer organisation, action type and proposal time; every member reads them',
      tag,
      access: 'governance:read',
      query: proposalsQuery,
      response: pageResponse(indexedProposalSchema),
      handler: async ({ query, principal }) => {
        const { first: _first, after: _after, direction: _direction, ...filter } = query;
        return pageOf(await queries.proposals(principal, filter, pageOptions(query), 'query'), proposalNode);
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/works',
      operationId: 'listIndexedWorks',
      summary:
        'Registered works with their owners now, by owner, owner organisation, kind, content hash and registration time',
      tag,
      access: 'ip:read',
      query: worksQuery,
      response: pageResponse(indexedWorkSchema),
      handler: async ({ query, principal }) => {
        const { ownerMspId, ownerUserId, first: _first, after: _after, direction: _direction, ...filter } = query;
        const owner = personOf(ownerMspId, ownerUserId);
        return pageOf(
          await queries.works(principal, { ...filter, ...(owner && { owner }) }, pageOptions(query), 'query'),
          workNode,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/licences',
      operationId: 'listIndexedLicences',
      summary:
        'Licences granted, by licensee, licensor or licensee organisation, work, status, currency, fee (minor units) and acceptance time; only those the caller may read through the chaincode',
      tag,
      access: 'licensing:read',
      query: licencesQuery,
      response: pageResponse(indexedLicenceSchema),
      handler: async ({ query, principal }) => {
        const { licenseeMspId, licenseeUserId, first: _first, after: _after, direction: _direction, ...filter } = query;
        const licensee = personOf(licenseeMspId, licenseeUserId);
        return pageOf(
          await queries.licences(principal, { ...filter, ...(licensee && { licensee }) }, pageOptions(query), 'query'),
          licenceNode,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/royalty-periods',
      operationId: 'listIndexedRoyaltyPeriods',
      summary:
        'Closed royalty periods and licence fees with their payouts, by licence, work, organisation, status, currency, amount owed (minor units) and closing time',
      tag,
      access: 'licensing:read',
      query: royaltyPeriodsQuery,
      response: pageResponse(indexedRoyaltyPeriodSchema),
      handler: async ({ query, principal }) => {
        const { first: _first, after: _after, direction: _direction, ...filter } = query;
        return pageOf(await queries.royaltyPeriods(principal, filter, pageOptions(query), 'query'), royaltyPeriodNode);
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/provenance-records',
      operationId: 'listIndexedProvenanceRecords',
      summary:
        'Dataset and model records by kind, controller, organisation, PII class, legal basis, content hash and registration time; every member reads them',
      tag,
      access: 'provenance:read',
      query: provenanceRecordsQuery,
      response: pageResponse(indexedProvenanceRecordSchema),
      handler: async ({ query, principal }) => {
        const {
          controllerMspId,
          controllerUserId,
          first: _first,
          after: _after,
          direction: _direction,
          ...filter
        } = query;
        const controller = personOf(controllerMspId, controllerUserId);
        return pageOf(
          await queries.provenanceRecords(
            principal,
            { ...filter, ...(controller && { controller }) },
            pageOptions(query),
            'query',
          ),
          provenanceRecordNode,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/dataset-access-grants',
      operationId: 'listIndexedDatasetAccessGrants',
      summary:
        "Dataset access grants by dataset, grantee, organisation, status and grant time: the dataset's controller, the grantee, and auditors under a grant naming provenance",
      tag,
      access: 'provenance:read',
      query: datasetAccessGrantsQuery,
      response: pageResponse(indexedDatasetAccessGrantSchema),
      handler: async ({ query, principal }) => {
        const { granteeMspId, granteeUserId, first: _first, after: _after, direction: _direction, ...filter } = query;
        const grantee = personOf(granteeMspId, granteeUserId);
        return pageOf(
          await queries.datasetAccessGrants(
            principal,
            { ...filter, ...(grantee && { grantee }) },
            pageOptions(query),
            'query',
          ),
          datasetAccessGrantNode,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/transactions',
      operationId: 'listIndexedTransactions',
      summary:
        'Block explorer (auditors and admins): transactions with creator, validation code, time and function; validation=INVALID lists the invalid ones',
      tag,
      access: 'ledger:read',
      query: transactionsQuery,
      response: pageResponse(indexedTransactionSchema),
      handler: async ({ query, principal }) => {
        const { first: _first, after: _after, direction: _direction, ...filter } = query;
        return pageOf(await queries.transactions(principal, filter, pageOptions(query), 'query'), transactionNode);
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/transactions/:transactionId',
      operationId: 'getIndexedTransaction',
      summary:
        'Block explorer: one transaction with its read/write set summary (keys; private keys and values as hashes)',
      tag,
      access: 'ledger:read',
      params: z.strictObject({ transactionId: transactionIdSchema }),
      query: noQuery,
      response: transactionDetailSchema,
      errors: [404],
      handler: async ({ params, principal }) => {
        const found = await queries.transaction(principal, params.transactionId);
        if (found === undefined) throw notFound(`transaction ${params.transactionId} in the index`, 'transactionId');
        const node = transactionNode(found);
        const keys = await queries.transactionKeys(principal, Number(node.blockNumber), node.position);
        return { ...node, keys: keys.map(keyAccessNode) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/blocks/:blockNumber',
      operationId: 'getIndexedBlock',
      summary: 'Block explorer: one block (hashes, chain link) with its transactions',
      tag,
      access: 'ledger:read',
      params: z.strictObject({ blockNumber: blockNumberSchema }),
      query: noQuery,
      response: blockDetailSchema,
      errors: [404],
      handler: async ({ params, principal }) => {
        const page = await queries.blocks(
          principal,
          { fromBlock: params.blockNumber, toBlock: params.blockNumber, sort: 'NUMBER' },
          { first: 1, direction: 'ASC' },
        );
        const [edge] = page.edges;
        if (edge === undefined) throw notFound(`block ${String(params.blockNumber)} in the index`, 'blockNumber');
        const transactions = await queries.blockTransactions(principal, params.blockNumber);
        return { ...blockNode(edge.node), transactions: transactions.map(transactionNode) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/index/height',
      operationId: 'getIndexHeights',
      summary: "Block explorer: the channel's height beside the index's (how far the index lags)",
      tag,
      access: 'ledger:read',
      query: noQuery,
      response: heightsSchema,
      handler: async ({ principal }) => {
        await queries.visibility(principal, 'ledger');
        const [indexed, channel] = await Promise.all([
          queries.height(),
          deps.ledgerBlocks?.height().catch(() => undefined),
        ]);
        return { indexedHeight: indexed.toString(), channelHeight: channel?.toString() ?? null };
      },
    }),
  ];
}
