import { z } from 'zod';
import {
  arbitratorRecordSchema,
  canonicalInput,
  genesisStateSchema,
  governanceTransactions,
  memberRecordSchema,
  mspIdSchema,
  parameterNameSchema,
  partySchema,
  proposalIdSchema,
  proposalViewSchema,
  ruleDescriptionSchema,
  type RuleRef,
} from '@gigledger/chaincode/model';
import { commandBodySchema } from '../http/request-ids.js';
import { route, type RouteSpec } from '../http/route.js';
import { committed, committedSchema } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import { routeRequester } from '../http/route-requester.js';
import { answerWithPage, ledgerPageQuerySchema, nextPageLinkHeader, readLedgerPage } from '../http/ledger-pages.js';

const tag = 'governance';
const proposalsPath = '/v1/governance/proposals';
const proposalPath = `${proposalsPath}/:proposalId`;
const proposalParams = z.strictObject({ proposalId: proposalIdSchema });

const commands = governanceTransactions;
export const proposeBodySchema = canonicalInput(commandBodySchema(commands.propose.request, []));
export const voteBodySchema = canonicalInput(commandBodySchema(commands.vote.request, ['proposalId']));
export const vetoBodySchema = canonicalInput(commandBodySchema(commands.veto.request, ['proposalId']));
export const executeBodySchema = commandBodySchema(commands.execute.request, ['proposalId']);
export const acceptMembershipBodySchema = commandBodySchema(commands.acceptMembership.request, []);
/** The reads take no query parameters; an unknown one is refused rather than ignored. */
const noQuery = z.strictObject({});

/** Reaches the ledger as the caller; every route here needs a principal. */
export class GovernanceService {
  constructor(private readonly ledger: LedgerAccess) {}

  async client(as: Requester) {
    return (await this.ledger.clientFor(as.principal, as.log)).governance;
  }

  async describe(as: Requester, rule: RuleRef) {
    return (await this.client(as)).describeRule(rule);
  }
}

const commandErrors = [404, 409, 503, 504] as const;
const readErrors = [404, 503] as const;

/**
 * Consortium governance over REST: proposals, one vote per member organisation, veto
 * during the timelock, execution by anyone, and where every rule came from. The
 * chaincode decides who may do what (governors of voting members propose and vote;
 * governors or auditors of a member with the veto right veto); scopes only keep
 * roles without any part in governance away from the commands.
 */
