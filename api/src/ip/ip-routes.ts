import { z } from 'zod';
import {
  canonicalInput,
  ipCommandRoles,
  ipTransactions,
  ownershipChangeIdSchema,
  ownershipChangeViewSchema,
  partySchema,
  sha256HexSchema,
  workEndorsementSchema,
  workIdSchema,
  workRecordSchema,
  type IpCommand,
  type OwnerShare,
  type Party,
} from '@gigledger/chaincode/model';
import type { AccountService } from '../auth/account-service.js';
import { requireKnownParties } from '../auth/known-parties.js';
import type { LedgerClient } from '@gigledger/gateway';
import { requireOneOfRoles } from '../agreements/agreement-gates.js';
import { commandBodySchema } from '../http/request-ids.js';
import { routeRequester } from '../http/route-requester.js';
import { route, type RouteSpec } from '../http/route.js';
import { committed, committedSchema } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import { visible } from '../ledger/visible.js';
import { answerWithPage, ledgerPageQuerySchema, nextPageLinkHeader, readLedgerPage } from '../http/ledger-pages.js';

const tag = 'ip';
const worksPath = '/v1/ip/works';
const workPath = `${worksPath}/:workId`;
const changesPath = `${workPath}/ownership-changes`;
const changePath = `${changesPath}/:changeId`;
const workParams = z.strictObject({ workId: workIdSchema });
const changeParams = z.strictObject({ workId: workIdSchema, changeId: ownershipChangeIdSchema });
/** The reads take no query parameters; an unknown one is refused rather than ignored. */
const noQuery = z.strictObject({});

export const registerWorkBodySchema = canonicalInput(commandBodySchema(ipTransactions.registerWork.request, []));
/** Body of a proposed ownership change; the work comes from the path. */
export const proposeOwnershipChangeBodySchema = canonicalInput(
  commandBodySchema(ipTransactions.proposeOwnershipChange.request, ['workId']),
);
export const declineOwnershipChangeBodySchema = canonicalInput(
  commandBodySchema(ipTransactions.declineOwnershipChange.request, ['workId', 'changeId']),
);
/** Approval and withdrawal: the path names the change, the body only the request id. */
export const ownershipChangeCommandBodySchema = commandBodySchema(ipTransactions.approveOwnershipChange.request, [
  'workId',
  'changeId',
]);

/** What each command is, in words, for the 403 a caller of the wrong role gets. */
const commandActions: Record<IpCommand, string> = {
  registerWork: 'register a work',
  proposeOwnershipChange: 'propose an ownership change',
  approveOwnershipChange: 'approve an ownership change',
  declineOwnershipChange: 'decline an ownership change',
  withdrawOwnershipChange: 'withdraw an ownership change',
};

/** Who may own a work: whoever can approve what concerns it. */
const ipOwnerRoles = ipCommandRoles.approveOwnershipChange;

/** Reaches the `ip` contract as the caller. */
export class IpService {
  constructor(
    private readonly ledger: LedgerAccess,
    private readonly accounts: Pick<AccountService, 'roleOfIdentity'>,
  ) {}

  /**
   * Refuses owners or creators this server should know and does not (see
   * requireKnownParties): an owner must be a client or freelancer, who can approve what
   * concerns the work; a creator any identity.
   *
   * @param part where the request's fields were sent: `body` (REST) or `input` (GraphQL).
   * @throws ApiError 422 VALIDATION_FAILED naming `<part>.owners.N.party.userId` or `<part>.creators.N.userId`.
   */
  async requireKnownParties(
    request: { readonly owners?: readonly OwnerShare[] | undefined; readonly creators?: readonly Party[] | undefined },
    part: 'body' | 'input',
  ): Promise<void> {
    await requireKnownParties(this.accounts, [
      ...(request.owners ?? []).map((owner, index) => ({
        party: owner.party,
        field: `${part}.owners.${String(index)}.party`,
        roles: ipOwnerRoles,
      })),
      ...(request.creators ?? []).map((creator, index) => ({
        party: creator,
        field: `${part}.creators.${String(index)}`,
      })),
    ]);
  }

  async client(as: Requester): Promise<LedgerClient['ip']> {
    return (await this.ledger.clientFor(as.principal, as.log)).ip;
  }

