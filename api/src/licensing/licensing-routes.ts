import { withTermsSalt } from '../agreements/terms-salt.js';
import { z } from 'zod';
import {
  canonicalInput,
  grantIdSchema,
  licenceGrantRecordSchema,
  licenceOfferRecordSchema,
  licenceTermsResultSchema,
  licenceTermsSchema,
  licenceTermsTransientKey,
  licensedWorkIdSchema,
  licensingCommandRoles,
  licensingTransactions,
  offerIdSchema,
  offerLicenceRequestSchema,
  payoutPeriodIdSchema,
  reportUsageRequestSchema,
  royaltyPeriodIdSchema,
  royaltyPeriodRecordSchema,
  royaltyPeriodViewSchema,
  sha256HexSchema,
  usageReportRecordSchema,
  workLicencesSchema,
  type ConfirmRoyaltyPayoutRequest,
  type LicenceOfferRecord,
  type LicenceTerms,
  type LicensingCommand,
  type OfferLicenceRequest,
  type RoyaltyPeriodRecord,
} from '@gigledger/chaincode/model';
import type { AccountService } from '../auth/account-service.js';
import { requireKnownParties } from '../auth/known-parties.js';
import type { Submitted } from '@gigledger/gateway';
import { requireOneOfRoles } from '../agreements/agreement-gates.js';
import { answerByHand, type SettlementDesk } from '../agreements/agreement-service.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { commandBodySchema, optionalRequestIdSchema, withRefinementsOf } from '../http/request-ids.js';
import { parseInput, route, type RouteSpec } from '../http/route.js';
import { routeRequester } from '../http/route-requester.js';
import { committed, committedSchema, type Committed, type CommandRequest } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import { visible, visiblePart, visibleToReaders } from '../ledger/visible.js';
import { answerWithPage, ledgerPageQuerySchema, nextPageLinkHeader, readLedgerPage } from '../http/ledger-pages.js';

const tag = 'licensing';
const offersPath = '/v1/licensing/offers';
const offerPath = `${offersPath}/:offerId`;
const grantsPath = '/v1/licensing/grants';
const grantPath = `${grantsPath}/:grantId`;
const periodPath = `${grantPath}/periods/:periodId`;
const offerParams = z.strictObject({ offerId: offerIdSchema });
const grantParams = z.strictObject({ grantId: grantIdSchema });
const periodParams = z.strictObject({ grantId: grantIdSchema, periodId: royaltyPeriodIdSchema });
/** A month, or `fee` for the grant's one-off fee, whose failed payouts are issued again alike. */
const payoutParams = z.strictObject({ grantId: grantIdSchema, periodId: payoutPeriodIdSchema });
const noQuery = z.strictObject({});

/** An offer as posted: the licence fields, the terms document (kept private) and an optional request id. */
export const offerBodySchema = canonicalInput(
  withRefinementsOf(
    offerLicenceRequestSchema,
    z.strictObject({
      ...offerLicenceRequestSchema.shape,
      requestId: optionalRequestIdSchema,
      terms: licenceTermsSchema,
    }),
  ),
);
export const acceptBodySchema = canonicalInput(
  z.strictObject({
    requestId: optionalRequestIdSchema,
    grantId: grantIdSchema,
    termsSha256: sha256HexSchema,
  }),
);
export const usageBodySchema = canonicalInput(
  z.strictObject({
    ...reportUsageRequestSchema.omit({ grantId: true }).shape,
    requestId: optionalRequestIdSchema,
  }),
);
const commands = licensingTransactions;
const consentBodySchema = commandBodySchema(commands.consentToOffer.request, ['offerId']);
const withdrawBodySchema = canonicalInput(commandBodySchema(commands.withdrawOffer.request, ['offerId']));
const revokeBodySchema = canonicalInput(commandBodySchema(commands.revokeGrant.request, ['grantId']));
const closeBodySchema = commandBodySchema(commands.closeRoyaltyPeriod.request, ['grantId', 'periodId']);
const reissueBodySchema = canonicalInput(
  commandBodySchema(commands.reissueRoyaltyPayout.request, ['grantId', 'periodId']),
);
const confirmBodySchema = canonicalInput(
  commandBodySchema(commands.confirmRoyaltyPayout.request, ['grantId', 'periodId']),
);

