import { claimCommitment } from '../model/credential';
import { credentialEvents } from '../model/credential-events';
import type { CredentialRecord } from '../model/credential-records';
import { testIdentity } from '../test-support/in-memory-ledger';
import {
  AgreementDriver,
  admin,
  auditor,
  client,
  compositeKey,
  freelancer,
  freelancerParty,
  noUserId,
  otherFreelancer,
} from '../test-support/agreement-fixtures';
import {
  anonymous,
  certBody,
  certBodyParty,
  claimsKey,
  CredentialDriver,
  credentialId,
  credentialKey,
  daysAfterNow,
  degreeClaims,
  hr,
  missingCredential,
  registrar,
  registrarAsClient,
  registrarParty,
  testSalt,
  unregisteredIssuer,
} from '../test-support/credential-fixtures';

/** An admin of the freelancers' organisation; `admin` is ClientOrg's. */
const talentAdmin = testIdentity('TalentOrgMSP', 'talent-ops', 'admin');

describe('CredentialContract: issuing', () => {
  let driver: CredentialDriver;

  beforeEach(async () => {
    driver = new CredentialDriver();
    await driver.issuers();
  });

  it('records commitments, dates, issuer version and status on the channel, and emits CredentialIssued', async () => {
    const expirationDate = daysAfterNow(driver.ledger, 365);
    const credential = await driver.issue(driver.issueRequest({ expirationDate }));
    const tx = driver.ledger.transactions.at(-1)!;
    const at = new Date(tx.timestampSeconds * 1000).toISOString();
    const registrarRecord = driver.ledger.read(compositeKey('issuer', 'AuditOrgMSP', 'uni-registrar')) as {
      updatedTxId: string;
    };

    expect(credential).toEqual({
      credentialId,
      type: 'Certification',
      issuer: registrarParty,
      issuerVersion: 1,
      issuerVersionTxId: registrarRecord.updatedTxId,
      subject: freelancerParty,
      issuanceDate: at,
      expirationDate,
      claims: degreeClaims.map((claim) => ({ name: claim.name, commitment: claimCommitment(claim) })),
      status: 'active',
      statusHistory: [],
      issuedAt: at,
      issuedTxId: tx.txId,
      updatedAt: at,
      updatedTxId: tx.txId,
    } satisfies CredentialRecord);
    expect(driver.ledger.read(credentialKey())).toEqual(credential);
    expect(driver.ledger.read(compositeKey('credentialBySubject', 'TalentOrgMSP', 'tara', credentialId))).toEqual({
      credentialId,
    });
    expect(
      driver.ledger.read(
        compositeKey('credentialByIssuer', 'AuditOrgMSP', 'uni-registrar', 'Certification', credentialId),
      ),
    ).toEqual({ credentialId });
    expect(driver.ledger.lastEvent!.name).toBe('credential.CredentialIssued');
    expect(credentialEvents.credentialIssued.payload.parse(driver.ledger.lastEvent!.payload)).toEqual({
      at,
      txId: tx.txId,
      actor: { mspId: 'AuditOrgMSP', userId: 'uni-registrar', role: 'issuer' },
      credentialId,
      credential,
    });
  });

  it('keeps claim values and salts only in the credentialSecrets collection, never on the channel', async () => {
    const credential = await driver.issue();

    expect(driver.ledger.readPrivate('credentialSecrets', claimsKey())).toEqual({
      credentialId,
      subject: freelancerParty,
      claims: degreeClaims,
    });
    const channel = JSON.stringify([
      driver.ledger.keys().map((key) => driver.ledger.read(key)),
      driver.ledger.transactions.map((tx) => tx.event),
      credential,
    ]);
    for (const claim of degreeClaims) {
      expect(channel).toContain(claimCommitment(claim));
      expect(channel).not.toContain(claim.value);
      expect(channel).not.toContain(claim.salt);
    }
  });

  it('takes the issuance date given when it is not in the future', async () => {
    const issuanceDate = daysAfterNow(driver.ledger, -400);
    const credential = await driver.issue(driver.issueRequest({ issuanceDate, expirationDate: undefined }));

    expect(credential.issuanceDate).toBe(issuanceDate);
    expect(credential.expirationDate).toBeUndefined();
  });

  it('returns the stored result when a request id is repeated, and refuses the same id with other salts', async () => {
    const request = driver.issueRequest();
    const first = await driver.issue(request);
    driver.ledger.advanceSeconds(60);

    expect(await driver.issue(request)).toEqual(first);
    expect(driver.ledger.transactions.at(-1)!.writes).toEqual([]);
    await driver.expectRefusal(
      () => driver.issue(request, [{ ...degreeClaims[0]!, salt: testSalt('other') }, ...degreeClaims.slice(1)]),
      /^REQUEST_ID_REUSED\[requestId\]: /,
    );
  });

  it('refuses a credential id that is taken', async () => {
    await driver.issue();
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest(), degreeClaims, certBody),
      `ALREADY_EXISTS[credentialId]: the credential id ${credentialId} is already taken; choose another id`,
    );
  });

  it.each([
    ['a client', client, 'FORBIDDEN: only issuer may issue credential .*; the caller has role client'],
    ['a freelancer', freelancer, 'FORBIDDEN: only issuer may issue credential .*; the caller has role freelancer'],
    ['an admin', admin, 'FORBIDDEN: only issuer may issue credential .*; the caller has role admin'],
    [
      'an identity without role',
      anonymous,
      'IDENTITY_INCOMPLETE: issue credential .* needs a certificate with a userId',
    ],
    [
      'the registrar with a client certificate',
      registrarAsClient,
      'FORBIDDEN: only issuer may issue credential .*; the caller has role client',
    ],
    [
      'an issuer without a record',
      unregisteredIssuer,
      'FORBIDDEN: AuditOrgMSP user rogue-issuer has no issuer record, so it may not issue credentials',
    ],
  ])('refuses %s issuing, writing nothing', async (_, identity, message) => {
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest(), degreeClaims, identity),
      new RegExp(`^${message}`),
    );
  });

  it('refuses a type outside the issuer grant, naming the field', async () => {
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest({ type: 'Course' }), degreeClaims, certBody),
      'FORBIDDEN[type]: issuer ClientOrgMSP user cert-body may issue Certification credentials, not Course',
    );
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest({ type: 'KYC' })),
      'FORBIDDEN[type]: issuer AuditOrgMSP user uni-registrar may issue Certification, Course credentials, not KYC',
    );
  });

  it('refuses an issuer whose record was removed, and follows a narrowed grant at once', async () => {
    await driver.removeIssuer(certBodyParty);
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest(), degreeClaims, certBody),
      /^FORBIDDEN: the issuer record of ClientOrgMSP user cert-body was removed at .*, so it may not issue credentials$/,
    );
    await driver.registerIssuer(registrarParty, ['Course']);
    await driver.expectRefusal(() => driver.issue(driver.issueRequest()), /^FORBIDDEN\[type\]: /);
    await driver.issue(driver.issueRequest({ type: 'Course' }));
  });

  it('refuses an issuer issuing to themselves', async () => {
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest({ subject: registrarParty })),
      'FORBIDDEN: an issuer may not issue a credential to themselves (AuditOrgMSP user uni-registrar)',
    );
  });

  it.each([
    ['no claims', [], 'claims', 'must have at least one claim'],
    ['a short salt', [{ name: 'a', value: 'b', salt: 'abc' }], 'claims.0.salt', 'must be 64 lowercase hex'],
    [
      'an uppercase salt',
      [{ name: 'a', value: 'b', salt: testSalt('a').toUpperCase() }],
      'claims.0.salt',
      'must be 64 lowercase hex',
    ],
    ['an empty value', [{ name: 'a', value: '', salt: testSalt('a') }], 'claims.0.value', 'must not be empty'],
    ['a bad claim name', [{ name: '1st', value: 'b', salt: testSalt('a') }], 'claims.0.name', 'starting with a letter'],
    [
      'a repeated claim name',
      [degreeClaims[0], { ...degreeClaims[1], name: 'degree' }],
      'claims.1.name',
      'repeats claim name degree',
    ],
    [
      'a repeated salt',
      [degreeClaims[0], { ...degreeClaims[1], salt: degreeClaims[0]!.salt }],
      'claims.1.salt',
      'repeats the salt',
    ],
    ['an extra claim field', [{ ...degreeClaims[0], hint: 'x' }], 'claims.0', ''],
  ])('refuses %s in the transient map, naming the field', async (_, claims, field, message) => {
    const escaped = field.replaceAll('.', '\\.');
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest(), claims),
      new RegExp(`^VALIDATION_FAILED\\[${escaped}\\]: ${escaped}: .*${message}`),
    );
  });

  it('refuses an issuance without claims in the transient map', async () => {
    await driver.expectRefusal(
      () => driver.call(registrar, (c, ctx) => c.issueCredential(ctx, JSON.stringify(driver.issueRequest()))),
      'VALIDATION_FAILED[claims]: claims: must be given in the transient map under "claims"',
    );
  });

  it.each([
    [{ credentialId: 'has space' }, 'credentialId', 'must be 1 to 128'],
    [{ type: 'Diploma' }, 'type', ''],
    [{ subject: { mspId: 'TalentOrgMSP' } }, 'subject.userId', ''],
    [{ issuanceDate: 'yesterday' }, 'issuanceDate', ''],
    [
      { issuanceDate: '2026-01-03T00:00:00.000Z', expirationDate: '2026-01-02T00:00:00.000Z' },
      'expirationDate',
      'must be after issuanceDate',
    ],
    [{ requestId: undefined }, 'requestId', ''],
  ])('refuses an invalid issue request %j, naming the field', async (overrides, field, message) => {
    const escaped = field.replaceAll('.', '\\.');
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest(overrides)),
      new RegExp(`^VALIDATION_FAILED\\[${escaped}\\]: ${escaped}: .*${message}`),
    );
  });

  it('refuses an issuance date after, or an expiration date before, the transaction time', async () => {
    await driver.expectRefusal(
      () => driver.issue(driver.issueRequest({ issuanceDate: daysAfterNow(driver.ledger, 1) })),
      /^VALIDATION_FAILED\[issuanceDate\]: issuanceDate: must not be after the transaction time /,
    );
    await driver.expectRefusal(
      () =>
        driver.issue(
          driver.issueRequest({
            issuanceDate: daysAfterNow(driver.ledger, -30),
            expirationDate: daysAfterNow(driver.ledger, -1),
          }),
        ),
      /^VALIDATION_FAILED\[expirationDate\]: expirationDate: must be after the transaction time /,
    );
  });

  it('refuses an argument that is not JSON', async () => {
    await driver.expectRefusal(
      () => driver.call(registrar, (c, ctx) => c.issueCredential(ctx, '{'), { claims: degreeClaims }),
      'VALIDATION_FAILED[request]: the transaction argument is not valid JSON',
    );
  });
});

