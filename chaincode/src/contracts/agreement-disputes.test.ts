import { agreementEvents } from '../model/agreement-events';
import type { MilestoneRecord } from '../model/agreement-records';
import {
  AgreementDriver,
  arbitratorA,
  arbitratorB,
  arbitratorC,
  arbitratorD,
  client,
  clientParty,
  evaluator,
  freelancer,
  freelancerParty,
  milestoneKey,
  missingAgreement,
  otherClient,
  reviewWindowSeconds,
} from '../test-support/agreement-fixtures';

const stored = (driver: AgreementDriver, milestoneId: string): MilestoneRecord =>
  driver.ledger.read(milestoneKey(milestoneId)) as MilestoneRecord;

describe('AgreementContract: disputes', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = await AgreementDriver.withSubmittedMilestone('m1');
  });

  it('lets the freelancer dispute a rejection, freezing the milestone', async () => {
    await driver.reject('m1');
    const disputed = await driver.dispute('m1', freelancer, 'The criteria were met');

    expect(disputed).toMatchObject({
      status: 'disputed',
      dispute: { openedBy: 'freelancer', reason: 'The criteria were met', frozenStatus: 'rejected', votes: [] },
    });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.DisputeOpened',
      payload: { dispute: disputed.dispute, milestone: disputed },
    });
    await driver.expectRefusal(
      () => driver.submit('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is disputed, not funded or rejected, so it cannot be submitted',
    );
  });

  it('lets the client dispute a delivery under review, which stops the review clock', async () => {
    await driver.dispute('m1', client);
    driver.ledger.advanceSeconds(reviewWindowSeconds);
    await driver.expectRefusal(
      () => driver.claim('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is disputed, not submitted, so it cannot be accepted',
    );
    await driver.expectRefusal(
      () => driver.acceptMilestone('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is disputed, not submitted, so it cannot be accepted',
    );
    await driver.expectRefusal(
      () => driver.evaluate('m1', { accuracy: 0.99 }),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is disputed, not submitted, so it cannot be evaluated',
    );
  });

  it('decides by majority of the panel and emits the refund and the payout', async () => {
    await driver.dispute('m1');

    const first = await driver.vote('m1', arbitratorA, '50001', '100000');
    expect(first.status).toBe('disputed');
    expect(first.dispute!.votes).toHaveLength(1);
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.DisputeVoteCast',
      payload: { vote: { arbitrator: { mspId: 'AuditOrgMSP', userId: 'arb-ann' }, clientShare: '50001' } },
    });
    const second = await driver.vote('m1', arbitratorB, '150001', '0');
    expect(second.status).toBe('disputed');

    const decided = await driver.vote('m1', arbitratorC, '50001', '100000');

    expect(decided.status).toBe('resolved');
    expect(decided.dispute!.decision).toMatchObject({
      clientShare: '50001',
      freelancerShare: '100000',
      majority: [
        { mspId: 'AuditOrgMSP', userId: 'arb-ann' },
        { mspId: 'AuditOrgMSP', userId: 'arb-cyd' },
      ],
    });
    const [refund, payout] = decided.instructions.slice(-2);
    expect(refund).toMatchObject({
      instructionId: 'A-17/m1/refund-1',
      kind: 'refund',
      cause: 'dispute',
      payer: clientParty,
      payee: freelancerParty,
      // Whichever way money moves, the payer and payee are the parties; the refund goes to the client.
      recipient: clientParty,
      amount: '50001',
      platformFee: '0',
      status: 'pending',
    });
    // The platform fee applies to the freelancer's share: 100000 × 2.5% = 2500.
    expect(payout).toMatchObject({
      instructionId: 'A-17/m1/release-1',
      kind: 'release',
      cause: 'dispute',
      recipient: freelancerParty,
      amount: '97500',
      platformFee: '2500',
    });
    expect(BigInt(refund!.amount) + BigInt(payout!.amount) + BigInt(payout!.platformFee)).toBe(150001n);
    const event = driver.ledger.lastEvent!;
    expect(event.name).toBe('agreement.DisputeDecided');
    expect(agreementEvents.disputeDecided.payload.parse(event.payload)).toMatchObject({
      settlementRequests: [refund, payout],
      decision: decided.dispute!.decision,
    });

    expect((await driver.confirm('m1', 'A-17/m1/refund-1')).status).toBe('resolved');
    expect((await driver.confirm('m1', 'A-17/m1/release-1')).status).toBe('settled');
  });

  it('issues only the refund when the client gets the whole escrow', async () => {
    await driver.dispute('m1');
    await driver.vote('m1', arbitratorA, '150001', '0');
    const decided = await driver.vote('m1', arbitratorB, '150001', '0');
    expect(decided.instructions.slice(1).map((i) => [i.kind, i.amount])).toEqual([['refund', '150001']]);
    expect(driver.ledger.lastEvent).toMatchObject({ payload: { settlementRequests: [{ kind: 'refund' }] } });
  });

  it('lets an arbitrator revise their vote until a majority forms', async () => {
    await driver.dispute('m1');
    await driver.vote('m1', arbitratorA, '150001', '0');
    await driver.vote('m1', arbitratorB, '0', '150001');
    const revised = await driver.vote('m1', arbitratorA, '0', '150001');

    expect(revised.status).toBe('resolved');
    expect(revised.dispute!.votes.map((v) => [v.arbitrator.userId, v.freelancerShare])).toEqual([
      ['arb-ann', '150001'],
      ['arb-ben', '150001'],
    ]);
    // The record keeps what arb-ann said first, so no vote cast disappears from it.
    expect(revised.dispute!.supersededVotes?.map((v) => [v.arbitrator.userId, v.clientShare])).toEqual([
      ['arb-ann', '150001'],
    ]);
  });

  it('counts no vote of an arbitrator governance removed after voting: the majority is of the members still governed', async () => {
    await driver.dispute('m1');
    await driver.vote('m1', arbitratorA, '50001', '100000');
    await driver.applyGenesis([
      {
        type: 'removeArbitrator',
        arbitrator: { mspId: arbitratorA.mspId, userId: String(arbitratorA.attributes?.userId) },
        reason: 'Conflict of interest declared',
      },
    ]);
    // Two of three would decide; with ann removed, ben's agreeing vote is one of the two still seated.
    const one = await driver.vote('m1', arbitratorB, '50001', '100000');
    expect(one.status).toBe('disputed');
    expect(one.dispute!.votes.map((v) => v.arbitrator.userId)).toEqual(['arb-ann', 'arb-ben']);
    const decided = await driver.vote('m1', arbitratorC, '50001', '100000');
    expect(decided.status).toBe('resolved');
    expect(decided.dispute!.decision!.majority.map((party) => party.userId)).toEqual(['arb-ben', 'arb-cyd']);
    // The removed arbitrator may neither vote nor read the agreement any more.
    await driver.expectRefusal(() => driver.vote('m1', arbitratorA, '0', '150001'), missingAgreement());
  });

  it('lets the members still governed decide alone when the others are removed', async () => {
    await driver.dispute('m1');
    await driver.applyGenesis(
      [arbitratorA, arbitratorB].map((arbitrator) => ({
        type: 'removeArbitrator' as const,
        arbitrator: { mspId: arbitrator.mspId, userId: String(arbitrator.attributes?.userId) },
        reason: 'Term ended',
      })),
    );
    expect((await driver.vote('m1', arbitratorC, '0', '150001')).status).toBe('resolved');
  });

  it('keeps every vote an arbitrator revised, oldest first, while no majority forms', async () => {
    await driver.dispute('m1');
    expect((await driver.vote('m1', arbitratorA, '1', '150000')).dispute!.supersededVotes).toBeUndefined();
    await driver.vote('m1', arbitratorA, '2', '149999');
    const twice = await driver.vote('m1', arbitratorA, '3', '149998');
    expect(twice.status).toBe('disputed');
    expect(twice.dispute!.votes.map((v) => v.clientShare)).toEqual(['3']);
    expect(twice.dispute!.supersededVotes?.map((v) => v.clientShare)).toEqual(['1', '2']);
  });

  it('refuses an arbitrator who is not on the drawn panel', async () => {
    await driver.dispute('m1');
    await driver.vote('m1', arbitratorA, '1', '150000');
    await driver.vote('m1', arbitratorB, '2', '149999');
    await driver.vote('m1', arbitratorC, '3', '149998');
    // Without the consortium's decision an arbitrator role opens nothing of other organisations' agreements.
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorD, '1', '150000'),
      'NOT_FOUND[agreementId]: agreement A-17 does not exist',
    );
    await driver.applyGenesis([
      {
        type: 'addArbitrator',
        arbitrator: { mspId: arbitratorD.mspId, userId: String(arbitratorD.attributes?.userId) },
        displayName: arbitratorD.name,
      },
    ]);
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorD, '1', '150000'),
      /^FORBIDDEN: only the panel drawn for milestone m1 of agreement A-17 \(.*\) may vote on its dispute$/,
    );
    expect((await driver.vote('m1', arbitratorC, '1', '150000')).status).toBe('resolved');
    // The panel reads the agreement it decided; a governed arbitrator not drawn reads nothing of it.
    for (const member of [arbitratorA, arbitratorB, arbitratorC]) {
      await expect(driver.getAgreement(member)).resolves.toMatchObject({ agreement: { agreementId: 'A-17' } });
    }
    await expect(driver.getAgreement(arbitratorD)).rejects.toThrow(missingAgreement());
  });

  it('lists each panel member the disputes they were drawn for, open and then decided, and nobody else', async () => {
    const listed = (as: typeof arbitratorA, request: Record<string, unknown> = {}) =>
      driver.call(as, (contract, ctx) => contract.listPanelDisputes(ctx, JSON.stringify(request)));
    const seen = (page: { items: { agreement: { agreementId: string }; milestone: MilestoneRecord }[] }) =>
      page.items.map(
        ({ agreement, milestone }) => `${agreement.agreementId}/${milestone.milestoneId}:${milestone.status}`,
      );

    for (const member of [arbitratorA, arbitratorB, arbitratorC]) {
      expect(seen(await listed(member))).toEqual([]);
    }
    await driver.dispute('m1');
    for (const member of [arbitratorA, arbitratorB, arbitratorC]) {
      const page = await listed(member);
      expect(seen(page)).toEqual(['A-17/m1:disputed']);
      expect(page.items[0]!.milestone.dispute!.panel).toHaveLength(3);
      expect(seen(await listed(member, { decided: false }))).toEqual(['A-17/m1:disputed']);
      expect(seen(await listed(member, { decided: true }))).toEqual([]);
    }
    // Neither an arbitrator outside the panel, governed or not, nor a party learns of it this way.
    expect(seen(await listed(arbitratorD))).toEqual([]);
    await driver.applyGenesis([
      {
        type: 'addArbitrator',
        arbitrator: { mspId: arbitratorD.mspId, userId: String(arbitratorD.attributes?.userId) },
        displayName: arbitratorD.name,
      },
    ]);
    expect(seen(await listed(arbitratorD))).toEqual([]);
    await driver.expectRefusal(
      () => listed(client),
      'FORBIDDEN: only arbitrator may list the disputes whose panel holds them; the caller has role client',
    );

    await driver.vote('m1', arbitratorA, '50001', '100000');
    await driver.vote('m1', arbitratorB, '50001', '100000');
    expect(seen(await listed(arbitratorC, { decided: true }))).toEqual(['A-17/m1:resolved']);
    expect(seen(await listed(arbitratorC, { decided: false }))).toEqual([]);

    // An arbitrator whose governance decision is withdrawn no longer reads the agreement, nor lists it.
    await driver.applyGenesis([
      {
        type: 'removeArbitrator',
        arbitrator: { mspId: arbitratorC.mspId, userId: String(arbitratorC.attributes?.userId) },
        reason: 'Term ended',
      },
    ]);
    expect(seen(await listed(arbitratorC))).toEqual([]);
    expect(seen(await listed(arbitratorA))).toEqual(['A-17/m1:resolved']);
  });

  it('refuses votes by anyone without the arbitrator role or who is a party', async () => {
    await driver.dispute('m1');
    await driver.expectRefusal(
      () => driver.vote('m1', client, '0', '150001'),
      'FORBIDDEN: only arbitrator may vote on the dispute over milestone m1 of agreement A-17; the caller has role client',
    );
    await driver.expectRefusal(
      () => driver.vote('m1', evaluator, '0', '150001'),
      /^FORBIDDEN: only arbitrator may vote/,
    );
    const partyArbitrator = {
      mspId: 'TalentOrgMSP',
      name: 'tara-arb',
      attributes: { role: 'arbitrator', userId: 'tara' },
    };
    await driver.expectRefusal(
      () => driver.vote('m1', partyArbitrator, '0', '150001'),
      'FORBIDDEN: an arbitrator who is a party to agreement A-17 may not vote on the dispute over milestone m1 of agreement A-17',
    );
    // No userId: no arbitrator record can stand behind it, so the agreement stays out of sight.
    await driver.expectRefusal(
      () => driver.vote('m1', { mspId: 'AuditOrgMSP', name: 'x', attributes: { role: 'arbitrator' } }, '0', '150001'),
      'NOT_FOUND[agreementId]: agreement A-17 does not exist',
    );
  });

  it('refuses shares that do not add up to the escrow', async () => {
    await driver.dispute('m1');
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorA, '100', '100', '150001'),
      'VALIDATION_FAILED[freelancerShare]: freelancerShare: clientShare and freelancerShare must add up to escrowAmount',
    );
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorA, '100', '100'),
      'VALIDATION_FAILED[escrowAmount]: escrowAmount: the escrow of milestone m1 of agreement A-17 is 150001 EUR, not 200',
    );
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorA, '-1', '150002', '150001'),
      /^VALIDATION_FAILED\[clientShare\]/,
    );
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorA, '0.5', '150000.5', '150001'),
      /^VALIDATION_FAILED\[clientShare\]/,
    );
  });

  it('refuses votes on a milestone that is not disputed or already decided', async () => {
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorA, '0', '150001'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is submitted, not disputed, so it cannot be arbitrated',
    );
    await driver.dispute('m1');
    await driver.vote('m1', arbitratorA, '0', '150001');
    await driver.vote('m1', arbitratorB, '0', '150001');
    await driver.expectRefusal(
      () => driver.vote('m1', arbitratorC, '0', '150001'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is resolved, not disputed, so it cannot be arbitrated',
    );
  });

  it('refuses a dispute on a milestone that is not under review', async () => {
    await driver.expectRefusal(
      () => driver.dispute('m2'),
      'INVALID_STATE[milestoneId]: only a submitted or rejected milestone can be disputed; milestone m2 of agreement A-17 is unfunded',
    );
    await driver.acceptMilestone('m1');
    await driver.expectRefusal(
      () => driver.dispute('m1'),
      'INVALID_STATE[milestoneId]: only a submitted or rejected milestone can be disputed; milestone m1 of agreement A-17 is accepted',
    );
  });

  it('refuses a dispute by anyone but a party, or twice', async () => {
    await driver.expectRefusal(() => driver.dispute('m1', otherClient), missingAgreement());
    // An arbitrator may read the agreement, so is told why it may not open the dispute.
    await driver.expectRefusal(
      () => driver.dispute('m1', arbitratorA),
      /^FORBIDDEN: only the client or the freelancer may open a dispute on milestone m1 of agreement A-17; the caller is AuditOrgMSP user arb-ann with role arbitrator$/,
    );
    await driver.expectRefusal(
      () => driver.dispute('m1', client, ''),
      'VALIDATION_FAILED[reason]: reason: must not be empty',
    );
    await driver.dispute('m1');
    await driver.expectRefusal(
      () => driver.dispute('m1', client),
      /^INVALID_STATE\[milestoneId\]: only a submitted or rejected milestone .* is disputed$/,
    );
    expect(stored(driver, 'm1').dispute!.openedBy).toBe('freelancer');
  });
});