/** What the caller of each command tries to do, for the refusal at the edge. */
const commandActions: Readonly<Record<LicensingCommand, string>> = {
  offerLicence: 'offer a licence',
  consentToOffer: 'consent to a licence offer',
  withdrawOffer: 'withdraw a licence offer',
  acceptOffer: 'accept a licence offer',
  revokeGrant: 'revoke a licence grant',
  reportUsage: 'report licence usage',
  closeRoyaltyPeriod: 'close a royalty period',
  confirmRoyaltyPayout: 'confirm a royalty payout',
  reissueRoyaltyPayout: 'reissue a failed royalty payout',
};

/** Reaches the licensing contract as the caller; refuses roles the chaincode's table refuses before any call. */
export class LicensingService {
  constructor(
    private readonly ledger: LedgerAccess,
    /** Who this server enrols: a named licensee in one of its organisations must exist. */
    private readonly accounts: Pick<AccountService, 'roleOfIdentity'>,
    /** The settlement service this server runs, whose dead letters a person may answer. */
    private readonly settlementDesk?: SettlementDesk,
  ) {}

  async client(as: Requester) {
    return (await this.ledger.clientFor(as.principal, as.log)).licensing;
  }

  /**
   * Runs a command as the caller, reporting chaincode validation under the input part
   * the caller sent (`body` for REST, `input` for GraphQL, `null` for GraphQL arguments).
   *
   * @throws ApiError 403 naming the role the command needs; 422 naming the field;
   *   RefusedError from the chaincode.
   */
  async command<Value>(
    as: Requester,
    name: LicensingCommand,
    requestId: string,
    run: (client: Awaited<ReturnType<LicensingService['client']>>) => Promise<Submitted<Value>>,
    part: 'body' | 'input' | null = 'body',
  ): Promise<Committed<Value>> {
    requireOneOfRoles(as.principal, licensingCommandRoles[name], commandActions[name]);
    const client = await this.client(as);
    return committed(await fieldsUnder(part, () => run(client)), requestId);
  }

  /**
   * Offers a licence, its terms document in the transient map only.
   *
   * @throws ApiError 422 `<part>.licensee.userId` for a licensee this server enrols who does
   *   not exist or could not accept (see requireKnownParties); as {@link command} otherwise.
   */
  async offerLicence(
    as: Requester,
    request: CommandRequest<OfferLicenceRequest>,
    terms: LicenceTerms,
    part: 'body' | 'input',
  ): Promise<Committed<LicenceOfferRecord>> {
    if (request.licensee !== undefined) {
      requireOneOfRoles(as.principal, licensingCommandRoles.offerLicence, commandActions.offerLicence);
      await requireKnownParties(this.accounts, [
        { party: request.licensee, field: `${part}.licensee`, roles: licensingCommandRoles.acceptOffer },
      ]);
    }
    return this.command(
      as,
      'offerLicence',
      request.requestId,
      (client) =>
        client.offerLicence(request, {
          // The same request sent again gets the same salt, so the same hash (see withTermsSalt).
          transient: {
            [licenceTermsTransientKey]: withTermsSalt(terms, [
              'licence terms',
              as.principal.mspId,
              as.principal.userId,
              request.requestId,
            ]),
          },
        }),
      part,
    );
  }

