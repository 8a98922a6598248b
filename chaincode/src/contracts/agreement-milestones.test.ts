import { agreementEvents } from '../model/agreement-events';
import type { MilestoneRecord } from '../model/agreement-records';
import { policyOrganisations } from '../ledger/endorsement';
import {
  AgreementDriver,
  agreementId,
  artifactA,
  artifactB,
  auditor,
  client,
  clientAsFreelancer,
  clientParty,
  draftRequest,
  evaluator,
  evaluatorParty,
  freelancer,
  freelancerParty,
  milestoneKey,
  missingAgreement,
  otherClient,
  otherFreelancer,
  reportHash,
  reviewWindowSeconds,
  settlement,
} from '../test-support/agreement-fixtures';

const stored = (driver: AgreementDriver, milestoneId: string): MilestoneRecord =>
  driver.ledger.read(milestoneKey(milestoneId)) as MilestoneRecord;

const instant = (driver: AgreementDriver, plusSeconds = 0): string =>
  new Date((driver.ledger.nowSeconds + plusSeconds) * 1000).toISOString();

describe('AgreementContract: funding escrow', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.active();
  });

  it('records a pending escrow instruction and emits it as a settlement request', async () => {
    const funding = await driver.fund('m1');

    expect(funding.status).toBe('funding');
    const instruction = {
      instructionId: 'A-17/m1/fund-escrow-1',
      kind: 'fund-escrow',
      cause: 'funding',
      agreementId,
      milestoneId: 'm1',
      payer: clientParty,
      payee: freelancerParty,
      amount: '150001',
      platformFee: '0',
      currency: 'EUR',
      status: 'pending',
      requestedAt: instant(driver),
      requestTxId: driver.ledger.transactions.at(-1)!.txId,
      settlingOrganisation: settlement.mspId,
    };
    expect(funding.instructions).toEqual([instruction]);
    expect(stored(driver, 'm1')).toEqual(funding);
    const event = driver.ledger.lastEvent!;
    expect(event.name).toBe('agreement.FundingRequested');
    expect(agreementEvents.fundingRequested.payload.parse(event.payload)).toMatchObject({
      milestoneId: 'm1',
      settlementRequests: [instruction],
      milestone: funding,
    });
  });

  it('counts the milestone as funded only when the settlement service confirms payment', async () => {
    await driver.fund('m1');
    driver.ledger.advanceSeconds(600);

    const funded = await driver.confirm('m1', 'A-17/m1/fund-escrow-1');

    expect(funded).toMatchObject({ status: 'funded', fundedAt: instant(driver) });
    expect(funded.instructions[0]).toMatchObject({
      status: 'paid',
      confirmation: {
        outcome: 'paid',
        providerReference: 'psp-A-17-m1-fund-escrow-1',
        by: { mspId: 'AuditOrgMSP', userId: 'settlement-svc', role: 'settlement' },
      },
    });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.SettlementConfirmed',
      payload: { instruction: funded.instructions[0], settlementRequests: [] },
    });
  });

  it('returns a failed escrow to unfunded so the client can ask again with a new instruction', async () => {
    await driver.fund('m1');
    const failed = await driver.confirm('m1', 'A-17/m1/fund-escrow-1', 'failed');
    expect(failed.status).toBe('unfunded');
    expect(failed.instructions[0]).toMatchObject({ status: 'failed', confirmation: { reason: 'insufficient funds' } });

    const again = await driver.fund('m1');
    expect(again.instructions.map((i) => [i.instructionId, i.status])).toEqual([
      ['A-17/m1/fund-escrow-1', 'failed'],
      ['A-17/m1/fund-escrow-2', 'pending'],
    ]);
  });

  it('keeps the key-level policy of the milestone after it changes', async () => {
    await driver.funded('m1');
    expect(policyOrganisations(driver.ledger.committedValidationParameter(milestoneKey('m1'))!)).toEqual([
      'ClientOrgMSP',
      'TalentOrgMSP',
    ]);
  });

  it('answers a repeated funding request id with the stored result', async () => {
    const request = JSON.stringify({ requestId: 'fund-m1-001', agreementId, milestoneId: 'm1' });
    const first = await driver.call(client, (c, ctx) => c.fundMilestone(ctx, request));
    const again = await driver.call(client, (c, ctx) => c.fundMilestone(ctx, request));
    expect(again).toEqual(first);
    expect(stored(driver, 'm1').instructions).toHaveLength(1);
  });

  it('refuses funding by anyone but the client', async () => {
    await driver.expectRefusal(
      () => driver.fund('m1', freelancer),
      /^FORBIDDEN: only the client may fund milestone m1 of agreement A-17; the caller is TalentOrgMSP user tara with role freelancer$/,
    );
    // Someone who may not read the agreement is answered as if it did not exist.
    await driver.expectRefusal(() => driver.fund('m1', otherClient), missingAgreement());
    await driver.expectRefusal(() => driver.fund('m1', settlement), /^FORBIDDEN: only the client may fund/);
  });

  it('refuses funding a milestone twice, an unknown milestone and before the offer is accepted', async () => {
    await driver.fund('m1');
    await driver.expectRefusal(
      () => driver.fund('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is funding, not unfunded, so it cannot be funded',
    );
    await driver.expectRefusal(() => driver.fund('m9'), 'NOT_FOUND[milestoneId]: agreement A-17 has no milestone m9');

    const offered = new AgreementDriver();
    await offered.setParameters();
    await offered.draft();
    await offered.expectRefusal(
      () => offered.fund('m1'),
      'INVALID_STATE[agreementId]: agreement A-17 is offered, not active, so milestone m1 cannot be funded',
    );
  });

  it('refuses a confirmation from anyone without the settlement role', async () => {
    await driver.fund('m1');
    await driver.expectRefusal(
      () => driver.confirm('m1', 'A-17/m1/fund-escrow-1', 'paid', client),
      'FORBIDDEN: only settlement may confirm settlement of milestone m1 of agreement A-17; the caller has role client',
    );
    await driver.expectRefusal(
      () => driver.confirm('m1', 'A-17/m1/fund-escrow-1', 'paid', auditor),
      /^FORBIDDEN: only settlement may confirm/,
    );
  });

  it('refuses confirming an unknown instruction or one already answered', async () => {
    await driver.fund('m1');
    await driver.expectRefusal(
      () => driver.confirm('m1', 'A-17/m1/release-1'),
      'NOT_FOUND[instructionId]: milestone m1 of agreement A-17 has no settlement instruction A-17/m1/release-1',
    );
    await driver.confirm('m1', 'A-17/m1/fund-escrow-1');
    await driver.expectRefusal(
      () => driver.confirm('m1', 'A-17/m1/fund-escrow-1', 'failed'),
      'INVALID_STATE[instructionId]: settlement instruction A-17/m1/fund-escrow-1 is already paid',
    );
  });

  it('refuses a failure without a reason and a malformed provider reference', async () => {
    await driver.fund('m1');
    const confirm = (body: Record<string, unknown>) =>
      driver.call(settlement, (c, ctx) =>
        c.confirmSettlement(
          ctx,
          JSON.stringify({
            requestId: 'confirm-0001',
            agreementId,
            milestoneId: 'm1',
            instructionId: 'A-17/m1/fund-escrow-1',
            outcome: 'failed',
            providerReference: 'psp-1',
            ...body,
          }),
        ),
      );
    await driver.expectRefusal(() => confirm({}), 'VALIDATION_FAILED[reason]: reason: must say why the payment failed');
    await driver.expectRefusal(
      () => confirm({ outcome: 'paid', providerReference: 'has space' }),
      /^VALIDATION_FAILED\[providerReference\]: /,
    );
    await driver.expectRefusal(() => confirm({ outcome: 'maybe' }), /^VALIDATION_FAILED\[outcome\]: /);
  });
});

