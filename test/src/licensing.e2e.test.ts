import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { RoyaltyPeriodRecord, RoyaltyPeriodView } from '@gigledger/chaincode/model';
import type { SandboxProvider } from '@gigledger/settlement/sandbox';
import { e2eConfig } from './support/e2e-environment.js';
import { startE2eApiWithSandbox, type E2eApi, type E2eApiWithSandbox } from './support/api-server.js';

/** The last calendar month before this one, `YYYY-MM` (UTC): ended, so it can be closed now. */
function lastMonth(): string {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return start.toISOString().slice(0, 7);
}

/**
 * Licences, fees and royalties on the real network: two co-owners license a work for a
 * one-off fee and a royalty; the fee is collected from the licensee on acceptance and
 * then paid to the owners; the licensee reports a month's usage, the month is closed, and
 * the settlement service inside the API collects its royalty from the licensee and pays
 * each co-owner's share through the sandbox provider, recording every provider answer on
 * the ledger, with nobody confirming anything by hand. A fee the licensee's bank refuses
 * pays nobody.
 */
describe('licensing: licence, grant, fee and royalties split between co-owners and paid', () => {
  let api: E2eApi;
  let sandbox: SandboxProvider;
  let moneyLoop: E2eApiWithSandbox;
  const suffix = randomBytes(3).toString('hex');

  beforeAll(async () => {
    moneyLoop = await startE2eApiWithSandbox(e2eConfig());
    ({ api, sandbox } = moneyLoop);
  });

  afterAll(async () => {
    await moneyLoop.close();
  });

  it('pays the fee on acceptance and a closed month of royalties to two co-owners by their shares, and refuses an overlapping exclusive licence naming it', async () => {
    const tara = await api.person(`tara-${suffix}`, 'TalentOrg', 'freelancer');
    const tom = await api.person(`tom-${suffix}`, 'TalentOrg', 'freelancer');
    const carol = await api.person(`carol-${suffix}`, 'ClientOrg', 'client');
    await api.payoutAccount(tara, 'FR1420041010050500013M02606', 'BNPAFRPPXXX');
    await api.payoutAccount(tom, 'DE89370400440532013000', 'COBADEFFXXX');
    await api.payoutAccount(carol, 'NL91ABNA0417164300', 'ABNANL2AXXX');

    const workId = `W-${suffix}`;
    const registered = await api.call('POST', '/v1/ip/works', tara.token, {
      workId,
      kind: 'model',
      contentHash: createHash('sha256').update(`licensed model ${suffix}`).digest('hex'),
      title: 'Fraud model',
      uri: 'https://models.example.com/fraud',
      creators: [tara.party, tom.party],
      owners: [
        { party: tara.party, shareBps: 6_500 },
        { party: tom.party, shareBps: 3_500 },
      ],
    });
    expect(registered.status).toBe(201);

    const terms = { text: 'Exclusive licence for fraud scoring of card payments in the EU.' };
    const offerId = `L-${suffix}`;
    const offered = await api.call('POST', '/v1/licensing/offers', tara.token, {
      offerId,
      workId,
      licensee: carol.party,
      scope: 'commercial',
      fieldsOfUse: ['fraud-detection'],
      territories: ['DE', 'FR', 'NL'],
      exclusive: true,
      termStart: '2026-01-01T00:00:00.000Z',
      termEnd: '2099-01-01T00:00:00.000Z',
      royaltyBps: 1_250,
      perUnitAmount: '5',
      fee: { amount: '250001' },
      currency: 'EUR',
      terms,
    });
    expect(offered.status).toBe(201);
    expect(offered.body).toMatchObject({ result: { status: 'awaiting-consent' } });
    const consented = await api.call('POST', `/v1/licensing/offers/${offerId}/consents`, tom.token, {});
    expect(consented.body).toMatchObject({ result: { status: 'open' } });

    // Tom may not offer the same use to anyone else while the exclusive offer stands.
    const overlapping = await api.call('POST', '/v1/licensing/offers', tom.token, {
      offerId: `L2-${suffix}`,
      workId,
      scope: 'commercial',
      fieldsOfUse: ['any'],
      territories: ['NL'],
      exclusive: false,
      termStart: '2026-06-01T00:00:00.000Z',
      termEnd: '2027-06-01T00:00:00.000Z',
      royaltyBps: 500,
      currency: 'EUR',
      terms: { text: 'Open licence.' },
    });
    expect(overlapping.status).toBe(409);
    expect(overlapping.body).toMatchObject({ code: 'LICENCE_CONFLICT' });
    expect((overlapping.body as { message: string }).message).toContain(`exclusive offer ${offerId}`);

    const read = await api.call('GET', `/v1/licensing/offers/${offerId}/terms`, carol.token);
    expect(read.body).toMatchObject({ terms });
    const grantId = `G-${suffix}`;
    const granted = await api.call('POST', `/v1/licensing/offers/${offerId}/grants`, carol.token, {
      grantId,
      termsSha256: (read.body as { termsSha256: string }).termsSha256,
    });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({
      result: { grantId, status: 'active', expiresAt: '2099-01-01T00:00:00.000Z', fee: { amount: '250001' } },
    });

    // The grant's own transaction asked for the fee; the settlement service collects it and then pays the owners unasked.
    // 65 % of 250 001 is 162 500.65 and 35 % is 87 500.35: floors 162 500 + 87 500, the unit left over to Tara.
    type FeeView = {
      fee?: { status?: string; payouts?: { payee: { userId: string }; amount: string; status: string }[] };
    };
    const feeDeadline = Date.now() + 90_000;
    let withFee: FeeView;
    for (;;) {
      withFee = (await api.call('GET', `/v1/licensing/grants/${grantId}`, tara.token)).body as FeeView;
      if (withFee.fee?.status === 'paid') break;
      if (Date.now() > feeDeadline) throw new Error(`licence fee stayed ${withFee.fee?.status ?? 'absent'}`);
      await delay(250);
    }
    expect(withFee.fee.payouts?.map((payout) => [payout.payee.userId, payout.amount, payout.status])).toEqual([
      [tara.party.userId, '162501', 'paid'],
      [tom.party.userId, '87500', 'paid'],
    ]);
    const feePaid = sandbox.payments().filter((payment) => payment.instructionId.startsWith(`${grantId}/fee/`));
    expect(
      feePaid.map((payment) => [payment.instructionId, payment.direction, payment.amount, payment.status]).sort(),
    ).toEqual([
      [`${grantId}/fee/collect-1`, 'collect', '250001', 'paid'],
      [`${grantId}/fee/fee-1`, 'payout', '162501', 'paid'],
      [`${grantId}/fee/fee-2`, 'payout', '87500', 'paid'],
    ]);

    // The exclusive grant, too, keeps an overlapping licence out.
    const afterGrant = await api.call('POST', '/v1/licensing/offers', tara.token, {
      offerId: `L3-${suffix}`,
      workId,
      scope: 'commercial',
      fieldsOfUse: ['fraud-detection'],
      territories: ['WORLD'],
      exclusive: true,
      termStart: '2030-01-01T00:00:00.000Z',
      termEnd: '2031-01-01T00:00:00.000Z',
      royaltyBps: 500,
      currency: 'EUR',
      terms: { text: 'Another exclusive licence.' },
    });
    expect(afterGrant.status).toBe(409);
    expect((afterGrant.body as { message: string }).message).toContain(`exclusive grant ${grantId}`);

    const periodId = lastMonth();
    // 12.5 % of 9 876 543 floors to 1 234 567; 1 000 units at 5 add 5 000: 1 239 567.
    const reported = await api.call('POST', `/v1/licensing/grants/${grantId}/usage-reports`, carol.token, {
      periodId,
      units: '1000',
      revenue: '9876543',
      currency: 'EUR',
    });
    expect(reported.status).toBe(201);
    expect(reported.body).toMatchObject({ result: { royalty: '1239567' } });

    const closed = await api.call('POST', `/v1/licensing/grants/${grantId}/periods/${periodId}/closing`, tom.token, {});
    expect(closed.status).toBe(200);
    const closing = (closed.body as { result: RoyaltyPeriodRecord }).result;
    expect(
      closing.instructions.map((instruction) => [instruction.kind, instruction.payer.userId, instruction.amount]),
    ).toEqual([['collection', carol.party.userId, '1239567']]);
    // 65 % is 805 718.55 and 35 % is 433 848.45: floors 805 718 + 433 848, the unit left over to Tara.
    expect(closing.shares?.map((share) => [share.party.userId, share.amount])).toEqual([
      [tara.party.userId, '805719'],
      [tom.party.userId, '433848'],
    ]);

    const deadline = Date.now() + 90_000;
    let view: RoyaltyPeriodView;
    for (;;) {
      view = (await api.call('GET', `/v1/licensing/grants/${grantId}/periods/${periodId}`, carol.token))
        .body as RoyaltyPeriodView;
      if (view.closed?.status === 'paid') break;
      if (Date.now() > deadline) throw new Error(`royalty period stayed ${view.closed?.status ?? 'open'}`);
      await delay(250);
    }
    expect(view.closed.instructions.map((instruction) => instruction.confirmation?.by.role)).toEqual([
      'settlement',
      'settlement',
      'settlement',
    ]);
    const paid = sandbox.payments().filter((payment) => payment.instructionId.startsWith(`${grantId}/${periodId}/`));
    expect(
      paid.map((payment) => [payment.instructionId, payment.direction, payment.amount, payment.status]).sort(),
    ).toEqual([
      [`${grantId}/${periodId}/collect-1`, 'collect', '1239567', 'paid'],
      [`${grantId}/${periodId}/royalty-1`, 'payout', '805719', 'paid'],
      [`${grantId}/${periodId}/royalty-2`, 'payout', '433848', 'paid'],
    ]);

    // A second report for the month, or one from someone other than the licensee, is refused by its rule.
    const again = await api.call('POST', `/v1/licensing/grants/${grantId}/usage-reports`, carol.token, {
      periodId,
      units: '1',
      revenue: '1',
      currency: 'EUR',
    });
    expect(again.status).toBe(409);
    const revoked = await api.call('POST', `/v1/licensing/grants/${grantId}/revocation`, tom.token, {
      reason: 'Used outside the licensed territories.',
    });
    expect(revoked.body).toMatchObject({ result: { status: 'revoked' } });
    // This month began before the revocation: its usage until then is still owed and reported.
    const afterRevocation = await api.call('POST', `/v1/licensing/grants/${grantId}/usage-reports`, carol.token, {
      periodId: new Date().toISOString().slice(0, 7),
      units: '1',
      revenue: '1',
      currency: 'EUR',
    });
    expect(afterRevocation.status).toBe(201);
    // Closing it early, before the month and its reporting window are over, is refused by its rule.
    const early = await api.call(
      'POST',
      `/v1/licensing/grants/${grantId}/periods/${new Date().toISOString().slice(0, 7)}/closing`,
      tara.token,
      {},
    );
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'INVALID_STATE' });
  });

  it("pays the owners nothing of a fee the licensee's bank refused, and lets the licensee, not an owner, issue its collection again", async () => {
    const tara = await api.person(`tara-f-${suffix}`, 'TalentOrg', 'freelancer');
    const carol = await api.person(`carol-f-${suffix}`, 'ClientOrg', 'client');
    await api.payoutAccount(tara, 'FR1420041010050500013M02606', 'BNPAFRPPXXX');
    await api.payoutAccount(carol, 'NL91ABNA0417164300', 'ABNANL2AXXX');
    const workId = `W-f-${suffix}`;
    expect(
      (
        await api.call('POST', '/v1/ip/works', tara.token, {
          workId,
          kind: 'dataset',
          contentHash: createHash('sha256').update(`fee model ${suffix}`).digest('hex'),
          title: 'Claims dataset',
          uri: 'https://data.example.com/claims',
          creators: [tara.party],
          owners: [{ party: tara.party, shareBps: 10_000 }],
        })
      ).status,
    ).toBe(201);
    const offerId = `L-f-${suffix}`;
    // The sandbox's bank refuses every amount ending in 13, as a licensee's empty account would.
    const offered = await api.call('POST', '/v1/licensing/offers', tara.token, {
      offerId,
      workId,
      licensee: carol.party,
      scope: 'research',
      fieldsOfUse: ['any'],
      territories: ['WORLD'],
      exclusive: false,
      termStart: '2026-01-01T00:00:00.000Z',
      termEnd: '2099-01-01T00:00:00.000Z',
      fee: { amount: '70013' },
      currency: 'EUR',
      terms: { text: 'Research licence of the claims dataset.' },
    });
    expect(offered.status).toBe(201);
    const read = await api.call('GET', `/v1/licensing/offers/${offerId}/terms`, carol.token);
    const grantId = `G-f-${suffix}`;
    const granted = await api.call('POST', `/v1/licensing/offers/${offerId}/grants`, carol.token, {
      grantId,
      termsSha256: (read.body as { termsSha256: string }).termsSha256,
    });
    expect(granted.status).toBe(201);

    type FeeView = {
      fee: {
        status: string;
        collections: { instructionId: string; status: string; reissuedAs?: string }[];
        payouts: { amount: string; status: string }[];
      };
    };
    const feeOf = async () =>
      ((await api.call('GET', `/v1/licensing/grants/${grantId}`, carol.token)).body as FeeView).fee;
    const deadline = Date.now() + 90_000;
    const collectionFailed = async (n: number) => {
      for (;;) {
        const fee = await feeOf();
        if (fee.collections[n - 1]?.status === 'failed') return fee;
        if (Date.now() > deadline) throw new Error(`collection ${String(n)} of the fee stayed ${JSON.stringify(fee)}`);
        await delay(250);
      }
    };
    const failed = await collectionFailed(1);
    expect(failed).toMatchObject({
      status: 'collecting',
      collections: [{ instructionId: `${grantId}/fee/collect-1`, status: 'failed' }],
      payouts: [{ amount: '70013', status: 'awaiting-collection' }],
    });
    // The owner may not have the licensee debited again; the licensee may.
    const reissue = (token: string) =>
      api.call('POST', `/v1/licensing/grants/${grantId}/periods/fee/failed-payouts/reissue`, token, {
        instructionId: `${grantId}/fee/collect-1`,
      });
    expect((await reissue(tara.token)).status).toBe(403);
    expect((await reissue(carol.token)).status).toBe(200);
    expect(await collectionFailed(2)).toMatchObject({
      status: 'collecting',
      collections: [
        { instructionId: `${grantId}/fee/collect-1`, status: 'failed', reissuedAs: `${grantId}/fee/collect-2` },
        { instructionId: `${grantId}/fee/collect-2`, status: 'failed' },
      ],
    });
    // Read as a period, the fee's record carries each refusal's reason and the reissue that followed it.
    const period = await api.call('GET', `/v1/licensing/grants/${grantId}/periods/fee`, carol.token);
    expect(period.status).toBe(200);
    const { closed } = period.body as {
      closed: { instructions: { instructionId: string; reissueOf?: string; confirmation?: { reason?: string } }[] };
    };
    expect(closed.instructions.map((instruction) => [instruction.instructionId, instruction.reissueOf])).toEqual([
      [`${grantId}/fee/collect-1`, undefined],
      [`${grantId}/fee/collect-2`, `${grantId}/fee/collect-1`],
    ]);
    for (const instruction of closed.instructions) {
      expect(instruction.confirmation?.reason).toMatch(/^AMOUNT_REFUSED_BY_SANDBOX: the sandbox provider refuses /);
    }
    const moved = sandbox.payments().filter((payment) => payment.instructionId.startsWith(`${grantId}/`));
    expect(moved.map((payment) => [payment.instructionId, payment.direction, payment.status]).sort()).toEqual([
      [`${grantId}/fee/collect-1`, 'collect', 'failed'],
      [`${grantId}/fee/collect-2`, 'collect', 'failed'],
    ]);
  });
});
