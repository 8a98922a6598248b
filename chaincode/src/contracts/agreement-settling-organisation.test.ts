import { agreementEvents } from '../model/agreement-events';
import { AgreementDriver, arbitratorA, arbitratorB, client, settlement } from '../test-support/agreement-fixtures';

/*
 * Every organisation that `settlementOrganisations` lists may run a settlement service,
 * and each service follows every instruction event; each instruction names the one
 * whose service sends it, so that two services never pay it twice.
 */
describe('AgreementContract: the organisation that settles each instruction', () => {
  it('names the first listed organisation on every instruction it issues, and in the event that carries it', async () => {
    const driver = await AgreementDriver.withSubmittedMilestone('m1');
    await driver.acceptMilestone('m1');
    const released = await driver.release('m1');
    expect(released.instructions.map((instruction) => [instruction.kind, instruction.settlingOrganisation])).toEqual([
      ['fund-escrow', settlement.mspId],
      ['release', settlement.mspId],
    ]);
    const event = agreementEvents.milestoneReleased.payload.parse(driver.ledger.lastEvent!.payload);
    expect(event.settlementRequests).toEqual([released.instructions.at(-1)]);
  });

  it('hands new instructions to the organisation governance lists first, and leaves issued ones where they are', async () => {
    const driver = await AgreementDriver.withSubmittedMilestone('m1');
    await driver.acceptMilestone('m1');
    await driver.release('m1');
    await driver.setParameter('settlementOrganisations', ['ClientOrgMSP', settlement.mspId]);
    await driver.confirm('m1', 'A-17/m1/release-1', 'failed');
    const reissued = await driver.call(client, (c, ctx) =>
      c.reissueFailedPayout(
        ctx,
        JSON.stringify({ agreementId: 'A-17', milestoneId: 'm1', instructionId: 'A-17/m1/release-1' }),
      ),
    );
    const [failed, replacement] = reissued.instructions.slice(-2);
    expect(failed).toMatchObject({ status: 'failed', settlingOrganisation: settlement.mspId });
    expect(replacement).toMatchObject({ reissueOf: 'A-17/m1/release-1', settlingOrganisation: 'ClientOrgMSP' });
  });

  it('names it on both payouts of a dispute split', async () => {
    const driver = new AgreementDriver();
    await driver.active();
    await driver.funded('m1');
    await driver.submit('m1');
    await driver.dispute('m1');
    await driver.setParameter('settlementOrganisations', ['TalentOrgMSP', settlement.mspId]);
    await driver.vote('m1', arbitratorA, '100000', '50001');
    const decided = await driver.vote('m1', arbitratorB, '100000', '50001');
    const split = decided.instructions.filter((instruction) => instruction.cause === 'dispute');
    expect(split.map((instruction) => [instruction.kind, instruction.settlingOrganisation])).toEqual([
      ['refund', 'TalentOrgMSP'],
      ['release', 'TalentOrgMSP'],
    ]);
  });
});
