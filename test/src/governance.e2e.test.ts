import { createHash, randomBytes } from 'node:crypto';
import type { AgreementTerms, MilestoneRecord, ProposalView, RuleDescription } from '@gigledger/chaincode/model';
import type { LedgerSession } from '@gigledger/gateway';
import { governArbitrators } from '@gigledger/network';
import { startE2eApi, type E2eApi } from './support/api-server.js';
import { e2eConfig } from './support/e2e-environment.js';
import { openE2eContext, partyOf, type E2eContext } from './support/ledger.js';
import { indexCaughtUp } from './support/audit-index.js';

const waitUntil = async (instant: string) => {
  // Windows are judged by transaction timestamps, which clients take from their own clock.
  const wait = Date.parse(instant) - Date.now() + 1000;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
};

describe('consortium governance over the API, on the real network', () => {
  let api: E2eApi;
  const suffix = randomBytes(3).toString('hex');

  beforeAll(async () => {
    api = await startE2eApi(e2eConfig());
  });

  afterAll(async () => {
    await api.close();
  });

  const parameter = async (token: string, name: string) =>
    ((await api.call('GET', `/v1/governance/rules/parameters/${name}`, token)).body as RuleDescription).record as {
      value: number;
    };

  it('adds a KYC issuer by the vote of the three organisations, and the issuer then issues a KYC credential', async () => {
    const [clientGovernor, talentGovernor, auditGovernor] = await api.governors();
    const issuer = await api.person(`kyc-${suffix}`, 'AuditOrg', 'issuer');
    const holder = await api.person(`holder-${suffix}`, 'TalentOrg', 'freelancer');

    const beforeVote = await api.call('POST', '/v1/credentials', issuer.token, {
      subject: holder.party,
      type: 'KYC',
      claims: [{ name: 'level', value: 'verified' }],
    });
    expect(beforeVote.status).toBe(403);

    const executed = await api.enact([
      { type: 'registerIssuer', issuer: issuer.party, displayName: 'KYC office', credentialTypes: ['KYC'] },
    ]);

    const issued = await api.call('POST', '/v1/credentials', issuer.token, {
      subject: holder.party,
      type: 'KYC',
      claims: [{ name: 'level', value: 'verified' }],
    });
    expect(issued.status).toBe(201);

    const rule = await api.call(
      'GET',
      `/v1/governance/rules/issuers/${issuer.party.mspId}/${issuer.party.userId}`,
      holder.token,
    );
    const described = rule.body as RuleDescription;
    expect(described.provenance).toMatchObject({
      source: 'proposal',
      proposalId: executed.result.proposal.proposalId,
      txId: executed.transactionId,
    });
    expect(described.proposal?.votes.map((vote) => [vote.mspId, vote.choice])).toEqual([
      ['AuditOrgMSP', 'yes'],
      ['ClientOrgMSP', 'yes'],
      ['TalentOrgMSP', 'yes'],
    ]);
    expect(described.proposal?.tally).toMatchObject({ members: 3, yes: 3, passed: true });
    expect([clientGovernor, talentGovernor, auditGovernor]).toHaveLength(3);
  });

  it('never applies a proposal the auditing member vetoed during its timelock; each refusal names its rule', async () => {
    const [clientGovernor, talentGovernor] = await api.governors();
    const secondClientGovernor = await api.person(`gov-c2-${suffix}`, 'ClientOrg', 'governor');
    const auditor = await api.person(`auditor-${suffix}`, 'AuditOrg', 'auditor');
    const freelancer = await api.person(`tara-${suffix}`, 'TalentOrg', 'freelancer');
    const feeBefore = (await parameter(freelancer.token, 'platformFeeBps')).value;

    const notGovernor = await api.call('POST', '/v1/governance/proposals', freelancer.token, {});
    expect(notGovernor.status).toBe(403);

    // Counted before the proposal: its voting window (governanceMinVotingSeconds) is short.
    const talentAdmin = await api.adminToken('TalentOrg');
    const invalidVotes = async () => {
      await indexCaughtUp(api, { token: talentAdmin });
      const listed = await api.call(
        'GET',
        '/v1/index/transactions?validation=INVALID&function=governance:vote&org=TalentOrgMSP&first=1',
        talentAdmin,
      );
      expect(listed.status).toBe(200);
      return (listed.body as { totalCount: number }).totalCount;
    };
    const invalidBefore = await invalidVotes();
    const proposalId = `FEE-${suffix}`;
    const proposed = await api.call('POST', '/v1/governance/proposals', clientGovernor, {
      proposalId,
      title: 'Raise the platform fee to 40%',
      text: 'A fee no charter allows: the auditor is expected to veto it.',
      actions: [{ type: 'setParameter', name: 'platformFeeBps', value: 4000 }],
      votingSeconds: (await parameter(clientGovernor!, 'governanceMinVotingSeconds')).value,
      timelockSeconds: 20,
    });
    expect(proposed.status).toBe(201);
    const { proposal } = (proposed.body as { result: ProposalView }).result;
    const vote = (token: string, choice = 'yes') =>
      api.call('POST', `/v1/governance/proposals/${proposalId}/votes`, token, { choice });
    expect((await vote(clientGovernor!)).status).toBe(200);
    const twice = await vote(secondClientGovernor.token);
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ code: 'ALREADY_VOTED', field: 'path.proposalId' });
    // TalentOrg's vote sent over REST and GraphQL at once under one request id (the two
    // build the request in different key orders): one transaction, both answers naming it.
    const voteId = `vote-talent-${suffix}`;
    const [overRest, overGraphql] = await Promise.all([
      api.call('POST', `/v1/governance/proposals/${proposalId}/votes`, talentGovernor, {
        choice: 'yes',
        requestId: voteId,
      }),
      api.graphql<{ voteOnProposal: { requestId: string; transactionId: string; blockNumber: string } }>(
        'mutation ($id: ID!, $requestId: String) { voteOnProposal(proposalId: $id, choice: yes, requestId: $requestId) { requestId transactionId blockNumber } }',
        talentGovernor!,
        { id: proposalId, requestId: voteId },
      ),
    ]);
    expect(overRest.status).toBe(200);
    const { requestId, transactionId, blockNumber } = overRest.body as Record<string, unknown>;
    expect(overGraphql.voteOnProposal).toEqual({ requestId, transactionId, blockNumber });
    expect(await invalidVotes()).toBe(invalidBefore);

    await waitUntil(proposal.votingEndsAt);
    const late = await vote(talentGovernor!, 'no');
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'VOTING_CLOSED', field: 'path.proposalId' });
    const early = await api.call('POST', `/v1/governance/proposals/${proposalId}/execution`, freelancer.token, {});
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'TIMELOCK_ACTIVE', field: 'path.proposalId' });

    const vetoed = await api.call('POST', `/v1/governance/proposals/${proposalId}/veto`, auditor.token, {
      reason: 'A 40% fee breaches the consortium charter',
    });
    expect(vetoed.status).toBe(200);
    expect((vetoed.body as { result: ProposalView }).result.phase).toBe('vetoed');

    await waitUntil(proposal.executableAt);
    const refused = await api.call('POST', `/v1/governance/proposals/${proposalId}/execution`, freelancer.token, {});
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'PROPOSAL_NOT_EXECUTABLE', field: 'path.proposalId' });
    expect((refused.body as { message: string }).message).toContain('vetoed by AuditOrgMSP');
    expect((await parameter(freelancer.token, 'platformFeeBps')).value).toBe(feeBefore);
  });
});

