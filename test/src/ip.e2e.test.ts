import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { MilestoneRecord, OwnershipChangeView, WorkEndorsement, WorkRecord } from '@gigledger/chaincode/model';
import { startE2eApiWithSandbox, type E2eApi, type E2eApiWithSandbox } from './support/api-server.js';
import { e2eConfig } from './support/e2e-environment.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface Committed<Result> {
  requestId?: string;
  transactionId: string;
  blockNumber: string;
  result: Result;
}

/**
 * IP records on the real network, through the API: registration and priority, ownership
 * changes that need every co-owner, and work for hire, where the sandbox provider's
 * payment confirmation moves the delivered work to the client in the same transaction.
 */
describe('IP records on the real network', () => {
  let api: E2eApi;
  let moneyLoop: E2eApiWithSandbox;
  const suffix = randomBytes(3).toString('hex');

  beforeAll(async () => {
    moneyLoop = await startE2eApiWithSandbox(e2eConfig());
    ({ api } = moneyLoop);
  });

  afterAll(async () => {
    await moneyLoop.close();
  });

  const registerBody = (workId: string, contentHash: string, creator: { mspId: string; userId: string }) => ({
    workId,
    kind: 'model',
    contentHash,
    title: `Model ${workId}`,
    uri: `https://models.example.com/${workId}`,
    creators: [creator],
  });

  it('registers a work and refuses the same content hash again, naming the first registration', async () => {
    const tara = await api.person(`tara-ip-${suffix}`, 'TalentOrg', 'freelancer');
    const carol = await api.person(`carol-ip-${suffix}`, 'ClientOrg', 'client');
    const contentHash = sha256(`weights ${suffix}`);

    const registered = await api.call('POST', '/v1/ip/works', tara.token, {
      ...registerBody(`W-${suffix}-1`, contentHash, tara.party),
      requestId: `register-${suffix}-1`,
    });
    expect(registered.status).toBe(201);
    const first = (registered.body as Committed<WorkRecord>).result;
    expect(first.registrationTxId).toBe((registered.body as Committed<WorkRecord>).transactionId);
    expect(first.owners).toEqual([{ party: tara.party, shareBps: 10_000 }]);

    const duplicate = await api.call(
      'POST',
      '/v1/ip/works',
      carol.token,
      registerBody(`W-${suffix}-2`, contentHash, carol.party),
    );
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 'ALREADY_REGISTERED', field: 'body.contentHash' });
    const message = (duplicate.body as { message: string }).message;
    expect(message).toContain(`work W-${suffix}-1`);
    expect(message).toContain(`${tara.party.mspId}/${tara.party.userId} (10000 bps)`);
    expect(message).toContain(`in transaction ${first.registrationTxId} at ${first.registeredAt}`);

    const found = await api.call('GET', `/v1/ip/content-hashes/${contentHash}`, carol.token);
    expect((found.body as WorkRecord).workId).toBe(`W-${suffix}-1`);
    const endorsement = await api.call('GET', `/v1/ip/works/W-${suffix}-1/endorsement`, carol.token);
    expect(endorsement.body).toEqual({ workId: `W-${suffix}-1`, organisations: ['TalentOrgMSP'] });
  });

  it('changes the owners of a co-owned work only once both owners approved, each in their own transaction', async () => {
    const tara = await api.person(`tara-co-${suffix}`, 'TalentOrg', 'freelancer');
    const carol = await api.person(`carol-co-${suffix}`, 'ClientOrg', 'client');
    const workId = `W-${suffix}-co`;
    const registered = await api.call('POST', '/v1/ip/works', tara.token, {
      ...registerBody(workId, sha256(`co-owned ${suffix}`), tara.party),
      owners: [
        { party: tara.party, shareBps: 6000 },
        { party: carol.party, shareBps: 4000 },
      ],
    });
    expect(registered.status).toBe(201);
    expect((await api.call('GET', `/v1/ip/works/${workId}/endorsement`, tara.token)).body).toEqual({
      workId,
      organisations: ['ClientOrgMSP', 'TalentOrgMSP'],
    });

    const shares = await api.call('POST', `/v1/ip/works/${workId}/ownership-changes`, tara.token, {
      changeId: 'C0',
      owners: [{ party: carol.party, shareBps: 9000 }],
    });
    expect(shares.status).toBe(422);
    expect(shares.body).toMatchObject({ field: 'body.owners' });

    const proposed = await api.call('POST', `/v1/ip/works/${workId}/ownership-changes`, tara.token, {
      changeId: 'C1',
      owners: [{ party: carol.party, shareBps: 10_000 }],
      reason: 'the client buys out the freelancer',
    });
    expect(proposed.status).toBe(201);
    expect((proposed.body as Committed<OwnershipChangeView>).result).toMatchObject({
      change: { status: 'open' },
      awaiting: [carol.party],
    });
    // One approval (the proposer's) is not enough.
    const unchanged = (await api.call('GET', `/v1/ip/works/${workId}`, carol.token)).body as WorkRecord;
    expect(unchanged.owners).toHaveLength(2);
    const again = await api.call('POST', `/v1/ip/works/${workId}/ownership-changes/C1/approvals`, tara.token, {});
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'ALREADY_APPROVED' });

    const approved = await api.call('POST', `/v1/ip/works/${workId}/ownership-changes/C1/approvals`, carol.token, {});
    expect(approved.status).toBe(200);
    const applied = (approved.body as Committed<OwnershipChangeView>).result;
    expect(applied.change.status).toBe('applied');
    const work = (await api.call('GET', `/v1/ip/works/${workId}`, tara.token)).body as WorkRecord;
    expect(work.owners).toEqual([{ party: carol.party, shareBps: 10_000 }]);
    expect(work.ownershipVersion).toBe(2);
    expect((await api.call('GET', `/v1/ip/works/${workId}/endorsement`, tara.token)).body).toEqual({
      workId,
      organisations: ['ClientOrgMSP'],
    });
  });

  it('moves a work-for-hire deliverable to the client when the sandbox provider pays the milestone', async () => {
    const client = await api.person(`carol-wfh-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`tara-wfh-${suffix}`, 'TalentOrg', 'freelancer');
    await api.payoutAccount(client, 'DE89370400440532013000', 'COBADEFFXXX');
    await api.payoutAccount(freelancer, 'FR1420041010050500013M02606', 'BNPAFRPPXXX');
    await api.grantKyc([freelancer.party]);

    const workId = `W-${suffix}-wfh`;
    const modelHash = sha256(`fraud model ${suffix}`);
    expect(
      (await api.call('POST', '/v1/ip/works', freelancer.token, registerBody(workId, modelHash, freelancer.party)))
        .status,
    ).toBe(201);

    const agreementId = `IP-${suffix}`;
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Fraud model, work for hire',
      scope: 'Train a fraud model; its IP passes to the client on payment.',
      milestone: { title: 'Model', amount: '120000', criteria: 'Recall of at least 0.9', ipAssignment: 'client' },
    });
    await api.acceptTerms(freelancer, agreementId);
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    expect((await api.call('POST', `${milestone}/fund`, client.token, {})).status).toBe(200);
    await until(client.token, agreementId, 'funded');

    const delivered = await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
      artifactSha256: modelHash,
      uri: `https://models.example.com/${workId}`,
      claimedMetrics: { recall: 0.93 },
      workId,
    });
    expect(delivered.status).toBe(200);
    const pledged = (await api.call('GET', `/v1/ip/works/${workId}`, client.token)).body as WorkRecord;
    expect(pledged.owners).toEqual([{ party: freelancer.party, shareBps: 10_000 }]);
    expect(pledged.pledge).toMatchObject({ agreementId, milestoneId: 'm1' });

    expect((await api.call('POST', `${milestone}/accept`, client.token, {})).status).toBe(200);
    expect((await api.call('POST', `${milestone}/release`, client.token, {})).status).toBe(200);
    // Released but not yet paid: the freelancer still owns the work.
    const paid = await until(freelancer.token, agreementId, 'paid');
    const release = paid.instructions.find((instruction) => instruction.kind === 'release');
    expect(release?.status).toBe('paid');
    const payingTxId = release?.confirmation?.txId;

    const work = (await api.call('GET', `/v1/ip/works/${workId}`, freelancer.token)).body as WorkRecord;
    expect(work.owners).toEqual([{ party: client.party, shareBps: 10_000 }]);
    expect(work.pledge).toBeUndefined();
    expect(work.assignment).toMatchObject({
      agreementId,
      milestoneId: 'm1',
      txId: payingTxId,
      from: [{ party: freelancer.party, shareBps: 10_000 }],
    });
    // The payment transaction was endorsed by the freelancer's organisation, as the old
    // policy required; from now on a change of the work needs the client's organisation.
    const endorsement = (await api.call('GET', `/v1/ip/works/${workId}/endorsement`, client.token))
      .body as WorkEndorsement;
    expect(endorsement.organisations).toEqual(['ClientOrgMSP']);
    const owned = await api.call(
      'GET',
      `/v1/ip/owners/${client.party.mspId}/${client.party.userId}/works`,
      client.token,
    );
    expect((owned.body as WorkRecord[]).map((record) => record.workId)).toEqual([workId]);
  });

  async function until(as: string, agreementId: string, status: string): Promise<MilestoneRecord> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const response = await api.call('GET', `/v1/agreements/${agreementId}`, as);
      const milestone = (response.body as { milestones: MilestoneRecord[] }).milestones[0];
      if (milestone?.status === status) return milestone;
      if (Date.now() > deadline)
        throw new Error(`${agreementId}/m1 stayed ${String(milestone?.status)}, not ${status}`);
      await delay(250);
    }
  }
});