describe('CredentialContract: claims for the subject', () => {
  let driver: CredentialDriver;

  beforeEach(async () => {
    driver = new CredentialDriver();
    await driver.issuers();
    await driver.issue();
  });

  const secrets = (as: Parameters<CredentialDriver['call']>[0], id = credentialId) =>
    driver.call(as, (c, ctx) => c.getCredentialSecrets(ctx, JSON.stringify({ credentialId: id })));

  it('returns the claims and salts to the subject', async () => {
    expect(await secrets(freelancer)).toEqual({ credentialId, claims: degreeClaims });
  });

  it.each([
    ['the issuer', registrar],
    ['hr', hr],
    ["an admin of the subject's organisation", talentAdmin],
  ])('refuses %s, who may read the record but not the claims', async (_, identity) => {
    await expect(secrets(identity)).rejects.toThrow(
      new RegExp(`^FORBIDDEN: only the subject of credential ${credentialId} may read its claims; the caller is `),
    );
  });

  it.each([
    ['another freelancer', otherFreelancer],
    ['an identity without userId', noUserId],
    ["an admin of neither the subject's nor the issuer's organisation", admin],
  ])('answers %s, who may not read the credential, as if it did not exist', async (_, identity) => {
    await expect(secrets(identity)).rejects.toThrow(missingCredential());
  });

  it('reports an unknown credential', async () => {
    await expect(secrets(freelancer, 'nope')).rejects.toThrow(
      'NOT_FOUND[credentialId]: credential nope does not exist',
    );
  });
});