export function governanceRoutes(deps: { ledger: LedgerAccess }): RouteSpec[] {
  const service = new GovernanceService(deps.ledger);
  const describeRoute = <Params extends z.ZodType>(
    path: string,
    operationId: string,
    summary: string,
    params: Params,
    ruleOf: (params: z.output<Params>) => RuleRef,
  ) =>
    route({
      method: 'get',
      path,
      operationId,
      summary,
      tag,
      access: 'governance:read',
      params,
      query: noQuery,
      response: ruleDescriptionSchema,
      errors: readErrors,
      handler: ({ params: input, principal, log }) =>
        service.describe(routeRequester({ principal, log }), ruleOf(input)),
    });
  return [
    route({
      method: 'get',
      path: proposalsPath,
      operationId: 'listProposals',
      summary: 'The proposals with their votes, tally and phase now, in proposal id order, one page at a time',
      tag,
      access: 'governance:read',
      query: ledgerPageQuerySchema,
      response: z.array(proposalViewSchema),
      responseHeaders: [nextPageLinkHeader],
      errors: [503],
      handler: async ({ query, principal, log, setHeader }) => {
        const client = await service.client(routeRequester({ principal, log }));
        const page = await readLedgerPage(query, 'query.after', (paging) => client.listProposals(paging));
        return answerWithPage(page, { path: proposalsPath, query, setHeader });
      },
    }),
    route({
      method: 'post',
      path: proposalsPath,
      operationId: 'propose',
      summary:
        "Propose one or more changes to the consortium's rules (role governor of a member organisation with a voting right), with a voting window and a timelock of at least the governed minimums",
      tag,
      access: 'governance:write',
      command: true,
      body: proposeBodySchema,
      response: committedSchema(proposalViewSchema),
      status: 201,
      errors: [409, 503, 504],
      handler: async ({ body, principal, log, setHeader }) => {
        const client = await service.client(routeRequester({ principal, log }));
        const submitted = await client.propose(body);
        setHeader('Location', `${proposalsPath}/${encodeURIComponent(body.proposalId)}`);
        return committed(submitted, body.requestId);
      },
    }),
    route({
      method: 'get',
      path: proposalPath,
      operationId: 'getProposal',
      summary:
        'One proposal with its votes, tally and phase (voting, failed, timelocked, executable, vetoed, executed)',
      tag,
      access: 'governance:read',
      query: noQuery,
      params: proposalParams,
      response: proposalViewSchema,
      errors: readErrors,
      handler: async ({ params, principal, log }) =>
        (await service.client(routeRequester({ principal, log }))).getProposal(params),
    }),
    route({
      method: 'post',
      path: `${proposalPath}/votes`,
      operationId: 'voteOnProposal',
      summary:
        "Cast or change the caller's organisation's vote (role governor); one vote per organisation, changeable only by the governor who cast it, until the window closes",
      tag,
      access: 'governance:write',
      command: true,
      params: proposalParams,
      body: voteBodySchema,
      response: committedSchema(proposalViewSchema),
      errors: commandErrors,
      handler: async ({ params, body, principal, log }) => {
        const client = await service.client(routeRequester({ principal, log }));
        return committed(await client.vote({ ...body, ...params }), body.requestId);
      },
    }),
    route({
      method: 'post',
      path: `${proposalPath}/veto`,
      operationId: 'vetoProposal',
      summary:
        'Veto a passed proposal during its timelock, with a reason (role governor or auditor of a member organisation holding the veto right)',
      tag,
      access: 'governance:write',
      command: true,
      params: proposalParams,
      body: vetoBodySchema,
      response: committedSchema(proposalViewSchema),
      errors: commandErrors,
      handler: async ({ params, body, principal, log }) => {
        const client = await service.client(routeRequester({ principal, log }));
        return committed(await client.veto({ ...body, ...params }), body.requestId);
      },
    }),
    route({
      method: 'post',
      path: `${proposalPath}/execution`,
      operationId: 'executeProposal',
      summary:
        "Apply a passed proposal's actions once its timelock has run out; anyone signed in may, so no single party can hold a decision back",
      tag,
      access: 'governance:read',
      command: true,
      params: proposalParams,
      body: executeBodySchema,
      response: committedSchema(proposalViewSchema),
      errors: commandErrors,
      handler: async ({ params, body, principal, log }) =>
        committed(
          await (await service.client(routeRequester({ principal, log }))).execute({ ...body, ...params }),
          body.requestId,
        ),
    }),
    route({
      method: 'get',
      path: '/v1/governance/members',
      operationId: 'listMembers',
      summary: "Member organisations with their voting and veto rights, and each right's provenance",
      tag,
      access: 'governance:read',
      query: noQuery,
      response: z.array(memberRecordSchema),
      errors: [503],
      handler: async ({ principal, log }) => (await service.client(routeRequester({ principal, log }))).listMembers(),
    }),
    route({
      method: 'post',
      path: '/v1/governance/members/acceptance',
      operationId: 'acceptMembership',
      summary:
        "Take up the rights an executed proposal offered the caller's organisation (role governor of the invited organisation)",
      tag,
      access: 'governance:write',
      command: true,
      body: acceptMembershipBodySchema,
      response: committedSchema(memberRecordSchema),
      errors: commandErrors,
      handler: async ({ body, principal, log }) =>
        committed(
          await (await service.client(routeRequester({ principal, log }))).acceptMembership(body),
          body.requestId,
        ),
    }),
    route({
      method: 'get',
      path: '/v1/governance/arbitrators',
      operationId: 'listArbitrators',
      summary: 'Arbitrators dispute panels are drawn from (and those removed), with their provenance',
      tag,
      access: 'governance:read',
      query: noQuery,
      response: z.array(arbitratorRecordSchema),
      errors: [503],
      handler: async ({ principal, log }) =>
        (await service.client(routeRequester({ principal, log }))).listArbitrators(),
    }),
    route({
      method: 'get',
      path: '/v1/governance/genesis',
      operationId: 'getGenesis',
      summary: 'Whether the bootstrap administrator has handed the rules to governance, and when',
      tag,
      access: 'governance:read',
      query: noQuery,
      response: genesisStateSchema,
      errors: [503],
      handler: async ({ principal, log }) => (await service.client(routeRequester({ principal, log }))).getGenesis(),
    }),
    describeRoute(
      '/v1/governance/rules/parameters/:name',
      'describeParameterRule',
      'A parameter with the proposal, votes and execution that set it, or its genesis',
      z.strictObject({ name: parameterNameSchema }),
      ({ name }) => ({ kind: 'parameter', name }),
    ),
    describeRoute(
      '/v1/governance/rules/issuers/:mspId/:userId',
      'describeIssuerRule',
      "An issuer's current grant with the proposal, votes and execution that set it, or its genesis",
      partySchema,
      (issuer) => ({ kind: 'issuer', issuer }),
    ),
    describeRoute(
      '/v1/governance/rules/arbitrators/:mspId/:userId',
      'describeArbitratorRule',
      'An arbitrator with the proposal, votes and execution that added or removed them, or their genesis',
      partySchema,
      (arbitrator) => ({ kind: 'arbitrator', arbitrator }),
    ),
    describeRoute(
      '/v1/governance/rules/members/:mspId',
      'describeMemberRule',
      "A member organisation's rights with the proposal, votes and execution that set them, or their genesis",
      z.strictObject({ mspId: mspIdSchema }),
      ({ mspId }) => ({ kind: 'member', mspId }),
    ),
  ];
}