  /**
   * The caller's client for a command, after the role gate the chaincode applies too.
   *
   * @throws ApiError 403 FORBIDDEN for a role the command's row in `ipCommandRoles` does not list.
   */
  async commander(as: Requester, command: IpCommand): Promise<LedgerClient['ip']> {
    requireOneOfRoles(as.principal, ipCommandRoles[command], commandActions[command]);
    return this.client(as);
  }
}

const commandErrors = [404, 409, 503, 504] as const;
/** What every read shares: a GET under scope ip:read without query parameters. */
const ipRead = { method: 'get', tag, access: 'ip:read', query: noQuery, errors: [404, 503] } as const;
/** What every command on an ownership change shares. */
const changeCommand = {
  method: 'post',
  tag,
  access: 'ip:write',
  params: changeParams,
  response: committedSchema(ownershipChangeViewSchema),
  errors: commandErrors,
  command: true,
} as const;

/**
 * IP records over REST: registration by content hash (a duplicate answers 409 naming the
 * first registration), lookup by id, hash or owner, and ownership changes that apply
 * once every current owner has approved. Work records are public to every signed-in
 * caller, as a registry of priority must be; an ownership change is shown only to the
 * owners it concerns, admins of their organisations and auditors under a grant (404 to
 * anyone else).
 */