describe('CredentialContract: suspension and revocation', () => {
  let driver: CredentialDriver;

  beforeEach(async () => {
    driver = new CredentialDriver();
    await driver.issuers();
    await driver.issue();
  });

  it('suspends and reinstates with reasons, keeping the history and emitting typed events', async () => {
    const suspended = await driver.suspend(credentialId, registrar, 'Plagiarism report received');
    const suspendTx = driver.ledger.transactions.at(-1)!;
    expect(suspended.status).toBe('suspended');
    expect(driver.ledger.lastEvent!.name).toBe('credential.CredentialSuspended');
    expect(credentialEvents.credentialSuspended.payload.parse(driver.ledger.lastEvent!.payload)).toMatchObject({
      credentialId,
      credential: suspended,
      previousStatus: 'active',
      reason: 'Plagiarism report received',
      txId: suspendTx.txId,
    });

    const reinstated = await driver.reinstate(credentialId, registrar, 'Report unfounded');
    expect(reinstated.status).toBe('active');
    expect(reinstated.statusHistory.map((change) => [change.from, change.to, change.reason])).toEqual([
      ['active', 'suspended', 'Plagiarism report received'],
      ['suspended', 'active', 'Report unfounded'],
    ]);
    expect(credentialEvents.credentialReinstated.payload.parse(driver.ledger.lastEvent!.payload)).toMatchObject({
      previousStatus: 'suspended',
      reason: 'Report unfounded',
    });
    expect(driver.ledger.read(credentialKey())).toEqual(reinstated);
  });

  it('revokes for good: a revoked credential never changes again', async () => {
    await driver.suspend();
    const revoked = await driver.revoke(credentialId, registrar, 'Degree rescinded by the exam board');
    expect(revoked.status).toBe('revoked');
    expect(credentialEvents.credentialRevoked.payload.parse(driver.ledger.lastEvent!.payload)).toMatchObject({
      previousStatus: 'suspended',
      reason: 'Degree rescinded by the exam board',
    });

    await driver.expectRefusal(
      () => driver.reinstate(),
      `INVALID_STATE[credentialId]: credential ${credentialId} is revoked, not suspended, so it cannot be reinstated`,
    );
    await driver.expectRefusal(
      () => driver.suspend(),
      `INVALID_STATE[credentialId]: credential ${credentialId} is revoked, not active, so it cannot be suspended`,
    );
    await driver.expectRefusal(
      () => driver.revoke(),
      `INVALID_STATE[credentialId]: credential ${credentialId} is revoked, not active or suspended, so it cannot be revoked`,
    );
  });

  it('refuses reinstating a credential that is not suspended', async () => {
    await driver.expectRefusal(
      () => driver.reinstate(),
      `INVALID_STATE[credentialId]: credential ${credentialId} is active, not suspended, so it cannot be reinstated`,
    );
  });

  it.each([
    // Issuers of other credentials may not read this one: answered as if it did not exist.
    ['another active issuer', certBody, missingCredential()],
    ['the subject', freelancer, /^FORBIDDEN: only issuer may \w+ credential .*; the caller has role freelancer$/],
    ['an admin', admin, /^FORBIDDEN: only issuer may \w+ credential .*; the caller has role admin$/],
    ['the issuer with a client certificate', registrarAsClient, /^FORBIDDEN: only issuer may /],
    ['an issuer without a record', unregisteredIssuer, missingCredential()],
    ['an identity without userId', noUserId, /^IDENTITY_INCOMPLETE: /],
  ])('refuses %s changing the status, writing nothing', async (_, identity, message) => {
    await driver.expectRefusal(() => driver.suspend(credentialId, identity), message);
    await driver.expectRefusal(() => driver.revoke(credentialId, identity), message);
    await driver.suspend();
    await driver.expectRefusal(() => driver.reinstate(credentialId, identity), message);
  });

  it('lets a removed issuer still suspend and revoke what it issued, but not reinstate', async () => {
    await driver.removeIssuer(registrarParty);
    await driver.suspend();
    await driver.expectRefusal(
      () => driver.reinstate(),
      `FORBIDDEN: the issuer record of AuditOrgMSP user uni-registrar is no longer active, so it may not reinstate credential ${credentialId}`,
    );
    expect((await driver.revoke()).status).toBe('revoked');
  });

  it('refuses an unknown credential and a blank reason', async () => {
    await driver.expectRefusal(
      () => driver.revoke('unknown-1'),
      'NOT_FOUND[credentialId]: credential unknown-1 does not exist',
    );
    await driver.expectRefusal(() => driver.revoke(credentialId, registrar, '  '), /^VALIDATION_FAILED\[reason\]: /);
  });
});

