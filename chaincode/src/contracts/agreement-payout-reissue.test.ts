import { agreementEvents } from '../model/agreement-events';
import {
  AgreementDriver,
  arbitratorA,
  arbitratorB,
  auditor,
  client,
  freelancer,
  missingAgreement,
  otherClient,
  settlement,
} from '../test-support/agreement-fixtures';
import { CredentialDriver, registrarParty } from '../test-support/credential-fixtures';

describe('AgreementContract: reissuing a failed payout', () => {
  let driver: AgreementDriver;

  const reissue = (instructionId: string, as = freelancer) =>
    driver.call(as, (c, ctx) =>
      c.reissueFailedPayout(ctx, JSON.stringify({ agreementId: 'A-17', milestoneId: 'm1', instructionId })),
    );

  beforeEach(async () => {
    driver = await AgreementDriver.withSubmittedMilestone('m1');
    await driver.acceptMilestone('m1');
    await driver.release('m1');
  });

  it('replaces a failed release with a new pending instruction, and settles on the replacement', async () => {
    const failed = await driver.confirm('m1', 'A-17/m1/release-1', 'failed');
    expect(failed.status).toBe('released');

    const reissued = await reissue('A-17/m1/release-1');
    const [original, replacement] = reissued.instructions.slice(-2);
    expect(original).toMatchObject({ status: 'failed', reissuedAs: 'A-17/m1/release-2' });
    expect(replacement).toMatchObject({
      instructionId: 'A-17/m1/release-2',
      kind: 'release',
      cause: 'release',
      status: 'pending',
      amount: original!.amount,
      platformFee: original!.platformFee,
      reissueOf: 'A-17/m1/release-1',
    });
    const event = agreementEvents.payoutReissued.payload.parse(driver.ledger.lastEvent!.payload);
    expect(event).toMatchObject({ replaces: 'A-17/m1/release-1', settlementRequests: [replacement] });

    // The failed original no longer blocks completion; only the replacement must be paid.
    expect((await driver.confirm('m1', 'A-17/m1/release-2')).status).toBe('paid');
  });

  it('screens a reissued release for compliance again', async () => {
    await driver.confirm('m1', 'A-17/m1/release-1', 'failed');
    const credentials = new CredentialDriver(driver.ledger);
    await credentials.registerIssuer(registrarParty, ['KYC']);
    await driver.setParameter('kycCredentialTypes', ['KYC']);
    const reissued = await reissue('A-17/m1/release-1', settlement);
    expect(reissued.instructions.at(-1)).toMatchObject({ status: 'held', compliance: { outcome: 'held' } });
    const event = agreementEvents.payoutReissued.payload.parse(driver.ledger.lastEvent!.payload);
    expect(event.settlementRequests).toEqual([]);
  });

  it('reissues a failed dispute refund to the client', async () => {
    const disputed = new AgreementDriver();
    await disputed.active();
    await disputed.funded('m1');
    await disputed.submit('m1');
    await disputed.dispute('m1');
    await disputed.vote('m1', arbitratorA, '150001', '0');
    await disputed.vote('m1', arbitratorB, '150001', '0');
    await disputed.confirm('m1', 'A-17/m1/refund-1', 'failed');
    const reissued = await disputed.call(client, (c, ctx) =>
      c.reissueFailedPayout(
        ctx,
        JSON.stringify({ agreementId: 'A-17', milestoneId: 'm1', instructionId: 'A-17/m1/refund-1' }),
      ),
    );
    expect(reissued.instructions.at(-1)).toMatchObject({
      instructionId: 'A-17/m1/refund-2',
      kind: 'refund',
      status: 'pending',
      amount: '150001',
    });
    expect((await disputed.confirm('m1', 'A-17/m1/refund-2')).status).toBe('settled');
  });

  it('refuses outsiders, funding, pending, paid and already reissued instructions, changing nothing', async () => {
    await driver.expectRefusal(
      () => reissue('A-17/m1/release-1'),
      'INVALID_STATE[instructionId]: settlement instruction A-17/m1/release-1 is pending, not failed',
    );
    await driver.confirm('m1', 'A-17/m1/release-1', 'failed');
    await driver.expectRefusal(() => reissue('A-17/m1/release-1', otherClient), missingAgreement());
    await driver.expectRefusal(() => reissue('A-17/m1/release-1', auditor), missingAgreement());
    await driver.expectRefusal(
      () => reissue('A-17/m1/fund-escrow-1'),
      'INVALID_STATE[instructionId]: A-17/m1/fund-escrow-1 is a funding instruction; fund the milestone again instead',
    );
    await driver.expectRefusal(
      () => reissue('A-17/m1/release-7'),
      'NOT_FOUND[instructionId]: milestone m1 of agreement A-17 has no settlement instruction A-17/m1/release-7',
    );
    await reissue('A-17/m1/release-1');
    await driver.expectRefusal(
      () => reissue('A-17/m1/release-1'),
      'INVALID_STATE[instructionId]: settlement instruction A-17/m1/release-1 was already reissued as A-17/m1/release-2',
    );
    await driver.confirm('m1', 'A-17/m1/release-2');
    await driver.expectRefusal(
      () => reissue('A-17/m1/release-2'),
      'INVALID_STATE[instructionId]: settlement instruction A-17/m1/release-2 is paid, not failed',
    );
  });
});