export function ipRoutes(deps: { ledger: LedgerAccess; accounts: AccountService }): RouteSpec[] {
  const service = new IpService(deps.ledger, deps.accounts);
  return [
    route({
      method: 'post',
      path: worksPath,
      operationId: 'registerWork',
      summary:
        "Register a work by the SHA-256 of its content (role client or freelancer); the ledger's timestamp is its priority date and the caller owns it alone or with the co-owners named (shares summing to 10000 basis points)",
      tag,
      command: true,
      access: 'ip:write',
      body: registerWorkBodySchema,
      response: committedSchema(workRecordSchema),
      status: 201,
      errors: [409, 503, 504],
      handler: async ({ body, principal, log, setHeader }) => {
        const client = await service.commander(routeRequester({ principal, log }), 'registerWork');
        await service.requireKnownParties(body, 'body');
        const submitted = await client.registerWork(body);
        setHeader('Location', `${worksPath}/${encodeURIComponent(body.workId)}`);
        return committed(submitted, body.requestId);
      },
    }),
    route({
      ...ipRead,
      path: workPath,
      operationId: 'getWork',
      summary: 'One work: its content hash, priority date, registering transaction and current owners',
      params: workParams,
      response: workRecordSchema,
      handler: async ({ params, principal, log }) =>
        (await service.client(routeRequester({ principal, log }))).getWork(params),
    }),
    route({
      ...ipRead,
      path: `${workPath}/endorsement`,
      operationId: 'getWorkEndorsement',
      summary:
        "The organisations whose peers must each endorse a change of the work: its owners' organisations, as the key's endorsement policy on the ledger names them",
      params: workParams,
      response: workEndorsementSchema,
      handler: async ({ params, principal, log }) =>
        (await service.client(routeRequester({ principal, log }))).getWorkEndorsement(params),
    }),
    route({
      ...ipRead,
      path: '/v1/ip/content-hashes/:contentHash',
      operationId: 'findWorkByContentHash',
      summary: 'The work registered first with a content hash, to check priority before registering or licensing',
      params: z.strictObject({ contentHash: sha256HexSchema }),
      response: workRecordSchema,
      handler: async ({ params, principal, log }) =>
        (await service.client(routeRequester({ principal, log }))).findWorkByContentHash(params),
    }),
    route({
      method: 'get',
      path: '/v1/ip/owners/:mspId/:userId/works',
      operationId: 'listWorksByOwner',
      summary: 'Works a person owns a share of now, in work id order, one page at a time',
      tag,
      access: 'ip:read',
      params: partySchema,
      query: ledgerPageQuerySchema,
      response: z.array(workRecordSchema),
      responseHeaders: [nextPageLinkHeader],
      errors: [503],
      handler: async ({ params, query, principal, log, setHeader }) => {
        const client = await service.client(routeRequester({ principal, log }));
        const page = await readLedgerPage(query, 'query.after', (paging) =>
          client.listWorksByOwner({ owner: params, ...paging }),
        );
        const path = `/v1/ip/owners/${encodeURIComponent(params.mspId)}/${encodeURIComponent(params.userId)}/works`;
        return answerWithPage(page, { path, query, setHeader });
      },
    }),
    route({
      method: 'post',
      path: changesPath,
      operationId: 'proposeOwnershipChange',
      summary:
        'An owner proposes new owners and shares (a transfer or a new split); it counts as their approval and applies once every current owner has approved',
      tag,
      command: true,
      access: 'ip:write',
      params: workParams,
      body: proposeOwnershipChangeBodySchema,
      response: committedSchema(ownershipChangeViewSchema),
      status: 201,
      errors: commandErrors,
      handler: async ({ params, body, principal, log, setHeader }) => {
        const client = await service.commander(routeRequester({ principal, log }), 'proposeOwnershipChange');
        const request = { ...body, ...params };
        await service.requireKnownParties(request, 'body');
        const submitted = await client.proposeOwnershipChange(request);
        setHeader('Location', `${worksPath}/${encodeURIComponent(params.workId)}/ownership-changes/${body.changeId}`);
        return committed(submitted, request.requestId);
      },
    }),
    route({
      ...ipRead,
      path: changesPath,
      operationId: 'listOwnershipChanges',
      summary:
        "The work's ownership changes the caller may see (as an owner concerned, or an auditor), in change id order, one page at a time",
      params: workParams,
      query: ledgerPageQuerySchema,
      response: z.array(ownershipChangeViewSchema),
      responseHeaders: [nextPageLinkHeader],
      handler: async ({ params, query, principal, log, setHeader }) => {
        const client = await service.client(routeRequester({ principal, log }));
        const page = await readLedgerPage(query, 'query.after', (paging) =>
          client.listOwnershipChanges({ ...params, ...paging }),
        );
        const path = `${worksPath}/${encodeURIComponent(params.workId)}/ownership-changes`;
        return answerWithPage(page, { path, query, setHeader });
      },
    }),
    route({
      ...ipRead,
      path: changePath,
      operationId: 'getOwnershipChange',
      summary: 'One ownership change with the approvals still awaited and whether it went stale',
      params: changeParams,
      response: ownershipChangeViewSchema,
      handler: async ({ params, principal, log }) => {
        const client = await service.client(routeRequester({ principal, log }));
        return visible(`ownership change ${params.changeId} of work ${params.workId}`, 'changeId', () =>
          client.getOwnershipChange(params),
        );
      },
    }),
    route({
      ...changeCommand,
      path: `${changePath}/approvals`,
      operationId: 'approveOwnershipChange',
      summary:
        "A current owner approves, in their own transaction; the last approval applies the change and the work's endorsement policy moves to the new owners' organisations",
      body: ownershipChangeCommandBodySchema,
      handler: async ({ params, body, principal, log }) => {
        const client = await service.commander(routeRequester({ principal, log }), 'approveOwnershipChange');
        return committed(await client.approveOwnershipChange({ ...body, ...params }), body.requestId);
      },
    }),
    route({
      ...changeCommand,
      path: `${changePath}/declination`,
      operationId: 'declineOwnershipChange',
      summary: 'A current owner other than the proposer refuses the change, with a reason, which closes it',
      body: declineOwnershipChangeBodySchema,
      handler: async ({ params, body, principal, log }) => {
        const client = await service.commander(routeRequester({ principal, log }), 'declineOwnershipChange');
        return committed(await client.declineOwnershipChange({ ...body, ...params }), body.requestId);
      },
    }),
    route({
      ...changeCommand,
      path: `${changePath}/withdrawal`,
      operationId: 'withdrawOwnershipChange',
      summary: 'The proposer takes an open change back',
      body: ownershipChangeCommandBodySchema,
      handler: async ({ params, body, principal, log }) => {
        const client = await service.commander(routeRequester({ principal, log }), 'withdrawOwnershipChange');
        return committed(await client.withdrawOwnershipChange({ ...body, ...params }), body.requestId);
      },
    }),
  ];
}
