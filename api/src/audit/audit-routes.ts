import { createHash } from 'node:crypto';
import { wholeNumber } from '../http/whole-number.js';
import { z } from 'zod';
import {
  auditGrantIdSchema,
  auditGrantRecordSchema,
  auditRecordKindSchema,
  auditScopeSchema,
  canonicalInput,
  auditTransactions,
  readLogAnchorSchema,
  reasonSchema,
} from '@gigledger/chaincode/model';
import type { LedgerClient } from '@gigledger/gateway';
import type { Db } from '../db/database.js';
import type { AccountService } from '../auth/account-service.js';
import type { Principal } from '../auth/principal.js';
import { requirePersonFor } from '../auth/person-only.js';
import { requireKnownParties } from '../auth/known-parties.js';
import { ApiError } from '../errors/api-error.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { route, type RouteSpec } from '../http/route.js';
import { routeRequester } from '../http/route-requester.js';
import { committed, committedSchema, type CommandRequest, type Committed } from '../ledger/committed.js';
import { optionalRequestIdSchema } from '../http/request-ids.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import type { ReadLogAnchor } from '@gigledger/chaincode/model';
import { grantsChanged } from './audit-scopes.js';
import { asSeenBy, ReadLog, type ReadLogRow } from './read-log.js';
import { verifyReadLog, type ReadLogAnchorer } from './read-log-anchorer.js';
import {
  answerWithPage,
  ledgerPageQuerySchema,
  nextPageLinkHeader,
  readEveryLedgerPage,
  readLedgerPage,
} from '../http/ledger-pages.js';

const tag = 'audit';
const grantsPath = '/v1/audit/grants';
const grantParams = z.strictObject({ grantId: auditGrantIdSchema });
const noQuery = z.strictObject({});

/** Grant ids are chosen by the granting admin, so repeating a grant is refused by id rather than keyed by a header. */
export const grantAuditAccessBodySchema = canonicalInput(auditTransactions.grantAuditAccess.request);
export const revokeAuditAccessBodySchema = canonicalInput(
  z.strictObject({ requestId: optionalRequestIdSchema, reason: reasonSchema }),
);

export const readLogEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  principal: z.object({ kind: z.string(), id: z.string(), userId: z.string(), mspId: z.string(), role: z.string() }),
  operation: z.string(),
  argumentsSha256: z
    .string()
    .describe(
      "HMAC-SHA256 (hex) of the RFC 8785 JSON of the read's arguments, keyed with the row's salt, which no page shows",
    ),
  kinds: z.array(auditRecordKindSchema),
  organisations: z.array(z.string()),
  resultCount: z
    .number()
    .int()
    .describe(
      "Records of the read's kinds it answered (GraphQL root fields that are no records, such as me, count none); 0 when refused.",
    ),
  status: z.number().int(),
  grants: z.array(z.string()),
  prevHash: z.string(),
  hash: z.string(),
});
export const readLogPageSchema = z.object({
  entries: z.array(readLogEntrySchema),
  /** Pass as `after` for the next page; absent on the last page. */
  nextAfter: z.number().int().optional(),
});
export const readLogQuerySchema = z.strictObject({
  after: wholeNumber(z.number().min(0)).default(0),
  limit: wholeNumber(z.number().min(1).max(500)).default(100),
});
export const readLogVerificationSchema = z.object({
  ok: z.boolean(),
  rows: z.number().int(),
  headHash: z.string(),
  anchorsChecked: z.number().int(),
  latestAnchor: z.object({ sequence: z.number().int(), headHash: z.string(), txId: z.string() }).optional(),
  firstBadRow: z.object({ seq: z.number().int(), reason: z.string() }).optional(),
  otherLogs: z
    .array(z.object({ logId: z.string(), sequence: z.number().int(), txId: z.string() }))
    .optional()
    .describe(
      "The organisation's other read logs anchored on the ledger (other API deployments), each at its latest anchor",
    ),
});

