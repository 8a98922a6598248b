import type { AccountService } from '../auth/account-service.js';
import type { Submitted } from '@gigledger/gateway';
import { z } from 'zod';
import {
  licensingTransactions as commands,
  licensedWorkIdSchema,
  offerIdSchema,
  offerLicenceRequestSchema,
  reportUsageRequestSchema,
} from '@gigledger/chaincode/model';
import { resolverRequester, resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { parseCommand, withRequestId } from '../http/request-ids.js';
import { parseArguments, parseInput } from '../http/route.js';
import type { Committed, CommandRequest } from '../ledger/committed.js';
import { inputFields } from '../graphql/input-arguments.js';
import type { SettlementDesk } from '../agreements/agreement-service.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { visible, visiblePart } from '../ledger/visible.js';
import { acceptBodySchema, LicensingService, offerBodySchema, usageBodySchema } from './licensing-routes.js';
import { ledgerPageInfo, ledgerPageShape, readLedgerPage } from '../http/ledger-pages.js';
import { claimLedgerRecords } from '../graphql/ledger-list-fields.js';

const offerArgs = z.strictObject({ offerId: offerIdSchema });

/** A command's envelope with its result under a typed name, as every GraphQL command payload has. */
function payload<Value, Name extends string>(name: Name, done: Committed<Value>) {
  return {
    requestId: done.requestId,
    transactionId: done.transactionId,
    blockNumber: done.blockNumber,
    [name]: done.result,
  } as { requestId: string; transactionId: string; blockNumber: string } & Record<Name, Value>;
}

/**
 * Licences and royalties over GraphQL, with the same rules as REST: offers (every owner
 * consents), grants, revocation, monthly usage reports, closing a month into royalty
 * payouts, and reads that show a record only to those with a stake in it.
 */
export function licensingSchema(deps: {
  ledger: LedgerAccess;
  accounts: AccountService;
  settlement?: { desk: SettlementDesk } | undefined;
}): SchemaModule {
  const service = new LicensingService(deps.ledger, deps.accounts, deps.settlement?.desk);
  const reader = (context: GraphqlContext) => service.client(resolverRequester(context, 'licensing:read'));
  const writer = (context: GraphqlContext) => resolverRequester(context, 'licensing:write');
  /** Runs a command as the caller and answers its payload, with chaincode validation reported under `input`. */
  const commandAt = async <Value, Name extends string>(
    context: GraphqlContext,
    payloadName: Name,
    name: Parameters<LicensingService['command']>[1],
    requestId: string,
    run: (client: Awaited<ReturnType<LicensingService['client']>>) => Promise<Submitted<Value>>,
  ) => payload(payloadName, await service.command(writer(context), name, requestId, run, null));
  const command = async <Value, Name extends string>(
    context: GraphqlContext,
    payloadName: Name,
    name: Parameters<LicensingService['command']>[1],
    requestId: string,
    run: (client: Awaited<ReturnType<LicensingService['client']>>) => Promise<Submitted<Value>>,
  ) => payload(payloadName, await service.command(writer(context), name, requestId, run, 'input'));
  /**
   * A mutation whose arguments are the whole request (ids, a reason, a request id):
   * parsed with the transaction's request schema (refusals name the argument), run as
   * the caller under the request id given or one generated, chaincode validation
   * reported under the argument's own name.
   */
  const argumentsCommand =
    <Schema extends z.ZodType<{ readonly requestId?: string | undefined }>, Value, Name extends string>(
      schema: Schema,
      payloadName: Name,
      name: Parameters<LicensingService['command']>[1],
      run: (
        client: Awaited<ReturnType<LicensingService['client']>>,
        request: CommandRequest<z.output<Schema>>,
      ) => Promise<Submitted<Value>>,
    ) =>
    (_parent: unknown, args: unknown, context: GraphqlContext) =>
      resolveWith(context, () => {
        const request = parseCommand(schema, inputFields(args), null);
        return commandAt(context, payloadName, name, request.requestId, (client) => run(client, request));
      });
  return {
    typeDefs: /* GraphQL */ `
      type OwnerShare {
        party: Party!
        "Basis points; the shares of a work sum to 10 000."
        shareBps: Int!
      }

      type OfferConsent {
        party: Party!
        at: String!
        txId: String!
      }

      type LicenceOffer {
        offerId: ID!
        workId: String!
        "Null for an open offer any non-owner may accept."
        licensee: Party
        "commercial, research or evaluation."
        scope: String!
        fieldsOfUse: [String!]!
        territories: [String!]!
        exclusive: Boolean!
        termStart: String!
        termEnd: String!
        royaltyBps: Int
        "Minor units per reported unit, as a decimal string."
        perUnitAmount: String
        "Owed once, on acceptance."
        fee: LicenceFee
        currency: String!
        termsSha256: String!
        owners: [OwnerShare!]!
        consents: [OfferConsent!]!
        "awaiting-consent, open, accepted or withdrawn."
        status: String!
        offeredBy: Actor!
        offeredAt: String!
        txId: String!
      }

      type LicenceFee {
        "Minor units of the licence currency, as a decimal string."
        amount: String!
      }

      type FeePayout {
        "The payout's instruction id (the id it will carry while the fee awaits collection)."
        instructionId: ID!
        payee: Party!
        shareBps: Int!
        amount: String!
        "awaiting-collection until the licensee's payment of the fee is confirmed; then pending, paid or failed."
        status: String!
        "On a failed part issued again: the instruction that replaces it."
        reissuedAs: String
      }

      "One collection of a grant's fee from the licensee."
      type FeeCollection {
        instructionId: ID!
        amount: String!
        "pending, paid or failed."
        status: String!
        "On a failed collection issued again: the instruction that replaces it."
        reissuedAs: String
      }

      type GrantFee {
        amount: String!
        "collecting until the licensee's payment is confirmed, settling until every outstanding owner's part is paid, then paid."
        status: String
        "The collections from the licensee: the first, and any issued again after a failure."
        collections: [FeeCollection!]
        payouts: [FeePayout!]
      }

      type GrantRevocation {
        by: Actor!
        reason: String!
        at: String!
        txId: String!
      }

      type LicenceGrant {
        grantId: ID!
        offerId: String!
        workId: String!
        licensee: Party!
        scope: String!
        fieldsOfUse: [String!]!
        territories: [String!]!
        exclusive: Boolean!
        termStart: String!
        expiresAt: String!
        royaltyBps: Int
        perUnitAmount: String
        "The one-off fee and how each owner's part of it stands."
        fee: GrantFee
        currency: String!
        termsSha256: String!
        "active or revoked."
        status: String!
        acceptedAt: String!
        txId: String!
        revocation: GrantRevocation
      }

      type UsageReport {
        grantId: String!
        periodId: String!
        units: String!
        "Minor units of the licence currency."
        revenue: String!
        currency: String!
        "What the report owes: floor of the royalty basis points of revenue, plus units times the per-unit amount."
        royalty: String!
        reportedBy: Actor!
        at: String!
        txId: String!
      }

      type RoyaltyInstruction {
        instructionId: ID!
        "collection (the licensee pays what the period owes), then royalty payouts, or licence-fee payouts for the one-off fee (period fee)."
        kind: String!
        "The licensee."
        payer: Party!
        "The owner paid; null on a collection."
        payee: Party
        "The payee's share of the work in basis points; 10000 on a collection."
        shareBps: Int!
        amount: String!
        currency: String!
        "pending, paid or failed."
        status: String!
        requestedAt: String!
        "MSP id of the organisation whose settlement service sends this instruction (the first listed in settlementOrganisations when it was issued); null on instructions issued before the ledger named one."
        settlingOrganisation: String
        "The provider's answer as recorded by the settlement service."
        confirmation: JSON
        "On a failed payout issued again: the instruction that replaces it."
        reissuedAs: String
        reissueOf: String
      }

      "One owner's part of what a period owes, fixed when it closed."
      type RoyaltyShare {
        party: Party!
        shareBps: Int!
        "Minor units of the licence currency."
        amount: String!
      }

      type RoyaltyPeriodClosing {
        royalty: String!
        currency: String!
        reported: Boolean!
        "The owners' parts, paid once the collection from the licensee is confirmed."
        shares: [RoyaltyShare!]
        "The collection from the licensee, then the owners' payouts."
        instructions: [RoyaltyInstruction!]!
        "collecting, settling, paid or nothing-due."
        status: String!
        closedBy: Actor!
        closedAt: String!
        txId: String!
      }

      type RoyaltyPeriod {
        grantId: String!
        "A calendar month in UTC, YYYY-MM."
        periodId: String!
        start: String!
        end: String!
        report: UsageReport
        closed: RoyaltyPeriodClosing
      }

      "One page of a work's offers and grants (grants, then offers, each by id): up to first records between them."
      type WorkLicences {
        workId: String!
        offers: [LicenceOffer!]!
        grants: [LicenceGrant!]!
        "Where the next page starts; a page may hold fewer records than first, even none, with more to follow."
        pageInfo: LedgerPageInfo!
      }

      type LicenceOfferPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        offer: LicenceOffer!
      }

      type LicenceGrantPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        grant: LicenceGrant!
      }

      type UsageReportPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        report: UsageReport!
      }

      type RoyaltyPeriodPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        period: RoyaltyPeriodClosing!
      }

      "The fields of the REST API's offerLicence body, terms document included."
      input OfferLicenceInput {
        requestId: String
        offerId: ID!
        workId: String!
        licensee: PartyInput
        scope: String!
        fieldsOfUse: [String!]!
        territories: [String!]!
        exclusive: Boolean!
        termStart: String!
        termEnd: String!
        royaltyBps: Int
        perUnitAmount: String
        fee: LicenceFeeInput
        currency: String!
        "The terms document, e.g. {text: \\"…\\"}; kept off the channel ledger."
        terms: JSON!
      }

      input LicenceFeeInput {
        "Minor units of the offer's currency, above zero, as a decimal string."
        amount: String!
      }

      input AcceptLicenceOfferInput {
        requestId: String
        offerId: ID!
        grantId: ID!
        termsSha256: String!
      }

      input ReportLicenceUsageInput {
        requestId: String
        grantId: ID!
        periodId: String!
        units: String!
        revenue: String!
        currency: String!
      }

      extend type Query {
        licenceOffer(offerId: ID!): LicenceOffer!
        licenceGrant(grantId: ID!): LicenceGrant!
        royaltyPeriod(grantId: ID!, periodId: String!): RoyaltyPeriod!
        workLicences(workId: String!, first: Int, after: String): WorkLicences!
      }

      extend type Mutation {
        "An owner of the work; it opens once every owner consented."
        offerLicence(input: OfferLicenceInput!): LicenceOfferPayload!
        "A co-owner named on the offer."
        consentToLicenceOffer(
          offerId: ID!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): LicenceOfferPayload!
        withdrawLicenceOffer(
          offerId: ID!
          reason: String!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): LicenceOfferPayload!
        "The named licensee, or any non-owner for an open offer."
        acceptLicenceOffer(input: AcceptLicenceOfferInput!): LicenceGrantPayload!
        "An owner of the work, for cause."
        revokeLicenceGrant(
          grantId: ID!
          reason: String!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): LicenceGrantPayload!
        "The licensee, once per month."
        reportLicenceUsage(input: ReportLicenceUsageInput!): UsageReportPayload!
        "The licensee, an owner, the settlement service or an auditor under a grant, once the month has ended."
        closeRoyaltyPeriod(
          grantId: ID!
          periodId: String!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): RoyaltyPeriodPayload!
        "A failed instruction of a month or of the fee (periodId fee) issued again as a new instruction: a payout (its payee or the settlement service), or the collection from the licensee (the licensee or the settlement service)."
        reissueRoyaltyPayout(
          grantId: ID!
          periodId: String!
          instructionId: ID!
          "Makes the request safe to repeat; generated when left out."
          requestId: String
        ): RoyaltyPeriodPayload!
        "Records by hand the answer to a collection or payout of a month or of the fee (periodId fee) that the settlement service gave up on (a dead letter); role settlement of the organisation running the service, scope settlements:write. The service records its providers' answers itself."
        confirmRoyaltyPayout(input: ConfirmRoyaltyPayoutInput!): RoyaltyPeriodPayload!
      }

      input ConfirmRoyaltyPayoutInput {
        "Makes the request safe to repeat; generated when left out."
        requestId: String
        grantId: ID!
        "A month (YYYY-MM) or fee."
        periodId: String!
        instructionId: ID!
        outcome: SettlementOutcome!
        providerReference: String!
        "The settlement service's id of the payout account paid."
        payoutAccountId: String
        "Required when the payment failed."
        reason: String
      }
    `,
    access: {
      Query: {
        licenceOffer: 'licensing:read',
        licenceGrant: 'licensing:read',
        royaltyPeriod: 'licensing:read',
        workLicences: 'licensing:read',
      },
      Mutation: {
        offerLicence: 'licensing:write',
        consentToLicenceOffer: 'licensing:write',
        withdrawLicenceOffer: 'licensing:write',
        acceptLicenceOffer: 'licensing:write',
        revokeLicenceGrant: 'licensing:write',
        reportLicenceUsage: 'licensing:write',
        closeRoyaltyPeriod: 'licensing:write',
        reissueRoyaltyPayout: 'licensing:write',
        confirmRoyaltyPayout: 'settlements:write',
      },
    },
    resolvers: {
      Query: {
        licenceOffer: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = parseArguments(offerArgs, args);
            const client = await reader(context);
            return visible(`licence offer ${request.offerId}`, 'offerId', () => client.getOffer(request));
          }),
        licenceGrant: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = parseArguments(commands.getGrant.request, args);
            const client = await reader(context);
            return visible(`licence grant ${request.grantId}`, 'grantId', () => client.getGrant(request));
          }),
        royaltyPeriod: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = parseArguments(commands.getRoyaltyPeriod.request, args);
            const client = await reader(context);
            return visiblePart(`licence grant ${request.grantId}`, 'grantId', 'periodId', () =>
              client.getRoyaltyPeriod(request),
            );
          }),
        workLicences: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const { workId, first, after } = parseArguments(
              z.strictObject({ workId: licensedWorkIdSchema, ...ledgerPageShape }),
              inputFields(args),
            );
            claimLedgerRecords(context, first);
            const client = await reader(context);
            const page = await readLedgerPage({ first, after }, 'after', async (paging) => {
              const { bookmark, ...licences } = await client.listWorkLicences({ workId, ...paging });
              return { items: [licences], bookmark };
            });
            const [licences] = page.items;
            return { ...(licences ?? { workId, offers: [], grants: [] }), pageInfo: ledgerPageInfo(page) };
          }),
      },
      Mutation: {
        offerLicence: (_parent: unknown, args: { input: Record<string, unknown> }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const { terms, ...fields } = parseInput(offerBodySchema, withoutNulls(args.input), 'input');
            const request = parseInput(offerLicenceRequestSchema, withRequestId(fields), 'input');
            return payload('offer', await service.offerLicence(writer(context), request, terms, 'input'));
          }),
        consentToLicenceOffer: argumentsCommand(
          commands.consentToOffer.request,
          'offer',
          'consentToOffer',
          (client, request) => client.consentToOffer(request),
        ),
        withdrawLicenceOffer: argumentsCommand(
          commands.withdrawOffer.request,
          'offer',
          'withdrawOffer',
          (client, request) => client.withdrawOffer(request),
        ),
        acceptLicenceOffer: (_parent: unknown, args: { input: Record<string, unknown> }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const { offerId, ...fields } = withoutNulls(args.input);
            const body = parseInput(acceptBodySchema, fields, 'input');
            const offer = parseInput(offerArgs, { offerId }, 'input');
            const request = withRequestId({ ...body, ...offer });
            return command(context, 'grant', 'acceptOffer', request.requestId, (client) => client.acceptOffer(request));
          }),
        revokeLicenceGrant: argumentsCommand(commands.revokeGrant.request, 'grant', 'revokeGrant', (client, request) =>
          client.revokeGrant(request),
        ),
        reportLicenceUsage: (_parent: unknown, args: { input: Record<string, unknown> }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const { grantId, ...fields } = withoutNulls(args.input);
            const body = parseInput(usageBodySchema, fields, 'input');
            const request = parseInput(reportUsageRequestSchema, withRequestId({ ...body, grantId }), 'input');
            return command(context, 'report', 'reportUsage', request.requestId, (client) =>
              client.reportUsage(request),
            );
          }),
        closeRoyaltyPeriod: argumentsCommand(
          commands.closeRoyaltyPeriod.request,
          'period',
          'closeRoyaltyPeriod',
          (client, request) => client.closeRoyaltyPeriod(request),
        ),
        reissueRoyaltyPayout: argumentsCommand(
          commands.reissueRoyaltyPayout.request,
          'period',
          'reissueRoyaltyPayout',
          (client, request) => client.reissueRoyaltyPayout(request),
        ),
        confirmRoyaltyPayout: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const request = parseCommand(commands.confirmRoyaltyPayout.request, inputFields(args.input), 'input');
            const as = resolverRequester(context, 'settlements:write');
            return payload('period', await service.confirmRoyaltyPayout(as, request, 'input'));
          }),
      },
    },
  };
}

/** GraphQL sends left-out optional input fields as absent but explicit nulls as null; the model knows no null. */
function withoutNulls(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null));
}
