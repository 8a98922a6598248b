import { z } from 'zod';
import { provenanceIdSchema, provenanceTransactions } from '@gigledger/chaincode/model';
import { resolverRequester, resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { inputFields, withoutNulls } from '../graphql/input-arguments.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { parseCommand, withRequestId } from '../http/request-ids.js';
import { parseArguments, parseInput } from '../http/route.js';
import { committed, type Committed } from '../ledger/committed.js';
import {
  grantAccessBodySchema,
  lineageQuerySchema,
  recordAccessBodySchema,
  registerDatasetBodySchema,
  registerModelBodySchema,
  requestErasureBodySchema,
} from './provenance-routes.js';
import { ProvenanceService, type ProvenanceDependencies } from './provenance-service.js';
import { ledgerPageTypeDefs } from '../http/ledger-pages.js';
import { ledgerListResolvers } from '../graphql/ledger-list-fields.js';

const recordArgs = z.strictObject({ recordId: provenanceIdSchema });
const datasetArgs = z.strictObject({ datasetId: provenanceIdSchema });
const grantArgs = z.strictObject({ grantId: provenanceIdSchema });
const receiptArgs = z.strictObject({ receiptId: provenanceIdSchema });
const accessLogArgs = z.strictObject({ datasetId: provenanceIdSchema, grantId: provenanceIdSchema.optional() });

/** A command's answer as every CommandPayload carries it, the result under `field`. */
function payload<Value>(field: string, answer: Committed<Value>) {
  return {
    requestId: answer.requestId,
    transactionId: answer.transactionId,
    blockNumber: answer.blockNumber,
    [field]: answer.result,
  };
}

/**
 * Provenance in GraphQL: records, lineage graphs, grants and their use log, erasure
 * receipts and their verification, and the commands. Inputs that are documents
 * (licence, retention, derivation, subject data) are JSON validated by the same
 * schemas as REST, so errors name the same fields under `input`.
 */
export function provenanceSchema(deps: ProvenanceDependencies): SchemaModule {
  const service = new ProvenanceService(deps);
  const reader = (context: GraphqlContext) => service.client(resolverRequester(context, 'provenance:read'));
  const grantList = ledgerListResolvers(async (context, args, page) =>
    (await reader(context)).listAccessGrants({ ...parseArguments(datasetArgs, args), ...page }),
  );
  const accessLogList = ledgerListResolvers(async (context, args, page) =>
    (await reader(context)).listAccessLog({ ...parseArguments(accessLogArgs, args), ...page }),
  );
  const writer = (context: GraphqlContext) => resolverRequester(context, 'provenance:write');
  return {
    typeDefs: /* GraphQL */ `
      "A dataset or model record. Dataset fields are null on models and model fields on datasets."
      type ProvenanceRecord {
        kind: String!
        recordId: ID!
        contentSha256: String!
        title: String!
        "SPDX expression or free text: {kind, expression | text}."
        licence: JSON!
        controller: Party!
        "Parents and transformation (description, codeSha256) when derived."
        derivedFrom: JSON
        registeredAt: String!
        txId: String!
        "The transaction that last rewrote the record (an erasure of its subject data), and when; null while its registration is its only write."
        updatedTxId: String
        updatedAt: String
        source: String
        "GDPR Art. 6(1) basis: consent, contract, legalObligation, vitalInterests, publicTask, legitimateInterests."
        legalBasis: String
        piiClass: String
        retention: JSON
        "held or erased, with the hash and, once erased, the receipt."
        subjectData: JSON
        trainedOn: [ID!]
        trainingCodeSha256: [String!]
      }

      type LineageNode {
        recordId: ID!
        kind: String!
        title: String!
        contentSha256: String!
        "Who controls the record; the read log names each node's organisation."
        controller: Party!
        distance: Int!
      }

      "Always from parent to child."
      type LineageEdge {
        from: ID!
        to: ID!
        relation: String!
        transformation: JSON
      }

      type LineageGraph {
        root: ID!
        direction: String!
        depth: Int!
        nodes: [LineageNode!]!
        edges: [LineageEdge!]!
        truncated: Boolean!
      }

      type AccessGrant {
        grantId: ID!
        datasetId: ID!
        controller: Party!
        grantee: Party!
        purpose: String!
        scope: [String!]!
        expiresAt: String!
        status: String!
        grantedAt: String!
        txId: String!
        revocation: JSON
      }

      type AccessLogEntry {
        accessId: ID!
        grantId: ID!
        datasetId: ID!
        accessor: Party!
        scope: String!
        note: String
        at: String!
      }

      type ErasureReceipt {
        receiptId: ID!
        target: JSON!
        requestedBy: Actor!
        dataSubject: Party!
        legalBasis: String!
        reason: String
        "collection, objectType, keyAttributes and the sha256 kept on the ledger."
        purged: JSON!
        at: String!
        txId: String!
      }

      type ErasureVerification {
        receipt: ErasureReceipt!
        ledgerSha256: String!
        hashMatches: Boolean!
        recordedAsErased: Boolean!
        privateDataAbsent: Boolean!
        verified: Boolean!
        blockNumber: String!
      }

      type ProvenanceRecordPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        record: ProvenanceRecord!
      }

      type AccessGrantPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        grant: AccessGrant!
      }

      type AccessLogPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        access: AccessLogEntry!
      }

      type ErasurePayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        receipt: ErasureReceipt!
      }

      ${ledgerPageTypeDefs('AccessGrantPage', 'AccessGrant', "One page of a dataset's access grants, in grant id order.")}
      ${ledgerPageTypeDefs('AccessLogPage', 'AccessLogEntry', "One page of a dataset's access log, by grant, then access id.")}
      extend type Query {
        provenanceRecord(recordId: ID!): ProvenanceRecord!
        "direction: ancestors or descendants; depth 1 to 10, 3 when left out."
        lineage(recordId: ID!, direction: String!, depth: Int): LineageGraph!
        "A dataset's access grants in grant id order: all for its controller and auditors, a grantee's own otherwise. One page: first (1 to 500, 100 when left out) from the cursor after."
        datasetGrants(datasetId: ID!, first: Int, after: String): [AccessGrant!]!
        "The same list as datasetGrants, one page at a time; a page may hold fewer than first, even none, with more to follow."
        datasetGrantPage(datasetId: ID!, first: Int, after: String): AccessGrantPage!
        datasetGrant(grantId: ID!): AccessGrant!
        "For the dataset's controller and auditors only: by grant, then access id (indexedDatasetAccessLog answers in time order). One page: first (1 to 500, 100 when left out) from the cursor after."
        datasetAccessLog(datasetId: ID!, grantId: ID, first: Int, after: String): [AccessLogEntry!]!
        "The same list as datasetAccessLog, one page at a time: pass pageInfo.endCursor as after for the next."
        datasetAccessLogPage(datasetId: ID!, grantId: ID, first: Int, after: String): AccessLogPage!
        erasureReceipt(receiptId: ID!): ErasureReceipt!
        verifyErasure(receiptId: ID!): ErasureVerification!
      }

      extend type Mutation {
        "As POST /v1/provenance/datasets; subjectData goes to member peers in the transient map."
        registerDataset(input: JSON!): ProvenanceRecordPayload!
        registerModel(input: JSON!): ProvenanceRecordPayload!
        grantDatasetAccess(datasetId: ID!, input: JSON!): AccessGrantPayload!
        revokeDatasetAccess(
          grantId: ID!
          reason: String!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): AccessGrantPayload!
        recordDatasetAccess(grantId: ID!, scope: String!, note: String, requestId: String): AccessLogPayload!
        requestErasure(input: JSON!): ErasurePayload!
      }
    `,
    access: {
      Query: {
        provenanceRecord: 'provenance:read',
        lineage: 'provenance:read',
        datasetGrants: 'provenance:read',
        datasetGrantPage: 'provenance:read',
        datasetGrant: 'provenance:read',
        datasetAccessLog: 'provenance:read',
        datasetAccessLogPage: 'provenance:read',
        erasureReceipt: 'provenance:read',
        verifyErasure: 'provenance:read',
      },
      Mutation: {
        registerDataset: 'provenance:write',
        registerModel: 'provenance:write',
        grantDatasetAccess: 'provenance:write',
        revokeDatasetAccess: 'provenance:write',
        recordDatasetAccess: 'provenance:write',
        requestErasure: 'provenance:write',
      },
    },
    resolvers: {
      Query: {
        provenanceRecord: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => (await reader(context)).getRecord(parseArguments(recordArgs, args))),
        lineage: (
          _parent: unknown,
          args: { recordId: string; direction: string; depth?: number | null },
          context: GraphqlContext,
        ) =>
          resolveWith(context, async () => {
            const { recordId } = parseArguments(recordArgs, { recordId: args.recordId });
            const query = parseArguments(
              lineageQuerySchema,
              withoutNulls({ direction: args.direction, depth: args.depth }),
            );
            return (await reader(context)).getLineage({ recordId, ...query });
          }),
        datasetGrants: grantList.list,
        datasetGrantPage: grantList.page,
        datasetGrant: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, () =>
            service.getGrant(resolverRequester(context, 'provenance:read'), parseArguments(grantArgs, args).grantId),
          ),
        datasetAccessLog: accessLogList.list,
        datasetAccessLogPage: accessLogList.page,
        erasureReceipt: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, () =>
            service.getReceipt(
              resolverRequester(context, 'provenance:read'),
              parseArguments(receiptArgs, args).receiptId,
            ),
          ),
        verifyErasure: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, () =>
            service.verifyReceipt(
              resolverRequester(context, 'provenance:read'),
              parseArguments(receiptArgs, args).receiptId,
            ),
          ),
      },
      Mutation: {
        registerDataset: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const { subjectData, ...fields } = withRequestId(
              parseInput(registerDatasetBodySchema, withoutNulls(args.input), 'input'),
            );
            return payload('record', await service.registerDataset(writer(context), fields, subjectData, 'input'));
          }),
        registerModel: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = withRequestId(parseInput(registerModelBodySchema, withoutNulls(args.input), 'input'));
            const client = await service.commandClient(writer(context), 'registerModel');
            const submitted = await fieldsUnder('input', () => client.registerModel(request));
            return payload('record', committed(submitted, request.requestId));
          }),
        grantDatasetAccess: (_parent: unknown, args: { datasetId: string; input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const { datasetId } = parseArguments(datasetArgs, { datasetId: args.datasetId });
            const request = withRequestId({
              ...parseInput(grantAccessBodySchema, withoutNulls(args.input), 'input'),
              datasetId,
            });
            const submitted = await service.grantAccess(writer(context), request, 'input');
            return payload('grant', committed(submitted, request.requestId));
          }),
        revokeDatasetAccess: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = parseCommand(provenanceTransactions.revokeAccess.request, inputFields(args), null);
            const client = await service.commandClient(writer(context), 'revokeAccess');
            const submitted = await fieldsUnder(null, () => client.revokeAccess(request));
            return payload('grant', committed(submitted, request.requestId));
          }),
        recordDatasetAccess: (
          _parent: unknown,
          args: { grantId: string; scope: string; note?: string | null; requestId?: string | null },
          context: GraphqlContext,
        ) =>
          resolveWith(context, async () => {
            const { grantId } = parseArguments(grantArgs, { grantId: args.grantId });
            const body = parseArguments(
              recordAccessBodySchema,
              withoutNulls({ scope: args.scope, note: args.note, requestId: args.requestId }),
            );
            const request = withRequestId({ ...body, grantId });
            const client = await service.commandClient(writer(context), 'recordAccess');
            const submitted = await fieldsUnder(null, () => client.recordAccess(request));
            return payload('access', committed(submitted, request.requestId));
          }),
        requestErasure: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = withRequestId(parseInput(requestErasureBodySchema, withoutNulls(args.input), 'input'));
            const client = await service.commandClient(writer(context), 'requestErasure');
            const submitted = await fieldsUnder('input', () => client.requestErasure(request));
            return payload('receipt', committed(submitted, request.requestId));
          }),
      },
    },
  };
}