/** How this server anchors its read log: the anchorer (service identity) and the organisation the anchors are under. */
export interface ReadLogAnchoring {
  /** In an HTTP worker of a cluster, the primary's anchorer, asked over IPC. */
  readonly anchorer: Pick<ReadLogAnchorer, 'anchorRequested'>;
  readonly mspId: string;
}

/**
 * The request id under which the anchoring identity sends `caller`'s anchor request
 * `requestId`: a digest of both, within the ledger's request-id alphabet and length.
 */
export function anchorRequestId(caller: Pick<Principal, 'mspId' | 'identityLabel'>, requestId: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([caller.mspId, caller.identityLabel, requestId]))
    .digest('hex');
  return `anchor-${digest}`;
}

/** Audit grants as the caller, and the read log as the organisation's admins see it. */
export class AuditService {
  readonly #readLog: ReadLog;

  constructor(
    private readonly deps: {
      ledger: LedgerAccess;
      db: Db;
      serviceLedger: LedgerClient;
      accounts: AccountService;
      readLogAnchoring?: ReadLogAnchoring;
    },
  ) {
    this.#readLog = new ReadLog(deps.db);
  }

  async client(as: Requester) {
    return (await this.deps.ledger.clientFor(as.principal, as.log)).audit;
  }

  /**
   * Grants access as the caller, once the grant names an auditor: a grant naming one
   * person (`auditor.userId`) of an organisation this server enrols for must name an
   * active identity with role `auditor` there. The ledger never sees a grantee's role (a
   * certificate attribute), so this server's accounts are where it is known; a person of
   * an organisation enrolled elsewhere is left to the chaincode, which lets only an
   * `auditor` read through a grant. A grant to every auditor of an organisation names no
   * person, so there is nobody else to check.
   *
   * @param part the input's name in refusals: `body` over REST, `input` over GraphQL.
   * @throws ApiError 403 FORBIDDEN when an API key calls: a grant outlives the key (see
   *   requirePersonFor).
   * @throws ApiError 422 VALIDATION_FAILED `<part>.auditor.userId` when the person named is
   *   no active auditor here (see requireKnownParties); the chaincode's refusals
   *   (`<part>.<field>` for its validation).
   */
  async grantAccess(
    as: Requester,
    request: CommandRequest<z.output<typeof auditTransactions.grantAuditAccess.request>>,
    part: 'body' | 'input',
  ) {
    requirePersonFor(as.principal, 'grant audit access');
    const { mspId, userId } = request.auditor;
    if (userId !== undefined) {
      await requireKnownParties(this.deps.accounts, [
        { party: { mspId, userId }, field: `${part}.auditor`, roles: ['auditor'] },
      ]);
    }
    const client = await this.client(as);
    const submitted = await fieldsUnder(part, () => client.grantAuditAccess(request));
    grantsChanged();
    return submitted;
  }

  /**
   * Revokes a grant the caller's organisation gave, as the caller.
   *
   * @throws the chaincode's refusals: NOT_FOUND (404) for a grant the organisation did not
   *   give, INVALID_STATE (409) for one already revoked; the ledger's errors (503, 504).
   */
  async revokeAccess(as: Requester, request: CommandRequest<{ grantId: string; reason: string }>) {
    const client = await this.client(as);
    const submitted = await client.revokeAuditAccess(request);
    grantsChanged();
    return submitted;
  }