describe('AgreementContract: delivering and reviewing a milestone', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.active();
    await driver.funded('m1');
  });

  it('records a delivery with its review deadline and emits DeliverableSubmitted', async () => {
    const submitted = await driver.submit('m1', artifactA, freelancer, { note: 'First cut' });

    expect(submitted.status).toBe('submitted');
    const submission = {
      number: 1,
      artifactSha256: artifactA,
      uri: 'https://artifacts.example.com/m1/aaaaaaaa',
      claimedMetrics: { accuracy: 0.93 },
      note: 'First cut',
      submittedAt: instant(driver),
      txId: driver.ledger.transactions.at(-1)!.txId,
      reviewDeadline: instant(driver, reviewWindowSeconds),
      late: false,
      evaluations: [],
    };
    expect(submitted.submissions).toEqual([submission]);
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.DeliverableSubmitted',
      payload: { submission, milestone: submitted },
    });
  });

  it('marks a delivery after the due date as late', async () => {
    driver.ledger.advanceSeconds(15 * 24 * 3600);
    expect((await driver.submit('m1')).submissions[0]!.late).toBe(true);
  });

  it('lets the client accept a delivery', async () => {
    await driver.submit('m1');
    const accepted = await driver.acceptMilestone('m1');

    expect(accepted).toMatchObject({ status: 'accepted', acceptance: { by: 'client', at: instant(driver) } });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.MilestoneAccepted',
      payload: { acceptedBy: 'client', milestone: accepted },
    });
  });

  it('keeps every delivery when the client rejects and the freelancer resubmits', async () => {
    await driver.submit('m1', artifactA);
    const rejected = await driver.reject('m1', 'Accuracy 0.90 on hold-out');
    expect(rejected).toMatchObject({ status: 'rejected', rejectionCount: 1 });
    expect(rejected.submissions[0]!.rejection).toMatchObject({ reason: 'Accuracy 0.90 on hold-out' });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.DeliverableRejected',
      payload: { reason: 'Accuracy 0.90 on hold-out', rejectionCount: 1 },
    });

    const resubmitted = await driver.submit('m1', artifactB);

    expect(resubmitted.status).toBe('submitted');
    expect(resubmitted.submissions.map((s) => [s.number, s.artifactSha256, s.rejection?.reason])).toEqual([
      [1, artifactA, 'Accuracy 0.90 on hold-out'],
      [2, artifactB, undefined],
    ]);
  });

  it('stops rejections at the revision limit, leaving acceptance or a dispute', async () => {
    for (const artifact of [artifactA, artifactB]) {
      await driver.submit('m1', artifact);
      await driver.reject('m1');
    }
    await driver.submit('m1', 'd'.repeat(64));

    await driver.expectRefusal(
      () => driver.reject('m1'),
      'REVISION_LIMIT_REACHED[milestoneId]: milestone m1 of agreement A-17 has been rejected 2 times, the limit agreement A-17 allows; accept it or open a dispute',
    );
    expect((await driver.acceptMilestone('m1')).submissions).toHaveLength(3);
  });

  it('applies an agreement limit lower than the consortium one', async () => {
    const strict = new AgreementDriver();
    await strict.active(draftRequest(strict.ledger, { maxRevisions: 0 }));
    await strict.funded('m1');
    await strict.submit('m1');
    await strict.expectRefusal(
      () => strict.reject('m1'),
      /^REVISION_LIMIT_REACHED\[milestoneId\]: .* rejected 0 times/,
    );
  });

  it('lets the freelancer claim acceptance once the review window has passed unanswered', async () => {
    await driver.submit('m1');
    const deadline = instant(driver, reviewWindowSeconds);
    driver.ledger.advanceSeconds(reviewWindowSeconds - 1);
    await driver.expectRefusal(
      () => driver.claim('m1'),
      `INVALID_STATE[milestoneId]: the review window of milestone m1 of agreement A-17 is open until ${deadline}; acceptance can be claimed only after it closes`,
    );

    driver.ledger.advanceSeconds(1);
    const accepted = await driver.claim('m1');

    expect(accepted).toMatchObject({ status: 'accepted', acceptance: { by: 'review-window-lapsed', at: deadline } });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.MilestoneAccepted',
      payload: { acceptedBy: 'review-window-lapsed', actor: { userId: 'tara' } },
    });
  });

  it('refuses a rejection after the review window has closed', async () => {
    await driver.submit('m1');
    const deadline = instant(driver, reviewWindowSeconds);
    driver.ledger.advanceSeconds(reviewWindowSeconds);
    await driver.expectRefusal(
      () => driver.reject('m1'),
      `INVALID_STATE[milestoneId]: the review window of milestone m1 of agreement A-17 closed at ${deadline}; the client may accept or dispute, and the freelancer may claim acceptance`,
    );
    expect((await driver.acceptMilestone('m1')).status).toBe('accepted');
  });

  it('refuses a delivery by anyone but the freelancer', async () => {
    await driver.expectRefusal(
      () => driver.submit('m1', artifactA, client),
      /^FORBIDDEN: only the freelancer may submit a deliverable for milestone m1 of agreement A-17; the caller is ClientOrgMSP user carol with role client$/,
    );
    await driver.expectRefusal(() => driver.submit('m1', artifactA, otherFreelancer), missingAgreement());
    await driver.expectRefusal(
      () => driver.submit('m1', artifactA, clientAsFreelancer),
      /^FORBIDDEN: only the freelancer/,
    );
  });

  it('refuses a delivery before funding and while the previous one awaits review', async () => {
    await driver.expectRefusal(
      () => driver.submit('m2'),
      'INVALID_STATE[milestoneId]: milestone m2 of agreement A-17 is unfunded, not funded or rejected, so it cannot be submitted',
    );
    await driver.submit('m1');
    await driver.expectRefusal(
      () => driver.submit('m1', artifactB),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is submitted, not funded or rejected, so it cannot be submitted',
    );
  });

  it.each([
    ['an artifact hash that is not SHA-256', { artifactSha256: 'abc' }, 'artifactSha256'],
    ['an artifact hash in uppercase', { artifactSha256: 'A'.repeat(64) }, 'artifactSha256'],
    ['an http URI', { uri: 'http://example.com/model.bin' }, 'uri'],
    ['a URI that is not one', { uri: 'model.bin' }, 'uri'],
    ['a metric that is not a number', { claimedMetrics: { accuracy: '0.9' } }, 'claimedMetrics.accuracy'],
    ['a metric with a bad name', { claimedMetrics: { '1acc': 0.9 } }, 'claimedMetrics.1acc'],
  ])('refuses a delivery with %s', async (_case, extra, field) => {
    await driver.expectRefusal(
      () => driver.submit('m1', artifactA, freelancer, extra),
      new RegExp(`^VALIDATION_FAILED\\[${field.replace(/\./g, '\\.')}\\]: `),
    );
  });

  it('refuses acceptance and rejection by anyone but the client', async () => {
    await driver.submit('m1');
    await driver.expectRefusal(
      () => driver.acceptMilestone('m1', freelancer),
      /^FORBIDDEN: only the client may accept milestone m1 of agreement A-17; the caller is TalentOrgMSP user tara/,
    );
    await driver.expectRefusal(() => driver.acceptMilestone('m1', otherClient), missingAgreement());
    await driver.expectRefusal(() => driver.acceptMilestone('m1', evaluator), /^FORBIDDEN: only the client may accept/);
    await driver.expectRefusal(
      () => driver.reject('m1', 'no', freelancer),
      /^FORBIDDEN: only the client may reject the deliverable of milestone m1 of agreement A-17/,
    );
  });

  it('refuses acceptance, rejection and claims of a milestone that is not submitted', async () => {
    await driver.expectRefusal(
      () => driver.acceptMilestone('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is funded, not submitted, so it cannot be accepted',
    );
    await driver.expectRefusal(
      () => driver.reject('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is funded, not submitted, so it cannot be rejected',
    );
    await driver.expectRefusal(
      () => driver.claim('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is funded, not submitted, so it cannot be accepted',
    );
  });

  it('refuses a claim by anyone but the freelancer', async () => {
    await driver.submit('m1');
    driver.ledger.advanceSeconds(reviewWindowSeconds);
    await driver.expectRefusal(
      () => driver.claim('m1', client),
      /^FORBIDDEN: only the freelancer may claim acceptance of milestone m1 of agreement A-17/,
    );
  });

  it('refuses a rejection without a reason', async () => {
    await driver.submit('m1');
    await driver.expectRefusal(() => driver.reject('m1', ''), 'VALIDATION_FAILED[reason]: reason: must not be empty');
  });
});

describe('AgreementContract: evaluation reports', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = await AgreementDriver.withSubmittedMilestone('m1');
  });

  it('accepts the milestone at once when the report meets every threshold', async () => {
    const accepted = await driver.evaluate('m1', { accuracy: 0.92, f1: 0.8 });

    expect(accepted).toMatchObject({ status: 'accepted', acceptance: { by: 'evaluation' } });
    const evaluation = accepted.submissions[0]!.evaluations[0]!;
    expect(evaluation).toMatchObject({
      evaluator: evaluatorParty,
      artifactSha256: artifactA,
      metrics: { accuracy: 0.92, f1: 0.8 },
      reportSha256: reportHash,
      allThresholdsMet: true,
      results: [{ metric: 'accuracy', operator: '>=', threshold: 0.92, measured: 0.92, met: true }],
    });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.MilestoneAccepted',
      payload: { acceptedBy: 'evaluation', evaluation, actor: { role: 'evaluator' } },
    });
  });

  it('records a report below a threshold and leaves the decision to the client', async () => {
    const recorded = await driver.evaluate('m1', { accuracy: 0.9199 });

    expect(recorded.status).toBe('submitted');
    expect(recorded.submissions[0]!.evaluations[0]).toMatchObject({
      allThresholdsMet: false,
      results: [{ metric: 'accuracy', measured: 0.9199, met: false }],
    });
    expect(driver.ledger.lastEvent).toMatchObject({ name: 'agreement.EvaluationRecorded' });
    expect((await driver.reject('m1', 'Below threshold')).status).toBe('rejected');
  });

  it('does not accept on a report that leaves a threshold metric unmeasured', async () => {
    const recorded = await driver.evaluate('m1', { f1: 0.99 });
    expect(recorded.status).toBe('submitted');
    expect(recorded.submissions[0]!.evaluations[0]!.results).toEqual([
      { metric: 'accuracy', operator: '>=', threshold: 0.92, met: false },
    ]);
  });

  it('never accepts automatically a milestone without thresholds', async () => {
    await driver.funded('m2');
    await driver.submit('m2');
    expect((await driver.evaluate('m2', { accuracy: 1 })).status).toBe('submitted');
  });

  it('refuses a report by anyone but the agreement evaluator', async () => {
    await driver.expectRefusal(
      () => driver.evaluate('m1', { accuracy: 0.99 }, artifactA, client),
      /^FORBIDDEN: only the agreement's evaluator may post an evaluation of milestone m1 of agreement A-17; the caller is ClientOrgMSP user carol with role client$/,
    );
    const impostor = { mspId: 'TalentOrgMSP', name: 'h', attributes: { role: 'evaluator', userId: 'eval-harness' } };
    // Same userId, another organisation: not the evaluator the agreement names, so not a reader.
    await driver.expectRefusal(
      () => driver.evaluate('m1', { accuracy: 0.99 }, artifactA, impostor),
      missingAgreement(),
    );
    await driver.expectRefusal(() => driver.evaluate('m1', { accuracy: 0.99 }, artifactA, auditor), missingAgreement());
  });

  it('refuses any report on an agreement that names no evaluator', async () => {
    const plain = new AgreementDriver();
    await plain.active(draftRequest(plain.ledger, { evaluator: undefined }));
    await plain.funded('m1');
    await plain.submit('m1');
    // An evaluator the agreement does not name may not read it.
    await plain.expectRefusal(() => plain.evaluate('m1', { accuracy: 0.99 }), missingAgreement());
    await plain.expectRefusal(
      () => plain.evaluate('m1', { accuracy: 0.99 }, artifactA, client),
      /^FORBIDDEN: agreement A-17 names no evaluator, so nobody may post an evaluation of milestone m1 of agreement A-17$/,
    );
  });

  it('refuses a report about another artifact than the latest delivery', async () => {
    await driver.expectRefusal(
      () => driver.evaluate('m1', { accuracy: 0.99 }, artifactB),
      `INVALID_STATE[artifactSha256]: the evaluation is of artifact ${artifactB}, but the latest delivery of milestone m1 of agreement A-17 is ${artifactA}`,
    );
  });

  it('refuses a report on a milestone that is not submitted', async () => {
    await driver.acceptMilestone('m1');
    await driver.expectRefusal(
      () => driver.evaluate('m1', { accuracy: 0.99 }),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is accepted, not submitted, so it cannot be evaluated',
    );
  });

  it('refuses a report that measures nothing or a value that is not finite', async () => {
    await driver.expectRefusal(
      () => driver.evaluate('m1', {}),
      'VALIDATION_FAILED[metrics]: metrics: must measure at least one metric',
    );
    await driver.expectRefusal(
      () =>
        driver.call(evaluator, (c, ctx) =>
          c.postEvaluation(
            ctx,
            `{"requestId":"eval-00001","agreementId":"A-17","milestoneId":"m1","artifactSha256":"${artifactA}","metrics":{"accuracy":1e400},"reportSha256":"${reportHash}"}`,
          ),
        ),
      /^VALIDATION_FAILED\[metrics\.accuracy\]: /,
    );
  });
});

