import type { ProposalView, RuleDescription } from '@gigledger/chaincode/model';
import { SseSubscription } from '../test-support/sse-subscription.js';
import type { Committed } from '../ledger/committed.js';
import { startTestServer, type Person, type TestServer } from '../test-support/test-server.js';

const hour = 3600;
const kycOffice = { mspId: 'AuditOrgMSP', userId: 'kyc-office' };

describe('governance over HTTP', () => {
  let server: TestServer;
  let clientGovernor: Person;
  let clientGovernor2: Person;
  let talentGovernor: Person;
  let auditor: Person;
  let freelancer: Person;
  let admin: Person;
  let proposals = 0;

  beforeAll(async () => {
    server = await startTestServer();
    clientGovernor = await server.person('gov-clara', 'ClientOrg', 'governor');
    clientGovernor2 = await server.person('gov-chris', 'ClientOrg', 'governor');
    talentGovernor = await server.person('gov-theo', 'TalentOrg', 'governor');
    auditor = await server.person('audrey', 'AuditOrg', 'auditor');
    freelancer = await server.person('tara', 'TalentOrg', 'freelancer');
    admin = await server.person('ops', 'ClientOrg', 'admin');
    await server.genesis([
      { type: 'setMemberRights', mspId: 'ClientOrgMSP', voting: true, veto: false },
      { type: 'setMemberRights', mspId: 'TalentOrgMSP', voting: true, veto: false },
      { type: 'setMemberRights', mspId: 'AuditOrgMSP', voting: true, veto: true },
    ]);
    await server.sealGenesis();
  });

  afterAll(async () => {
    await server.close();
  });

  const propose = async (actions: unknown[], as: Person = clientGovernor, overrides: Record<string, unknown> = {}) => {
    proposals += 1;
    return server.request('POST', '/v1/governance/proposals', {
      token: as.token,
      body: {
        proposalId: `P-${proposals}`,
        title: 'Accredit the KYC office',
        text: 'Payouts need KYC credentials; the office checks identities for all members.',
        actions,
        votingSeconds: 2 * hour,
        timelockSeconds: hour,
        ...overrides,
      },
    });
  };
  const vote = (proposalId: string, as: Person, choice: string) =>
    server.request('POST', `/v1/governance/proposals/${proposalId}/votes`, { token: as.token, body: { choice } });
  const execute = (proposalId: string, as: Person = freelancer) =>
    server.request('POST', `/v1/governance/proposals/${proposalId}/execution`, { token: as.token, body: {} });

  it('adds an issuer by vote and shows who decided it; refusals name the rule with the matching status', async () => {
    const proposed = await propose([
      { type: 'registerIssuer', issuer: kycOffice, displayName: 'KYC office', credentialTypes: ['KYC'] },
    ]);
    expect(proposed.status).toBe(201);
    expect(proposed.headers.get('location')).toBe('/v1/governance/proposals/P-1');
    expect((proposed.body as Committed<ProposalView>).result.phase).toBe('voting');

    expect((await vote('P-1', clientGovernor, 'yes')).status).toBe(200);
    const twice = await vote('P-1', clientGovernor2, 'yes');
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ code: 'ALREADY_VOTED', field: 'path.proposalId' });
    const voted = await vote('P-1', talentGovernor, 'yes');
    expect((voted.body as Committed<ProposalView>).result.tally).toMatchObject({ yes: 2, passed: true });

    server.ledger.ledger.advanceSeconds(2 * hour);
    const early = await execute('P-1');
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'TIMELOCK_ACTIVE', field: 'path.proposalId' });
    const late = await vote('P-1', auditor, 'no');
    expect(late.status).toBe(403);

    server.ledger.ledger.advanceSeconds(hour);
    const executed = await execute('P-1');
    expect(executed.status).toBe(200);
    expect((executed.body as Committed<ProposalView>).result.phase).toBe('executed');

    const rule = await server.request('GET', '/v1/governance/rules/issuers/AuditOrgMSP/kyc-office', {
      token: auditor.token,
    });
    expect(rule.status).toBe(200);
    const described = rule.body as RuleDescription;
    expect(described.provenance).toMatchObject({
      source: 'proposal',
      proposalId: 'P-1',
      txId: (executed.body as Committed<ProposalView>).transactionId,
    });
    expect(described.proposal?.votes.map((cast) => cast.mspId)).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);

    const genesisRule = await server.request('GET', '/v1/governance/rules/parameters/platformFeeBps', {
      token: freelancer.token,
    });
    expect(genesisRule.body).toMatchObject({ provenance: { source: 'genesis' } });
    expect((genesisRule.body as RuleDescription).proposal).toBeUndefined();
  });

  it('refuses the admin paths after genesis with 403 GOVERNANCE_REQUIRED', async () => {
    const issuer = await server.request('PUT', '/v1/admin/issuers/AuditOrgMSP/someone', {
      token: admin.token,
      body: { displayName: 'Someone', credentialTypes: ['KYC'] },
    });
    expect(issuer.status).toBe(403);
    expect(issuer.body).toMatchObject({ code: 'GOVERNANCE_REQUIRED' });
  });

  it('answers 422 naming the field for a window below the governed minimum or a bad action', async () => {
    const short = await propose([{ type: 'setParameter', name: 'maxRevisions', value: 4 }], clientGovernor, {
      votingSeconds: 60,
    });
    expect(short.status).toBe(422);
    expect(short.body).toMatchObject({ field: 'body.votingSeconds' });
    const unfit = await propose([{ type: 'setParameter', name: 'maxRevisions', value: 400 }]);
    expect(unfit.status).toBe(422);
    expect(unfit.body).toMatchObject({ field: 'body.actions.0.value' });
    const unknown = await propose([{ type: 'crownKing', name: 'me' }]);
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ field: 'body.actions.0.type' });
    const notGovernor = await propose([{ type: 'setParameter', name: 'maxRevisions', value: 4 }], freelancer);
    expect(notGovernor.status).toBe(403);
    const unknownQuery = await server.request('GET', '/v1/governance/proposals?phase=bogus', {
      token: freelancer.token,
    });
    expect(unknownQuery.status).toBe(422);
  });

  it('lists proposals one page at a time over REST (Link) and GraphQL (proposalPage), each once', async () => {
    for (let made = 0; made < 3; made += 1) {
      expect((await propose([{ type: 'setParameter', name: 'maxRevisions', value: 4 }])).status).toBe(201);
    }
    const whole = await server.request('GET', '/v1/governance/proposals?first=500', { token: freelancer.token });
    const all = (whole.body as { proposal: { proposalId: string } }[]).map((view) => view.proposal.proposalId);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const rest: string[] = [];
    let next: string | undefined = '/v1/governance/proposals?first=2';
    while (next !== undefined) {
      const page = await server.request('GET', next, { token: freelancer.token });
      rest.push(...(page.body as { proposal: { proposalId: string } }[]).map((view) => view.proposal.proposalId));
      next = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')?.[1];
    }
    expect(rest).toEqual(all);

    const overGraphql: string[] = [];
    let after: string | null = null;
    do {
      const answer = await server.request('POST', '/graphql', {
        token: freelancer.token,
        body: {
          query:
            'query ($after: String) { proposalPage(first: 2, after: $after) { items { proposalId } pageInfo { endCursor } } }',
          variables: { after },
        },
      });
      const page = (
        answer.body as {
          data: { proposalPage: { items: { proposalId: string }[]; pageInfo: { endCursor: string | null } } };
        }
      ).data.proposalPage;
      overGraphql.push(...page.items.map((item) => item.proposalId));
      after = page.pageInfo.endCursor;
    } while (after !== null);
    expect(overGraphql).toEqual(all);
  });

  it('vetoes over GraphQL during the timelock and streams each step on the governance feed', async () => {
    const subscription = await SseSubscription.open(
      server.url,
      'subscription { governanceEvents { name proposalId transactionId actor { mspId role } } }',
      { authorization: `Bearer ${freelancer.token}` },
    );
    const graphql = async (as: Person, query: string, variables: Record<string, unknown> = {}) => {
      const response = await server.request('POST', '/graphql', { token: as.token, body: { query, variables } });
      return response.body as { data?: Record<string, { proposal: { phase: string } }>; errors?: unknown[] };
    };
    proposals += 1;
    const id = `P-${proposals}`;
    const proposed = await graphql(
      clientGovernor,
      `
        mutation ($input: ProposeInput!) {
          propose(input: $input) {
            transactionId
            proposal {
              phase
              proposalId
            }
          }
        }
      `,
      {
        input: {
          proposalId: id,
          title: 'Raise the platform fee',
          text: 'To fund the consortium office.',
          actions: [{ type: 'setParameter', name: 'platformFeeBps', value: 900 }],
          votingSeconds: hour,
          timelockSeconds: hour,
        },
      },
    );
    expect(proposed.errors).toBeUndefined();
    const voteMutation = `mutation ($id: ID!) { voteOnProposal(proposalId: $id, choice: yes) { proposal { phase } } }`;
    expect((await graphql(clientGovernor, voteMutation, { id })).errors).toBeUndefined();
    expect((await graphql(talentGovernor, voteMutation, { id })).errors).toBeUndefined();
    server.ledger.ledger.advanceSeconds(hour);
    const vetoed = await graphql(
      auditor,
      `
        mutation ($id: ID!) {
          vetoProposal(proposalId: $id, reason: "Breaches the charter") {
            proposal {
              phase
            }
          }
        }
      `,
      { id },
    );
    expect(vetoed.data?.vetoProposal?.proposal.phase).toBe('vetoed');
    server.ledger.ledger.advanceSeconds(hour);
    const refused = await execute(id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'PROPOSAL_NOT_EXECUTABLE', field: 'path.proposalId' });

    const names: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const message = (await subscription.next(5000)) as { data?: { governanceEvents: { name: string } } };
      names.push(message.data?.governanceEvents.name ?? 'missing');
    }
    expect(names).toEqual([
      'governance.ProposalSubmitted',
      'governance.VoteCast',
      'governance.VoteCast',
      'governance.ProposalVetoed',
    ]);
    subscription.close();
    const fee = await graphql(
      freelancer,
      `
        {
          parameterRule(name: "platformFeeBps") {
            record
            provenance {
              source
            }
          }
        }
      `,
    );
    expect(fee).toMatchObject({
      data: { parameterRule: { record: { value: 250 }, provenance: { source: 'genesis' } } },
    });
  });
});