  /** Ids of every audit grant the caller may list (an admin: its organisation's), page after page. */
  async #grantIdsVisibleTo(as: Requester): Promise<Set<string>> {
    const client = await this.client(as);
    const grants = await readEveryLedgerPage((page) => client.listAuditGrants(page));
    return new Set(grants.map((grant) => grant.grantId));
  }

  /**
   * Entries of the read log concerning the caller's organisation, oldest first, each with
   * the other organisations it concerned and the grants others gave withheld
   * ({@link asSeenBy}). The grants the organisation gave are asked of the ledger as the
   * caller, once per page and only when a row on it names a grant.
   *
   * @throws the ledger's errors (503) when a row names grants and the ledger cannot be asked.
   */
  async readLogPage(
    as: Requester,
    after: number,
    limit: number,
  ): Promise<{ entries: ReadLogRow[]; nextAfter?: number }> {
    const { mspId } = as.principal;
    const entries = await this.#readLog.concerning(mspId, after, limit + 1);
    const page = entries.slice(0, limit);
    const given = page.some((row) => row.grants.length > 0) ? await this.#grantIdsVisibleTo(as) : new Set<string>();
    const shown = page.map((row) => asSeenBy(row, mspId, given));
    const last = page.at(-1);
    return entries.length > limit && last !== undefined ? { entries: shown, nextAfter: last.seq } : { entries: shown };
  }

  #anchoring(): ReadLogAnchoring {
    if (this.deps.readLogAnchoring === undefined) {
      throw new ApiError(
        503,
        'READ_LOG_ANCHORING_UNAVAILABLE',
        'this server has no identity to anchor its read log with',
      );
    }
    return this.deps.readLogAnchoring;
  }

  verify() {
    return verifyReadLog(this.#readLog, this.deps.serviceLedger, this.#anchoring().mspId);
  }

  /**
   * Anchors the read log's head now, as the command `requestId` of `caller`; a retry is
   * answered the stored anchor even after the log grew (see
   * `ReadLogAnchorer.anchorRequested`). Every anchor is submitted by the server's one
   * anchoring identity, so the id the ledger keeps is derived from the caller's identity
   * and its id ({@link anchorRequestId}): request ids are per caller, and another
   * organisation's admin using the same id must not be answered someone else's anchor.
   *
   * @throws ApiError 503 READ_LOG_ANCHORING_UNAVAILABLE without an anchoring identity;
   *   409 READ_LOG_EMPTY before the first read is logged; the chaincode's refusals.
   */
  async anchorNow(
    caller: Pick<Principal, 'mspId' | 'identityLabel'>,
    requestId: string,
  ): Promise<Committed<ReadLogAnchor>> {
    const { anchorer } = this.#anchoring();
    const submitted = await anchorer.anchorRequested(anchorRequestId(caller, requestId));
    if (submitted == null) {
      throw new ApiError(409, 'READ_LOG_EMPTY', 'the read log has no rows yet: there is nothing to anchor');
    }
    return committed(submitted, requestId);
  }
}

/**
 * Auditor access over REST. An organisation's admin grants an auditor read access to
 * the organisation's records (kinds, record time range, expiry) and revokes it; admins
 * and auditors list the grants they gave or hold; an auditor reads their scope. The
 * organisation's admins read the log of reads concerning it, verify the log against its
 * anchors on the ledger, and anchor it on demand.
 */
