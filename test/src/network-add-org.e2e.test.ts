import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, hash, signers } from '@hyperledger/fabric-gateway';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import {
  ContractClient,
  NotMemberError,
  PeerConnections,
  qsccChannelMembers,
  qsccProofExporter,
  readConnectionProfile,
  verifyProof,
  type LedgerSession,
  type SigningIdentity,
} from '@gigledger/gateway';
import { governanceTransactions, type AgreementTerms } from '@gigledger/chaincode/model';
import {
  applicationOrgNames,
  enactByVote,
  exportOrgBundle,
  fetchChannelConfig,
  hostedNodes,
  loadNetworkConfig,
  missingMaterial,
  unpackOrgBundle,
  writeOrgBundle,
  LocalNetwork,
  openConsortiumLedger,
  OrgAdmissionError,
  peerHeight,
  readAddedOrgs,
  readDeployment,
  toolchainAt,
  toolchainDir,
  type ConsortiumLedger,
  type NetworkConfig,
} from '@gigledger/network';
import { e2eConfig, reuseRunningNetwork } from './support/e2e-environment.js';
import { partyOf } from './support/ledger.js';

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

/**
 * Drafts an agreement with private terms, has the freelancer read and accept them, and
 * funds the first milestone (escrow confirmed by the settlement identity): the flow whose
 * private data only the client's and talent's peers may endorse.
 *
 * @returns the id of the drafting transaction.
 */
async function privateAgreementFlow(consortium: ConsortiumLedger): Promise<string> {
  const client = await consortium.enroll('ClientOrg', 'client', 'carol');
  const freelancer = await consortium.enroll('TalentOrg', 'freelancer', 'tara');
  const settlement = await consortium.enroll('ClientOrg', 'settlement', 'bank');
  const agreementId = `A-${randomBytes(4).toString('hex')}`;
  const requestId = () => `R-${randomBytes(6).toString('hex')}`;
  const terms: AgreementTerms = {
    salt: randomBytes(16).toString('hex'),
    scope: 'Label ten thousand images for a defect detector.',
    rates: [{ description: 'fixed price', amount: '90000', currency: 'EUR', per: 'fixed' }],
    personalData: { freelancerLegalName: 'Tara Example' },
  };
  const drafted = await client.agreements.draftAgreement(
    {
      requestId: requestId(),
      agreementId,
      title: 'Defect labelling',
      client: partyOf(client),
      freelancer: partyOf(freelancer),
      milestones: [
        {
          kind: 'deliverable',
          milestoneId: 'm1',
          title: 'Labels',
          amount: '90000',
          currency: 'EUR',
          dueDate: new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(),
          acceptanceCriteria: { description: 'agreement of at least 0.95 with the reference labels' },
        },
      ],
    },
    { transient: { terms } },
  );
  const held = await freelancer.agreements.getTerms({ agreementId });
  expect(held).toMatchObject({ status: 'held', terms });
  await freelancer.agreements.acceptAgreement({ agreementId, termsSha256: held.termsSha256 });
  const funding = await client.agreements.fundMilestone({ requestId: requestId(), agreementId, milestoneId: 'm1' });
  let milestone = funding.result;
  for (const instruction of milestone.instructions.filter((candidate) => candidate.status === 'pending')) {
    milestone = (
      await settlement.agreements.confirmSettlement({
        requestId: requestId(),
        agreementId,
        milestoneId: 'm1',
        instructionId: instruction.instructionId,
        outcome: 'paid',
        providerReference: `psp:${instruction.instructionId}`,
      })
    ).result;
  }
  expect(milestone.status).toBe('funded');
  return drafted.transactionId;
}

/**
 * Drafts agreements with private terms one after another until `stop` resolves: each is
 * endorsed by ClientOrg's and TalentOrg's peers alone (the terms collection's members) and
 * writes new public keys, which fall under the chaincode endorsement policy. Records when
 * each draft started and committed, and every failure. The sessions are enrolled before
 * the membership change starts, so the drafting covers all of it.
 */
