import { common, msp, peer } from '@hyperledger/fabric-protos';
import type { LedgerSession } from '@gigledger/gateway';
import {
  applicationOrgNames,
  enactByVote,
  fetchChannelConfig,
  LocalNetwork,
  openConsortiumLedger,
  OrgAdmissionError,
  peerHeight,
  readAddedOrgs,
  toolchainAt,
  toolchainDir,
  type ConsortiumLedger,
  type NetworkConfig,
} from '@gigledger/network';
import { e2eConfig, reuseRunningNetwork } from './support/e2e-environment.js';

// This suite changes the channel's membership for good, so the e2e sequencer runs it
// last, and it leaves a network that the developer started (GIGLEDGER_E2E_REUSE_NETWORK) alone.
const describeOnFreshNetwork = reuseRunningNetwork ? describe.skip : describe;

const newOrg = 'LabelOrg';
const newMsp = 'LabelOrgMSP';

async function eventually<T>(description: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The error an admission attempt fails with; fails the test when it succeeds or fails otherwise. */
async function admissionFailure(attempt: Promise<unknown>): Promise<OrgAdmissionError> {
  const outcome = await attempt.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof OrgAdmissionError)) {
    throw new Error(`expected the admission to fail with a named step, got ${String(outcome)}`);
  }
  return outcome;
}

/** MSP ids of the peers that endorsed a committed transaction, read back from the ledger through qscc. */
async function endorsersOf(session: LedgerSession, channel: string, transactionId: string): Promise<string[]> {
  const qscc = session.gateway.getNetwork(channel).getContract('qscc');
  const processed = peer.ProcessedTransaction.deserializeBinary(
    await qscc.evaluateTransaction('GetTransactionByID', channel, transactionId),
  );
  const envelope = processed.getTransactionenvelope();
  if (envelope === undefined) throw new Error(`transaction ${transactionId} has no envelope`);
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const [action] = transaction.getActionsList();
  if (action === undefined) throw new Error(`transaction ${transactionId} has no action`);
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  return (actionPayload.getAction()?.getEndorsementsList() ?? []).map((endorsement) =>
    msp.SerializedIdentity.deserializeBinary(endorsement.getEndorser_asU8()).getMspid(),
  );
}

describeOnFreshNetwork('a fourth organisation joins the running channel', () => {
  let config: NetworkConfig;
  let network: LocalNetwork;
  let founders: ConsortiumLedger;
  let proposalId: string;

  beforeAll(() => {
    config = e2eConfig();
    network = new LocalNetwork(config, toolchainAt(toolchainDir()));
    founders = openConsortiumLedger(config);
  });

  afterAll(() => {
    founders.close();
  });

  async function channelOrgs(): Promise<string[]> {
    const [reader] = config.peerOrgs;
    const orderer = config.ordererOrg.orderers[0];
    if (reader === undefined || orderer === undefined) throw new Error('the network has no organisation or orderer');
    const current = await fetchChannelConfig(config, network.toolchain, reader, orderer, `${config.home}/check-config`);
    return applicationOrgNames(current).sort();
  }

  it('refuses to add an organisation that no executed proposal admits', async () => {
    const failure = await admissionFailure(network.addOrg({ name: newOrg }));
    expect(failure.step).toBe('check the governance decision');
    expect(failure.message).toMatch(
      /pass --proposal <id> of an executed proposal that gives LabelOrgMSP member rights/,
    );
    expect(await channelOrgs()).toEqual(['AuditOrg', 'ClientOrg', 'TalentOrg']);
  });

  it('reports a configuration update signed by one admin of three as refused by the orderer, and leaves the channel unchanged', async () => {
    const executed = await enactByVote(
      await founders.governors(),
      [{ type: 'setMemberRights', mspId: newMsp, voting: true, veto: false }],
      'Admit LabelOrg',
    );
    proposalId = executed.proposal.proposalId;
    expect(executed.phase).toBe('executed');

    const heightsBefore = await Promise.all(config.peerOrgs.map((org) => peerHeight(config, network.toolchain, org)));
    const failure = await admissionFailure(network.addOrg({ name: newOrg, proposalId, signers: ['ClientOrg'] }));
    expect(failure.step).toBe('submit the channel configuration update as ClientOrgMSP admin to orderer orderer0');
    process.stdout.write(`[add-org] refused as expected: ${failure.message.split('\n').slice(-2).join(' ')}\n`);
    expect(failure.message).toMatch(/policy|signature/i);
    expect(await channelOrgs()).toEqual(['AuditOrg', 'ClientOrg', 'TalentOrg']);
    expect(readAddedOrgs(config.paths.addedOrgs)).toEqual([]);
    const heightsAfter = await Promise.all(config.peerOrgs.map((org) => peerHeight(config, network.toolchain, org)));
    expect(heightsAfter).toEqual(heightsBefore);
    // Nothing of the organisation runs after a refused update.
    expect(network.registry.running().map((record) => record.name)).not.toContain('ca-labelorg');
  });

  it('admits the organisation for the executed proposal: its member submits, its peer endorses, and it holds the same height', async () => {
    const started = Date.now();
    const result = await network.addOrg({ name: newOrg, proposalId });
    process.stdout.write(`[add-org] ${newMsp} joined in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    expect(result.signedBy).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
    expect(result.proposalId).toBe(proposalId);
    expect(await channelOrgs()).toEqual(['AuditOrg', 'ClientOrg', 'LabelOrg', 'TalentOrg']);
    const recorded = readAddedOrgs(config.paths.addedOrgs);
    expect(
      recorded.map((entry) => [entry.name, entry.mspId, entry.admission.proposalId, entry.admission.signedBy]),
    ).toEqual([[newOrg, newMsp, proposalId, ['ClientOrgMSP', 'TalentOrgMSP']]]);

    // A fresh look at the network: the configuration and connection profile now name four organisations.
    const grown = e2eConfig();
    expect(grown.peerOrgs.map((org) => org.mspId)).toEqual(['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP', newMsp]);
    const consortium = openConsortiumLedger(grown);
    try {
      const governor = await consortium.enroll(newOrg, 'governor', 'label-gov');
      // MAJORITY Endorsement of four organisations is three; the new peer is one of them.
      const accepted = await governor.governance.acceptMembership(
        {},
        { endorsingOrganizations: [newMsp, 'ClientOrgMSP', 'TalentOrgMSP'] },
      );
      expect(accepted.result).toMatchObject({ mspId: newMsp, voting: true, veto: false });
      expect((await endorsersOf(governor, grown.channel, accepted.transactionId)).sort()).toEqual([
        'ClientOrgMSP',
        newMsp,
        'TalentOrgMSP',
      ]);

      const members = await governor.governance.listMembers();
      expect(members.find((member) => member.mspId === newMsp)).toMatchObject({ voting: true });

      const heights = await eventually('all four peers at one height', async () => {
        const all = await Promise.all(grown.peerOrgs.map((org) => peerHeight(grown, network.toolchain, org)));
        return all.every((height) => height === all[0]) &&
          all[0] !== undefined &&
          all[0] >= Number(accepted.blockNumber) + 1
          ? all
          : undefined;
      });
      process.stdout.write(`[add-org] heights after the new member's transaction: ${heights.join(', ')}\n`);
      expect(heights).toHaveLength(4);
    } finally {
      consortium.close();
    }
  });
});