  /**
   * Records a person's answer to a collection or payout of a month or of the fee. Where
   * this server runs the settlement service, its providers' answers are recorded by the
   * service itself; a person answers only one it gave up on (a dead letter), under the
   * same rule as a milestone's (see `answerByHand`).
   *
   * @throws ApiError 403 (role, or another organisation than the settlement service's);
   *   409 INVALID_STATE naming `<part>.instructionId` while the instruction is with its
   *   provider; 422 naming the field; RefusedError from the chaincode.
   */
  async confirmRoyaltyPayout(
    as: Requester,
    request: CommandRequest<ConfirmRoyaltyPayoutRequest>,
    part: 'body' | 'input',
  ): Promise<Committed<RoyaltyPeriodRecord>> {
    const record = () =>
      this.command(
        as,
        'confirmRoyaltyPayout',
        request.requestId,
        (client) => client.confirmRoyaltyPayout(request),
        part,
      );
    const desk = this.settlementDesk;
    if (desk === undefined) return record();
    requireOneOfRoles(as.principal, licensingCommandRoles.confirmRoyaltyPayout, commandActions.confirmRoyaltyPayout);
    return answerByHand(as.principal, desk, request, record, part);
  }
}

const commandErrors = [404, 409, 503, 504] as const;
const readErrors = [404, 503] as const;

/**
 * Licences and royalties over REST: offers by a work's owners (every owner consents),
 * grants to licensees, revocation, monthly usage reports and the closing of a month into
 * royalty payouts, which the settlement service pays. The chaincode decides who may act
 * on which record; a read of a record the caller may not see answers 404 like a missing one.
 */
