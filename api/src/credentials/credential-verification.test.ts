import type { CredentialRecord, PresentationVerdict, SaltedClaim } from '@gigledger/chaincode/model';
import { startTestServer } from '../test-support/test-server.js';
import type { DocumentVerdict } from './credential-service.js';
import {
  claimNamed,
  credentialSuite,
  forgeCredential,
  idPath,
  issue,
  ledgerDaysFromNow,
  ledgerState,
} from '../test-support/credential-test-kit.js';
import { maxUnissuedNamed, type VerifiableCredential } from './w3c-credential.js';

interface Presented {
  presentation: { credentialId: string; revealedClaims: SaltedClaim[] };
  undisclosedClaims: string[];
  verifiableCredential: VerifiableCredential;
}

describe('selective disclosure and verification over HTTP', () => {
  const { server, cast } = credentialSuite();

  /** Anyone, without an account. */
  const verify = async (presentation: Record<string, unknown>): Promise<PresentationVerdict> => {
    const response = await server().request('POST', '/v1/credentials/verify', { body: presentation });
    expect(response.status).toBe(200);
    return response.body as PresentationVerdict;
  };
  const codes = (verdict: { reasons: readonly { code: string }[] }) => verdict.reasons.map((reason) => reason.code);

  const present = async (credentialId: string, reveal: string[]): Promise<Presented> => {
    const response = await server().request('POST', `/v1/credentials/${idPath(credentialId)}/presentations`, {
      token: cast().freelancer.token,
      body: { reveal },
    });
    expect(response.status).toBe(200);
    return response.body as Presented;
  };

  it('lets the holder disclose any subset of claims, and a verifier without an account check it', async () => {
    const { credential, claims } = await issue(server(), cast().registrar, cast().freelancer.party, {
      expirationDate: ledgerDaysFromNow(server(), 365),
    });
    const presented = await present(credential.credentialId, ['grade']);
    expect(presented.presentation).toEqual({
      credentialId: credential.credentialId,
      revealedClaims: [claimNamed(claims, 'grade')],
    });
    expect(presented.undisclosedClaims).toEqual(['degree', 'thesis']);

    const verdict = await verify({ ...presented.presentation, expectedSubject: cast().freelancer.party });
    expect(verdict).toMatchObject({
      credentialId: credential.credentialId,
      valid: true,
      reasons: [],
      disclosedClaims: [{ name: 'grade', value: 'distinction', verified: true }],
      undisclosedClaims: ['degree', 'thesis'],
      credential: { type: 'Certification', issuer: cast().registrar.party, issuerDisplayName: 'TU Delft registrar' },
    });
    // Undisclosed claims stay hidden: neither their values nor their commitments come back.
    const text = JSON.stringify(verdict);
    expect(text).not.toContain('MSc Machine Learning');
    for (const claim of credential.claims.filter((candidate) => candidate.name !== 'grade')) {
      expect(text).not.toContain(claim.commitment);
    }

    const nothing = await present(credential.credentialId, []);
    expect((await verify(nothing.presentation)).valid).toBe(true);
  });

  it('lets only the subject build a presentation (403 for other readers, 404 for anyone else) and names an unknown claim with 422', async () => {
    const { credential } = await issue(server(), cast().registrar, cast().freelancer.party);
    const path = `/v1/credentials/${idPath(credential.credentialId)}/presentations`;
    // Its issuer and an HR system may read the credential, so are told why the claims are
    // not theirs; another freelancer may not, and learns nothing of it.
    for (const [auth, status] of [
      [{ token: cast().registrar.token }, 403],
      [{ token: cast().otherFreelancer.token }, 404],
      [{ apiKey: cast().hrKey }, 403],
    ] as const) {
      const response = await server().request('POST', path, { ...auth, body: { reveal: ['degree'] } });
      expect(response.status).toBe(status);
      expect(JSON.stringify(response.body)).not.toContain('MSc');
    }
    expect((await server().request('POST', path, { token: cast().evaluator.token, body: { reveal: [] } })).status).toBe(
      403,
    );
    expect(
      await server().request('POST', path, { token: cast().freelancer.token, body: { reveal: ['degree', 'gpa'] } }),
    ).toMatchObject({ status: 422, body: { field: 'body.reveal.1' } });
    expect(
      await server().request('POST', path, { token: cast().freelancer.token, body: { reveal: ['degree', 'degree'] } }),
    ).toMatchObject({ status: 422, body: { field: 'body.reveal.1' } });
    expect(await server().request('POST', path, { token: cast().freelancer.token, body: {} })).toMatchObject({
      status: 422,
      body: { field: 'body.reveal' },
    });
  });

  describe('refuses a forged presentation, each with its own reason', () => {
    let credential: CredentialRecord;
    let claims: SaltedClaim[];

    beforeAll(async () => {
      ({ credential, claims } = await issue(server(), cast().registrar, cast().freelancer.party, {
        expirationDate: ledgerDaysFromNow(server(), 365),
      }));
    });

    it('an altered claim value: CLAIM_MISMATCH', async () => {
      const degree = claimNamed(claims, 'degree');
      const verdict = await verify({
        credentialId: credential.credentialId,
        revealedClaims: [{ ...degree, value: 'PhD Machine Learning' }],
      });
      expect(verdict.valid).toBe(false);
      expect(verdict.reasons).toEqual([expect.objectContaining({ code: 'CLAIM_MISMATCH', claim: 'degree' })]);
      expect(verdict.disclosedClaims).toEqual([{ name: 'degree', value: 'PhD Machine Learning', verified: false }]);
    });

    it('a salt swapped in from another claim: CLAIM_MISMATCH', async () => {
      const degree = claimNamed(claims, 'degree');
      const grade = claimNamed(claims, 'grade');
      const verdict = await verify({
        credentialId: credential.credentialId,
        revealedClaims: [{ ...degree, salt: grade.salt }],
      });
      expect(codes(verdict)).toEqual(['CLAIM_MISMATCH']);
    });

    it('a claim the credential does not have: UNKNOWN_CLAIM', async () => {
      const verdict = await verify({
        credentialId: credential.credentialId,
        revealedClaims: [{ ...claimNamed(claims, 'grade'), name: 'gpa' }],
      });
      expect(codes(verdict)).toEqual(['UNKNOWN_CLAIM']);
    });

    it('presented as someone else’s: SUBJECT_MISMATCH', async () => {
      const verdict = await verify({
        credentialId: credential.credentialId,
        revealedClaims: [claimNamed(claims, 'degree')],
        expectedSubject: cast().otherFreelancer.party,
      });
      expect(codes(verdict)).toEqual(['SUBJECT_MISMATCH']);
    });

    it('an unknown credential: NOT_FOUND', async () => {
      const verdict = await verify({
        credentialId: 'urn:uuid:00000000-0000-4000-8000-000000000000',
        revealedClaims: [],
      });
      expect(verdict).toMatchObject({ valid: false, reasons: [{ code: 'NOT_FOUND' }], disclosedClaims: [] });
    });

    it("claim commitments that are not the record's: COMMITMENTS_MISMATCH, so that valid alone says so", async () => {
      const presented = claims.map((claim) => ({ name: claim.name, commitment: '0'.repeat(64) }));
      const verdict = await verify({
        credentialId: credential.credentialId,
        revealedClaims: [claimNamed(claims, 'degree')],
        claimCommitments: presented,
      });
      expect(verdict).toMatchObject({
        valid: false,
        claimCommitmentsMatch: false,
        reasons: [{ code: 'COMMITMENTS_MISMATCH' }],
      });
    });

    it('a type the issuer was not authorised for: ISSUER_NOT_AUTHORISED', async () => {
      // No issue transaction can write this record (the chaincode checks the grant), so it is
      // written straight to state: verification must not trust the record's own claim.
      const forgedId = `${credential.credentialId}-kyc`;
      await forgeCredential(server(), { ...credential, credentialId: forgedId, type: 'KYC' });
      const verdict = await verify({ credentialId: forgedId, revealedClaims: [claimNamed(claims, 'degree')] });
      expect(verdict.reasons).toEqual([
        {
          code: 'ISSUER_NOT_AUTHORISED',
          message: `version 1 of the issuer record of AuditOrgMSP user uni-registrar authorised Certification, Course, not KYC`,
        },
      ]);
    });

    it('a suspended credential: SUSPENDED at once, and valid again at once when reinstated', async () => {
      const presentation = { credentialId: credential.credentialId, revealedClaims: [claimNamed(claims, 'degree')] };
      const path = `/v1/credentials/${idPath(credential.credentialId)}`;
      await server().request('POST', `${path}/suspend`, {
        token: cast().registrar.token,
        body: { reason: 'Thesis under plagiarism review' },
      });
      const suspended = await verify(presentation);
      expect(codes(suspended)).toEqual(['SUSPENDED']);
      // The issuer's own words stay between the issuer and the holder; the code says enough.
      expect(suspended.reasons[0]!.message).toBe(`credential ${credential.credentialId} is suspended by its issuer`);
      expect(JSON.stringify(suspended)).not.toContain('plagiarism');
      await server().request('POST', `${path}/reinstate`, {
        token: cast().registrar.token,
        body: { reason: 'Cleared' },
      });
      expect((await verify(presentation)).valid).toBe(true);
    });

    it('a revoked credential: REVOKED at once', async () => {
      const path = `/v1/credentials/${idPath(credential.credentialId)}/revoke`;
      await server().request('POST', path, { token: cast().registrar.token, body: { reason: 'Degree rescinded' } });
      const verdict = await verify({ credentialId: credential.credentialId, revealedClaims: [] });
      expect(verdict.reasons).toEqual([expect.objectContaining({ code: 'REVOKED' })]);
      expect(verdict.reasons[0]!.message).toBe(`credential ${credential.credentialId} was revoked by its issuer`);
      expect(JSON.stringify(verdict)).not.toContain('Degree rescinded');
    });

    it('an expired credential: EXPIRED, judged by the ledger clock', async () => {
      const short = await issue(server(), cast().certBody, cast().freelancer.party, {
        expirationDate: ledgerDaysFromNow(server(), 1),
      });
      const presentation = {
        credentialId: short.credential.credentialId,
        revealedClaims: [claimNamed(short.claims, 'degree')],
      };
      expect((await verify(presentation)).valid).toBe(true);
      server().ledger.ledger.advanceSeconds(2 * 24 * 3600);
      expect(codes(await verify(presentation))).toEqual(['EXPIRED']);
    });
  });

  it('names the field of a malformed presentation with 422, for callers with or without an account', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { credentialId: 'x1', revealedClaims: [{ name: 'degree', value: 'v', salt: 'xyz' }] },
        'body.revealedClaims.0.salt',
      ],
      [{ credentialId: '', revealedClaims: [] }, 'body.credentialId'],
      [{ credentialId: 'x1' }, 'body.revealedClaims'],
      [
        { credentialId: 'x1', revealedClaims: [], expectedSubject: { mspId: 'TalentOrgMSP' } },
        'body.expectedSubject.userId',
      ],
    ];
    for (const [body, field] of cases) {
      for (const auth of [{}, { token: cast().freelancer.token }]) {
        const response = await server().request('POST', '/v1/credentials/verify', { ...auth, body });
        expect([field, response.status]).toEqual([field, 422]);
        expect(response.body).toMatchObject({ field });
      }
    }
  });

  it('rate-limits anonymous verifiers like every other caller', async () => {
    const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '2' });
    try {
      const body = { credentialId: 'urn:uuid:00000000-0000-4000-8000-000000000000', revealedClaims: [] };
      expect((await limited.request('POST', '/v1/credentials/verify', { body })).status).toBe(200);
      expect((await limited.request('POST', '/v1/credentials/verify', { body })).status).toBe(200);
      expect(await limited.request('POST', '/v1/credentials/verify', { body })).toMatchObject({
        status: 429,
        body: { code: 'RATE_LIMITED' },
      });
    } finally {
      await limited.close();
    }
  });

  describe('W3C Verifiable Credentials 2.0 export', () => {
    it('exports the commitments with the issuing transaction and block, and round-trips through import-verify', async () => {
      const { credential, blockNumber } = await issue(server(), cast().registrar, cast().freelancer.party, {
        type: 'Course',
        expirationDate: ledgerDaysFromNow(server(), 90),
      });
      const exported = await server().request('GET', `/v1/credentials/${idPath(credential.credentialId)}/vc`, {
        token: cast().freelancer.token,
      });
      expect(exported.status).toBe(200);
      const document = exported.body as VerifiableCredential;
      expect(document).toEqual({
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        id: credential.credentialId,
        type: ['VerifiableCredential', 'Course'],
        issuer: { id: 'urn:gigledger:party:AuditOrgMSP:uni-registrar', name: 'TU Delft registrar' },
        validFrom: credential.issuanceDate,
        validUntil: credential.expirationDate,
        credentialSubject: {
          id: `urn:gigledger:party:TalentOrgMSP:${cast().freelancer.party.userId}`,
          claimCommitments: credential.claims,
        },
        credentialStatus: {
          id: `urn:gigledger:credential-record:${credential.credentialId}`,
          type: 'GigLedgerCredentialRecord',
          credentialId: credential.credentialId,
          statusQuery: 'credential:verifyPresentation',
        },
        proof: {
          type: 'GigLedgerTransactionAnchor',
          proofPurpose: 'assertionMethod',
          created: credential.issuedAt,
          verificationMethod: 'urn:gigledger:party:AuditOrgMSP:uni-registrar#issuer-record-v1',
          transactionId: credential.issuedTxId,
          blockNumber,
          issuerVersion: 1,
          issuerVersionTxId: credential.issuerVersionTxId,
          commitmentScheme: 'gigledger/credential-claim/v1',
        },
      });

      const imported = await server().request('POST', '/v1/credentials/vc/verify', { body: document });
      expect(imported.status).toBe(200);
      expect(imported.body).toMatchObject({ credentialId: credential.credentialId, valid: true, reasons: [] });
      // An added context could give GigLedger's terms (under the base context's @vocab) another meaning.
      const extended = await server().request('POST', '/v1/credentials/vc/verify', {
        body: { ...document, '@context': [...document['@context'], 'https://example.org/redefines-claims'] },
      });
      expect(extended.body).toMatchObject({
        valid: false,
        reasons: [{ code: 'DOCUMENT_MISMATCH', field: '@context' }],
      });
      // More claim commitments than a credential holds: refused at the edge, naming the field.
      const overlong = await server().request('POST', '/v1/credentials/vc/verify', {
        body: {
          ...document,
          credentialSubject: {
            ...document.credentialSubject,
            claimCommitments: Array.from({ length: 51 }, (_, index) => ({
              name: `claim${index}`,
              commitment: '0'.repeat(64),
            })),
          },
        },
      });
      expect(overlong).toMatchObject({ status: 422, body: { field: 'body.credentialSubject.claimCommitments' } });

      const presented = await present(credential.credentialId, ['degree', 'thesis']);
      expect(presented.verifiableCredential.credentialSubject.revealedClaims?.map((claim) => claim.name)).toEqual([
        'degree',
        'thesis',
      ]);
      const withClaims = await server().request('POST', '/v1/credentials/vc/verify', {
        body: presented.verifiableCredential,
      });
      expect(withClaims.body).toMatchObject({
        valid: true,
        presentation: {
          disclosedClaims: [
            { name: 'degree', value: 'MSc Machine Learning', verified: true },
            { name: 'thesis', verified: true },
          ],
          undisclosedClaims: ['grade'],
        },
      });
    });

    it('fails a tampered export, naming what was changed', async () => {
      const { credential } = await issue(server(), cast().registrar, cast().freelancer.party, {
        expirationDate: ledgerDaysFromNow(server(), 30),
      });
      const { verifiableCredential: original } = await present(credential.credentialId, ['degree']);
      const tamperings: [string, (document: VerifiableCredential) => VerifiableCredential, string[]][] = [
        [
          'a revealed value',
          (d) => ({
            ...d,
            credentialSubject: {
              ...d.credentialSubject,
              revealedClaims: [{ ...d.credentialSubject.revealedClaims![0]!, value: 'PhD Machine Learning' }],
            },
          }),
          ['CLAIM_MISMATCH'],
        ],
        [
          'the expiry',
          (d) => ({ ...d, validUntil: ledgerDaysFromNow(server(), 3650) }),
          ['DOCUMENT_MISMATCH:validUntil'],
        ],
        ['the type', (d) => ({ ...d, type: ['VerifiableCredential', 'Course'] }), ['DOCUMENT_MISMATCH:type']],
        [
          'the subject',
          (d) => ({
            ...d,
            credentialSubject: {
              ...d.credentialSubject,
              id: `urn:gigledger:party:TalentOrgMSP:${cast().otherFreelancer.party.userId}`,
            },
          }),
          ['SUBJECT_MISMATCH', 'DOCUMENT_MISMATCH:credentialSubject.id'],
        ],
        [
          'a hidden claim’s commitment',
          (d) => ({
            ...d,
            credentialSubject: {
              ...d.credentialSubject,
              claimCommitments: d.credentialSubject.claimCommitments.map((claim) =>
                claim.name === 'grade' ? { ...claim, commitment: '0'.repeat(64) } : claim,
              ),
            },
          }),
          ['DOCUMENT_MISMATCH:credentialSubject.claimCommitments'],
        ],
        ['the block', (d) => ({ ...d, proof: { ...d.proof, blockNumber: '1' } }), ['DOCUMENT_MISMATCH:proof']],
        ['the issuer', (d) => ({ ...d, issuer: { ...d.issuer, name: 'MIT' } }), ['DOCUMENT_MISMATCH:issuer.name']],
        ['the id', (d) => ({ ...d, id: 'urn:uuid:11111111-1111-4111-8111-111111111111' }), ['DOCUMENT_MISMATCH:id']],
        // Properties the ledger never issued: each named, none passed over.
        [
          'a property added to the subject',
          (d) => ({ ...d, credentialSubject: { ...d.credentialSubject, jobTitle: 'Principal ML engineer' } }),
          ['DOCUMENT_MISMATCH:credentialSubject.jobTitle'],
        ],
        [
          'a property added to the issuer',
          (d) => ({ ...d, issuer: { ...d.issuer, description: 'Accredited by everyone' } }),
          ['DOCUMENT_MISMATCH:issuer.description'],
        ],
        [
          'evidence and a name at the top',
          (d) => ({ ...d, evidence: [{ type: 'Evidence', verifier: 'MIT' }], name: 'Best degree' }),
          ['DOCUMENT_MISMATCH:evidence', 'DOCUMENT_MISMATCH:name'],
        ],
        [
          'a value beside a hidden claim’s commitment',
          (d) => ({
            ...d,
            credentialSubject: {
              ...d.credentialSubject,
              claimCommitments: d.credentialSubject.claimCommitments.map((claim) =>
                claim.name === 'grade' ? { ...claim, value: 'summa cum laude' } : claim,
              ),
            },
          }),
          [
            `DOCUMENT_MISMATCH:credentialSubject.claimCommitments.${original.credentialSubject.claimCommitments.findIndex((claim) => claim.name === 'grade')}.value`,
          ],
        ],
        [
          'a member added to the proof and to the status',
          (d) => ({
            ...d,
            proof: { ...d.proof, proofValue: 'z3FXQ' },
            credentialStatus: { ...d.credentialStatus, statusPurpose: 'revocation' },
          }),
          ['DOCUMENT_MISMATCH:credentialStatus.statusPurpose', 'DOCUMENT_MISMATCH:proof.proofValue'],
        ],
      ];
      // Any number of added properties: the first ones named, the rest counted, one reason each.
      const flooded = Object.fromEntries(Array.from({ length: 5000 }, (_, index) => [`extra${index}`, index]));
      const floodedVerdict = (
        await server().request('POST', '/v1/credentials/vc/verify', { body: { ...original, ...flooded } })
      ).body as DocumentVerdict;
      expect(floodedVerdict.valid).toBe(false);
      expect(floodedVerdict.reasons).toHaveLength(maxUnissuedNamed);
      expect(floodedVerdict.reasons.at(-1)).toMatchObject({
        field: `extra${maxUnissuedNamed - 1}`,
        message: `extra${maxUnissuedNamed - 1} and ${5000 - maxUnissuedNamed} more properties are not in the credential the ledger records`,
      });
      for (const [what, tamper, expected] of tamperings) {
        const response = await server().request('POST', '/v1/credentials/vc/verify', { body: tamper(original) });
        expect([what, response.status]).toEqual([what, 200]);
        const verdict = response.body as DocumentVerdict;
        expect([what, verdict.valid]).toEqual([what, false]);
        expect([
          what,
          verdict.reasons.map((reason) =>
            reason.field === undefined ? reason.code : `${reason.code}:${reason.field}`,
          ),
        ]).toEqual([what, expected]);
        // A verdict never echoes what the ledger holds, nor the hidden claim.
        expect(JSON.stringify(verdict)).not.toContain('distinction');
      }
    });

    it('reports a revoked credential through import-verify, and refuses a malformed document with 422', async () => {
      const { credential } = await issue(server(), cast().registrar, cast().freelancer.party);
      const exported = (
        await server().request('GET', `/v1/credentials/${idPath(credential.credentialId)}/vc`, {
          token: cast().freelancer.token,
        })
      ).body as VerifiableCredential;
      await server().request('POST', `/v1/credentials/${idPath(credential.credentialId)}/revoke`, {
        token: cast().registrar.token,
        body: { reason: 'Issued in error' },
      });
      const verdict = (await server().request('POST', '/v1/credentials/vc/verify', { body: exported }))
        .body as DocumentVerdict;
      expect(verdict.reasons.map((reason) => reason.code)).toEqual(['REVOKED']);

      for (const [body, field] of [
        [{ ...exported, '@context': ['https://example.com/other'] }, 'body.@context'],
        [
          { ...exported, credentialSubject: { ...exported.credentialSubject, id: 'did:example:123' } },
          'body.credentialSubject.id',
        ],
        [{ ...exported, type: ['VerifiableCredential', 'Degree'] }, 'body.type.1'],
      ] as const) {
        expect(await server().request('POST', '/v1/credentials/vc/verify', { body })).toMatchObject({
          status: 422,
          body: { field },
        });
      }
    });

    it('exports only to those who may read the credential', async () => {
      const { credential } = await issue(server(), cast().registrar, cast().freelancer.party);
      const path = `/v1/credentials/${idPath(credential.credentialId)}/vc`;
      expect((await server().request('GET', path, { token: cast().registrar.token })).status).toBe(200);
      expect((await server().request('GET', path, { apiKey: cast().hrKey })).status).toBe(200);
      expect((await server().request('GET', path, { token: cast().otherFreelancer.token })).status).toBe(404);
      expect((await server().request('GET', path, { token: cast().evaluator.token })).status).toBe(403);
      expect(await server().request('GET', '/v1/credentials/-x/vc', { token: cast().freelancer.token })).toMatchObject({
        status: 422,
        body: { field: 'path.credentialId' },
      });
      const before = ledgerState(server());
      await server().request('GET', path, { token: cast().freelancer.token });
      expect(ledgerState(server())).toEqual(before);
    });
  });
});
