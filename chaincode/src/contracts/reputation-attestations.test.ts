import { reputationEvents } from '../model/reputation';
import type { AttestationRecord } from '../model/reputation-records';
import {
  agreementId,
  client,
  clientAsFreelancer,
  clientParty,
  compositeKey,
  freelancer,
  freelancerParty,
  missingAgreement,
  otherClient,
  otherFreelancer,
} from '../test-support/agreement-fixtures';
import { degreeClaims, registrarParty, daysAfterNow } from '../test-support/credential-fixtures';
import type { TestIdentity } from '../test-support/in-memory-ledger';
import {
  ReputationDriver,
  attestationKey,
  singleMilestoneDraft,
  tomParty,
  zoe,
} from '../test-support/reputation-fixtures';

const day = 24 * 3600;

describe('ReputationContract: attestations', () => {
  let driver: ReputationDriver;

  /** Tom, who worked for Carol on A-18 while Tara worked for her on A-17, vouches for Tara. */
  const vouch = (overrides: Record<string, unknown> = {}, as = otherFreelancer) =>
    driver.attest(as, {
      subject: freelancerParty,
      agreementId,
      attesterAgreementId: 'A-18',
      skill: 'pytorch',
      level: 4,
      comment: 'Shipped the data pipeline we both depended on',
      ...overrides,
    });

  /** An active agreement of Dave's, another client of the same organisation, with `freelancerIdentity`. */
  const activeForDave = (agreementId: string, freelancerIdentity: TestIdentity) =>
    driver.activeAgreement(
      agreementId,
      freelancerIdentity,
      { client: { mspId: 'ClientOrgMSP', userId: 'dave' } },
      14,
      otherClient,
    );

  beforeEach(async () => {
    driver = new ReputationDriver();
    await driver.agreements.setParameters();
    await driver.activeAgreement(agreementId, freelancer, {}, 30);
    driver.ledger.advanceSeconds(day);
    await driver.activeAgreement('A-18', otherFreelancer);
  });

  it('records the attestation with the attester weight and emits AttestationRecorded', async () => {
    const attestation = await vouch();
    const tx = driver.ledger.transactions.at(-1)!;
    const at = new Date(tx.timestampSeconds * 1000).toISOString();

    expect(attestation).toEqual({
      subject: freelancerParty,
      attester: tomParty,
      agreementId,
      attesterAgreementId: 'A-18',
      client: clientParty,
      skill: 'pytorch',
      level: 4,
      comment: 'Shipped the data pipeline we both depended on',
      attesterActiveCredentials: 0,
      weight: 1,
      recordedAt: at,
      txId: tx.txId,
    } satisfies AttestationRecord);
    const key = attestationKey(freelancerParty, tomParty, agreementId);
    driver.expectSoleWrite(key, attestation);
    expect(driver.ledger.lastEvent!.name).toBe('reputation.AttestationRecorded');
    driver.expectLastEvent(
      reputationEvents.attestationRecorded,
      { mspId: 'TalentOrgMSP', userId: 'tom', role: 'freelancer' },
      { attestation },
    );
  });

  it('weighs by the attester active, unexpired credentials, read only from the attester own index', async () => {
    const credentials = driver.credentials;
    await credentials.registerIssuer(registrarParty, ['Certification', 'Course']);
    for (const id of ['tom-1', 'tom-2', 'tom-3', 'tom-4']) {
      await credentials.issue(
        credentials.issueRequest({
          credentialId: id,
          subject: tomParty,
          expirationDate: daysAfterNow(driver.ledger, id === 'tom-4' ? 2 : 365),
        }),
        degreeClaims,
      );
    }
    await credentials.issue(credentials.issueRequest({ credentialId: 'tara-1' }), degreeClaims);
    await credentials.revoke('tom-2');
    await credentials.suspend('tom-3');
    driver.ledger.advanceSeconds(3 * day);

    const attestation = await vouch();
    expect(attestation).toMatchObject({ attesterActiveCredentials: 1, weight: 1.25 });

    const tx = driver.ledger.transactions.at(-1)!;
    const ownIndex = compositeKey('credentialBySubject', 'TalentOrgMSP', 'tom');
    expect(tx.rangeReads).toEqual([{ start: ownIndex, end: `${ownIndex}\u{10FFFF}` }]);
    expect(tx.reads.filter((key) => key.startsWith(compositeKey('credential')) && !key.includes('tom-'))).toEqual([]);
  });

  it('returns the stored result for a repeated request id, and refuses a second attestation on the agreement', async () => {
    const request = {
      requestId: 'vouch-00000001',
      subject: freelancerParty,
      agreementId,
      attesterAgreementId: 'A-18',
      skill: 'pytorch',
      level: 4,
    };
    const call = () =>
      driver.ledger.invoke(otherFreelancer, (ctx) => driver.contract.attest(ctx, JSON.stringify(request)));
    const first = await call();
    expect(await call()).toEqual(first);
    expect(driver.ledger.transactions.at(-1)!.writes).toEqual([]);
    await driver.expectRefusal(
      () => vouch({ skill: 'jax' }),
      'ALREADY_EXISTS[agreementId]: TalentOrgMSP user tom has already vouched for TalentOrgMSP user tara on agreement A-17',
    );
  });

  it.each([
    ['a client', client, /^FORBIDDEN: only freelancer may attest a skill; the caller has role client$/],
    ['the subject', freelancer, /^FORBIDDEN: a freelancer may not vouch for their own skill$/],
    // Zoe has no part in A-18, so she is answered as if it did not exist.
    [
      'a freelancer who was not the freelancer of the agreement named as theirs',
      zoe,
      missingAgreement('A-18', 'attesterAgreementId'),
    ],
    [
      'the client with a freelancer certificate',
      clientAsFreelancer,
      /^FORBIDDEN\[attesterAgreementId\]: the attester ClientOrgMSP user carol was not the freelancer of agreement A-18$/,
    ],
  ])('refuses %s attesting, writing nothing', async (_, identity, message) => {
    await driver.expectRefusal(() => vouch({}, identity), message);
  });

  it('answers naming an agreement on which the subject was not the freelancer as if it did not exist', async () => {
    // The attester's own agreement is checked first: naming Tara's A-17 as his, Tom is
    // answered as if it did not exist.
    await driver.expectRefusal(
      () => vouch({ agreementId: 'A-18', attesterAgreementId: agreementId }),
      missingAgreement(agreementId, 'attesterAgreementId'),
    );
    // Zoe's A-22 for Carol, which Tom may not read: the same answer as for no agreement.
    await driver.activeAgreement('A-22', zoe);
    await driver.expectRefusal(() => vouch({ agreementId: 'A-22' }), missingAgreement('A-22'));
    await driver.expectRefusal(() => vouch({ agreementId: 'A-404' }), missingAgreement('A-404'));
    // Carol holds a freelancer certificate too and may read both agreements, so she is told.
    await activeForDave('A-23', clientAsFreelancer);
    await driver.expectRefusal(
      () => vouch({ agreementId: 'A-22', attesterAgreementId: 'A-23' }, clientAsFreelancer),
      /^FORBIDDEN\[agreementId\]: TalentOrgMSP user tara was not the freelancer of agreement A-22$/,
    );
  });

  it('refuses unknown agreements, naming the field', async () => {
    await driver.expectRefusal(
      () => vouch({ agreementId: 'A-404' }),
      'NOT_FOUND[agreementId]: agreement A-404 does not exist',
    );
    await driver.expectRefusal(
      () => vouch({ attesterAgreementId: 'A-404' }),
      'NOT_FOUND[attesterAgreementId]: agreement A-404 does not exist',
    );
  });

  it('answers agreements with different clients as if the subject agreement did not exist, naming nobody', async () => {
    await activeForDave('A-19', otherFreelancer);
    await driver.expectRefusal(
      () => vouch({ attesterAgreementId: 'A-19' }),
      'NOT_FOUND[agreementId]: agreement A-17 does not exist',
    );
  });

  it('answers agreements whose work periods do not overlap as if the subject agreement did not exist', async () => {
    driver.ledger.advanceSeconds(40 * day);
    await driver.activeAgreement('A-20', otherFreelancer);
    await driver.expectRefusal(
      () => vouch({ attesterAgreementId: 'A-20' }),
      'NOT_FOUND[agreementId]: agreement A-17 does not exist',
    );
  });

  it('ends a work period at the agreement cancellation', async () => {
    await driver.agreements.cancel(client, 'Budget cut', agreementId);
    driver.ledger.advanceSeconds(5 * day);
    await driver.activeAgreement('A-21', otherFreelancer);
    await driver.expectRefusal(
      () => vouch({ attesterAgreementId: 'A-21' }),
      'NOT_FOUND[agreementId]: agreement A-17 does not exist',
    );
    // A-18 began while A-17 was still running, so it still counts.
    expect((await vouch()).attesterAgreementId).toBe('A-18');
  });

  it('refuses an agreement that was never accepted', async () => {
    await driver.agreements.draft(singleMilestoneDraft(driver.ledger, 'A-22', tomParty), client);
    await driver.expectRefusal(
      () => vouch({ attesterAgreementId: 'A-22' }),
      'INVALID_STATE[attesterAgreementId]: agreement A-22 is offered and was never accepted, so no work was shared on it',
    );
  });

  it.each([
    [{ attesterAgreementId: agreementId }, 'attesterAgreementId', "must be the attester's own agreement"],
    [{ level: 0 }, 'level', 'must be 1 to 5'],
    [{ level: 6 }, 'level', 'must be 1 to 5'],
    [{ skill: 'PyTorch' }, 'skill', 'lowercase'],
    [{ skill: '' }, 'skill', ''],
    [{ comment: '  ' }, 'comment', 'must not be blank'],
    [{ subject: { mspId: 'TalentOrgMSP' } }, 'subject.userId', ''],
    [{ weight: 2 }, 'request', ''],
  ])('refuses an invalid attestation %j, naming the field', async (overrides, field, message) => {
    const escaped = field.replaceAll('.', '\\.');
    await driver.expectRefusal(
      () => vouch(overrides),
      new RegExp(`^VALIDATION_FAILED\\[${escaped}\\]: ${escaped}: .*${message}`),
    );
  });

  it('lists attestations and counts them in the score with their weight', async () => {
    const attestation = await vouch({ level: 5 });
    const listed = await driver.ledger.invoke(client, (ctx) =>
      driver.contract.listAttestations(ctx, JSON.stringify(freelancerParty)),
    );
    expect(listed).toEqual({ items: [attestation], bookmark: '' });

    const reputation = await driver.reputationOf(freelancerParty);
    // L = (3·3 + 1·5) / (3 + 1) = 3.5
    expect(reputation.components.attestations).toEqual({
      count: 1,
      weightedLevel: 3.5,
      effectiveWeight: 1,
      skills: [{ skill: 'pytorch', count: 1, weightedLevel: 5 }],
    });
    expect(reputation.basis).toEqual([
      {
        kind: 'attestation',
        objectType: 'attestation',
        attributes: ['TalentOrgMSP', 'tara', 'TalentOrgMSP', 'tom', agreementId],
        txId: attestation.txId,
        recordedAt: attestation.recordedAt,
        countedFrom: attestation.recordedAt,
        recency: 1,
      },
    ]);
    expect(reputation.score).toBe(52.5);
    expect((await driver.reputationOf(tomParty)).score).toBe(50);
  });
});
