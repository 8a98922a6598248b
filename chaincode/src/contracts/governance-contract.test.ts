import { governanceEvents, type GovernanceAction, type ProposalView } from '../model/governance';
import { CredentialContract } from './credential-contract';
import {
  AgreementDriver,
  admin,
  arbitratorA,
  arbitratorB,
  arbitratorC,
  auditor,
  client,
  compositeKey,
  freelancer,
} from '../test-support/agreement-fixtures';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';

const governor = (mspId: string, userId: string): TestIdentity => testIdentity(mspId, userId, 'governor');
const clientGovernor = governor('ClientOrgMSP', 'gov-clara');
const clientGovernor2 = governor('ClientOrgMSP', 'gov-chris');
const talentGovernor = governor('TalentOrgMSP', 'gov-theo');
const auditGovernor = governor('AuditOrgMSP', 'gov-ada');
const outsiderGovernor = governor('OutsideOrgMSP', 'gov-otto');

const hour = 3600;
const kycOffice = { mspId: 'AuditOrgMSP', userId: 'kyc-office' };
const addKycIssuer: GovernanceAction = {
  type: 'registerIssuer',
  issuer: kycOffice,
  displayName: 'KYC office',
  credentialTypes: ['KYC'],
};

describe('GovernanceContract', () => {
  let driver: AgreementDriver;
  let proposals = 0;

  const call = <Result>(as: TestIdentity, name: string, request?: unknown): Promise<Result> =>
    driver.ledger.transact(as, driver.governance, name, request);

  const propose = (actions: GovernanceAction[], as = clientGovernor, overrides: Record<string, unknown> = {}) => {
    proposals += 1;
    return call<ProposalView>(as, 'propose', {
      proposalId: `P-${proposals}`,
      title: 'Change the rules',
      text: 'Why the consortium should do this.',
      actions,
      votingSeconds: 2 * hour,
      timelockSeconds: hour,
      ...overrides,
    });
  };
  const vote = (proposalId: string, as: TestIdentity, choice: 'yes' | 'no' | 'abstain') =>
    call<ProposalView>(as, 'vote', { proposalId, choice });
  const execute = (proposalId: string, as: TestIdentity = freelancer) =>
    call<ProposalView>(as, 'execute', { proposalId });

  /** Proposes, has ClientOrg and TalentOrg vote yes, and waits out voting and timelock. */
  async function passed(actions: GovernanceAction[]): Promise<string> {
    const { proposal } = await propose(actions);
    await vote(proposal.proposalId, clientGovernor, 'yes');
    await vote(proposal.proposalId, talentGovernor, 'yes');
    driver.ledger.advanceSeconds(3 * hour);
    return proposal.proposalId;
  }

  beforeEach(async () => {
    driver = new AgreementDriver();
    proposals = 0;
    await driver.setParameters();
    await driver.applyGenesis([
      { type: 'setMemberRights', mspId: 'ClientOrgMSP', voting: true, veto: false },
      { type: 'setMemberRights', mspId: 'TalentOrgMSP', voting: true, veto: false },
      { type: 'setMemberRights', mspId: 'AuditOrgMSP', voting: true, veto: true },
    ]);
    await call(admin, 'sealGenesis');
  });

  it('refuses every direct admin path once genesis is sealed, and changes nothing', async () => {
    const credentials = new CredentialContract();
    const sealed =
      /^GOVERNANCE_REQUIRED: genesis was sealed at .*; since then only an executed governance proposal may /;
    await driver.expectRefusal(() => driver.setParameter('platformFeeBps', 9000), sealed);
    await driver.expectRefusal(
      () =>
        driver.ledger.invoke(admin, (ctx) =>
          credentials.registerIssuer(
            ctx,
            JSON.stringify({
              requestId: 'req-issuer-1',
              issuer: kycOffice,
              displayName: 'KYC',
              credentialTypes: ['KYC'],
            }),
          ),
        ),
      sealed,
    );
    await driver.expectRefusal(
      () =>
        driver.ledger.invoke(admin, (ctx) =>
          credentials.removeIssuer(ctx, JSON.stringify({ issuer: kycOffice, reason: 'lapsed' })),
        ),
      sealed,
    );
    await driver.expectRefusal(() => driver.applyGenesis([addKycIssuer]), sealed);
    await driver.expectRefusal(() => call(admin, 'sealGenesis'), sealed);
  });

  it('adds an issuer by vote: proposal, votes, timelock, execution by anyone, with its provenance', async () => {
    const proposed = await propose([addKycIssuer]);
    expect(proposed.phase).toBe('voting');
    expect(proposed.proposal.proposer).toEqual({ mspId: 'ClientOrgMSP', userId: 'gov-clara', role: 'governor' });
    expect(driver.ledger.lastEvent?.name).toBe(governanceEvents.proposalSubmitted.name);

    await vote('P-1', clientGovernor, 'yes');
    const afterVotes = await vote('P-1', talentGovernor, 'yes');
    expect(afterVotes.tally).toMatchObject({ members: 3, yes: 2, no: 0, quorum: 2, quorumReached: true, passed: true });
    await driver.expectRefusal(
      () => execute('P-1'),
      /^PROPOSAL_NOT_EXECUTABLE\[proposalId\]: proposal P-1 is still being voted on until /,
    );

    driver.ledger.advanceSeconds(2 * hour);
    expect((await call<ProposalView>(client, 'getProposal', { proposalId: 'P-1' })).phase).toBe('timelocked');
    await driver.expectRefusal(
      () => execute('P-1'),
      /^TIMELOCK_ACTIVE\[proposalId\]: proposal P-1 passed but its timelock runs until /,
    );

    driver.ledger.advanceSeconds(hour);
    const executed = await execute('P-1', freelancer);
    expect(executed.phase).toBe('executed');
    expect(executed.proposal.execution?.by.mspId).toBe('TalentOrgMSP');
    const executionTx = driver.ledger.transactions.at(-1)!;
    expect(driver.ledger.lastEvent?.name).toBe(governanceEvents.proposalExecuted.name);

    const described = await call<{ record: { status: string }; provenance: unknown; proposal: ProposalView }>(
      auditor,
      'describeRule',
      { kind: 'issuer', issuer: kycOffice },
    );
    expect(described.record.status).toBe('active');
    expect(described.provenance).toMatchObject({ source: 'proposal', proposalId: 'P-1', txId: executionTx.txId });
    expect(described.proposal.votes.map((cast) => [cast.mspId, cast.choice])).toEqual([
      ['ClientOrgMSP', 'yes'],
      ['TalentOrgMSP', 'yes'],
    ]);
    await driver.expectRefusal(
      () => execute('P-1'),
      `PROPOSAL_NOT_EXECUTABLE[proposalId]: proposal P-1 was already executed in transaction ${executionTx.txId}`,
    );
  });

  it('says genesis values have no proposal', async () => {
    const described = await call<{ provenance: { source: string }; proposal?: unknown }>(client, 'describeRule', {
      kind: 'parameter',
      name: 'platformFeeBps',
    });
    expect(described.provenance.source).toBe('genesis');
    expect(described.proposal).toBeUndefined();
  });

  it('changes a parameter by vote, which the agreement contract then reads', async () => {
    const id = await passed([{ type: 'setParameter', name: 'platformFeeBps', value: 100 }]);
    await execute(id);
    const parameter = await driver.ledger.invoke(client, (ctx) =>
      driver.parameters.getParameter(ctx, JSON.stringify({ name: 'platformFeeBps' })),
    );
    expect(parameter).toMatchObject({ value: 100, provenance: { source: 'proposal', proposalId: id } });
  });

  it('lets only governors of voting members propose or vote', async () => {
    await driver.expectRefusal(
      () => propose([addKycIssuer], client),
      'FORBIDDEN: only governor may propose a change to the consortium rules; the caller has role client',
    );
    await driver.expectRefusal(
      () => propose([addKycIssuer], outsiderGovernor),
      /^FORBIDDEN: only a governor of a member organisation with a voting right may propose .*OutsideOrgMSP has none/,
    );
    await propose([addKycIssuer]);
    await driver.expectRefusal(() => vote('P-1', admin, 'yes'), /^FORBIDDEN: only governor may vote on proposals/);
  });

  it('gives each organisation one vote: its governor may change it, another identity may not vote again', async () => {
    await propose([addKycIssuer]);
    await vote('P-1', clientGovernor, 'no');
    await driver.expectRefusal(
      () => vote('P-1', clientGovernor2, 'yes'),
      /^ALREADY_VOTED\[proposalId\]: ClientOrgMSP already voted on proposal P-1 through gov-clara at .*; an organisation has one vote/,
    );
    const changed = await vote('P-1', clientGovernor, 'yes');
    expect(changed.tally).toMatchObject({ yes: 1, no: 0 });
    // One key per (proposal, organisation): the change overwrote the organisation's vote and wrote nothing else.
    expect(driver.ledger.transactions.at(-1)!.writes).toEqual([compositeKey('proposalVote', 'P-1', 'ClientOrgMSP')]);
  });

  it('refuses votes after the window and a proposal that missed its quorum or threshold', async () => {
    await propose([addKycIssuer]);
    await vote('P-1', clientGovernor, 'yes');
    driver.ledger.advanceSeconds(2 * hour);
    await driver.expectRefusal(
      () => vote('P-1', talentGovernor, 'yes'),
      /^VOTING_CLOSED\[proposalId\]: voting on proposal P-1 closed at /,
    );
    driver.ledger.advanceSeconds(hour);
    await driver.expectRefusal(
      () => execute('P-1'),
      'PROPOSAL_NOT_EXECUTABLE[proposalId]: proposal P-1 failed its vote: 1 of 3 members voted, short of the quorum of 2',
    );

    await propose([addKycIssuer]);
    await vote('P-2', clientGovernor, 'yes');
    await vote('P-2', talentGovernor, 'no');
    await vote('P-2', auditGovernor, 'abstain');
    driver.ledger.advanceSeconds(3 * hour);
    await driver.expectRefusal(
      () => execute('P-2'),
      'PROPOSAL_NOT_EXECUTABLE[proposalId]: proposal P-2 failed its vote: 1 yes against 1 no did not pass',
    );
  });

  it('lets the auditing member veto a passed proposal during its timelock, after which it never takes effect', async () => {
    const { proposal } = await propose([{ type: 'setParameter', name: 'platformFeeBps', value: 5000 }]);
    await vote(proposal.proposalId, clientGovernor, 'yes');
    await vote(proposal.proposalId, talentGovernor, 'yes');
    await driver.expectRefusal(
      () => call(auditor, 'veto', { proposalId: 'P-1', reason: 'Fee would breach the consortium charter' }),
      "INVALID_STATE[proposalId]: a veto is possible only while a passed proposal's timelock runs; proposal P-1 is voting",
    );
    driver.ledger.advanceSeconds(2 * hour);
    await driver.expectRefusal(
      () => call(talentGovernor, 'veto', { proposalId: 'P-1', reason: 'No' }),
      /^FORBIDDEN: only a governor or auditor of a member organisation with the veto right may veto proposals; TalentOrgMSP has none/,
    );
    const vetoed = await call<ProposalView>(auditor, 'veto', {
      proposalId: 'P-1',
      reason: 'Fee would breach the consortium charter',
    });
    expect(vetoed.phase).toBe('vetoed');
    driver.ledger.advanceSeconds(hour);
    await driver.expectRefusal(
      () => execute('P-1'),
      /^PROPOSAL_NOT_EXECUTABLE\[proposalId\]: proposal P-1 was vetoed by AuditOrgMSP at .*: Fee would breach the consortium charter$/,
    );
    const fee = await driver.ledger.invoke(client, (ctx) =>
      driver.parameters.getParameter(ctx, JSON.stringify({ name: 'platformFeeBps' })),
    );
    expect(fee.value).toBe(250);
  });

  it('refuses proposals with too short a window, a value unfit for its parameter, or one rule changed twice', async () => {
    await driver.expectRefusal(
      () => propose([addKycIssuer], clientGovernor, { votingSeconds: 60 }),
      'VALIDATION_FAILED[votingSeconds]: votingSeconds: must be at least 3600 (governanceMinVotingSeconds)',
    );
    await driver.expectRefusal(
      () => propose([addKycIssuer], clientGovernor, { timelockSeconds: 60 }),
      'VALIDATION_FAILED[timelockSeconds]: timelockSeconds: must be at least 3600 (governanceMinTimelockSeconds)',
    );
    await driver.expectRefusal(
      () => propose([{ type: 'setParameter', name: 'platformFeeBps', value: 20_000 }]),
      /^VALIDATION_FAILED\[actions\.0\.value\]: actions\.0\.value: .* for platformFeeBps$/,
    );
    await driver.expectRefusal(
      () => propose([addKycIssuer, { type: 'removeIssuer', issuer: kycOffice, reason: 'changed our mind' }]),
      'VALIDATION_FAILED[actions.1]: actions.1: changes issuer AuditOrgMSP user kyc-office, which actions.0 already changes',
    );
  });

  it('settles the outcome when voting closes: later changes of members or quorum do not change it', async () => {
    await propose([{ type: 'setParameter', name: 'maxRevisions', value: 7 }]);
    await vote('P-1', clientGovernor, 'yes');
    const lowered = await passed([{ type: 'setParameter', name: 'governanceQuorumBps', value: 1 }]);
    await execute(lowered);
    expect((await call<ProposalView>(client, 'getProposal', { proposalId: 'P-1' })).phase).toBe('failed');
    await driver.expectRefusal(
      () => execute('P-1'),
      /^PROPOSAL_NOT_EXECUTABLE\[proposalId\]: proposal P-1 failed its vote/,
    );

    const { proposal } = await propose([addKycIssuer]);
    await vote(proposal.proposalId, clientGovernor, 'yes');
    await vote(proposal.proposalId, talentGovernor, 'yes');
    driver.ledger.advanceSeconds(2 * hour);
    const widened = await passed([
      { type: 'setMemberRights', mspId: 'FourthOrgMSP', voting: true, veto: false },
      { type: 'setMemberRights', mspId: 'TalentOrgMSP', voting: false, veto: false },
    ]);
    await execute(widened);
    const executed = await execute(proposal.proposalId);
    expect(executed.tally).toMatchObject({ members: 3, yes: 2, passed: true });
    // TalentOrg's vote stays in the record although it has no vote any more.
    expect(executed.votes.map((cast) => cast.mspId)).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
    const fourth = governor('FourthOrgMSP', 'gov-fay');
    await driver.expectRefusal(
      () => vote(proposal.proposalId, fourth, 'no'),
      /^FORBIDDEN: only the organisations that had a voting right when proposal P-3 was made/,
    );
  });

  it('invites a newcomer: its rights count only once a governor of that organisation accepts them', async () => {
    const id = await passed([{ type: 'setMemberRights', mspId: 'FourthOrgMSP', voting: true, veto: false }]);
    await execute(id);
    const members = await call<{ mspId: string; voting: boolean; invitation?: unknown }[]>(client, 'listMembers');
    expect(members.find((member) => member.mspId === 'FourthOrgMSP')).toMatchObject({
      voting: false,
      invitation: { voting: true, veto: false },
    });
    // A mistyped or absent organisation never accepts, so it never counts for a quorum.
    expect((await propose([addKycIssuer])).proposal.electorate).toEqual([
      'AuditOrgMSP',
      'ClientOrgMSP',
      'TalentOrgMSP',
    ]);
    await driver.expectRefusal(
      () => call(clientGovernor, 'acceptMembership', {}),
      'NOT_FOUND: ClientOrgMSP has no invitation to accept',
    );
    const fourth = governor('FourthOrgMSP', 'gov-fay');
    const request = { requestId: 'accept-membership-1' };
    const accepted = await call<{ voting: boolean; invitation?: unknown }>(fourth, 'acceptMembership', request);
    expect(accepted).toMatchObject({ voting: true });
    expect(accepted.invitation).toBeUndefined();
    expect(driver.ledger.lastEvent?.name).toBe(governanceEvents.membershipAccepted.name);
    // Asked again with the same request id (its answer lost), it answers the acceptance
    // instead of "no invitation to accept", and announces nothing twice: its one event
    // names the transaction that accepted.
    const acceptedTxId = driver.ledger.transactions.at(-1)?.txId;
    await expect(call(fourth, 'acceptMembership', request)).resolves.toEqual(accepted);
    expect(driver.ledger.lastEvent).toEqual({ name: 'request.Replayed', payload: { txId: acceptedTxId } });
    expect((await propose([addKycIssuer], fourth)).proposal.electorate).toContain('FourthOrgMSP');
  });

  it('lets a passed proposal expire unexecuted after the execution window', async () => {
    const id = await passed([{ type: 'setParameter', name: 'maxRevisions', value: 9 }]);
    driver.ledger.advanceSeconds(7 * 24 * hour);
    expect((await call<ProposalView>(client, 'getProposal', { proposalId: id })).phase).toBe('expired');
    await driver.expectRefusal(
      () => execute(id),
      /^PROPOSAL_NOT_EXECUTABLE\[proposalId\]: proposal P-1 passed but expired unexecuted at /,
    );
  });

  it('refuses, before anyone votes, actions that cannot apply to the rules as they stand', async () => {
    await driver.expectRefusal(
      () => propose([{ type: 'removeIssuer', issuer: { mspId: 'AuditOrgMSP', userId: 'nobody' }, reason: 'x' }]),
      'VALIDATION_FAILED[actions.0.issuer]: actions.0.issuer: AuditOrgMSP user nobody has no issuer record',
    );
    await driver.expectRefusal(
      () =>
        propose([
          { type: 'setMemberRights', mspId: 'ClientOrgMSP', voting: false, veto: false },
          { type: 'setMemberRights', mspId: 'TalentOrgMSP', voting: false, veto: false },
          { type: 'setMemberRights', mspId: 'AuditOrgMSP', voting: false, veto: false },
        ]),
      'VALIDATION_FAILED[actions]: actions: the consortium must keep at least one member organisation with a voting right',
    );
    await driver.expectRefusal(
      () => propose([{ type: 'setMemberRights', mspId: 'ClientOrgMSP', voting: true, veto: false }]),
      'VALIDATION_FAILED[actions.0.mspId]: actions.0.mspId: ClientOrgMSP holds exactly these rights (voting true, veto false)',
    );
    // Every instruction issued afterwards would name it as its sender, and no service of it ever runs.
    await driver.expectRefusal(
      () =>
        propose([{ type: 'setParameter', name: 'settlementOrganisations', value: ['AuditOrgMSP', 'ClientOrgMsp'] }]),
      /^VALIDATION_FAILED\[actions\.0\.value\.1\]: actions\.0\.value\.1: ClientOrgMsp is no member organisation of the consortium; members are /,
    );
    await driver.expectRefusal(
      () =>
        propose([
          {
            type: 'setParameter',
            name: 'settlementOrganisations',
            value: ['TalentOrgMSP', 'AuditOrgMSP', 'TalentOrgMSP'],
          },
        ]),
      'VALIDATION_FAILED[actions.0.value.2]: actions.0.value.2: TalentOrgMSP is listed already as value.0',
    );
    expect(
      (
        await propose([
          { type: 'setParameter', name: 'settlementOrganisations', value: ['TalentOrgMSP', 'AuditOrgMSP'] },
        ])
      ).proposal.actions,
    ).toHaveLength(1);
  });

  it('refuses at execution an action the rules no longer allow, applying none of the proposal', async () => {
    const first = await passed([addKycIssuer]);
    await execute(first);
    const removal = await passed([
      { type: 'setParameter', name: 'maxRevisions', value: 5 },
      { type: 'removeIssuer', issuer: kycOffice, reason: 'Accreditation lapsed' },
    ]);
    const sooner = await passed([{ type: 'removeIssuer', issuer: kycOffice, reason: 'Fraud' }]);
    await execute(sooner);
    await driver.expectRefusal(
      () => execute(removal),
      /^INVALID_STATE\[issuer\]: issuer AuditOrgMSP user kyc-office was already removed at /,
    );
  });

  describe('arbitration panels', () => {
    const clientSideArbitrator = { mspId: 'ClientOrgMSP', userId: 'arb-cleo' };

    async function disputedPanel(): Promise<string[]> {
      await driver.draft();
      await driver.accept();
      await driver.funded('m1');
      await driver.submit('m1');
      const disputed = await driver.dispute('m1');
      return (disputed.dispute?.panel ?? []).map((member) => member.userId).sort();
    }

    it('draws from governed arbitrators of neither party, and never again from one removed by governance', async () => {
      const id = await passed([
        { type: 'addArbitrator', arbitrator: clientSideArbitrator, displayName: 'Cleo' },
        { type: 'removeArbitrator', arbitrator: { mspId: 'AuditOrgMSP', userId: 'arb-cyd' }, reason: 'Conflict' },
      ]);
      await execute(id);
      expect(await disputedPanel()).toEqual(['arb-ann', 'arb-ben']);
      await driver.expectRefusal(
        () =>
          driver.vote(
            'm1',
            { mspId: 'ClientOrgMSP', name: 'cleo', attributes: { role: 'arbitrator', userId: 'arb-cleo' } },
            '0',
            '150001',
          ),
        /^FORBIDDEN: only the panel drawn for milestone m1 of agreement A-17 \(.*\) may vote on its dispute$/,
      );
      await driver.vote('m1', arbitratorA, '0', '150001');
      expect((await driver.vote('m1', arbitratorB, '0', '150001')).status).toBe('resolved');
      expect(arbitratorC.attributes?.userId).toBe('arb-cyd');
    });

    it('refuses a dispute no governed arbitrator can hear', async () => {
      const id = await passed(
        ['arb-ann', 'arb-ben', 'arb-cyd'].map((userId) => ({
          type: 'removeArbitrator' as const,
          arbitrator: { mspId: 'AuditOrgMSP', userId },
          reason: 'Term ended',
        })),
      );
      await execute(id);
      await driver.draft();
      await driver.accept();
      await driver.funded('m1');
      await driver.submit('m1');
      await driver.expectRefusal(
        () => driver.dispute('m1'),
        'INVALID_STATE: no governed arbitrator outside ClientOrgMSP and TalentOrgMSP can hear a dispute over milestone m1 of agreement A-17; the consortium must add one',
      );
    });
  });
});
