import {
  agreementIdSchema,
  agreementTermsSchema,
  milestoneIdSchema,
  partySchema,
  type PartyQueryRole,
} from '@gigledger/chaincode/model';
import { type GraphqlContext, resolverRequester, resolveWith } from '../../graphql/context.js';
import { parseArguments, parseInput } from '../../http/route.js';
import { graphqlPage, ledgerPageShape } from '../../http/ledger-pages.js';
import { claimLedgerRecords } from '../../graphql/ledger-list-fields.js';
import { z } from 'zod';
import { fieldSentAs } from '../../http/refusal-fields.js';
import type { AgreementService } from '../agreement-service.js';
import { nodeOfView } from './agreement-nodes.js';
import { withoutNulls } from '../../graphql/input-arguments.js';

interface MilestoneArgs {
  readonly agreementId: string;
  readonly milestoneId: string;
}

/** @throws ApiError 422 naming the argument at fault. */
function milestoneRef(args: MilestoneArgs): MilestoneArgs {
  return {
    agreementId: parseInput(agreementIdSchema, args.agreementId, 'agreementId'),
    milestoneId: parseInput(milestoneIdSchema, args.milestoneId, 'milestoneId'),
  };
}

interface AgreementListArgs {
  readonly party?: unknown;
  readonly role?: PartyQueryRole | null;
  readonly completed?: boolean | null;
  readonly first?: unknown;
  readonly after?: unknown;
}

const pageArgumentsSchema = z.object(ledgerPageShape);

/**
 * One page of a party's agreements for the `agreements` and `agreementPage` fields.
 *
 * @throws ApiError 422 naming the argument at fault (`party.userId`, `first`, `after`).
 */
async function agreementPage(service: AgreementService, context: GraphqlContext, args: AgreementListArgs) {
  const as = resolverRequester(context, 'agreements:read');
  const party = args.party == null ? undefined : parseInput(partySchema, withoutNulls(args.party), 'party');
  const page = parseArguments(pageArgumentsSchema, withoutNulls({ first: args.first, after: args.after }));
  claimLedgerRecords(context, page.first);
  const listed = await service.listAgreements(as, {
    party,
    role: args.role ?? undefined,
    completed: args.completed ?? undefined,
    page,
    afterField: 'after',
  });
  return {
    items: listed.items.map((entry) => ({
      role: entry.role,
      agreement: entry.completed === undefined ? entry.agreement : { ...entry.agreement, completed: entry.completed },
    })),
    endCursor: listed.endCursor,
  };
}

/**
 * One page of the calling arbitrator's disputes for the `panelDisputes` and
 * `panelDisputePage` fields; each agreement a node whose other fields are read as the caller.
 *
 * @throws ApiError 422 naming the argument at fault (`first`, `after`).
 */
async function panelDisputePage(
  service: AgreementService,
  context: GraphqlContext,
  args: { readonly decided?: boolean | null; readonly first?: unknown; readonly after?: unknown },
) {
  const as = resolverRequester(context, 'agreements:read');
  const page = parseArguments(pageArgumentsSchema, withoutNulls({ first: args.first, after: args.after }));
  claimLedgerRecords(context, page.first);
  return service.listPanelDisputes(as, { decided: args.decided ?? undefined, page, afterField: 'after' });
}

/** The agreement queries; all need scope agreements:read and go through the service's visibility rules. */
export function agreementQueryResolvers(service: AgreementService) {
  return {
    agreement: (_parent: unknown, args: { id: string }, context: GraphqlContext) =>
      resolveWith(context, async () => {
        const as = resolverRequester(context, 'agreements:read');
        const agreementId = parseInput(agreementIdSchema, args.id, 'id');
        return nodeOfView(await fieldSentAs('agreementId', 'id', () => service.getAgreement(as, agreementId)));
      }),

    agreements: (_parent: unknown, args: AgreementListArgs, context: GraphqlContext) =>
      resolveWith(context, async () => (await agreementPage(service, context, args)).items),

    agreementPage: (_parent: unknown, args: AgreementListArgs, context: GraphqlContext) =>
      resolveWith(context, async () => graphqlPage(await agreementPage(service, context, args))),

    panelDisputes: (_parent: unknown, args: { decided?: boolean | null }, context: GraphqlContext) =>
      resolveWith(context, async () => (await panelDisputePage(service, context, args)).items),

    panelDisputePage: (_parent: unknown, args: { decided?: boolean | null }, context: GraphqlContext) =>
      resolveWith(context, async () => graphqlPage(await panelDisputePage(service, context, args))),

    milestoneHistory: (_parent: unknown, args: MilestoneArgs, context: GraphqlContext) =>
      resolveWith(context, () =>
        service.milestoneHistory(resolverRequester(context, 'agreements:read'), milestoneRef(args)),
      ),

    tasks: (_parent: unknown, args: MilestoneArgs, context: GraphqlContext) =>
      resolveWith(context, () => service.listTasks(resolverRequester(context, 'agreements:read'), milestoneRef(args))),

    agreementTerms: (_parent: unknown, args: { agreementId: string }, context: GraphqlContext) =>
      resolveWith(context, () =>
        service.getTerms(
          resolverRequester(context, 'agreements:read'),
          parseInput(agreementIdSchema, args.agreementId, 'agreementId'),
        ),
      ),

    verifyAgreementTerms: (_parent: unknown, args: { agreementId: string; terms: unknown }, context: GraphqlContext) =>
      resolveWith(context, () =>
        service.verifyTerms(resolverRequester(context, 'agreements:read'), {
          agreementId: parseInput(agreementIdSchema, args.agreementId, 'agreementId'),
          terms: parseInput(agreementTermsSchema, withoutNulls(args.terms), 'terms'),
        }),
      ),
  };
}