describe('AgreementContract: release and payment', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = await AgreementDriver.withSubmittedMilestone('m1');
  });

  it('emits a settlement request net of the platform fee, floored, and records it as pending', async () => {
    await driver.acceptMilestone('m1');
    const released = await driver.release('m1', freelancer);

    // 150001 × 250 / 10000 = 3750.025: the fee is floored to 3750 and the rest is paid.
    const instruction = {
      instructionId: 'A-17/m1/release-1',
      kind: 'release',
      cause: 'release',
      agreementId,
      milestoneId: 'm1',
      payer: clientParty,
      payee: freelancerParty,
      recipient: freelancerParty,
      amount: '146251',
      platformFee: '3750',
      currency: 'EUR',
      status: 'pending',
      requestedAt: instant(driver),
      requestTxId: driver.ledger.transactions.at(-1)!.txId,
      settlingOrganisation: settlement.mspId,
      compliance: {
        outcome: 'cleared',
        requiredTypes: [],
        reason: 'the consortium requires no KYC credential for payouts',
        at: instant(driver),
        txId: driver.ledger.transactions.at(-1)!.txId,
      },
    };
    expect(released.status).toBe('released');
    expect(released.instructions.at(-1)).toEqual(instruction);
    const event = driver.ledger.lastEvent!;
    expect(event.name).toBe('agreement.MilestoneReleased');
    expect(agreementEvents.milestoneReleased.payload.parse(event.payload).settlementRequests).toEqual([instruction]);
  });

  it('marks the milestone paid when the payout is confirmed', async () => {
    await driver.acceptMilestone('m1');
    await driver.release('m1');
    const paid = await driver.confirm('m1', 'A-17/m1/release-1');
    expect(paid.status).toBe('paid');
    expect(paid.instructions.map((i) => i.status)).toEqual(['paid', 'paid']);
  });

  it('leaves a milestone released when its payout fails', async () => {
    await driver.acceptMilestone('m1');
    await driver.release('m1');
    const failed = await driver.confirm('m1', 'A-17/m1/release-1', 'failed');
    expect(failed.status).toBe('released');
    expect(failed.instructions.at(-1)!.status).toBe('failed');
  });

  it('takes the fee from the parameter record in force when the agreement was drafted', async () => {
    const zeroFee = new AgreementDriver();
    await zeroFee.setParameters();
    await zeroFee.setParameter('platformFeeBps', 0);
    await zeroFee.draft();
    await zeroFee.accept();
    await zeroFee.setParameter('platformFeeBps', 900);
    await zeroFee.funded('m1');
    await zeroFee.submit('m1');
    await zeroFee.acceptMilestone('m1');
    const released = await zeroFee.release('m1');
    expect(released.instructions.at(-1)).toMatchObject({ amount: '150001', platformFee: '0' });
  });

  it('refuses to release a milestone that is not accepted, or twice', async () => {
    await driver.expectRefusal(
      () => driver.release('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is submitted, not accepted, so it cannot be released',
    );
    await driver.acceptMilestone('m1');
    await driver.release('m1');
    await driver.expectRefusal(
      () => driver.release('m1'),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is released, not accepted, so it cannot be released',
    );
  });

  it('refuses a release by anyone but a party', async () => {
    await driver.acceptMilestone('m1');
    await driver.expectRefusal(
      () => driver.release('m1', settlement),
      /^FORBIDDEN: only the client or the freelancer may release milestone m1 of agreement A-17; the caller is AuditOrgMSP user settlement-svc with role settlement$/,
    );
  });
});