export function auditRoutes(deps: {
  ledger: LedgerAccess;
  db: Db;
  serviceLedger: LedgerClient;
  accounts: AccountService;
  readLogAnchoring?: ReadLogAnchoring;
}): RouteSpec[] {
  const service = new AuditService(deps);
  return [
    route({
      method: 'post',
      path: grantsPath,
      operationId: 'grantAuditAccess',
      summary:
        "Let an auditor (a person, or every auditor of an organisation) read the caller's organisation's records of the named kinds, dated within from/to, until expiresAt (role admin)",
      tag,
      access: 'audit:write',
      personOnly: 'grant audit access',
      command: true,
      body: grantAuditAccessBodySchema,
      response: committedSchema(auditGrantRecordSchema),
      status: 201,
      errors: [409, 503, 504],
      handler: async ({ body, principal, log, setHeader }) => {
        const submitted = await service.grantAccess(routeRequester({ principal, log }), body, 'body');
        setHeader('Location', `${grantsPath}/${encodeURIComponent(body.grantId)}`);
        return committed(submitted, body.requestId);
      },
    }),
    route({
      method: 'post',
      path: `${grantsPath}/:grantId/revocation`,
      operationId: 'revokeAuditAccess',
      summary: "End an audit grant the caller's organisation gave (role admin); reads under it stop at once",
      tag,
      access: 'audit:write',
      params: grantParams,
      command: true,
      body: revokeAuditAccessBodySchema,
      response: committedSchema(auditGrantRecordSchema),
      errors: [404, 409, 503, 504],
      handler: async ({ params, body, principal, log }) => {
        return committed(
          await service.revokeAccess(routeRequester({ principal, log }), { ...params, ...body }),
          body.requestId,
        );
      },
    }),
    route({
      method: 'get',
      path: grantsPath,
      operationId: 'listAuditGrants',
      summary:
        "An admin's grants given by their organisation, or an auditor's grants received, live or not; in grant id order, one page at a time",
      tag,
      access: 'audit:read',
      query: ledgerPageQuerySchema,
      response: z.array(auditGrantRecordSchema),
      responseHeaders: [nextPageLinkHeader],
      errors: [503],
      handler: async ({ query, principal, log, setHeader }) => {
        const client = await service.client(routeRequester({ principal, log }));
        const page = await readLedgerPage(query, 'query.after', (paging) => client.listAuditGrants(paging));
        return answerWithPage(page, { path: grantsPath, query, setHeader });
      },
    }),
    route({
      method: 'get',
      path: `${grantsPath}/:grantId`,
      operationId: 'getAuditGrant',
      summary: 'One audit grant, for an admin of the granting organisation or an auditor it names',
      tag,
      access: 'audit:read',
      params: grantParams,
      query: noQuery,
      response: auditGrantRecordSchema,
      errors: [404, 503],
      handler: async ({ params, principal, log }) =>
        (await service.client(routeRequester({ principal, log }))).getAuditGrant(params),
    }),
    route({
      method: 'get',
      path: '/v1/audit/scope',
      operationId: 'getAuditScope',
      summary:
        "The calling auditor's live grants and what they open together (organisations, kinds, record time range)",
      tag,
      access: 'audit:read',
      query: noQuery,
      response: auditScopeSchema,
      errors: [503],
      handler: async ({ principal, log }) => (await service.client(routeRequester({ principal, log }))).getAuditScope(),
    }),
    route({
      method: 'get',
      path: '/v1/audit/read-log',
      operationId: 'listReadLog',
      summary:
        "Reads by auditors and HR systems concerning the caller's organisation (role admin), oldest first, with the grants it gave that they were made under and their place in the hash chain; other organisations a read concerned, and grants they gave, are withheld",
      tag,
      access: 'admin',
      query: readLogQuerySchema,
      response: readLogPageSchema,
      errors: [503],
      handler: ({ query, principal, log }) =>
        service.readLogPage(routeRequester({ principal, log }), query.after, query.limit),
    }),
    route({
      method: 'get',
      path: '/v1/audit/read-log/verification',
      operationId: 'verifyReadLog',
      verbatimText: true,
      summary:
        "Recompute the read log's hash chain and compare it with its anchors on the ledger, naming the first row at fault (role admin)",
      tag,
      access: 'admin',
      query: noQuery,
      response: readLogVerificationSchema,
      errors: [503],
      handler: () => service.verify(),
    }),
    route({
      method: 'post',
      path: '/v1/audit/read-log/anchors',
      operationId: 'anchorReadLog',
      summary:
        "Anchor the read log's current head on the ledger now (role admin); answers the anchor, the latest one when the head was already anchored. A command: a retry with the same request id answers the same anchor",
      tag,
      access: 'admin',
      command: true,
      // Nothing to send but the request id; other fields are refused rather than silently ignored.
      body: z.strictObject({ requestId: optionalRequestIdSchema }),
      response: committedSchema(readLogAnchorSchema),
      errors: [409, 503, 504],
      handler: ({ body, principal, log }) =>
        service.anchorNow(routeRequester({ principal, log }).principal, body.requestId),
    }),
  ];
}
