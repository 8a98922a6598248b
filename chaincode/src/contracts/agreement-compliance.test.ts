import { agreementEvents } from '../model/agreement-events';
import {
  AgreementDriver,
  arbitratorA,
  arbitratorB,
  auditor,
  client,
  compositeKey,
  freelancer,
  freelancerParty,
  missingAgreement,
  otherClient,
  settlement,
} from '../test-support/agreement-fixtures';
import { CredentialDriver, daysAfterNow, registrarParty } from '../test-support/credential-fixtures';

const kycId = 'urn:uuid:6f0e1a52-0000-4000-8000-00000000c0de';

describe('AgreementContract: payout compliance (KYC)', () => {
  let driver: AgreementDriver;
  let credentials: CredentialDriver;

  /** The payee's index entry of the KYC credential by holder and type, which chaincode before that index did not write. */
  const kycEntryByType = () =>
    compositeKey('credentialBySubjectType', freelancerParty.mspId, freelancerParty.userId, 'KYC', kycId);
  const issueKyc = async (overrides: Record<string, unknown> = {}) => {
    await credentials.issue(credentials.issueRequest({ credentialId: kycId, type: 'KYC', ...overrides }), [
      { name: 'level', value: 'enhanced', salt: 'a'.repeat(64) },
    ]);
  };

  beforeEach(async () => {
    driver = new AgreementDriver();
    credentials = new CredentialDriver(driver.ledger);
    await driver.active();
    await driver.setParameter('kycCredentialTypes', ['KYC']);
    await credentials.registerIssuer(registrarParty, ['Certification', 'KYC']);
    await driver.funded('m1');
    await driver.submit('m1');
    await driver.acceptMilestone('m1');
  });

  it('holds a release to a payee without a KYC credential and sends nothing', async () => {
    const released = await driver.release('m1');
    const payout = released.instructions.at(-1)!;
    expect(released.status).toBe('released');
    expect(payout).toMatchObject({
      kind: 'release',
      status: 'held',
      compliance: { outcome: 'held', requiredTypes: ['KYC'], reason: 'the payee holds no KYC credential' },
    });
    const event = agreementEvents.milestoneReleased.payload.parse(driver.ledger.lastEvent!.payload);
    expect(event.settlementRequests).toEqual([]);
    expect(event.heldPayouts).toEqual([payout]);
    await driver.expectRefusal(
      () => driver.confirm('m1', payout.instructionId),
      'INVALID_STATE[instructionId]: settlement instruction A-17/m1/release-1 is already held',
    );
  });

  it('clears the release at once when the payee holds a valid KYC credential, naming it', async () => {
    await issueKyc();
    const released = await driver.release('m1');
    expect(released.instructions.at(-1)).toMatchObject({
      status: 'pending',
      compliance: {
        outcome: 'cleared',
        credentialId: kycId,
        credentialType: 'KYC',
        credentialIssuer: registrarParty,
      },
    });
    const event = agreementEvents.milestoneReleased.payload.parse(driver.ledger.lastEvent!.payload);
    expect(event.settlementRequests.map((request) => request.instructionId)).toEqual(['A-17/m1/release-1']);
    expect((await driver.confirm('m1', 'A-17/m1/release-1')).status).toBe('paid');
  });

  it('continues a held payout once a credential exists, emitting it as a settlement request', async () => {
    await driver.release('m1');
    await driver.expectRefusal(
      () =>
        driver.call(freelancer, (c, ctx) =>
          c.retryHeldPayout(
            ctx,
            JSON.stringify({ agreementId: 'A-17', milestoneId: 'm1', instructionId: 'A-17/m1/release-1' }),
          ),
        ),
      'COMPLIANCE_HOLD[instructionId]: payout A-17/m1/release-1 stays held: the payee holds no KYC credential',
    );
    await issueKyc();
    const retried = await driver.call(settlement, (c, ctx) =>
      c.retryHeldPayout(
        ctx,
        JSON.stringify({ agreementId: 'A-17', milestoneId: 'm1', instructionId: 'A-17/m1/release-1' }),
      ),
    );
    const payout = retried.instructions.at(-1)!;
    expect(payout).toMatchObject({ status: 'pending', compliance: { outcome: 'cleared', credentialId: kycId } });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.PayoutCleared',
      payload: { settlementRequests: [payout], instruction: payout },
    });
    expect((await driver.confirm('m1', payout.instructionId)).status).toBe('paid');
  });

  it.each([
    ['expired', async () => issueKyc({ expirationDate: daysAfterNow(driver.ledger, 1) }), 2, 'expired'],
    ['suspended', async () => issueKyc().then(() => credentials.suspend(kycId)), 0, 'suspended'],
    ['revoked', async () => issueKyc().then(() => credentials.revoke(kycId)), 0, 'revoked'],
  ])('holds the payout when the only KYC credential is %s', async (_label, prepare, laterDays, reason) => {
    await prepare();
    driver.ledger.advanceSeconds(laterDays * 24 * 3600);
    const released = await driver.release('m1');
    expect(released.instructions.at(-1)).toMatchObject({
      status: 'held',
      compliance: { outcome: 'held', reason: `no KYC credential of the payee is valid (${kycId}: ${reason})` },
    });
  });

  it("reads only the payee's credentials of the listed types, so issuing the payee another type cannot invalidate the release", async () => {
    await issueKyc();
    await driver.release('m1');
    const release = driver.ledger.transactions.at(-1)!;
    const kycEntries = compositeKey('credentialBySubjectType', freelancerParty.mspId, freelancerParty.userId, 'KYC');
    expect(release.rangeReads).toEqual([{ start: kycEntries, end: `${kycEntries}\u{10FFFF}` }]);

    // Issued to the payee while the release is in flight: Fabric re-runs the release's range reads at validation.
    await credentials.issue(
      credentials.issueRequest({
        credentialId: 'urn:uuid:6f0e1a52-0000-4000-8000-0000000000c1',
        type: 'Certification',
      }),
    );
    const issuance = driver.ledger.transactions.at(-1)!;
    const phantoms = issuance.writes.filter((key) =>
      release.rangeReads.some((range) => key >= range.start && key < range.end),
    );
    expect(phantoms).toEqual([]);
    expect(issuance.writes.filter((key) => release.reads.includes(key))).toEqual([]);
  });

  it('clears a payee whose KYC credential predates the subject-and-type index, as on a ledger upgraded from an older chaincode', async () => {
    await issueKyc();
    // An older chaincode wrote the credential and its holder and issuer entries, but no entry by holder and type.
    const typedEntry = kycEntryByType();
    expect(driver.ledger.read(typedEntry)).toEqual({ credentialId: kycId });
    await driver.call(client, (_contract, ctx) => ctx.stub.deleteState(typedEntry));
    expect(driver.ledger.read(typedEntry)).toBeUndefined();

    const released = await driver.release('m1');
    expect(released.instructions.at(-1)).toMatchObject({
      status: 'pending',
      compliance: { outcome: 'cleared', credentialId: kycId, credentialType: 'KYC' },
    });
    // The typed range found nothing valid, so the payee's whole index was read as well.
    const holderEntries = compositeKey('credentialBySubject', freelancerParty.mspId, freelancerParty.userId);
    expect(driver.ledger.transactions.at(-1)!.rangeReads.map((range) => range.start)).toEqual([
      compositeKey('credentialBySubjectType', freelancerParty.mspId, freelancerParty.userId, 'KYC'),
      holderEntries,
    ]);
  });

  it('names an older KYC credential that is no longer valid when it holds the payout', async () => {
    await issueKyc();
    await credentials.revoke(kycId);
    const typedEntry = kycEntryByType();
    await driver.call(client, (_contract, ctx) => ctx.stub.deleteState(typedEntry));
    const released = await driver.release('m1');
    expect(released.instructions.at(-1)).toMatchObject({
      status: 'held',
      compliance: { outcome: 'held', reason: `no KYC credential of the payee is valid (${kycId}: revoked)` },
    });
  });

  it('does not accept a credential of a type the consortium does not list', async () => {
    await credentials.issue(credentials.issueRequest({ type: 'Certification' }));
    const released = await driver.release('m1');
    expect(released.instructions.at(-1)!.status).toBe('held');
  });

  it('does not accept a KYC credential issued by an issuer not authorised for KYC at the time', async () => {
    await credentials.registerIssuer(registrarParty, ['Certification']);
    // Issuance itself is refused, so nothing is written: the payout stays held.
    await expect(issueKyc()).rejects.toThrow(/FORBIDDEN\[type\]/);
    expect((await driver.release('m1')).instructions.at(-1)!.status).toBe('held');
  });

  it('pays without a credential when the consortium lists no KYC type', async () => {
    await driver.setParameter('kycCredentialTypes', []);
    const released = await driver.release('m1');
    expect(released.instructions.at(-1)).toMatchObject({
      status: 'pending',
      compliance: {
        outcome: 'cleared',
        requiredTypes: [],
        reason: 'the consortium requires no KYC credential for payouts',
      },
    });
  });

  it('holds the freelancer share of a dispute but sends the client refund', async () => {
    const disputed = new AgreementDriver();
    const disputedCredentials = new CredentialDriver(disputed.ledger);
    await disputed.active();
    await disputed.setParameter('kycCredentialTypes', ['KYC']);
    await disputedCredentials.registerIssuer(registrarParty, ['KYC']);
    await disputed.funded('m1');
    await disputed.submit('m1');
    await disputed.dispute('m1');
    await disputed.vote('m1', arbitratorA, '50001', '100000');
    const decided = await disputed.vote('m1', arbitratorB, '50001', '100000');
    const [refund, payout] = decided.instructions.slice(-2);
    expect(refund).toMatchObject({ kind: 'refund', status: 'pending' });
    expect(refund!.compliance).toBeUndefined();
    expect(payout).toMatchObject({ kind: 'release', status: 'held' });
    const event = agreementEvents.disputeDecided.payload.parse(disputed.ledger.lastEvent!.payload);
    expect(event.settlementRequests).toEqual([refund]);
    expect(event.heldPayouts).toEqual([payout]);
    expect((await disputed.confirm('m1', refund!.instructionId)).status).toBe('resolved');
  });

  it('refuses a retry by outsiders, of unknown or non-held instructions, and leaves the ledger unchanged', async () => {
    await issueKyc();
    await driver.release('m1');
    const retry = (as: typeof client, instructionId: string) => () =>
      driver.call(as, (c, ctx) =>
        c.retryHeldPayout(ctx, JSON.stringify({ agreementId: 'A-17', milestoneId: 'm1', instructionId })),
      );
    await driver.expectRefusal(retry(otherClient, 'A-17/m1/release-1'), missingAgreement());
    await driver.expectRefusal(retry(auditor, 'A-17/m1/release-1'), missingAgreement());
    await driver.expectRefusal(
      retry(client, 'A-17/m1/release-9'),
      'NOT_FOUND[instructionId]: milestone m1 of agreement A-17 has no settlement instruction A-17/m1/release-9',
    );
    await driver.expectRefusal(
      retry(client, 'A-17/m1/release-1'),
      'INVALID_STATE[instructionId]: settlement instruction A-17/m1/release-1 is pending, not held',
    );
  });
});

describe('AgreementContract: who may speak for the payment provider', () => {
  it('refuses a settlement identity of an organisation the consortium does not list, and changes nothing', async () => {
    const driver = new AgreementDriver();
    await driver.active();
    const funding = await driver.fund('m1');
    const foreignSettler = { ...settlement, mspId: 'TalentOrgMSP', name: 'rogue-psp' };
    await driver.expectRefusal(
      () => driver.confirm('m1', funding.instructions.at(-1)!.instructionId, 'paid', foreignSettler),
      'FORBIDDEN: TalentOrgMSP may not confirm settlement of milestone m1 of agreement A-17: only the settlement identities of AuditOrgMSP (governed parameter settlementOrganisations) may',
    );
    expect((await driver.confirm('m1', funding.instructions.at(-1)!.instructionId)).status).toBe('funded');
  });
});
