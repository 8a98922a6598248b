import { claimLedgerRecords } from '../graphql/ledger-list-fields.js';
import { requirePersonFor } from '../auth/person-only.js';
import { z } from 'zod';
import { auditGrantIdSchema, type AuditGrantRecord } from '@gigledger/chaincode/model';
import type { LedgerClient, Submitted } from '@gigledger/gateway';
import type { Db } from '../db/database.js';
import { resolverRequester, resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { parseArguments } from '../http/route.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { committed } from '../ledger/committed.js';
import { parseCommand } from '../http/request-ids.js';
import { inputFields } from '../graphql/input-arguments.js';
import type { AccountService } from '../auth/account-service.js';
import {
  AuditService,
  grantAuditAccessBodySchema,
  readLogQuerySchema,
  revokeAuditAccessBodySchema,
  type ReadLogAnchoring,
} from './audit-routes.js';
import { ledgerPageTypeDefs } from '../http/ledger-pages.js';
import { ledgerListResolvers } from '../graphql/ledger-list-fields.js';

/** GraphQL's `readLog(after, first)`: the REST query's bounds, with the page size under GraphQL's name. */
const readLogArgumentsSchema = z.strictObject({
  after: readLogQuerySchema.shape.after,
  first: readLogQuerySchema.shape.limit,
});

const grantArgs = z.strictObject({ grantId: auditGrantIdSchema });

function payload(submitted: Submitted<AuditGrantRecord>, requestId: string) {
  const { result, ...done } = committed(submitted, requestId);
  return { ...done, grant: result };
}

/**
 * Auditor access over GraphQL: grants given (admins) or held (auditors), an auditor's
 * scope, the commands to grant and revoke, and the log of reads concerning the caller's
 * organisation for its admins. The same rules as REST; the chaincode decides.
 */
export function auditSchema(deps: {
  ledger: LedgerAccess;
  db: Db;
  serviceLedger: LedgerClient;
  accounts: AccountService;
  readLogAnchoring?: ReadLogAnchoring;
}): SchemaModule {
  const service = new AuditService(deps);
  const reader = (context: GraphqlContext) => service.client(resolverRequester(context, 'audit:read'));
  const auditGrantList = ledgerListResolvers(async (context, _args, page) =>
    (await reader(context)).listAuditGrants(page),
  );
  return {
    typeDefs: /* GraphQL */ `
      "A kind of record an audit grant names."
      enum AuditRecordKind {
        agreement
        credential
        reputation
        ip
        licensing
        provenance
        governance
        settlement
        transaction
      }

      "Who a grant lets read: one auditor, or (userId null) every auditor of the organisation."
      type AuditorRef {
        mspId: String!
        userId: String
      }

      type AuditGrantRevocation {
        by: Actor!
        reason: String!
        at: String!
        txId: String!
      }

      type AuditGrant {
        grantId: ID!
        "The organisation whose records the grant opens: the grantor's."
        organisation: String!
        auditor: AuditorRef!
        kinds: [AuditRecordKind!]!
        "Records dated at or after this instant (their creation or issue)."
        from: String
        "Records dated before this instant."
        to: String
        expiresAt: String!
        purpose: String!
        grantedBy: Actor!
        grantedAt: String!
        txId: String!
        status: String!
        revocation: AuditGrantRevocation
      }

      "An auditor's live grants and what they open together."
      type AuditScope {
        asOf: String!
        grants: [AuditGrant!]!
        organisations: [String!]!
        kinds: [AuditRecordKind!]!
        from: String
        to: String
      }

      type ReadLogPrincipal {
        kind: String!
        id: String!
        userId: String!
        mspId: String!
        role: String!
      }

      "One read by an auditor or HR system, and its link in the hash chain."
      type ReadLogEntry {
        seq: Int!
        at: String!
        principal: ReadLogPrincipal!
        operation: String!
        "HMAC-SHA256 (hex) of the RFC 8785 JSON of the read's arguments, keyed with the row's salt, which no page shows."
        argumentsSha256: String!
        kinds: [AuditRecordKind!]!
        "The caller's organisation: the others a read concerned are withheld."
        organisations: [String!]!
        "Records of the read's kinds it answered (root fields that are no records, such as me, count none); 0 when refused."
        resultCount: Int!
        status: Int!
        "The grants the caller's organisation gave that covered the read; others' are withheld."
        grants: [String!]!
        prevHash: String!
        hash: String!
      }

      type ReadLogPage {
        entries: [ReadLogEntry!]!
        "Pass as after for the next page; null on the last page."
        nextAfter: Int
      }

      type AuditGrantPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        grant: AuditGrant!
      }

      input AuditorInput {
        mspId: String!
        userId: String
      }

      input GrantAuditAccessInput {
        "Makes the request safe to repeat; generated when left out."
        requestId: String
        grantId: ID!
        auditor: AuditorInput!
        kinds: [AuditRecordKind!]!
        from: String
        to: String
        expiresAt: String!
        purpose: String!
      }

      ${ledgerPageTypeDefs('AuditGrantPage', 'AuditGrant', 'One page of audit grants, in grant id order.')}
      extend type Query {
        "An admin's grants given by their organisation, or an auditor's grants held, in grant id order. One page: first (1 to 500, 100 when left out) from the cursor after; auditGrantPage says where the next starts."
        auditGrants(first: Int, after: String): [AuditGrant!]!
        "The same list as auditGrants, one page at a time: pass pageInfo.endCursor as after for the next."
        auditGrantPage(first: Int, after: String): AuditGrantPage!
        "The calling auditor's live grants and their union."
        auditScope: AuditScope!
        "Reads by auditors and HR systems concerning the caller's organisation (role admin), oldest first; other organisations and their grants withheld."
        readLog(after: Int, first: Int): ReadLogPage!
      }

      extend type Mutation {
        "Role admin: let an auditor read the caller's organisation's records of these kinds."
        grantAuditAccess(input: GrantAuditAccessInput!): AuditGrantPayload!
        "Role admin of the granting organisation."
        revokeAuditAccess(
          grantId: ID!
          reason: String!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): AuditGrantPayload!
      }
    `,
    access: {
      Query: {
        auditGrants: 'audit:read',
        auditGrantPage: 'audit:read',
        auditScope: 'audit:read',
        readLog: 'admin',
      },
      Mutation: {
        grantAuditAccess: 'audit:write',
        revokeAuditAccess: 'audit:write',
      },
    },
    resolvers: {
      Query: {
        auditGrants: auditGrantList.list,
        auditGrantPage: auditGrantList.page,
        auditScope: (_parent: unknown, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => (await reader(context)).getAuditScope()),
        readLog: (_parent: unknown, args: { after?: number | null; first?: number | null }, context: GraphqlContext) =>
          resolveWith(context, () => {
            const requester = resolverRequester(context, 'admin');
            // The REST query calls the page size `limit`; GraphQL's argument is `first`.
            const query = parseArguments(readLogArgumentsSchema, {
              ...(args.after == null ? {} : { after: args.after }),
              ...(args.first == null ? {} : { first: args.first }),
            });
            // Its page counts against the request's records as a ledger list's does, so a
            // page size passed as a variable (which the cost limit does not see) is bounded too.
            claimLedgerRecords(context, query.first);
            return service.readLogPage(requester, query.after, query.first);
          }),
      },
      Mutation: {
        grantAuditAccess: (_parent: unknown, args: { input: Record<string, unknown> }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const as = resolverRequester(context, 'audit:write');
            // Refused before its input is judged, as over REST (the route's `personOnly`).
            requirePersonFor(as.principal, 'grant audit access');
            // GraphQL gives absent optional fields as null; the chaincode's schema wants them left out.
            const input = Object.fromEntries(Object.entries(args.input).filter(([, value]) => value != null));
            if (typeof input.auditor === 'object' && input.auditor !== null) {
              input.auditor = Object.fromEntries(Object.entries(input.auditor).filter(([, value]) => value != null));
            }
            const request = parseCommand(grantAuditAccessBodySchema, input, 'input');
            return payload(await service.grantAccess(as, request, 'input'), request.requestId);
          }),
        revokeAuditAccess: (
          _parent: unknown,
          args: { grantId: string; reason: string; requestId?: string | null },
          context: GraphqlContext,
        ) =>
          resolveWith(context, async () => {
            const { grantId } = parseArguments(grantArgs, { grantId: args.grantId });
            const { reason, requestId } = args;
            const body = parseCommand(revokeAuditAccessBodySchema, inputFields({ reason, requestId }), null);
            const requester = resolverRequester(context, 'audit:write');
            return payload(
              await fieldsUnder(null, () => service.revokeAccess(requester, { grantId, ...body })),
              body.requestId,
            );
          }),
      },
    },
  };
}