describe('CredentialContract: queries for HR systems', () => {
  let driver: CredentialDriver;

  beforeEach(async () => {
    driver = new CredentialDriver();
    await driver.issuers();
    await driver.issue(driver.issueRequest({ credentialId: 'cred-1', type: 'Course' }));
    await driver.issue(driver.issueRequest({ credentialId: 'cred-2' }));
    await driver.issue(driver.issueRequest({ credentialId: 'cred-3' }), degreeClaims, certBody);
    await driver.issue(
      driver.issueRequest({ credentialId: 'cred-4', subject: { mspId: 'TalentOrgMSP', userId: 'tom' } }),
      degreeClaims,
      certBody,
    );
    await driver.revoke('cred-2');
    // Auditors read under a grant from the holder's organisation.
    await new AgreementDriver(driver.ledger).grantAudit(['credential'], talentAdmin);
  });

  const ids = (page: { items: CredentialRecord[] }) => page.items.map((record) => record.credentialId);

  it('lists a holder credentials, by type and status, for the holder and overseers', async () => {
    const bySubject = (as: Parameters<CredentialDriver['call']>[0], request: Record<string, unknown>) =>
      driver.call(as, (c, ctx) => c.listCredentialsBySubject(ctx, JSON.stringify({ ...freelancerParty, ...request })));

    expect(ids(await bySubject(freelancer, {}))).toEqual(['cred-1', 'cred-2', 'cred-3']);
    expect(ids(await bySubject(hr, { type: 'Certification' }))).toEqual(['cred-2', 'cred-3']);
    expect(ids(await bySubject(auditor, { status: 'active' }))).toEqual(['cred-1', 'cred-3']);
    // An admin's list keeps the credentials whose subject or issuer is of its organisation:
    // ClientOrg's admin sees the one its organisation's issuer issued.
    expect(ids(await bySubject(talentAdmin, {}))).toEqual(['cred-1', 'cred-2', 'cred-3']);
    expect(ids(await bySubject(admin, {}))).toEqual(['cred-3']);
    await expect(bySubject(otherFreelancer, {})).rejects.toThrow(
      /^FORBIDDEN: only TalentOrgMSP user tara, or hr, auditor, admin, may list the credentials of TalentOrgMSP user tara; /,
    );
    await expect(bySubject(client, {})).rejects.toThrow(/^FORBIDDEN: /);
  });

  it('lists the credentials of a type an issuer issued, for the issuer and overseers', async () => {
    const byIssuer = (as: Parameters<CredentialDriver['call']>[0], request: Record<string, unknown>) =>
      driver.call(as, (c, ctx) => c.listCredentialsByIssuer(ctx, JSON.stringify(request)));

    expect(ids(await byIssuer(hr, { ...registrarParty, type: 'Certification' }))).toEqual(['cred-2']);
    // Key order: by type, then credential id.
    expect(ids(await byIssuer(registrar, registrarParty))).toEqual(['cred-2', 'cred-1']);
    expect(ids(await byIssuer(admin, { ...certBodyParty, type: 'Certification' }))).toEqual(['cred-3', 'cred-4']);
    expect(ids(await byIssuer(admin, registrarParty))).toEqual([]);
    expect(ids(await byIssuer(talentAdmin, registrarParty))).toEqual(['cred-2', 'cred-1']);
    expect(ids(await byIssuer(hr, { ...registrarParty, status: 'revoked' }))).toEqual(['cred-2']);
    await expect(byIssuer(certBody, registrarParty)).rejects.toThrow(/^FORBIDDEN: /);
  });

  it('pages both lists by bookmark, a filtered page filled past what it leaves out, and refuses a bookmark of another list', async () => {
    const bySubject = (request: Record<string, unknown>) =>
      driver.call(freelancer, (c, ctx) =>
        c.listCredentialsBySubject(ctx, JSON.stringify({ ...freelancerParty, ...request })),
      );
    const first = await bySubject({ pageSize: 2 });
    expect(ids(first)).toEqual(['cred-1', 'cred-2']);
    const second = await bySubject({ pageSize: 2, bookmark: first.bookmark });
    expect(ids(second)).toEqual(['cred-3']);
    expect(second.bookmark).toBe('');
    // cred-2 is revoked: a page of active ones reads on past it and is full.
    const active = await bySubject({ pageSize: 2, status: 'active' });
    expect(ids(active)).toEqual(['cred-1', 'cred-3']);
    expect(active.bookmark).toBe('');
    const activeFirst = await bySubject({ pageSize: 1, status: 'active' });
    expect(ids(activeFirst)).toEqual(['cred-1']);
    expect(ids(await bySubject({ pageSize: 1, status: 'active', bookmark: activeFirst.bookmark }))).toEqual(['cred-3']);

    const byIssuer = (request: Record<string, unknown>) =>
      driver.call(hr, (c, ctx) => c.listCredentialsByIssuer(ctx, JSON.stringify({ ...registrarParty, ...request })));
    const issuerFirst = await byIssuer({ pageSize: 1 });
    expect(ids(issuerFirst)).toEqual(['cred-2']);
    expect(ids(await byIssuer({ pageSize: 1, bookmark: issuerFirst.bookmark }))).toEqual(['cred-1']);
    await expect(byIssuer({ bookmark: first.bookmark })).rejects.toThrow(/^VALIDATION_FAILED\[bookmark\]/);
    await expect(bySubject({ bookmark: issuerFirst.bookmark })).rejects.toThrow(/^VALIDATION_FAILED\[bookmark\]/);
  });

  it('returns one credential record to its subject, its issuer and overseers only', async () => {
    const get = (as: Parameters<CredentialDriver['call']>[0]) =>
      driver.call(as, (c, ctx) => c.getCredential(ctx, JSON.stringify({ credentialId: 'cred-3' })));

    expect((await get(freelancer)).issuer).toEqual(certBodyParty);
    expect((await get(certBody)).credentialId).toBe('cred-3');
    expect((await get(hr)).status).toBe('active');
    // cred-3: ClientOrg's issuer to TalentOrg's freelancer, so both organisations' admins.
    expect((await get(admin)).credentialId).toBe('cred-3');
    expect((await get(talentAdmin)).credentialId).toBe('cred-3');
    await expect(get(registrar)).rejects.toThrow(missingCredential('cred-3'));
    await expect(get(otherFreelancer)).rejects.toThrow(missingCredential('cred-3'));
    const auditOrgAdmin = testIdentity('AuditOrgMSP', 'audit-ops', 'admin');
    await expect(get(auditOrgAdmin)).rejects.toThrow(missingCredential('cred-3'));
  });
});

describe('CredentialContract: an auditor without a grant', () => {
  it('is refused a credential exactly as one that does not exist, and reads it once its holder grants it', async () => {
    const driver = new CredentialDriver();
    await driver.issuers();
    await driver.issue(driver.issueRequest({ credentialId: 'cred-1', type: 'Course' }));
    const get = (credentialId: string) =>
      driver.call(auditor, (c, ctx) => c.getCredential(ctx, JSON.stringify({ credentialId })));
    const refusalOf = (read: Promise<unknown>) =>
      read.then(
        () => undefined,
        (error: unknown) => (error as Error).message,
      );

    const existing = await refusalOf(get('cred-1'));
    expect(existing).toMatch(missingCredential('cred-1'));
    expect(existing).toBe((await refusalOf(get('cred-none')))?.replace('cred-none', 'cred-1'));
    await new AgreementDriver(driver.ledger).grantAudit(['credential'], talentAdmin);
    expect((await get('cred-1')).credentialId).toBe('cred-1');
  });
});
