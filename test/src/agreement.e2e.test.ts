import { randomBytes } from 'node:crypto';
import type { ChaincodeEvent } from '@hyperledger/fabric-gateway';
import { agreementTermsSha256, type AgreementTerms, type MilestoneRecord } from '@gigledger/chaincode/model';
import { CommitFailedError, RefusedError, type LedgerSession } from '@gigledger/gateway';
import { peerHeight } from '@gigledger/network';
import { governArbitrators } from '@gigledger/network';
import { grantAuditTo, grantKycTo, openE2eContext, partyOf, type E2eContext } from './support/ledger.js';

function requestId(): string {
  return `req-${randomBytes(8).toString('hex')}`;
}

const sha = (text: string): string => Buffer.from(text.padEnd(32, '.')).toString('hex').slice(0, 64);

/** Reads chaincode events from a block on, in the background, until stopped. */
function listen(session: LedgerSession, channel: string, chaincode: string, startBlock: bigint) {
  const received: { name: string; payload: Record<string, unknown>; blockNumber: bigint }[] = [];
  let closeStream: (() => void) | undefined;
  const done = (async () => {
    const events = await session.gateway.getNetwork(channel).getChaincodeEvents(chaincode, { startBlock });
    closeStream = () => {
      events.close();
    };
    try {
      for await (const event of events as AsyncIterable<ChaincodeEvent>) {
        received.push({
          name: event.eventName,
          payload: JSON.parse(Buffer.from(event.payload).toString()) as Record<string, unknown>,
          blockNumber: event.blockNumber,
        });
      }
    } catch {
      // Closing the stream ends the iteration with a cancellation.
    }
  })();
  return {
    received,
    async stop() {
      closeStream?.();
      await done;
    },
  };
}