describe('arbitration panels drawn from governance, on the real network', () => {
  let context: E2eContext;

  beforeAll(() => {
    context = openE2eContext();
  });

  afterAll(() => {
    context.close();
  });

  const requestId = () => `req-${randomBytes(8).toString('hex')}`;

  it("draws a dispute's panel only from governed arbitrators of neither party's organisation", async () => {
    const client = await context.enroll('ClientOrg', 'client', 'carol');
    const freelancer = await context.enroll('TalentOrg', 'freelancer', 'tara');
    const settlement = await context.enroll('ClientOrg', 'settlement', 'bank');
    const arbitrators: LedgerSession[] = [
      await context.enroll('ClientOrg', 'arbitrator', 'arb-client'),
      await context.enroll('TalentOrg', 'arbitrator', 'arb-talent'),
      await context.enroll('AuditOrg', 'arbitrator', 'arb-audit'),
      await context.enroll('AuditOrg', 'arbitrator', 'arb-audit'),
    ];
    await governArbitrators(await context.governors(), arbitrators.map(partyOf));

    const agreementId = `GOV-${randomBytes(4).toString('hex')}`;
    const terms: AgreementTerms = {
      salt: randomBytes(16).toString('hex'),
      scope: 'Label 10,000 images for a defect classifier.',
      rates: [{ description: 'fixed price', amount: '80000', currency: 'EUR', per: 'fixed' }],
      personalData: { freelancerLegalName: 'Tara Example' },
    };
    await client.agreements.draftAgreement(
      {
        requestId: requestId(),
        agreementId,
        title: 'Defect labels',
        client: partyOf(client),
        freelancer: partyOf(freelancer),
        milestones: [
          {
            kind: 'deliverable',
            milestoneId: 'm1',
            title: 'Labels',
            amount: '80000',
            currency: 'EUR',
            dueDate: new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(),
            acceptanceCriteria: { description: 'inter-annotator agreement of at least 0.9' },
          },
        ],
      },
      { transient: { terms } },
    );
    const { termsSha256 } = await freelancer.agreements.getTerms({ agreementId });
    await freelancer.agreements.acceptAgreement({ agreementId, termsSha256 });
    const funding = (await client.agreements.fundMilestone({ requestId: requestId(), agreementId, milestoneId: 'm1' }))
      .result;
    for (const instruction of funding.instructions) {
      await settlement.agreements.confirmSettlement({
        requestId: requestId(),
        agreementId,
        milestoneId: 'm1',
        instructionId: instruction.instructionId,
        outcome: 'paid',
        providerReference: `psp:${instruction.instructionId}`,
      });
    }
    await freelancer.agreements.submitDeliverable({
      requestId: requestId(),
      agreementId,
      milestoneId: 'm1',
      artifactSha256: createHash('sha256').update('labels-v1').digest('hex'),
      uri: 'https://data.example.com/labels-v1.parquet',
    });
    const disputed: MilestoneRecord = (
      await freelancer.agreements.openDispute({
        requestId: requestId(),
        agreementId,
        milestoneId: 'm1',
        reason: 'The review ignored the rubric',
      })
    ).result;

    const panel = disputed.dispute?.panel ?? [];
    expect(panel.map((member) => member.mspId)).toEqual(['AuditOrgMSP', 'AuditOrgMSP']);
    const auditArbitrators = arbitrators.slice(2).map(partyOf);
    expect(panel.map((member) => member.userId).sort()).toEqual(auditArbitrators.map((party) => party.userId).sort());

    await expect(
      arbitrators[0]!.agreements.castDisputeVote({
        requestId: requestId(),
        agreementId,
        milestoneId: 'm1',
        escrowAmount: '80000',
        clientShare: '80000',
        freelancerShare: '0',
        reason: 'On the client side',
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // A neutral reads no agreement of its own organisation's people: the panel reads it, they do not.
    for (const outsider of arbitrators.slice(0, 2)) {
      await expect(outsider.agreements.getAgreement({ agreementId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await expect(arbitrators[2]!.agreements.getAgreement({ agreementId })).resolves.toMatchObject({
      agreement: { agreementId },
    });
  });
});