export function licensingRoutes(deps: {
  ledger: LedgerAccess;
  accounts: AccountService;
  settlement?: { desk: SettlementDesk } | undefined;
}): RouteSpec[] {
  const service = new LicensingService(deps.ledger, deps.accounts, deps.settlement?.desk);
  return [
    route({
      method: 'post',
      path: offersPath,
      operationId: 'offerLicence',
      summary:
        'Offer a licence of a work the caller owns (role client or freelancer): licensee or open, scope, fields of use, territories, exclusivity, term, one-off fee and/or royalty; the terms document stays off the channel ledger',
      tag,
      command: true,
      access: 'licensing:write',
      body: offerBodySchema,
      response: committedSchema(licenceOfferRecordSchema),
      status: 201,
      errors: [404, 409, 503, 504],
      handler: async ({ body, setHeader, principal, log }) => {
        const { terms, ...fields } = body;
        const request = parseInput(offerLicenceRequestSchema, fields, 'body');
        const made = await service.offerLicence(routeRequester({ principal, log }), request, terms, 'body');
        setHeader('Location', `${offersPath}/${encodeURIComponent(request.offerId)}`);
        return made;
      },
    }),
    route({
      method: 'get',
      path: offerPath,
      operationId: 'getLicenceOffer',
      summary: 'One licence offer with its owners, consents and status',
      tag,
      access: 'licensing:read',
      params: offerParams,
      query: noQuery,
      response: licenceOfferRecordSchema,
      errors: readErrors,
      handler: async ({ params, principal, log }) => {
        const client = await service.client(routeRequester({ principal, log }));
        return visible(`licence offer ${params.offerId}`, 'offerId', () => client.getOffer(params));
      },
    }),
    route({
      method: 'get',
      path: `${offerPath}/terms`,
      operationId: 'getLicenceTerms',
      summary: "An offer's terms document and its SHA-256, for the owners and the licensee (403 for other readers)",
      tag,
      access: 'licensing:read',
      params: offerParams,
      query: noQuery,
      response: licenceTermsResultSchema,
      // 403 for a reader who is not a party to it (an overseer, an auditor under a grant), with the reason.
      errors: [403, ...readErrors],
      handler: async ({ params, principal, log }) => {
        const client = await service.client(routeRequester({ principal, log }));
        return visibleToReaders(`licence offer ${params.offerId}`, 'offerId', () => client.getLicenceTerms(params));
      },
    }),
    route({
      method: 'post',
      path: `${offerPath}/consents`,
      operationId: 'consentToLicenceOffer',
      summary: 'Consent, as a co-owner named on the offer, to a licence offer; it opens when every owner has',
      tag,
      access: 'licensing:write',
      command: true,
      params: offerParams,
      body: consentBodySchema,
      response: committedSchema(licenceOfferRecordSchema),
      errors: commandErrors,
      handler: ({ params, body, principal, log }) =>
        service.command(routeRequester({ principal, log }), 'consentToOffer', body.requestId, (client) =>
          client.consentToOffer({ ...body, ...params }),
        ),
    }),
    route({
      method: 'post',
      path: `${offerPath}/withdrawal`,
      operationId: 'withdrawLicenceOffer',
      summary: 'Withdraw an offer nobody has taken up, with a reason (an owner named on it)',
      tag,
      access: 'licensing:write',
      command: true,
      params: offerParams,
      body: withdrawBodySchema,
      response: committedSchema(licenceOfferRecordSchema),
      errors: commandErrors,
      handler: ({ params, body, principal, log }) =>
        service.command(routeRequester({ principal, log }), 'withdrawOffer', body.requestId, (client) =>
          client.withdrawOffer({ ...params, ...body }),
        ),
    }),
    route({
      method: 'post',
      path: `${offerPath}/grants`,
      operationId: 'acceptLicenceOffer',
      summary:
        'Accept an open offer as its licensee (any non-owner for an open offer), naming the SHA-256 of the terms read; the grant gets its own id and expires when the term ends',
      tag,
      command: true,
      access: 'licensing:write',
      params: offerParams,
      body: acceptBodySchema,
      response: committedSchema(licenceGrantRecordSchema),
      status: 201,
      errors: commandErrors,
      handler: async ({ params, body, setHeader, principal, log }) => {
        const request = { ...body, ...params };
        const granted = await service.command(
          routeRequester({ principal, log }),
          'acceptOffer',
          request.requestId,
          (client) => client.acceptOffer(request),
        );
        setHeader('Location', `${grantsPath}/${encodeURIComponent(body.grantId)}`);
        return granted;
      },
    }),
    route({
      method: 'get',
      path: grantPath,
      operationId: 'getLicenceGrant',
      summary:
        'One grant (its licensee, the owners of the work, admins of their organisations, auditors under a grant, the settlement service)',
      tag,
      access: 'licensing:read',
      params: grantParams,
      query: noQuery,
      response: licenceGrantRecordSchema,
      errors: readErrors,
      handler: async ({ params, principal, log }) => {
        const client = await service.client(routeRequester({ principal, log }));
        return visible(`licence grant ${params.grantId}`, 'grantId', () => client.getGrant(params));
      },
    }),
    route({
      method: 'post',
      path: `${grantPath}/revocation`,
      operationId: 'revokeLicenceGrant',
      summary:
        'Revoke a grant for cause, with the reason (an owner of the work); no usage is reported on it afterwards',
      tag,
      access: 'licensing:write',
      command: true,
      params: grantParams,
      body: revokeBodySchema,
      response: committedSchema(licenceGrantRecordSchema),
      errors: commandErrors,
      handler: ({ params, body, principal, log }) =>
        service.command(routeRequester({ principal, log }), 'revokeGrant', body.requestId, (client) =>
          client.revokeGrant({ ...params, ...body }),
        ),
    }),
    route({
      method: 'post',
      path: `${grantPath}/usage-reports`,
      operationId: 'reportLicenceUsage',
      summary:
        "Report a calendar month's usage (the licensee): units and revenue in minor units of the licence currency, once per month while the grant is in force",
      tag,
      command: true,
      access: 'licensing:write',
      params: grantParams,
      body: usageBodySchema,
      response: committedSchema(usageReportRecordSchema),
      status: 201,
      errors: commandErrors,
      handler: ({ params, body, principal, log }) => {
        const request = parseInput(reportUsageRequestSchema, { ...body, ...params }, 'body');
        return service.command(routeRequester({ principal, log }), 'reportUsage', request.requestId, (client) =>
          client.reportUsage(request),
        );
      },
    }),
    route({
      method: 'get',
      path: periodPath,
      operationId: 'getRoyaltyPeriod',
      summary:
        "A month (YYYY-MM) of a grant: its usage report and, once closed, the royalty and each co-owner's payout (pending, paid, failed); or its one-off fee (period `fee`, due at acceptance): the fee's collections and payouts, each failed one with its reason and reissue, as the audit index lists them under period `fee` (404 naming `periodId` for a grant that charges no fee)",
      tag,
      access: 'licensing:read',
      params: payoutParams,
      query: noQuery,
      response: royaltyPeriodViewSchema,
      errors: readErrors,
      handler: async ({ params, principal, log }) => {
        const client = await service.client(routeRequester({ principal, log }));
        return visiblePart(`licence grant ${params.grantId}`, 'grantId', 'periodId', () =>
          client.getRoyaltyPeriod(params),
        );
      },
    }),
    route({
      method: 'post',
      path: `${periodPath}/closing`,
      operationId: 'closeRoyaltyPeriod',
      summary:
        'Close an ended month (its licensee, an owner, the settlement service or an auditor): the royalty is split among the owners by share and paid through the settlement service',
      tag,
      access: 'licensing:write',
      command: true,
      params: periodParams,
      body: closeBodySchema,
      response: committedSchema(royaltyPeriodRecordSchema),
      errors: commandErrors,
      handler: ({ params, body, principal, log }) =>
        service.command(routeRequester({ principal, log }), 'closeRoyaltyPeriod', body.requestId, (client) =>
          client.closeRoyaltyPeriod({ ...body, ...params }),
        ),
    }),
    route({
      method: 'post',
      path: `${periodPath}/failed-payouts/reissue`,
      operationId: 'reissueRoyaltyPayout',
      summary:
        'Issue a failed instruction of a month or of the fee (period `fee`) again as a new instruction: a payout, e.g. after its payee fixed their payout account (its payee or the settlement service), or the collection from the licensee, e.g. after they funded their account (the licensee or the settlement service)',
      tag,
      access: 'licensing:write',
      command: true,
      params: payoutParams,
      body: reissueBodySchema,
      response: committedSchema(royaltyPeriodRecordSchema),
      errors: commandErrors,
      handler: ({ params, body, principal, log }) =>
        service.command(routeRequester({ principal, log }), 'reissueRoyaltyPayout', body.requestId, (client) =>
          client.reissueRoyaltyPayout({ ...params, ...body }),
        ),
    }),
    route({
      method: 'post',
      path: `${periodPath}/settlement-confirmations`,
      operationId: 'confirmRoyaltyPayout',
      summary:
        "Record by hand the answer to a collection or payout of a month or of the fee (period `fee`) that the settlement service gave up on (a dead letter); role settlement of the organisation running the service, scope settlements:write. The service records its providers' answers itself",
      tag,
      access: 'settlements:write',
      command: true,
      params: payoutParams,
      body: confirmBodySchema,
      response: committedSchema(royaltyPeriodRecordSchema),
      errors: [403, ...commandErrors],
      handler: ({ params, body, principal, log }) =>
        service.confirmRoyaltyPayout(routeRequester({ principal, log }), { ...params, ...body }, 'body'),
    }),
    route({
      method: 'get',
      path: '/v1/licensing/works/:workId/licences',
      operationId: 'listWorkLicences',
      summary:
        'The offers and grants of a work the caller may see (grants, then offers, each by id), one page of up to `first` records at a time',
      tag,
      access: 'licensing:read',
      params: z.strictObject({ workId: licensedWorkIdSchema }),
      query: ledgerPageQuerySchema,
      response: workLicencesSchema,
      responseHeaders: [nextPageLinkHeader],
      errors: readErrors,
      handler: async ({ params, query, principal, log, setHeader }) => {
        const client = await service.client(routeRequester({ principal, log }));
        const page = await readLedgerPage(query, 'query.after', async (paging) => {
          const { bookmark, ...licences } = await client.listWorkLicences({ ...params, ...paging });
          return { items: [licences], bookmark };
        });
        const path = `/v1/licensing/works/${encodeURIComponent(params.workId)}/licences`;
        const [licences] = answerWithPage(page, { path, query, setHeader });
        return licences ?? { workId: params.workId, offers: [], grants: [] };
      },
    }),
  ];
}