describe('a work agreement between ClientOrg and TalentOrg on the real network', () => {
  let context: E2eContext;
  let client: LedgerSession;
  let freelancer: LedgerSession;
  let settlement: LedgerSession;
  let arbitrators: LedgerSession[];
  let outsider: LedgerSession;

  beforeAll(async () => {
    context = openE2eContext();
    client = await context.enroll('ClientOrg', 'client', 'carol');
    freelancer = await context.enroll('TalentOrg', 'freelancer', 'tara');
    settlement = await context.enroll('ClientOrg', 'settlement', 'bank');
    arbitrators = [
      await context.enroll('AuditOrg', 'arbitrator', 'arb'),
      await context.enroll('AuditOrg', 'arbitrator', 'arb'),
      await context.enroll('AuditOrg', 'arbitrator', 'arb'),
    ];
    // Panels are drawn from the governed arbitrators: these three, and no one else.
    await governArbitrators(await context.governors(), arbitrators.map(partyOf));
    outsider = await context.enroll('TalentOrg', 'freelancer', 'mallory');
    await grantKycTo(context, [partyOf(freelancer)]);
  });

  afterAll(() => {
    context.close();
  });

  async function confirmPending(milestone: MilestoneRecord): Promise<MilestoneRecord> {
    let latest = milestone;
    for (const instruction of milestone.instructions.filter((candidate) => candidate.status === 'pending')) {
      latest = (
        await settlement.agreements.confirmSettlement({
          requestId: requestId(),
          agreementId: milestone.agreementId,
          milestoneId: milestone.milestoneId,
          instructionId: instruction.instructionId,
          outcome: 'paid',
          providerReference: `psp:${instruction.instructionId}`,
        })
      ).result;
    }
    return latest;
  }

  it("pages a party's agreements on the peers: each once, in key order, a bookmark only from its own list", async () => {
    const ids = [0, 1, 2].map((index) => `P-${randomBytes(4).toString('hex')}-${index}`).sort();
    const dueDate = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
    const lister = await context.enroll('ClientOrg', 'client', 'paige');
    for (const agreementId of ids) {
      await lister.agreements.draftAgreement(
        {
          requestId: requestId(),
          agreementId,
          title: 'Labelling batch',
          client: partyOf(lister),
          freelancer: partyOf(freelancer),
          milestones: [
            {
              kind: 'deliverable',
              milestoneId: 'm1',
              title: 'Labels',
              amount: '5000',
              currency: 'EUR',
              dueDate,
              acceptanceCriteria: { description: 'agreement of at least 0.9 with the gold set' },
            },
          ],
        },
        { transient: { terms: { scope: 'Label 1,000 images', rates: [], salt: randomBytes(16).toString('hex') } } },
      );
    }
    const whole = await lister.agreements.listAgreementsByParty({ ...partyOf(lister), role: 'client' });
    expect(whole.items.map((entry) => entry.agreement.agreementId)).toEqual(ids);
    expect(whole.bookmark).toBe('');

    const pages: string[][] = [];
    let bookmark = '';
    do {
      const page = await lister.agreements.listAgreementsByParty({
        ...partyOf(lister),
        role: 'client',
        pageSize: 2,
        ...(bookmark === '' ? {} : { bookmark }),
      });
      pages.push(page.items.map((entry) => entry.agreement.agreementId));
      bookmark = page.bookmark;
    } while (bookmark !== '');
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2)]);

    // Withdrawing the first two offers completes them. A page of one open agreement reads
    // on past them on the peer, within the one evaluation, and ends the list.
    for (const agreementId of ids.slice(0, 2)) {
      await lister.agreements.cancelAgreement({ requestId: requestId(), agreementId, reason: 'Batch withdrawn' });
    }
    const open = await lister.agreements.listAgreementsByParty({
      ...partyOf(lister),
      role: 'client',
      completed: false,
      pageSize: 1,
    });
    expect(open.items.map((entry) => entry.agreement.agreementId)).toEqual([ids[2]]);
    expect(open.bookmark).toBe('');
    const completed = await lister.agreements.listAgreementsByParty({
      ...partyOf(lister),
      role: 'client',
      completed: true,
    });
    expect(completed.items.map((entry) => entry.agreement.agreementId)).toEqual(ids.slice(0, 2));

    // The peer starts a page at the bookmark, wherever it lies: one from outside the
    // list's own keys would read other people's index entries, so the chaincode refuses it.
    const freelancersPage = await freelancer.agreements.listAgreementsByParty({ ...partyOf(freelancer), pageSize: 1 });
    for (const foreign of [freelancersPage.bookmark || '\u0000', '\u0000']) {
      await expect(
        lister.agreements.listAgreementsByParty({ ...partyOf(lister), role: 'client', bookmark: foreign }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', field: 'bookmark' });
    }
  });

  it('completes two milestones, one through a dispute, with events, private terms and key-level endorsement', async () => {
    const { channel, chaincode } = { channel: context.config.channel, chaincode: context.config.chaincode.name };
    const agreementId = `A-${randomBytes(4).toString('hex')}`;
    const terms: AgreementTerms = {
      scope: 'Fine-tune a classifier on the client hold-out set; deliver weights and an evaluation report.',
      rates: [{ description: 'fixed price', amount: '250000', currency: 'EUR', per: 'fixed' }],
      personalData: { freelancerLegalName: 'Tara Example' },
      salt: randomBytes(16).toString('hex'),
    };
    const [clientOrg] = context.config.peerOrgs;
    const gatewayCallsBefore = await gatewayCalls(context);
    const startBlock = BigInt(await peerHeight(context.config, context.network.toolchain, clientOrg!));
    const listener = listen(client, channel, chaincode, startBlock);
    const dueDate = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();

    const drafted = await client.agreements.draftAgreement(
      {
        requestId: requestId(),
        agreementId,
        title: 'Fraud classifier fine-tuning',
        client: partyOf(client),
        freelancer: partyOf(freelancer),
        milestones: [
          {
            kind: 'deliverable',
            milestoneId: 'm1',
            title: 'Baseline model',
            amount: '100000',
            currency: 'EUR',
            dueDate,
            acceptanceCriteria: { description: 'accuracy of at least 0.90 on the hold-out set' },
          },
          {
            kind: 'deliverable',
            milestoneId: 'm2',
            title: 'Tuned model',
            amount: '150000',
            currency: 'EUR',
            dueDate,
            acceptanceCriteria: { description: 'accuracy of at least 0.95 on the hold-out set' },
          },
        ],
      },
      { transient: { terms } },
    );
    expect(drafted.result.agreement.termsSha256).toBe(agreementTermsSha256(terms));
    expect(JSON.stringify(drafted.result)).not.toContain('Tara Example');

    // The freelancer reads the confidential terms from the private collection and binds acceptance to them.
    const privateTerms = await freelancer.agreements.getTerms({ agreementId });
    expect(privateTerms).toMatchObject({ status: 'held', terms });
    await freelancer.agreements.acceptAgreement({ agreementId, termsSha256: privateTerms.termsSha256 });

    // AuditOrg holds no copy of the terms, yet can check a document against the hashes on its own peer.
    const auditor = await context.enroll('AuditOrg', 'auditor', 'audit');
    await grantAuditTo(context, 'ClientOrg', auditor, ['agreement']);
    const verification = await auditor.agreements.verifyTerms({ agreementId, terms });
    expect(verification).toMatchObject({ matches: true, privateDataHashMatches: true });
    const tampered = await auditor.agreements.verifyTerms({
      agreementId,
      terms: { ...terms, scope: 'something else' },
    });
    expect(tampered).toMatchObject({ matches: false, privateDataHashMatches: false });

    // Milestone 1: funded, delivered, accepted, released and paid.
    const funding = await client.agreements.fundMilestone({ requestId: requestId(), agreementId, milestoneId: 'm1' });
    expect((await confirmPending(funding.result)).status).toBe('funded');
    await freelancer.agreements.submitDeliverable({
      requestId: requestId(),
      agreementId,
      milestoneId: 'm1',
      artifactSha256: sha('weights-v1'),
      uri: 'https://models.example.com/fraud/v1.safetensors',
      claimedMetrics: { accuracy: 0.91 },
    });

    // An outsider is answered as if the agreement did not exist.
    await expect(outsider.agreements.acceptMilestone({ agreementId, milestoneId: 'm1' })).rejects.toMatchObject({
      name: 'RefusedError',
      code: 'NOT_FOUND',
      refusal: `agreement ${agreementId} does not exist`,
    });

    // Endorsed by ClientOrg alone, the client's own acceptance breaks the key-level policy and changes nothing.
    const before = await client.agreements.getAgreement({ agreementId });
    const oneSided = client.agreements.acceptMilestone(
      { agreementId, milestoneId: 'm1' },
      { endorsingOrganizations: ['ClientOrgMSP'] },
    );
    await expect(oneSided).rejects.toBeInstanceOf(CommitFailedError);
    await expect(oneSided).rejects.toMatchObject({ validationCode: 'ENDORSEMENT_POLICY_FAILURE' });
    const after = await client.agreements.getAgreement({ agreementId });
    expect(after.milestones).toEqual(before.milestones);

    await client.agreements.acceptMilestone({ agreementId, milestoneId: 'm1' });
    const released = await client.agreements.releaseMilestone({
      requestId: requestId(),
      agreementId,
      milestoneId: 'm1',
    });
    const release = released.result.instructions.find((instruction) => instruction.kind === 'release');
    expect(release).toMatchObject({ amount: '97500', platformFee: '2500', currency: 'EUR', status: 'pending' });
    expect((await confirmPending(released.result)).status).toBe('paid');

    // Milestone 2: rejected, disputed, decided by two of three arbitrators, both shares paid.
    const funding2 = await client.agreements.fundMilestone({ requestId: requestId(), agreementId, milestoneId: 'm2' });
    await confirmPending(funding2.result);
    await freelancer.agreements.submitDeliverable({
      requestId: requestId(),
      agreementId,
      milestoneId: 'm2',
      artifactSha256: sha('weights-v2'),
      uri: 'https://models.example.com/fraud/v2.safetensors',
      claimedMetrics: { accuracy: 0.95 },
    });
    await client.agreements.rejectDeliverable({
      agreementId,
      milestoneId: 'm2',
      reason: 'measured 0.93 on our hold-out set',
    });
    const disputed = await freelancer.agreements.openDispute({
      requestId: requestId(),
      agreementId,
      milestoneId: 'm2',
      reason: 'the hold-out set changed after the agreement',
    });
    expect(disputed.result.status).toBe('disputed');
    await expect(
      freelancer.agreements.submitDeliverable({
        requestId: requestId(),
        agreementId,
        milestoneId: 'm2',
        artifactSha256: sha('weights-v3'),
        uri: 'https://models.example.com/fraud/v3.safetensors',
      }),
    ).rejects.toBeInstanceOf(RefusedError);

    const split = { escrowAmount: '150000', clientShare: '50000', freelancerShare: '100000' };
    let decided: MilestoneRecord | undefined;
    for (const arbitrator of arbitrators.slice(0, 2)) {
      decided = (
        await arbitrator.agreements.castDisputeVote({
          requestId: requestId(),
          agreementId,
          milestoneId: 'm2',
          ...split,
          reason: 'both parties share the blame for the unclear data set',
        })
      ).result;
    }
    const payouts = decided!.instructions.filter((instruction) => instruction.cause === 'dispute');
    const refund = payouts.find((instruction) => instruction.kind === 'refund');
    const payout = payouts.find((instruction) => instruction.kind === 'release');
    expect(refund).toMatchObject({ amount: '50000', platformFee: '0', status: 'pending' });
    expect(BigInt(payout!.amount) + BigInt(payout!.platformFee)).toBe(100000n);
    expect(payout!.platformFee).toBe('2500');
    await confirmPending(decided!);

    const view = await auditor.agreements.getAgreement({ agreementId });
    expect(view.completed).toBe(true);
    expect(view.milestones.map((milestone) => milestone.status)).toEqual(['paid', 'settled']);
    const history = await auditor.agreements.getMilestoneHistory({ agreementId, milestoneId: 'm2' });
    expect(history.length).toBeGreaterThanOrEqual(8);
    const mine = await freelancer.agreements.listAgreementsByParty({ ...partyOf(freelancer), role: 'freelancer' });
    expect(mine.items.map((entry) => entry.agreement.agreementId)).toContain(agreementId);

    // The listener saw every transition of this agreement, in commit order.
    const wanted = [
      'agreement.AgreementDrafted',
      'agreement.AgreementAccepted',
      'agreement.FundingRequested',
      'agreement.SettlementConfirmed',
      'agreement.DeliverableSubmitted',
      'agreement.MilestoneAccepted',
      'agreement.MilestoneReleased',
      'agreement.DeliverableRejected',
      'agreement.DisputeOpened',
      'agreement.DisputeVoteCast',
      'agreement.DisputeDecided',
    ];
    const ofAgreement = () => listener.received.filter((event) => event.payload.agreementId === agreementId);
    const deadline = Date.now() + 20_000;
    while (!wanted.every((name) => ofAgreement().some((event) => event.name === name)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await listener.stop();
    const names = ofAgreement().map((event) => event.name);
    for (const name of wanted) expect(names).toContain(name);
    expect(names.indexOf('agreement.AgreementDrafted')).toBe(0);
    expect(names.at(-1)).toBe('agreement.SettlementConfirmed');
    const blocks = ofAgreement().map((event) => event.blockNumber);
    expect([...blocks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(blocks);
    const decision = ofAgreement().find((event) => event.name === 'agreement.DisputeDecided');
    expect((decision?.payload.settlementRequests as unknown[]).length).toBe(2);

    // Each command's writes reached the endorsing peers as write batches, never one message
    // per key (the peers count the chaincode's requests by type).
    for (const org of context.config.peerOrgs.filter((candidate) => candidate.name !== 'AuditOrg')) {
      const metrics = await (await fetch(`http://${org.address}:${org.peer.operationsPort}/metrics`)).text();
      const received = (type: string) => shimRequestsReceived(metrics, chaincode, type);
      expect(received('WRITE_BATCH_STATE')).toBeGreaterThan(10);
      expect(received('PUT_STATE')).toBe(0);
      expect(received('PUT_STATE_METADATA')).toBe(0);
    }

    // Each commit was taken from the gateway peer's block stream, not asked for: a commit-status
    // request is asked only when the stream could not tell within the poll interval.
    const gatewayCallsAfter = await gatewayCalls(context);
    const submits = gatewayCallsAfter.Submit - gatewayCallsBefore.Submit;
    const statusAsks = gatewayCallsAfter.CommitStatus - gatewayCallsBefore.CommitStatus;
    expect(submits).toBeGreaterThan(10);
    expect(statusAsks).toBeLessThan(submits / 5);
  });
});

/** Submit and CommitStatus calls the peers' Fabric gateways received so far, summed over the peers. */
async function gatewayCalls(context: E2eContext): Promise<{ Submit: number; CommitStatus: number }> {
  const counts = { Submit: 0, CommitStatus: 0 };
  for (const org of context.config.peerOrgs) {
    const metrics = await (await fetch(`http://${org.address}:${org.peer.operationsPort}/metrics`)).text();
    for (const line of metrics.split('\n')) {
      if (!line.startsWith('grpc_server_unary_requests_received{') || !line.includes('Gateway')) continue;
      for (const method of ['Submit', 'CommitStatus'] as const) {
        if (line.includes(`method="${method}"`)) counts[method] += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
  }
  return counts;
}

/**
 * The requests of one type a peer received from the chaincode `chaincode` (its package id
 * starts with the name; the peer's own system chaincodes count under theirs), from the
 * peer's Prometheus metrics.
 */
function shimRequestsReceived(metrics: string, chaincode: string, type: string): number {
  return metrics
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('chaincode_shim_requests_received{') &&
        line.includes(`chaincode="${chaincode}`) &&
        line.includes(`type="${type}"`),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
