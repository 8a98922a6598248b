import { claimCommitment, presentationVerdictSchema, type PresentationVerdict } from '../model/credential';
import type { CredentialRecord } from '../model/credential-records';
import { encodeRecord } from '../ledger/state';
import { freelancerParty, noUserId } from '../test-support/agreement-fixtures';
import {
  CredentialDriver,
  anonymous,
  certBodyParty,
  credentialId,
  credentialKey,
  daysAfterNow,
  degreeClaims,
  issuerVersionKey,
  registrarParty,
  testSalt,
} from '../test-support/credential-fixtures';

const [degree, grade, thesis] = degreeClaims as [
  (typeof degreeClaims)[number],
  (typeof degreeClaims)[number],
  (typeof degreeClaims)[number],
];

const codes = (verdict: PresentationVerdict) => verdict.reasons.map((reason) => reason.code);

describe('CredentialContract: verifying presentations', () => {
  let driver: CredentialDriver;
  let credential: CredentialRecord;

  beforeEach(async () => {
    driver = new CredentialDriver();
    await driver.issuers();
    credential = await driver.issue(driver.issueRequest({ expirationDate: daysAfterNow(driver.ledger, 30) }));
  });

  const present = (revealedClaims: unknown[], extra: Record<string, unknown> = {}) =>
    driver.verify({ credentialId, revealedClaims, ...extra });

  it('accepts a subset of claims and reveals nothing of the hidden ones but their names', async () => {
    const verdict = await present([degree], { expectedSubject: freelancerParty });

    expect(presentationVerdictSchema.parse(verdict)).toEqual(verdict);
    expect(verdict).toEqual({
      credentialId,
      valid: true,
      checkedAt: new Date(driver.ledger.nowSeconds * 1000).toISOString(),
      reasons: [],
      credential: {
        credentialId,
        type: 'Certification',
        issuer: registrarParty,
        issuerDisplayName: 'Issuer uni-registrar',
        issuerVersion: 1,
        issuerVersionTxId: credential.issuerVersionTxId,
        subject: freelancerParty,
        issuanceDate: credential.issuanceDate,
        expirationDate: credential.expirationDate,
        status: 'active',
        issuedAt: credential.issuedAt,
        issuedTxId: credential.issuedTxId,
      },
      disclosedClaims: [{ name: 'degree', value: 'MSc Machine Learning', verified: true }],
      undisclosedClaims: ['grade', 'thesis'],
    } satisfies PresentationVerdict);
    const text = JSON.stringify(verdict);
    for (const hidden of [grade, thesis]) {
      expect(text).not.toContain(hidden.value);
      expect(text).not.toContain(hidden.salt);
      expect(text).not.toContain(claimCommitment(hidden));
    }
    expect(text).not.toContain(claimCommitment(degree));
  });

  it("says whether a document's claim commitments are the record's, showing none of the record's", async () => {
    const stored = degreeClaims.map((claim) => ({ name: claim.name, commitment: claimCommitment(claim) }));
    const [first, second, third] = stored as [
      (typeof stored)[number],
      (typeof stored)[number],
      (typeof stored)[number],
    ];
    const matched = await present([], { claimCommitments: stored });
    expect([matched.valid, matched.claimCommitmentsMatch]).toEqual([true, true]);
    for (const presented of [
      [first, second],
      [first, third, second],
      [first, second, { ...third, commitment: '0'.repeat(64) }],
      [first, second, { ...third, name: 'thesis2' }],
      [...stored, first],
      [],
    ]) {
      const verdict = await present([], { claimCommitments: presented });
      // Invalid, with a reason of its own, and no commitment shown.
      expect([verdict.valid, verdict.claimCommitmentsMatch]).toEqual([false, false]);
      expect(verdict.reasons.map((reason) => reason.code)).toEqual(['COMMITMENTS_MISMATCH']);
      for (const claim of stored) expect(JSON.stringify(verdict)).not.toContain(claim.commitment);
    }
    expect(await present([])).not.toHaveProperty('claimCommitmentsMatch');
    expect(
      await driver.verify({ credentialId: 'nope', revealedClaims: [], claimCommitments: stored }),
    ).not.toHaveProperty('claimCommitmentsMatch');
  });

  it('accepts every claim, or none to check only status, expiry and issuer', async () => {
    expect((await present([thesis, grade, degree])).valid).toBe(true);
    const bare = await present([]);
    expect(bare.valid).toBe(true);
    // Nothing binds a bare presentation to the holder: who holds it and what it holds stay hidden.
    expect(bare.undisclosedClaims).toEqual([]);
    expect(bare.credential).not.toHaveProperty('subject');
    const named = await present([], { expectedSubject: { mspId: 'TalentOrgMSP', userId: 'tara' } });
    expect(named.credential?.subject).toEqual({ mspId: 'TalentOrgMSP', userId: 'tara' });
    expect(named.undisclosedClaims).toEqual(['degree', 'grade', 'thesis']);
  });

  it('is open to any caller, even one without role or userId, and writes nothing', async () => {
    const keys = driver.ledger.keys();
    expect((await driver.verify({ credentialId, revealedClaims: [grade] }, anonymous)).valid).toBe(true);
    expect((await driver.verify({ credentialId, revealedClaims: [grade] }, noUserId)).valid).toBe(true);
    expect(driver.ledger.transactions.at(-1)!.writes).toEqual([]);
    expect(driver.ledger.transactions.at(-1)!.event).toBeUndefined();
    expect(driver.ledger.keys()).toEqual(keys);
  });

  it('refuses an altered claim value with CLAIM_MISMATCH naming the claim', async () => {
    const verdict = await present([degree, { ...grade, value: 'summa cum laude' }]);

    expect(verdict.valid).toBe(false);
    expect(verdict.reasons).toEqual([
      {
        code: 'CLAIM_MISMATCH',
        claim: 'grade',
        message: `the value and salt disclosed for claim grade do not match its commitment on credential ${credentialId}`,
      },
    ]);
    expect(verdict.disclosedClaims).toEqual([
      { name: 'degree', value: degree.value, verified: true },
      { name: 'grade', value: 'summa cum laude', verified: false },
    ]);
  });

  it('refuses salts swapped between two claims with CLAIM_MISMATCH for each', async () => {
    const verdict = await present([
      { ...degree, salt: grade.salt },
      { ...grade, salt: degree.salt },
    ]);
    expect(verdict.valid).toBe(false);
    expect(verdict.reasons.map((reason) => [reason.code, reason.claim])).toEqual([
      ['CLAIM_MISMATCH', 'degree'],
      ['CLAIM_MISMATCH', 'grade'],
    ]);
  });

  it('refuses a fresh salt for a true value, and a true value and salt moved to another claim name', async () => {
    expect(codes(await present([{ ...degree, salt: testSalt('guess') }]))).toEqual(['CLAIM_MISMATCH']);
    expect(codes(await present([{ ...grade, name: 'thesis' }]))).toEqual(['CLAIM_MISMATCH']);
  });

  it('refuses a claim the credential does not have with UNKNOWN_CLAIM', async () => {
    const verdict = await present([degree, { name: 'gpa', value: '4.0', salt: testSalt('gpa') }]);
    expect(verdict.valid).toBe(false);
    expect(verdict.reasons).toEqual([
      { code: 'UNKNOWN_CLAIM', claim: 'gpa', message: `credential ${credentialId} has no claim gpa` },
    ]);
    expect(verdict.undisclosedClaims).toEqual(['grade', 'thesis']);
  });

  it('refuses a credential of another subject than the verifier expects with SUBJECT_MISMATCH', async () => {
    const verdict = await present([degree], { expectedSubject: { mspId: 'TalentOrgMSP', userId: 'tom' } });
    expect(verdict.reasons).toEqual([
      {
        code: 'SUBJECT_MISMATCH',
        message: `credential ${credentialId} was not issued to TalentOrgMSP user tom`,
      },
    ]);
    expect(codes(await present([degree], { expectedSubject: { mspId: 'ClientOrgMSP', userId: 'tara' } }))).toEqual([
      'SUBJECT_MISMATCH',
    ]);
  });

  it('refuses an expired credential with EXPIRED, judged by the transaction timestamp', async () => {
    driver.ledger.advanceSeconds(30 * 24 * 3600 - 1);
    expect((await present([degree])).valid).toBe(true);
    driver.ledger.advanceSeconds(1);
    const verdict = await present([degree]);
    expect(verdict.reasons).toEqual([
      { code: 'EXPIRED', message: `credential ${credentialId} expired at ${credential.expirationDate!}` },
    ]);
  });

  it('reflects a suspension with SUSPENDED at once, and a reinstatement', async () => {
    await driver.suspend(credentialId, undefined, 'Under investigation');
    const verdict = await present([degree]);
    expect(verdict.valid).toBe(false);
    expect(codes(verdict)).toEqual(['SUSPENDED']);
    expect(verdict.reasons[0]!.message).toBe(`credential ${credentialId} is suspended by its issuer`);
    expect(JSON.stringify(verdict)).not.toContain('Under investigation');
    expect(verdict.credential!.status).toBe('suspended');
    await driver.reinstate();
    expect((await present([degree])).valid).toBe(true);
  });

  it('reflects a revocation with REVOKED at once', async () => {
    await driver.revoke(credentialId, undefined, 'Degree rescinded');
    const verdict = await present([degree]);
    expect(codes(verdict)).toEqual(['REVOKED']);
    expect(verdict.reasons[0]!.message).toBe(`credential ${credentialId} was revoked by its issuer`);
    expect(JSON.stringify(verdict)).not.toContain('Degree rescinded');
  });

  it('lists every reason at once, in a fixed order', async () => {
    await driver.revoke();
    driver.ledger.advanceSeconds(31 * 24 * 3600);
    const verdict = await present(
      [
        { ...degree, value: 'BSc' },
        { name: 'gpa', value: '4.0', salt: testSalt('gpa') },
      ],
      {
        expectedSubject: { mspId: 'TalentOrgMSP', userId: 'tom' },
      },
    );
    expect(codes(verdict)).toEqual(['CLAIM_MISMATCH', 'UNKNOWN_CLAIM', 'SUBJECT_MISMATCH', 'EXPIRED', 'REVOKED']);
  });

  it('reports an unknown credential with NOT_FOUND alone', async () => {
    const verdict = await driver.verify({ credentialId: 'urn:uuid:unknown', revealedClaims: [degree] });
    expect(verdict).toEqual({
      credentialId: 'urn:uuid:unknown',
      valid: false,
      checkedAt: verdict.checkedAt,
      reasons: [{ code: 'NOT_FOUND', message: 'credential urn:uuid:unknown does not exist' }],
      disclosedClaims: [],
      undisclosedClaims: [],
    });
  });

  it('stays valid after the issuer is removed or its grant narrowed: it was authorised at issuance time', async () => {
    await driver.registerIssuer(registrarParty, ['Course']);
    expect((await present([degree])).valid).toBe(true);
    await driver.removeIssuer(registrarParty);
    const verdict = await present([degree]);
    expect(verdict.valid).toBe(true);
    expect(verdict.credential!.issuerVersion).toBe(1);
  });

  describe('records no issue transaction could write', () => {
    // Only issueCredential writes credential records, and it checks the grant, so these
    // records are written straight to state, as a migration or an earlier chaincode
    // version might have: verification must not trust the record's own claim.
    const forge = async (changes: Partial<CredentialRecord>) => {
      await driver.ledger.invoke(anonymous, async (ctx) => {
        await ctx.stub.putState(credentialKey(), encodeRecord({ ...credential, ...changes }));
      });
    };

    it('refuses a type the issuer version did not authorise with ISSUER_NOT_AUTHORISED', async () => {
      await forge({ type: 'KYC' });
      const verdict = await present([degree]);
      expect(verdict.reasons).toEqual([
        {
          code: 'ISSUER_NOT_AUTHORISED',
          message:
            'version 1 of the issuer record of AuditOrgMSP user uni-registrar authorised Certification, Course, not KYC',
        },
      ]);
    });

    it('checks the grant that was in force, not the current one', async () => {
      // The registrar may issue KYC from version 2 on, but the record names version 1.
      await driver.registerIssuer(registrarParty, ['Certification', 'Course', 'KYC']);
      await forge({ type: 'KYC' });
      expect(codes(await present([degree]))).toEqual(['ISSUER_NOT_AUTHORISED']);
    });

    it('refuses a record naming a grant version that is not on the ledger or was written by another transaction', async () => {
      await forge({ issuerVersion: 7 });
      expect(codes(await present([degree]))).toEqual(['ISSUER_NOT_AUTHORISED']);
      await forge({ issuerVersionTxId: 'tx999999' });
      expect((await present([degree])).reasons[0]!.message).toBe(
        'version 1 of the issuer record of AuditOrgMSP user uni-registrar, written by transaction tx999999, is not on the ledger',
      );
    });

    it('refuses a record naming a version that was already replaced when the credential was issued', async () => {
      driver.ledger.advanceSeconds(60);
      await driver.removeIssuer(registrarParty);
      driver.ledger.advanceSeconds(60);
      const issuedAt = new Date(driver.ledger.nowSeconds * 1000).toISOString();
      await forge({ issuedAt });
      const removedAt = (driver.ledger.read(issuerVersionKey(registrarParty, 2)) as { at: string }).at;
      expect((await present([degree])).reasons).toEqual([
        {
          code: 'ISSUER_NOT_AUTHORISED',
          message: `version 1 of the issuer record of AuditOrgMSP user uni-registrar was replaced by version 2 at ${removedAt}, before the credential was issued at ${issuedAt}`,
        },
      ]);
    });

    it('refuses a record issued under a removal version', async () => {
      await driver.removeIssuer(certBodyParty);
      await forge({
        issuer: certBodyParty,
        issuerVersion: 2,
        issuerVersionTxId: driver.ledger.transactions.at(-1)!.txId,
      });
      expect((await present([degree])).reasons).toEqual([
        {
          code: 'ISSUER_NOT_AUTHORISED',
          message:
            'version 2 of the issuer record of ClientOrgMSP user cert-body was a removal, which authorises nothing',
        },
      ]);
    });
  });

  it.each([
    [{ revealedClaims: [degree, degree] }, 'revealedClaims.1.name', 'repeats claim name degree'],
    [{ revealedClaims: [{ ...degree, salt: 'xyz' }] }, 'revealedClaims.0.salt', 'must be 64 lowercase hex'],
    [{ revealedClaims: undefined }, 'revealedClaims', ''],
    [{ credentialId: '' }, 'credentialId', ''],
    [{ expectedSubject: { mspId: 'TalentOrgMSP', userId: 'Tara Example' } }, 'expectedSubject.userId', ''],
  ])('refuses a malformed presentation %j, naming the field', async (overrides, field, message) => {
    const escaped = field.replaceAll('.', '\\.');
    await expect(driver.verify({ credentialId, revealedClaims: [degree], ...overrides })).rejects.toThrow(
      new RegExp(`^VALIDATION_FAILED\\[${escaped}\\]: ${escaped}: .*${message}`),
    );
  });
});