async function draftWhile(
  client: LedgerSession,
  freelancer: LedgerSession,
  stop: Promise<unknown>,
): Promise<{ drafts: { startedAt: number; committedAt: number }[]; failures: string[] }> {
  const state = { stopped: false };
  // The command's own outcome is asserted by the caller; here it only ends the drafting.
  stop.then(
    () => {
      state.stopped = true;
    },
    () => {
      state.stopped = true;
    },
  );
  const drafts: { startedAt: number; committedAt: number }[] = [];
  const failures: string[] = [];
  while (!state.stopped) {
    const startedAt = Date.now();
    try {
      await client.agreements.draftAgreement(
        {
          requestId: `R-${randomBytes(6).toString('hex')}`,
          agreementId: `A-${randomBytes(4).toString('hex')}`,
          title: 'Window check',
          client: partyOf(client),
          freelancer: partyOf(freelancer),
          milestones: [
            {
              kind: 'deliverable',
              milestoneId: 'm1',
              title: 'Work',
              amount: '1000',
              currency: 'EUR',
              dueDate: new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(),
              acceptanceCriteria: { description: 'done' },
            },
          ],
        },
        {
          transient: {
            terms: {
              scope: 'Drafted while the channel membership changes.',
              salt: randomBytes(16).toString('hex'),
              rates: [{ description: 'fixed price', amount: '1000', currency: 'EUR', per: 'fixed' }],
            },
          },
        },
      );
      drafts.push({ startedAt, committedAt: Date.now() });
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { drafts, failures };
}

/** When the network reported a line containing `text` (the first time), from `reported`. */
function reportedAt(reported: readonly { line: string; at: number }[], text: string): number {
  const entry = reported.find((candidate) => candidate.line.includes(text));
  if (entry === undefined) throw new Error(`the network never reported "${text}"`);
  return entry.at;
}

/** Evaluates and submits as `identity` through another organisation's peer; returns both refusals' texts. */
async function refusalsThroughPeerOf(
  config: NetworkConfig,
  peerMspId: string,
  identity: SigningIdentity,
): Promise<string[]> {
  const connections = new PeerConnections(readConnectionProfile(config.paths.connectionProfile));
  const connection = connections.forMsp(peerMspId);
  const gateway = connect({
    client: connection.client,
    identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificatePem) },
    signer: signers.newPrivateKeySigner(createPrivateKey(identity.privateKeyPem)),
    hash: hash.sha256,
    tlsClientCertificateHash: connection.tlsClientCertificateHash,
  });
  const describe = (error: unknown): string => {
    const details = (error as { details?: { message?: string }[] }).details ?? [];
    return [
      error instanceof Error ? error.message : String(error),
      ...details.map((detail) => detail.message ?? ''),
    ].join(' | ');
  };
  try {
    const contract = gateway.getNetwork(config.channel).getContract(config.chaincode.name);
    const evaluated = await contract.evaluateTransaction('governance:listMembers').then(() => 'evaluated', describe);
    const submitted = await contract.submitTransaction('governance:acceptMembership').then(() => 'submitted', describe);
    // What the API sees of the same refusals through the gateway library: a typed error it answers with 403.
    const client = new ContractClient(gateway.getNetwork(config.channel), config.chaincode.name);
    const typed = [
      await client.evaluate(governanceTransactions.listMembers, {}).then(
        () => 'evaluated',
        (error: unknown) => error,
      ),
      await client.submit(governanceTransactions.acceptMembership, {}).then(
        () => 'submitted',
        (error: unknown) => error,
      ),
    ];
    for (const outcome of typed) expect(outcome).toBeInstanceOf(NotMemberError);
    return [evaluated, submitted];
  } finally {
    gateway.close();
    connection.client.close();
  }
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
  let removalProposalId: string;
  /** A transaction LabelOrg's peer endorsed while a member, proved again after its removal. */
  let labelEndorsed: string | undefined;
  const reported: { line: string; at: number }[] = [];

  beforeAll(() => {
    config = e2eConfig();
    network = new LocalNetwork(config, toolchainAt(toolchainDir()), (line) => {
      reported.push({ line, at: Date.now() });
    });
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
    const sequenceBefore = readDeployment(config)?.sequence ?? 0;
    reported.length = 0;
    const draftingClient = await founders.enroll('ClientOrg', 'client', 'window');
    const draftingFreelancer = await founders.enroll('TalentOrg', 'freelancer', 'window');
    // A transaction the founders' policy admits (ClientOrg and AuditOrg, two of three) and
    // the definition that takes the organisation in would not: its proof must hold after.
    const [proposer] = await founders.governors();
    if (proposer === undefined) throw new Error('the network has no governor');
    const earlier = await proposer.governance.propose(
      {
        proposalId: `P-proof-${randomBytes(4).toString('hex')}`,
        title: 'Proved before add-org',
        text: 'A proposal whose proof is exported before and after add-org.',
        actions: [{ type: 'setParameter', name: 'maxRevisions', value: 3 }],
        votingSeconds: 600,
        timelockSeconds: 600,
      },
      { endorsingOrganizations: ['ClientOrgMSP', 'AuditOrgMSP'] },
    );
    const founderProofs = qsccProofExporter(proposer.gateway.getNetwork(config.channel), config.chaincode.name);
    const before = verifyProof(await founderProofs.exportProof(earlier.transactionId));
    expect(before.failures).toEqual([]);
    expect(before.transaction?.endorsers).toEqual(['AuditOrgMSP', 'ClientOrgMSP']);
    const adding = network.addOrg({ name: newOrg, proposalId });
    const duringChange = draftWhile(draftingClient, draftingFreelancer, adding);
    const result = await adding;
    const finishedAt = Date.now();
    // The definition that takes the organisation in is the next sequence.
    expect(result.sequence).toBe(sequenceBefore + 1);
    process.stdout.write(`[add-org] ${newMsp} joined in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);

    // Exported again after add-org, the earlier proof holds under the definition it was validated under.
    const after = verifyProof(await founderProofs.exportProof(earlier.transactionId));
    expect(after.failures).toEqual([]);
    expect(after.chaincodeDefinition?.sequence).toBe(before.chaincodeDefinition?.sequence);
    expect(after.chaincodeDefinition?.committedBy).toBe(before.chaincodeDefinition?.committedBy);
    expect(after.endorsementPolicy).toBe('2 of (ClientOrgMSP.peer, TalentOrgMSP.peer, AuditOrgMSP.peer)');
    expect(after.trustAnchors?.map((anchor) => anchor.mspId)).toContain(newMsp);

    // Between the channel update (MAJORITY grows to 3 of 4) and the commit of the next
    // definition, drafts endorsed by ClientOrg and TalentOrg alone keep committing.
    const { drafts, failures } = await duringChange;
    const memberAt = reportedAt(reported, `${newMsp} is a member of channel`);
    const inWindow = drafts.filter((draft) => draft.startedAt >= memberAt && draft.committedAt <= finishedAt);
    process.stdout.write(
      `[add-org] ${drafts.length} drafts during add-org, ${inWindow.length} inside the ${((finishedAt - memberAt) / 1000).toFixed(1)} s ` +
        `between the channel update and the new definition; failures: ${failures.length === 0 ? 'none' : failures.join(' / ')}\n`,
    );
    expect(failures).toEqual([]);
    expect(inWindow.length).toBeGreaterThan(0);
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
      // A transaction after add-org proves against the definition that takes the organisation in.
      const acceptedProof = verifyProof(
        await qsccProofExporter(governor.gateway.getNetwork(grown.channel), grown.chaincode.name).exportProof(
          accepted.transactionId,
        ),
      );
      expect(acceptedProof.failures).toEqual([]);
      labelEndorsed = accepted.transactionId;
      expect(acceptedProof.chaincodeDefinition?.sequence).toBe(result.sequence);
      expect(acceptedProof.endorsementPolicy).toContain(
        `3 of (ClientOrgMSP.peer, TalentOrgMSP.peer, AuditOrgMSP.peer, ${newMsp}.peer)`,
      );

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

      // The consortium-wide collection took the organisation in; the parties' collections did not.
      const collections = network.connectionProfile().collections;
      expect(collections['credentialSecrets']).toContain(newMsp);
      expect(collections['agreementTerms']).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);

      // Private terms reach the two parties' peers only, and that endorsement still commits with four members.
      const started = Date.now();
      const draftId = await privateAgreementFlow(consortium);
      process.stdout.write(`[add-org] private agreement flow with four members in ${Date.now() - started} ms\n`);
      expect((await endorsersOf(governor, grown.channel, draftId)).sort()).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);

      // The membership the API reads (latest configuration block through qscc) names the new organisation.
      expect(await qsccChannelMembers(governor.gateway.getNetwork(grown.channel)).mspIds()).toEqual([
        'AuditOrgMSP',
        'ClientOrgMSP',
        newMsp,
        'TalentOrgMSP',
      ]);
    } finally {
      consortium.close();
    }
  });

  it('exports bundles after add-org, for a founder and for the added organisation, from the real material', () => {
    const grown = e2eConfig();
    const dir = mkdtempSync(path.join(tmpdir(), 'gl-e2e-bundles-'));
    try {
      for (const name of ['TalentOrg', newOrg]) {
        const file = path.join(dir, `${name}.bundle.json`);
        writeOrgBundle(exportOrgBundle(grown, name, path.basename(file)), file);
        const home = path.join(dir, name);
        unpackOrgBundle(file, home, name);
        const unpacked = loadNetworkConfig({ home });
        expect(unpacked.peerOrgs.map((org) => `${org.mspId}@${org.address}:${org.peer.port}`)).toEqual(
          grown.peerOrgs.map((org) => `${org.mspId}@${org.address}:${org.peer.port}`),
        );
        expect(missingMaterial(unpacked, hostedNodes(unpacked, name))).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a removal that no executed proposal decided, or that too few admins signed, and leaves the channel unchanged', async () => {
    const grown = e2eConfig();
    const consortium = openConsortiumLedger(grown);
    try {
      const failure = await admissionFailure(network.removeOrg({ name: newOrg }));
      expect(failure.step).toBe('check the governance decision');
      expect(failure.message).toMatch(
        /pass --proposal <id> of an executed proposal that takes LabelOrgMSP's member rights/,
      );

      const founderFailure = await admissionFailure(network.removeOrg({ name: 'AuditOrg', proposalId: 'P-none' }));
      expect(founderFailure.step).toBe('check the organisation');

      const executed = await enactByVote(
        await consortium.governors(),
        [{ type: 'setMemberRights', mspId: newMsp, voting: false, veto: false }],
        'Remove LabelOrg',
      );
      removalProposalId = executed.proposal.proposalId;
      const members = await (await consortium.governors())[0]!.governance.listMembers();
      expect(members.find((member) => member.mspId === newMsp && (member.voting || member.veto))).toBeUndefined();

      // MAJORITY Admins of four is three: two signatures are refused by the orderer.
      const refused = await admissionFailure(
        network.removeOrg({ name: newOrg, proposalId: removalProposalId, signers: ['ClientOrg', 'TalentOrg'] }),
      );
      expect(refused.step).toBe('submit the channel configuration update as TalentOrgMSP admin to orderer orderer0');
      expect(refused.message).toMatch(/policy|signature/i);
      process.stdout.write(`[remove-org] refused as expected: ${refused.message.split('\n').slice(-2).join(' ')}\n`);
      expect(await channelOrgs()).toEqual(['AuditOrg', 'ClientOrg', 'LabelOrg', 'TalentOrg']);
      expect(readAddedOrgs(config.paths.addedOrgs).map((entry) => entry.removal)).toEqual([undefined]);
    } finally {
      consortium.close();
    }
  });

  it('removes the organisation for the executed proposal: its peer gets no new blocks and its identities are refused', async () => {
    const grown = e2eConfig();
    const labelOrg = grown.peerOrgs.find((org) => org.name === newOrg)!;
    const grownConsortium = openConsortiumLedger(grown);
    const labelGovernor = await grownConsortium.enroll(newOrg, 'governor', 'label-gov').finally(() => {
      grownConsortium.close();
    });

    const started = Date.now();
    const sequenceBefore = readDeployment(config)?.sequence ?? 0;
    reported.length = 0;
    // Through the founders' connections: read-your-writes would otherwise wait for the removed peer, which gets no more blocks.
    const draftingClient = await founders.enroll('ClientOrg', 'client', 'window');
    const draftingFreelancer = await founders.enroll('TalentOrg', 'freelancer', 'window');
    let finishedAt = Number.POSITIVE_INFINITY;
    const removing = network.removeOrg({ name: newOrg, proposalId: removalProposalId }).finally(() => {
      finishedAt = Date.now();
    });
    const duringChange = draftWhile(draftingClient, draftingFreelancer, removing);
    const result = await removing;
    expect(result.sequence).toBe(sequenceBefore + 1);
    process.stdout.write(`[remove-org] ${newMsp} removed in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    const { drafts, failures } = await duringChange;
    const goneAt = reportedAt(reported, `${newMsp} is no longer a member of channel`);
    const inWindow = drafts.filter((draft) => draft.startedAt >= goneAt && draft.committedAt <= finishedAt);
    process.stdout.write(
      `[remove-org] ${drafts.length} drafts during remove-org, ${inWindow.length} between the channel update and the ` +
        `new definition; failures: ${failures.length === 0 ? 'none' : failures.join(' / ')}\n`,
    );
    expect(failures).toEqual([]);
    expect(inWindow.length).toBeGreaterThan(0);

    // network:status counts only members: the removed organisation's CA and peer still run here but are its own.
    expect(network.registry.running().map((record) => record.name)).toContain(`peer0.${newOrg}`);
    const listed = (await network.status()).processes.map((entry) => entry.name);
    expect(listed).not.toContain(`peer0.${newOrg}`);
    expect(listed).not.toContain('ca-labelorg');
    expect(result.signedBy).toEqual(['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP']);
    expect(await channelOrgs()).toEqual(['AuditOrg', 'ClientOrg', 'TalentOrg']);
    expect(readAddedOrgs(config.paths.addedOrgs)[0]?.removal).toMatchObject({
      proposalId: removalProposalId,
      signedBy: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'],
    });
    const shrunk = e2eConfig();
    expect(shrunk.peerOrgs.map((org) => org.mspId)).toEqual(['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP']);
    expect(network.connectionProfile().collections['credentialSecrets']).toEqual([
      'ClientOrgMSP',
      'TalentOrgMSP',
      'AuditOrgMSP',
    ]);

    // The orderers deliver nothing more to the removed peer once the update is in force.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const frozen = await peerHeight(grown, network.toolchain, labelOrg);
    const consortium = openConsortiumLedger(shrunk);
    try {
      await privateAgreementFlow(consortium);
      const [clientOrg] = shrunk.peerOrgs;
      const founderHeight = await eventually('the founders past the removed peer', async () => {
        const height = await peerHeight(shrunk, network.toolchain, clientOrg!);
        return height > frozen + 3 ? height : undefined;
      });
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const removedHeight = await peerHeight(grown, network.toolchain, labelOrg);
      process.stdout.write(
        `[remove-org] founders at height ${founderHeight}, removed peer stays at ${removedHeight}\n`,
      );
      expect(removedHeight).toBe(frozen);
      const peerLog = network.registry.find(`peer0.${newOrg}`)?.log;
      expect(peerLog).toBeDefined();
      expect(readFileSync(peerLog!, 'utf8')).toMatch(/received bad status FORBIDDEN from orderer/);

      // Its identities are refused by the peers of the organisations that stay.
      const refusals = await refusalsThroughPeerOf(shrunk, 'ClientOrgMSP', labelGovernor.identity);
      process.stdout.write(`[remove-org] evaluate: ${refusals[0]}\n[remove-org] submit: ${refusals[1]}\n`);
      expect(refusals).not.toContain('evaluated');
      expect(refusals).not.toContain('submitted');
      for (const refusal of refusals) expect(refusal).toMatch(/access denied|creator org unknown|not authori[sz]ed/i);

      const founder = await consortium.enroll('ClientOrg', 'client', 'members');
      try {
        // What LabelOrg endorsed while a member still proves: its signers are judged by the
        // configuration in force at that block, which the bundle carries beside the latest.
        if (labelEndorsed === undefined) throw new Error('the add-org test proved no transaction LabelOrg endorsed');
        const memberTime = await qsccProofExporter(
          founder.gateway.getNetwork(shrunk.channel),
          shrunk.chaincode.name,
        ).exportProof(labelEndorsed);
        expect(memberTime.transactionConfig?.blockNumber).toBeLessThan(memberTime.config.blockNumber);
        const stillValid = verifyProof(memberTime);
        expect(stillValid.failures).toEqual([]);
        expect(stillValid.transaction?.endorsers).toContain(newMsp);
        expect(stillValid.trustAnchors?.map((anchor) => anchor.mspId)).toContain(newMsp);
        expect(await qsccChannelMembers(founder.gateway.getNetwork(shrunk.channel)).mspIds()).toEqual([
          'AuditOrgMSP',
          'ClientOrgMSP',
          'TalentOrgMSP',
        ]);
      } finally {
        founder.close();
      }
    } finally {
      consortium.close();
      labelGovernor.close();
    }
  });
});
