import { licenceTermsSha256, licensingEvents, type LicenceTerms } from '../model/licensing';
import type { Party } from '../model/party';
import { parseRefusal } from '../model/errors';
import { licensingCommandRoles, type LicensingCommand } from '../model/access-roles';
import { roles } from '../model/identity';
import { IpContract } from './ip-contract';
import { LicensingContract } from './licensing-contract';
import {
  AgreementDriver,
  auditor,
  client,
  freelancer,
  otherClient,
  otherFreelancer,
  settlement,
} from '../test-support/agreement-fixtures';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';
import { licenceOfferFields, workRegistration } from '../test-support/domain-fixtures';

const tara = { mspId: 'TalentOrgMSP', userId: 'tara' };
const tom = { mspId: 'TalentOrgMSP', userId: 'tom' };
const carol = { mspId: 'ClientOrgMSP', userId: 'carol' };
const day = 24 * 3600;
const terms: LicenceTerms = {
  text: 'Licensed for fraud scoring of card payments in the EU.',
  salt: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
};
const termsSha256 = licenceTermsSha256(terms);
const otherSettlement = testIdentity('ClientOrgMSP', 'settler-c', 'settlement', 'settlement-c');

describe('LicensingContract', () => {
  let driver: AgreementDriver;
  const contract = new LicensingContract();
  let requests = 0;

  const call = <Result>(as: TestIdentity, name: string, request: unknown, transient?: Record<string, unknown>) =>
    driver.ledger.transact<Result>(as, contract, name, request, transient);

  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    return parseRefusal((error as Error).message);
  };

  const ip = new IpContract();
  const registerWork = (workId: string, owners: { party: Party; shareBps: number }[]) =>
    driver.ledger.invoke(freelancer, (ctx) =>
      ip.registerWork(
        ctx,
        JSON.stringify({ requestId: `req-register-${workId}`, ...workRegistration(workId, owners) }),
      ),
    );

  const offer = (as: TestIdentity, overrides: Record<string, unknown> = {}) => {
    requests += 1;
    return call<Record<string, unknown>>(
      as,
      'offerLicence',
      {
        requestId: `req-offer-${requests}`,
        ...licenceOfferFields(`L-${requests}`, 'W-1', { licensee: carol, territories: ['DE', 'FR'], ...overrides }),
      },
      { terms },
    );
  };

  const accept = (as: TestIdentity, offerId: string, grantId = 'G-1', sha = termsSha256) => {
    requests += 1;
    return call<Record<string, unknown>>(as, 'acceptOffer', {
      requestId: `req-accept-${requests}`,
      offerId,
      grantId,
      termsSha256: sha,
    });
  };

  const report = (as: TestIdentity, overrides: Record<string, unknown> = {}) => {
    requests += 1;
    return call<Record<string, unknown>>(as, 'reportUsage', {
      requestId: `req-report-${requests}`,
      grantId: 'G-1',
      periodId: '2026-01',
      units: '41',
      revenue: '1000001',
      currency: 'EUR',
      ...overrides,
    });
  };

  beforeEach(async () => {
    driver = new AgreementDriver();
    requests = 0;
    await driver.setParameters();
    // Tara holds 60 %, Tom 40 %: the split must give Tara the remainder.
    await registerWork('W-1', [
      { party: tara, shareBps: 6_000 },
      { party: tom, shareBps: 4_000 },
    ]);
  });

  async function openOffer(overrides: Record<string, unknown> = {}): Promise<string> {
    const made = await offer(freelancer, overrides);
    await call(otherFreelancer, 'consentToOffer', { offerId: made.offerId });
    return made.offerId as string;
  }

  describe('offers', () => {
    it('opens an offer once every owner consented, keeping the terms private and their hash on the ledger', async () => {
      const made = await offer(freelancer);
      expect(made).toMatchObject({
        status: 'awaiting-consent',
        termsSha256,
        owners: [{ party: tara }, { party: tom }],
      });
      expect((await refusal(accept(client, 'L-1')))?.code).toBe('INVALID_STATE');
      expect((await refusal(call(freelancer, 'consentToOffer', { offerId: 'L-1' })))?.code).toBe('ALREADY_EXISTS');
      const opened = await call<Record<string, unknown>>(otherFreelancer, 'consentToOffer', { offerId: 'L-1' });
      expect(opened.status).toBe('open');
      const stored = JSON.stringify(driver.ledger.keys().map((key) => driver.ledger.read(key)));
      expect(stored).not.toContain('fraud scoring of card payments');
      expect(await call(client, 'getLicenceTerms', { offerId: 'L-1' })).toEqual({ offerId: 'L-1', termsSha256, terms });
      // Reader roles see that the offer exists, never the parties' terms; an auditor under an audit grant.
      await driver.grantAudit(['licensing']);
      expect(await call(auditor, 'getOffer', { offerId: 'L-1' })).toMatchObject({ offerId: 'L-1' });
      expect((await refusal(call(auditor, 'getLicenceTerms', { offerId: 'L-1' })))?.code).toBe('FORBIDDEN');
    });

    it('opens at once for a sole owner', async () => {
      await registerWork('W-2', [{ party: tara, shareBps: 10_000 }]);
      expect(await offer(freelancer, { workId: 'W-2' })).toMatchObject({ status: 'open' });
    });

    it('refuses offers by non-owners, of unknown works, under a taken id, and malformed ones, naming the field', async () => {
      expect((await refusal(offer(otherClient)))?.code).toBe('FORBIDDEN');
      expect(await refusal(offer(freelancer, { workId: 'W-404' }))).toMatchObject({
        code: 'NOT_FOUND',
        field: 'workId',
      });
      await offer(freelancer, { offerId: 'L-same' });
      expect(await refusal(offer(freelancer, { offerId: 'L-same' }))).toMatchObject({
        code: 'ALREADY_EXISTS',
        field: 'offerId',
      });
      expect(await refusal(offer(freelancer, { termEnd: '2025-06-01T00:00:00.000Z' }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'termEnd',
      });
      expect(await refusal(offer(freelancer, { royaltyBps: undefined, perUnitAmount: undefined }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'royaltyBps',
      });
      // A royalty of 0 basis points alone charges nothing: no free (and, exclusive, blocking) licence.
      expect(await refusal(offer(freelancer, { royaltyBps: 0, perUnitAmount: undefined }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'royaltyBps',
        message: expect.stringMatching(/more than 0 basis points/) as string,
      });
      expect(await refusal(offer(freelancer, { licensee: tom }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'licensee',
      });
      expect(await refusal(offer(freelancer, { territories: ['DE', 'DE'] }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'territories',
      });
    });

    it('refuses an exclusive licence overlapping a live one, and any licence overlapping a live exclusive one, naming it', async () => {
      await openOffer({ offerId: 'L-open', licensee: undefined, territories: ['FR'] });
      const clash = await refusal(offer(freelancer, { exclusive: true, territories: ['WORLD'] }));
      expect(clash?.code).toBe('LICENCE_CONFLICT');
      expect(clash?.message).toContain('offer L-open');
      // Another field of use, scope or a term that ends before does not overlap.
      await offer(freelancer, {
        offerId: 'L-excl',
        exclusive: true,
        fieldsOfUse: ['credit-scoring'],
        territories: ['WORLD'],
      });
      await offer(freelancer, { exclusive: true, scope: 'research', territories: ['FR'] });
      const reverse = await refusal(offer(freelancer, { fieldsOfUse: ['any'], territories: ['IT'] }));
      expect(reverse?.code).toBe('LICENCE_CONFLICT');
      expect(reverse?.message).toContain('exclusive offer L-excl');
      // An offer awaiting consent holds its scope against the other owners only until one of them withdraws it.
      expect(reverse?.message).toMatch(/it awaits its owners' consent, and any owner named on it may withdraw it$/);
      await call(otherFreelancer, 'withdrawOffer', { offerId: 'L-excl', reason: 'not without my consent' });
      // A withdrawn offer no longer conflicts.
      await offer(otherFreelancer, { fieldsOfUse: ['any'], territories: ['IT'] });
    });

    it('keeps a grant from an exclusive offer exclusive after the offer is taken up', async () => {
      const offerId = await openOffer({ exclusive: true });
      await accept(client, offerId);
      const clash = await refusal(offer(freelancer, { licensee: undefined, territories: ['DE'] }));
      expect(clash?.message).toContain('exclusive grant G-1');
    });
  });

  describe('grants', () => {
    it('grants the named licensee the offer as read, once', async () => {
      const offerId = await openOffer();
      // An offer made to someone else is none of the caller's business: answered as for a
      // missing offer, never naming whom it is made to.
      expect(await refusal(accept(otherClient, offerId))).toMatchObject({
        code: 'NOT_FOUND',
        field: 'offerId',
        message: `licence offer ${offerId} does not exist`,
      });
      expect(await refusal(accept(client, offerId, 'G-1', 'f'.repeat(64)))).toMatchObject({
        code: 'TERMS_MISMATCH',
        field: 'termsSha256',
      });
      const grant = await accept(client, offerId);
      expect(grant).toMatchObject({
        grantId: 'G-1',
        licensee: carol,
        status: 'active',
        expiresAt: '2027-01-01T00:00:00.000Z',
        royaltyBps: 750,
        perUnitAmount: '2',
      });
      expect(driver.ledger.lastEvent?.name).toBe(licensingEvents.licenceGranted.name);
      expect((await refusal(accept(client, offerId, 'G-2')))?.code).toBe('INVALID_STATE');
    });

    it('lets anyone but an owner take an open offer, each once', async () => {
      const offerId = await openOffer({ licensee: undefined });
      expect((await refusal(accept(freelancer, offerId)))?.code).toBe('FORBIDDEN');
      await accept(client, offerId, 'G-1');
      await accept(otherClient, offerId, 'G-2');
      expect(await refusal(accept(client, offerId, 'G-3'))).toMatchObject({ code: 'ALREADY_EXISTS', field: 'offerId' });
      expect(await refusal(accept(otherClient, offerId, 'G-1'))).toMatchObject({
        code: 'ALREADY_EXISTS',
        field: 'grantId',
      });
    });

    it('revokes for cause by an owner only, after which no usage is reported', async () => {
      await accept(client, await openOffer());
      expect((await refusal(call(client, 'revokeGrant', { grantId: 'G-1', reason: 'mine' })))?.code).toBe('FORBIDDEN');
      const revoked = await call<Record<string, unknown>>(otherFreelancer, 'revokeGrant', {
        grantId: 'G-1',
        reason: 'used outside the licensed territory',
      });
      expect(revoked).toMatchObject({
        status: 'revoked',
        revocation: { reason: 'used outside the licensed territory' },
      });
      // January began before the revocation, so its usage is still owed; February's is not.
      expect(await report(client)).toMatchObject({ periodId: '2026-01' });
      driver.ledger.advanceSeconds(31 * day);
      expect(await refusal(report(client, { periodId: '2026-02' }))).toMatchObject({
        code: 'INVALID_STATE',
        field: 'periodId',
      });
    });

    it('hides grants from people with no stake in them', async () => {
      await accept(client, await openOffer());
      expect(await refusal(call(otherClient, 'getGrant', { grantId: 'G-1' }))).toMatchObject({ code: 'NOT_FOUND' });
      await driver.grantAudit(['licensing']);
      expect(await call(auditor, 'getGrant', { grantId: 'G-1' })).toMatchObject({ grantId: 'G-1' });
      expect(await call(otherFreelancer, 'getGrant', { grantId: 'G-1' })).toMatchObject({ grantId: 'G-1' });
      const listed = await call<{ grants: unknown[]; offers: unknown[] }>(otherClient, 'listWorkLicences', {
        workId: 'W-1',
      });
      expect(listed).toEqual({ workId: 'W-1', offers: [], grants: [], bookmark: '' });
      // One record per page in key order: the grant, then the offer, each read by its owner.
      const firstPage = await call<{ offers: unknown[]; grants: unknown[]; bookmark: string }>(
        freelancer,
        'listWorkLicences',
        { workId: 'W-1', pageSize: 1 },
      );
      expect([firstPage.offers.length, firstPage.grants.length]).toEqual([0, 1]);
      const secondPage = await call<{ offers: unknown[]; grants: unknown[]; bookmark: string }>(
        freelancer,
        'listWorkLicences',
        { workId: 'W-1', pageSize: 1, bookmark: firstPage.bookmark },
      );
      expect([secondPage.offers.length, secondPage.grants.length, secondPage.bookmark]).toEqual([1, 0, '']);
      // An admin reads the licences naming a person of its organisation, not every licence.
      const clientOrgAdmin = testIdentity('ClientOrgMSP', 'ops', 'admin');
      const auditOrgAdmin = testIdentity('AuditOrgMSP', 'aops', 'admin');
      expect(await call(clientOrgAdmin, 'getGrant', { grantId: 'G-1' })).toMatchObject({ grantId: 'G-1' });
      expect(await refusal(call(auditOrgAdmin, 'getGrant', { grantId: 'G-1' }))).toMatchObject({
        code: 'NOT_FOUND',
        message: 'licence grant G-1 does not exist',
      });
      expect(await refusal(call(auditOrgAdmin, 'getOffer', { offerId: 'L-1' }))).toMatchObject({ code: 'NOT_FOUND' });
      // The settlement role reads licences only for an organisation chosen for settlement:
      // any admin can give the role to anyone.
      expect(await call(settlement, 'getGrant', { grantId: 'G-1' })).toMatchObject({ grantId: 'G-1' });
      expect(await refusal(call(otherSettlement, 'getGrant', { grantId: 'G-1' }))).toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(
        await call<{ grants: unknown[]; offers: unknown[] }>(otherSettlement, 'listWorkLicences', { workId: 'W-1' }),
      ).toEqual({ workId: 'W-1', offers: [], grants: [], bookmark: '' });
    });
  });

  describe('usage and royalties', () => {
    beforeEach(async () => {
      await accept(client, await openOffer());
    });

    it('takes one report per period from the licensee, in the licence currency, once the period has ended', async () => {
      // 5 January: January's usage is not known before the month is over.
      expect(await refusal(report(client))).toMatchObject({
        code: 'INVALID_STATE',
        field: 'periodId',
        message:
          'period 2026-01 of grant G-1 ends at 2026-02-01T00:00:00.000Z; its usage is reported once it has ended',
      });
      driver.ledger.advanceSeconds(27 * day);
      // Someone who may not see the grant is answered as for a missing one; an owner who
      // may is told why.
      expect(await refusal(report(otherClient))).toMatchObject({
        code: 'NOT_FOUND',
        message: 'licence grant G-1 does not exist',
      });
      expect((await refusal(report(freelancer)))?.code).toBe('FORBIDDEN');
      expect(await refusal(report(client, { currency: 'USD' }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'currency',
      });
      expect(await refusal(report(client, { periodId: '2026-02' }))).toMatchObject({
        code: 'INVALID_STATE',
        field: 'periodId',
      });
      expect(await refusal(report(client, { periodId: '2025-12' }))).toMatchObject({
        code: 'INVALID_STATE',
        field: 'periodId',
      });
      // A royalty past the 18 digits a payout carries could never be paid, and the month never closed.
      const eighteenNines = '9'.repeat(18);
      expect(await refusal(report(client, { units: eighteenNines, revenue: '0' }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'units',
      });
      // 499 999 999 999 999 999 units at 2 fit alone; 7.5 % of the revenue on top does not.
      expect(await refusal(report(client, { units: '4'.padEnd(18, '9'), revenue: '1000001' }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'revenue',
      });
      // 7.5 % of 1 000 001 floors to 75 000; 41 units at 2 add 82.
      expect(await report(client)).toMatchObject({ royalty: '75082', units: '41', revenue: '1000001' });
      expect(await refusal(report(client))).toMatchObject({ code: 'ALREADY_EXISTS', field: 'periodId' });
    });

    const answerMonth = (instructionId: string, outcome: 'paid' | 'failed', requestId: string, as = settlement) =>
      call<{ status: string; instructions: { instructionId: string; status: string }[] }>(as, 'confirmRoyaltyPayout', {
        requestId,
        grantId: 'G-1',
        periodId: '2026-01',
        instructionId,
        outcome,
        providerReference: `sbx-${requestId}`,
        ...(outcome === 'failed' ? { reason: 'insufficient funds' } : {}),
      });
    const lastRequests = () =>
      (driver.ledger.lastEvent?.payload as { settlementRequests: Record<string, unknown>[] }).settlementRequests;

    it('closes an ended period into a collection from the licensee; its confirmation pays each owner their share', async () => {
      // Neither reported nor closed while the month runs: its usage is not known yet.
      expect(await refusal(report(client))).toMatchObject({ code: 'INVALID_STATE', field: 'periodId' });
      expect(await refusal(call(client, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: '2026-01' }))).toMatchObject({
        code: 'INVALID_STATE',
        field: 'periodId',
      });
      driver.ledger.advanceSeconds(27 * day);
      await report(client);
      // Neither someone who may not see the grant nor an auditor without an audit grant
      // covering it may close its period, and neither learns that it exists.
      for (const outsider of [otherClient, auditor]) {
        expect(
          await refusal(call(outsider, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: '2026-01' })),
        ).toMatchObject({ code: 'NOT_FOUND', message: 'licence grant G-1 does not exist' });
        expect(
          await refusal(call(outsider, 'closeRoyaltyPeriod', { grantId: 'G-404', periodId: '2026-01' })),
        ).toMatchObject({ code: 'NOT_FOUND', message: 'licence grant G-404 does not exist' });
      }
      const period = await call<{ instructions: Record<string, unknown>[] }>(settlement, 'closeRoyaltyPeriod', {
        grantId: 'G-1',
        periodId: '2026-01',
      });
      // Nothing is paid out before the licensee's money is in: the whole royalty is collected first.
      // 60 % of 75 082 is 45 049.2 and 40 % is 30 032.8: floors 45 049 + 30 032, the unit left over goes to Tara.
      expect(period).toMatchObject({
        royalty: '75082',
        status: 'collecting',
        reported: true,
        shares: [
          { party: tara, shareBps: 6_000, amount: '45050' },
          { party: tom, shareBps: 4_000, amount: '30032' },
        ],
      });
      expect(period.instructions).toEqual([
        expect.objectContaining({
          instructionId: 'G-1/2026-01/collect-1',
          kind: 'collection',
          payer: carol,
          shareBps: 10_000,
          amount: '75082',
          currency: 'EUR',
          status: 'pending',
        }),
      ]);
      expect(period.instructions[0]).not.toHaveProperty('payee');
      expect(driver.ledger.lastEvent?.name).toBe(licensingEvents.royaltyPeriodClosed.name);
      expect(lastRequests()).toEqual(period.instructions);
      expect((await refusal(report(client, { periodId: '2026-01', requestId: 'req-late-1' })))?.code).toBe(
        'INVALID_STATE',
      );
      expect((await refusal(call(client, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: '2026-01' })))?.code).toBe(
        'INVALID_STATE',
      );
      // No owner's payout exists to answer until the collection is confirmed.
      expect(await refusal(answerMonth('G-1/2026-01/royalty-1', 'paid', 'req-conf-early'))).toMatchObject({
        code: 'NOT_FOUND',
        field: 'instructionId',
      });

      expect((await refusal(answerMonth('G-1/2026-01/collect-1', 'paid', 'req-conf-0', client)))?.code).toBe(
        'FORBIDDEN',
      );
      expect((await refusal(answerMonth('G-1/2026-01/collect-1', 'paid', 'req-conf-x', otherSettlement)))?.code).toBe(
        'FORBIDDEN',
      );
      expect(await answerMonth('G-1/2026-01/collect-1', 'paid', 'req-conf-1')).toMatchObject({ status: 'settling' });
      expect(driver.ledger.lastEvent?.name).toBe(licensingEvents.royaltyPayoutConfirmed.name);
      expect(lastRequests()).toMatchObject([
        { instructionId: 'G-1/2026-01/royalty-1', kind: 'royalty', payer: carol, payee: tara, amount: '45050' },
        { instructionId: 'G-1/2026-01/royalty-2', kind: 'royalty', payer: carol, payee: tom, amount: '30032' },
      ]);
      expect(await refusal(answerMonth('G-1/2026-01/royalty-9', 'paid', 'req-conf-9'))).toMatchObject({
        code: 'NOT_FOUND',
        field: 'instructionId',
      });
      expect((await refusal(answerMonth('G-1/2026-01/collect-1', 'paid', 'req-conf-2')))?.code).toBe('INVALID_STATE');
      expect(await answerMonth('G-1/2026-01/royalty-1', 'paid', 'req-conf-3')).toMatchObject({ status: 'settling' });
      expect(lastRequests()).toEqual([]);
      expect(await answerMonth('G-1/2026-01/royalty-2', 'paid', 'req-conf-4')).toMatchObject({ status: 'paid' });
      const view = await call<{ closed: { instructions: { status: string }[] } }>(client, 'getRoyaltyPeriod', {
        grantId: 'G-1',
        periodId: '2026-01',
      });
      expect(view.closed.instructions.map((instruction) => instruction.status)).toEqual(['paid', 'paid', 'paid']);
    });

    it('pays no owner while the collection fails; the licensee or the settlement service issues it again', async () => {
      driver.ledger.advanceSeconds(27 * day);
      await report(client);
      await call(client, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: '2026-01' });
      const reissue = (as: TestIdentity, instructionId: string) =>
        call<{ status: string; instructions: Record<string, unknown>[] }>(as, 'reissueRoyaltyPayout', {
          grantId: 'G-1',
          periodId: '2026-01',
          instructionId,
        });
      expect((await refusal(reissue(client, 'G-1/2026-01/collect-1')))?.code).toBe('INVALID_STATE');
      expect(await answerMonth('G-1/2026-01/collect-1', 'failed', 'req-conf-a')).toMatchObject({
        status: 'collecting',
      });
      expect(lastRequests()).toEqual([]);
      // An owner cannot have the licensee debited again; the licensee (or the settlement service) can.
      expect((await refusal(reissue(freelancer, 'G-1/2026-01/collect-1')))?.code).toBe('FORBIDDEN');
      const again = await reissue(client, 'G-1/2026-01/collect-1');
      expect(again.status).toBe('collecting');
      expect(again.instructions).toMatchObject([
        { instructionId: 'G-1/2026-01/collect-1', status: 'failed', reissuedAs: 'G-1/2026-01/collect-2' },
        {
          instructionId: 'G-1/2026-01/collect-2',
          kind: 'collection',
          status: 'pending',
          reissueOf: 'G-1/2026-01/collect-1',
          amount: '75082',
        },
      ]);
      expect(lastRequests()).toMatchObject([{ instructionId: 'G-1/2026-01/collect-2', kind: 'collection' }]);
      expect(await answerMonth('G-1/2026-01/collect-2', 'paid', 'req-conf-b')).toMatchObject({ status: 'settling' });
      expect(lastRequests().map((instruction) => instruction.instructionId)).toEqual([
        'G-1/2026-01/royalty-1',
        'G-1/2026-01/royalty-2',
      ]);
    });

    it('issues a failed payout again for its payee, and the month is paid once the replacement is', async () => {
      driver.ledger.advanceSeconds(27 * day);
      await report(client);
      await call(client, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: '2026-01' });
      const reissue = (as: TestIdentity, instructionId: string) =>
        call<{
          instructions: {
            instructionId: string;
            status: string;
            reissuedAs?: string;
            reissueOf?: string;
            amount: string;
          }[];
        }>(as, 'reissueRoyaltyPayout', { grantId: 'G-1', periodId: '2026-01', instructionId });
      await answerMonth('G-1/2026-01/collect-1', 'paid', 'req-conf-0');
      await answerMonth('G-1/2026-01/royalty-1', 'paid', 'req-conf-a');
      expect((await refusal(reissue(otherFreelancer, 'G-1/2026-01/royalty-2')))?.code).toBe('INVALID_STATE');
      await answerMonth('G-1/2026-01/royalty-2', 'failed', 'req-conf-b');
      expect((await refusal(reissue(freelancer, 'G-1/2026-01/royalty-2')))?.code).toBe('FORBIDDEN');
      expect((await refusal(reissue(client, 'G-1/2026-01/royalty-2')))?.code).toBe('FORBIDDEN');
      const reissued = await reissue(otherFreelancer, 'G-1/2026-01/royalty-2');
      expect(reissued.instructions.slice(2)).toMatchObject([
        { instructionId: 'G-1/2026-01/royalty-2', status: 'failed', reissuedAs: 'G-1/2026-01/royalty-4' },
        {
          instructionId: 'G-1/2026-01/royalty-4',
          status: 'pending',
          reissueOf: 'G-1/2026-01/royalty-2',
          amount: '30032',
        },
      ]);
      expect(lastRequests().map((instruction) => instruction.instructionId)).toEqual(['G-1/2026-01/royalty-4']);
      expect((await refusal(reissue(settlement, 'G-1/2026-01/royalty-2')))?.code).toBe('INVALID_STATE');
      expect(await answerMonth('G-1/2026-01/royalty-4', 'paid', 'req-conf-c')).toMatchObject({ status: 'paid' });
    });

    it('answers a payee who has since sold their share with the instructions naming them, not the whole month', async () => {
      driver.ledger.advanceSeconds(27 * day);
      await report(client);
      await call(client, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: '2026-01' });
      await answerMonth('G-1/2026-01/collect-1', 'paid', 'req-conf-0');
      await answerMonth('G-1/2026-01/royalty-2', 'failed', 'req-conf-b');
      // Tom sells his 40 % to Tara: he no longer reads the licence, nor the month through it.
      await driver.ledger.transact(freelancer, ip, 'proposeOwnershipChange', {
        requestId: 'req-sell',
        workId: 'W-1',
        changeId: 'C-sell',
        owners: [{ party: tara, shareBps: 10_000 }],
      });
      await driver.ledger.transact(otherFreelancer, ip, 'approveOwnershipChange', {
        workId: 'W-1',
        changeId: 'C-sell',
      });
      const asTom = { grantId: 'G-1', periodId: '2026-01' };
      expect((await refusal(call(otherFreelancer, 'getRoyaltyPeriod', asTom)))?.code).toBe('NOT_FOUND');

      const reissued = await call<{ instructions: { instructionId: string; payee?: Party }[] }>(
        otherFreelancer,
        'reissueRoyaltyPayout',
        { ...asTom, instructionId: 'G-1/2026-01/royalty-2' },
      );
      expect(reissued.instructions).toMatchObject([
        { instructionId: 'G-1/2026-01/royalty-2', payee: tom },
        { instructionId: 'G-1/2026-01/royalty-4', payee: tom },
      ]);
      // The settlement service follows the whole month in the event, as for every reissue.
      const event = driver.ledger.lastEvent?.payload as { period: { instructions: unknown[] } };
      expect(event.period.instructions).toHaveLength(4);
      expect(lastRequests()).toMatchObject([{ instructionId: 'G-1/2026-01/royalty-4', payee: tom }]);
    });

    it('closes a period nobody reported as owing nothing, only once its reporting window is over and not for its licensee', async () => {
      driver.ledger.advanceSeconds(27 * day);
      const close = (as: TestIdentity) => call(as, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: '2026-01' });
      expect(await refusal(close(freelancer))).toMatchObject({ code: 'INVALID_STATE', field: 'periodId' });
      driver.ledger.advanceSeconds(30 * day);
      expect((await refusal(close(client)))?.code).toBe('FORBIDDEN');
      expect(await close(freelancer)).toMatchObject({
        royalty: '0',
        reported: false,
        status: 'nothing-due',
        instructions: [],
      });
    });

    it('refuses reports of usage after the grant expired, and takes late reports of months before it', async () => {
      driver.ledger.advanceSeconds(400 * day);
      expect((await refusal(report(client, { periodId: '2027-01' })))?.code).toBe('INVALID_STATE');
      expect(await report(client, { periodId: '2026-12' })).toMatchObject({ periodId: '2026-12' });
    });
  });

  it('refuses an offer whose terms carry no salt, whose hash anyone could confirm a guess against', async () => {
    const { salt: _salt, ...unsalted } = terms;
    expect(
      await refusal(
        call(
          freelancer,
          'offerLicence',
          { requestId: 'req-offer-unsalted', ...licenceOfferFields('L-u', 'W-1') },
          { terms: unsalted },
        ),
      ),
    ).toMatchObject({ code: 'VALIDATION_FAILED', field: 'terms.salt' });
  });

  describe('licence fees', () => {
    interface FeeView {
      fee?: {
        amount: string;
        status?: string;
        payouts?: { instructionId: string; payee: Party; amount: string; status: string }[];
      };
    }
    const feeOnly = { royaltyBps: undefined, perUnitAmount: undefined, fee: { amount: '100001' } };
    const answer = (instructionId: string, outcome: 'paid' | 'failed', requestId: string) =>
      call<{ status: string }>(settlement, 'confirmRoyaltyPayout', {
        requestId,
        grantId: 'G-1',
        periodId: 'fee',
        instructionId,
        outcome,
        providerReference: `sbx-${requestId}`,
        ...(outcome === 'failed' ? { reason: 'account closed' } : {}),
      });
    const feeOf = async () => (await call<FeeView>(client, 'getGrant', { grantId: 'G-1' })).fee;

    const collectFee = () => answer('G-1/fee/collect-1', 'paid', 'req-collect-fee');

    it('collects a fee from the licensee on acceptance, then pays each owner recorded on the offer their part', async () => {
      const grant = await accept(client, await openOffer(feeOnly));
      expect(grant).toMatchObject({ fee: { amount: '100001' } });
      expect(grant).not.toHaveProperty('royaltyBps');
      const event = driver.ledger.lastEvent;
      expect(event?.name).toBe(licensingEvents.licenceGranted.name);
      const requests = (event?.payload as { settlementRequests: Record<string, unknown>[] }).settlementRequests;
      expect(requests).toEqual([
        expect.objectContaining({
          instructionId: 'G-1/fee/collect-1',
          kind: 'collection',
          periodId: 'fee',
          payer: carol,
          amount: '100001',
          shareBps: 10_000,
          platformFee: '0',
          currency: 'EUR',
          status: 'pending',
        }),
      ]);
      // 60 % of 100 001 is 60 000.6 and 40 % is 40 000.4: floors 60 000 + 40 000, the unit left over goes to Tara.
      expect(await feeOf()).toEqual({
        amount: '100001',
        status: 'collecting',
        collections: [{ instructionId: 'G-1/fee/collect-1', amount: '100001', status: 'pending' }],
        payouts: [
          {
            instructionId: 'G-1/fee/fee-1',
            payee: tara,
            shareBps: 6_000,
            amount: '60001',
            status: 'awaiting-collection',
          },
          {
            instructionId: 'G-1/fee/fee-2',
            payee: tom,
            shareBps: 4_000,
            amount: '40000',
            status: 'awaiting-collection',
          },
        ],
      });
      expect(await collectFee()).toMatchObject({ status: 'settling' });
      expect((driver.ledger.lastEvent?.payload as { settlementRequests: unknown[] }).settlementRequests).toMatchObject([
        { instructionId: 'G-1/fee/fee-1', kind: 'licence-fee', payer: carol, payee: tara, amount: '60001' },
        { instructionId: 'G-1/fee/fee-2', kind: 'licence-fee', payer: carol, payee: tom, amount: '40000' },
      ]);
      expect(await feeOf()).toEqual({
        amount: '100001',
        status: 'settling',
        collections: [{ instructionId: 'G-1/fee/collect-1', amount: '100001', status: 'paid' }],
        payouts: [
          { instructionId: 'G-1/fee/fee-1', payee: tara, shareBps: 6_000, amount: '60001', status: 'pending' },
          { instructionId: 'G-1/fee/fee-2', payee: tom, shareBps: 4_000, amount: '40000', status: 'pending' },
        ],
      });
      const listed = await call<{ grants: FeeView[] }>(freelancer, 'listWorkLicences', { workId: 'W-1' });
      expect(listed.grants[0]?.fee?.status).toBe('settling');
    });

    it('charges a fee beside a royalty, the month royalties keeping their own records', async () => {
      const grant = await accept(client, await openOffer({ fee: { amount: '500' } }));
      expect(grant).toMatchObject({ royaltyBps: 750, perUnitAmount: '2', fee: { amount: '500' } });
      expect((await feeOf())?.payouts?.map((payout) => payout.amount)).toEqual(['300', '200']);
      driver.ledger.advanceSeconds(27 * day);
      await report(client);
      const month = await call<{ royalty: string; instructions: { instructionId: string; kind: string }[] }>(
        freelancer,
        'closeRoyaltyPeriod',
        { grantId: 'G-1', periodId: '2026-01' },
      );
      expect(month.royalty).toBe('75082');
      expect(month.instructions.map((instruction) => [instruction.instructionId, instruction.kind])).toEqual([
        ['G-1/2026-01/collect-1', 'collection'],
      ]);
      expect((await feeOf())?.payouts?.map((payout) => payout.instructionId)).toEqual([
        'G-1/fee/fee-1',
        'G-1/fee/fee-2',
      ]);
    });

    it('tells a payout awaiting the collection from one that does not exist, and a grant that does not exist from a period not closed', async () => {
      await accept(client, await openOffer(feeOnly));
      const reissue = (grantId: string, periodId: string, instructionId: string) =>
        refusal(call(otherFreelancer, 'reissueRoyaltyPayout', { grantId, periodId, instructionId }));
      expect(await reissue('G-1', 'fee', 'G-1/fee/fee-2')).toMatchObject({
        code: 'INVALID_STATE',
        field: 'instructionId',
        message: expect.stringContaining(
          'royalty payout G-1/fee/fee-2 of the fee of grant G-1 awaits the collection',
        ) as string,
      });
      expect(await reissue('G-1', 'fee', 'G-1/fee/fee-9')).toMatchObject({ code: 'NOT_FOUND', field: 'instructionId' });
      expect(await reissue('G-zzz', 'fee', 'G-zzz/fee/fee-1')).toMatchObject({
        code: 'NOT_FOUND',
        field: 'grantId',
        message: 'licence grant G-zzz does not exist',
      });
      expect(await reissue('G-1', '2026-01', 'G-1/2026-01/royalty-1')).toMatchObject({
        code: 'NOT_FOUND',
        field: 'periodId',
      });
      // Someone who may not read the grant learns nothing more from the period than from a missing grant.
      expect(
        await refusal(
          call(testIdentity('TalentOrgMSP', 'sam', 'freelancer'), 'reissueRoyaltyPayout', {
            grantId: 'G-1',
            periodId: '2026-01',
            instructionId: 'x',
          }),
        ),
      ).toMatchObject({ code: 'NOT_FOUND', field: 'grantId', message: 'licence grant G-1 does not exist' });
    });

    it('records the settlement answers per owner, and the fee is paid once a failed part issued again is', async () => {
      await accept(client, await openOffer(feeOnly));
      expect(
        (
          await refusal(
            call(client, 'confirmRoyaltyPayout', {
              requestId: 'req-conf-0',
              grantId: 'G-1',
              periodId: 'fee',
              instructionId: 'G-1/fee/collect-1',
              outcome: 'paid',
              providerReference: 'sbx-0',
            }),
          )
        )?.code,
      ).toBe('FORBIDDEN');
      await collectFee();
      expect(await answer('G-1/fee/fee-1', 'paid', 'req-conf-a')).toMatchObject({ status: 'settling' });
      expect((await refusal(answer('G-1/fee/fee-1', 'paid', 'req-conf-a2')))?.code).toBe('INVALID_STATE');
      await answer('G-1/fee/fee-2', 'failed', 'req-conf-b');
      expect((await feeOf())?.payouts?.map((payout) => payout.status)).toEqual(['paid', 'failed']);
      const reissue = (as: TestIdentity) =>
        call(as, 'reissueRoyaltyPayout', { grantId: 'G-1', periodId: 'fee', instructionId: 'G-1/fee/fee-2' });
      expect((await refusal(reissue(freelancer)))?.code).toBe('FORBIDDEN');
      await reissue(otherFreelancer);
      expect((driver.ledger.lastEvent?.payload as { settlementRequests: unknown[] }).settlementRequests).toMatchObject([
        {
          instructionId: 'G-1/fee/fee-4',
          kind: 'licence-fee',
          payee: tom,
          amount: '40000',
          reissueOf: 'G-1/fee/fee-2',
        },
      ]);
      expect((await refusal(reissue(otherFreelancer)))?.code).toBe('INVALID_STATE');
      expect(await answer('G-1/fee/fee-4', 'paid', 'req-conf-c')).toMatchObject({ status: 'paid' });
      const fee = await feeOf();
      expect(fee?.status).toBe('paid');
      expect(fee?.payouts?.map((payout) => [payout.instructionId, payout.status])).toEqual([
        ['G-1/fee/fee-1', 'paid'],
        ['G-1/fee/fee-2', 'failed'],
        ['G-1/fee/fee-4', 'paid'],
      ]);
      // Read as a period, the fee's record holds every instruction whole: the failed
      // payout's reason and the one that replaced it, as months do. It is due at acceptance.
      const grant = await call<{ acceptedAt: string }>(client, 'getGrant', { grantId: 'G-1' });
      const view = await call<{
        start: string;
        end: string;
        report?: unknown;
        closed: { instructions: { instructionId: string; status: string; reissuedAs?: string; reissueOf?: string }[] };
      }>(otherFreelancer, 'getRoyaltyPeriod', { grantId: 'G-1', periodId: 'fee' });
      expect(view).toMatchObject({ start: grant.acceptedAt, end: grant.acceptedAt });
      expect(view).not.toHaveProperty('report');
      expect(view.closed.instructions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            instructionId: 'G-1/fee/fee-2',
            status: 'failed',
            reissuedAs: 'G-1/fee/fee-4',
            confirmation: expect.objectContaining({ reason: 'account closed' }) as unknown,
          }),
          expect.objectContaining({ instructionId: 'G-1/fee/fee-4', status: 'paid', reissueOf: 'G-1/fee/fee-2' }),
        ]),
      );
    });

    it('issues nothing without a fee, and refuses a zero or malformed fee and fee periods where months belong', async () => {
      const grant = await accept(client, await openOffer());
      expect(grant).not.toHaveProperty('fee');
      expect((driver.ledger.lastEvent?.payload as { settlementRequests: unknown[] }).settlementRequests).toEqual([]);
      expect(await refusal(answer('G-1/fee/collect-1', 'paid', 'req-conf-z'))).toMatchObject({
        code: 'NOT_FOUND',
        field: 'periodId',
      });
      expect(await refusal(offer(freelancer, { fee: { amount: '0' } }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'fee.amount',
      });
      expect(await refusal(offer(freelancer, { fee: { amount: '10', currency: 'USD' } }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'fee',
      });
      expect(await refusal(call(freelancer, 'closeRoyaltyPeriod', { grantId: 'G-1', periodId: 'fee' }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'periodId',
      });
      expect(await refusal(report(client, { periodId: 'fee' }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'periodId',
      });
      expect(await refusal(call(client, 'getRoyaltyPeriod', { grantId: 'G-1', periodId: 'fee' }))).toMatchObject({
        code: 'NOT_FOUND',
        field: 'periodId',
        message: 'licence grant G-1 charges no one-off fee',
      });
    });
  });

  describe('side channels', () => {
    /** Neither owner nor licensee of anything here, nor an auditor under an audit grant. */
    const outsiders: readonly [string, TestIdentity][] = [
      ['another client', otherClient],
      ['another freelancer', testIdentity('TalentOrgMSP', 'tess', 'freelancer')],
      ['an auditor without an audit grant', auditor],
    ];
    const feeOnly = { royaltyBps: undefined, perUnitAmount: undefined, fee: { amount: '100001' } };
    let sequence = 0;
    let namedOffer = '';
    const asks: readonly [string, (as: TestIdentity, offerId: string, grantId: string) => Promise<unknown>][] = [
      ['consentToOffer', (as, offerId) => call(as, 'consentToOffer', { offerId })],
      ['withdrawOffer', (as, offerId) => call(as, 'withdrawOffer', { offerId, reason: 'probe' })],
      [
        'acceptOffer',
        (as, offerId) => {
          sequence += 1;
          return call(as, 'acceptOffer', { requestId: `req-probe-${sequence}`, offerId, grantId: 'G-9', termsSha256 });
        },
      ],
      ['getOffer', (as, offerId) => call(as, 'getOffer', { offerId })],
      ['getGrant', (as, _, grantId) => call(as, 'getGrant', { grantId })],
      ['revokeGrant', (as, _, grantId) => call(as, 'revokeGrant', { grantId, reason: 'probe' })],
      ['reportUsage', (as, _, grantId) => report(as, { grantId })],
      ['closeRoyaltyPeriod', (as, _, grantId) => call(as, 'closeRoyaltyPeriod', { grantId, periodId: '2026-01' })],
      ['getRoyaltyPeriod', (as, _, grantId) => call(as, 'getRoyaltyPeriod', { grantId, periodId: '2026-01' })],
      [
        'reissueRoyaltyPayout',
        (as, _, grantId) =>
          call(as, 'reissueRoyaltyPayout', { grantId, periodId: 'fee', instructionId: `${grantId}/fee/collect-1` }),
      ],
    ];

    beforeEach(async () => {
      // G-1 carries a fee, so its fee period is closed from the acceptance on; the second
      // offer is made to Carol and awaits Tom's consent.
      await accept(client, await openOffer(feeOnly));
      driver.ledger.advanceSeconds(40 * day);
      namedOffer = (await offer(freelancer)).offerId as string;
      expect(await call(freelancer, 'getOffer', { offerId: namedOffer })).toMatchObject({ status: 'awaiting-consent' });
    });

    describe.each(outsiders)('to %s', (_, outsider) => {
      it.each(asks)('%s answers as for an id naming nothing, with nothing written', async (_name, ask) => {
        const before = driver.ledger.transactions.length;
        const present = await refusal(ask(outsider, namedOffer, 'G-1'));
        const absent = await refusal(ask(outsider, 'L-404', 'G-404'));
        expect(present?.code).toBe(absent?.code);
        expect(present?.field).toBe(absent?.field);
        expect(present?.message.replaceAll(namedOffer, 'L-404').replaceAll('G-1', 'G-404')).toBe(absent?.message);
        // Commands of roles the table refuses are refused before any record is read.
        if (absent?.code !== 'FORBIDDEN') expect(absent?.code).toBe('NOT_FOUND');
        for (const secret of ['carol', 'tara', 'tom', 'W-1', 'awaiting'])
          expect(present?.message).not.toContain(secret);
        expect(driver.ledger.transactions.length).toBe(before);
      });
    });

    it('still tells those who may see the record why they are refused', async () => {
      expect((await refusal(call(client, 'revokeGrant', { grantId: 'G-1', reason: 'mine' })))?.code).toBe('FORBIDDEN');
      expect((await refusal(report(freelancer)))?.code).toBe('FORBIDDEN');
      expect((await refusal(accept(freelancer, namedOffer, 'G-9')))?.code).toBe('FORBIDDEN');
    });
  });

  it('refuses every command to every role outside the role table', async () => {
    const requestsOf: Record<LicensingCommand, Record<string, unknown>> = {
      offerLicence: { requestId: 'req-role-1', ...licenceOfferFields('L-r', 'W-1') },
      consentToOffer: { offerId: 'L-1' },
      withdrawOffer: { offerId: 'L-1', reason: 'no longer offered' },
      acceptOffer: { requestId: 'req-role-2', offerId: 'L-1', grantId: 'G-r', termsSha256 },
      revokeGrant: { grantId: 'G-1', reason: 'breach' },
      reportUsage: {
        requestId: 'req-role-3',
        grantId: 'G-1',
        periodId: '2026-01',
        units: '1',
        revenue: '1',
        currency: 'EUR',
      },
      closeRoyaltyPeriod: { grantId: 'G-1', periodId: '2026-01' },
      reissueRoyaltyPayout: { grantId: 'G-1', periodId: '2026-01', instructionId: 'G-1/2026-01/royalty-1' },
      confirmRoyaltyPayout: {
        requestId: 'req-role-4',
        grantId: 'G-1',
        periodId: '2026-01',
        instructionId: 'G-1/2026-01/royalty-1',
        outcome: 'paid',
        providerReference: 'ref-1',
      },
    };
    let tried = 0;
    for (const [command, allowed] of Object.entries(licensingCommandRoles) as [LicensingCommand, readonly string[]][]) {
      for (const role of roles.filter((candidate) => !allowed.includes(candidate))) {
        const as = testIdentity('TalentOrgMSP', `tara-as-${role}`, role, 'tara');
        const refused = await refusal(call(as, command, requestsOf[command], { terms }));
        expect(refused?.code).toBe('FORBIDDEN');
        expect(refused?.message).toContain(`the caller has role ${role}`);
        tried += 1;
      }
    }
    expect(tried).toBeGreaterThan(40);
  });
});
