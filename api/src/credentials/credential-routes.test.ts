import { claimCommitment, type CredentialRecord, type IssuerRecord } from '@gigledger/chaincode/model';
import {
  credentialSuite,
  degreeClaims,
  idPath,
  issue,
  ledgerDaysFromNow,
  ledgerState,
  registerIssuer,
} from '../test-support/credential-test-kit.js';

describe('credential issuance and administration over HTTP', () => {
  const { server, cast } = credentialSuite();

  describe('issuer records', () => {
    it('lets an admin register an issuer, change its grant and remove it, each a new version', async () => {
      const party = { mspId: 'AuditOrgMSP', userId: 'bootcamp' };
      const path = `/v1/admin/issuers/${party.mspId}/${party.userId}`;
      const created = await server().request('PUT', path, {
        token: cast().admin.token,
        body: { displayName: 'ML bootcamp', credentialTypes: ['Course'] },
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({
        requestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/) as string,
        transactionId: expect.any(String) as string,
        blockNumber: expect.stringMatching(/^\d+$/) as string,
        result: { issuer: party, credentialTypes: ['Course'], status: 'active', version: 1 },
      });

      const widened = await server().request('PUT', path, {
        token: cast().admin.token,
        body: { displayName: 'ML bootcamp', credentialTypes: ['Course', 'Certification'] },
      });
      expect((widened.body as { result: IssuerRecord }).result).toMatchObject({
        credentialTypes: ['Certification', 'Course'],
        version: 2,
      });

      const removed = await server().request('POST', `${path}/removal`, {
        token: cast().admin.token,
        body: { reason: 'Accreditation lapsed' },
      });
      expect(removed.status).toBe(200);
      expect(removed.body).toHaveProperty(
        'requestId',
        expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      );
      expect((removed.body as { result: IssuerRecord }).result).toMatchObject({ status: 'removed', version: 3 });

      const details = await server().request('GET', `/v1/issuers/${party.mspId}/${party.userId}`, {
        token: cast().freelancer.token,
      });
      expect(details.status).toBe(200);
      expect((details.body as { versions: { version: number; status: string }[] }).versions).toEqual([
        expect.objectContaining({ version: 1, status: 'active', credentialTypes: ['Course'] }),
        expect.objectContaining({ version: 2, status: 'active' }),
        expect.objectContaining({ version: 3, status: 'removed', reason: 'Accreditation lapsed' }),
      ]);
      const active = await server().request('GET', '/v1/issuers?status=active&credentialType=Course', {
        apiKey: cast().hrKey,
      });
      expect((active.body as IssuerRecord[]).map((record) => record.issuer.userId)).toEqual(['uni-registrar']);
    });

    it('keeps issuer administration to admins and answers a repeated or impossible change with 409 or 404', async () => {
      const before = ledgerState(server());
      const path = `/v1/admin/issuers/ClientOrgMSP/${cast().rogue.party.userId}`;
      for (const person of [cast().registrar, cast().freelancer, cast().auditor]) {
        const refused = await server().request('PUT', path, {
          token: person.token,
          body: { displayName: 'Self-made issuer', credentialTypes: ['KYC'] },
        });
        expect(refused.status).toBe(403);
      }
      const unchanged = await server().request('PUT', `/v1/admin/issuers/AuditOrgMSP/uni-registrar`, {
        token: cast().admin.token,
        body: { displayName: 'TU Delft registrar', credentialTypes: ['Course', 'Certification'] },
      });
      expect(unchanged.status).toBe(409);
      expect(unchanged.body).toMatchObject({ code: 'ALREADY_EXISTS' });
      const unknown = await server().request('POST', '/v1/admin/issuers/AuditOrgMSP/nobody/removal', {
        token: cast().admin.token,
        body: { reason: 'Never was one' },
      });
      expect(unknown.status).toBe(404);
      expect(ledgerState(server())).toEqual(before);
    });
  });

  describe('issuing', () => {
    it('salts every claim with 32 random bytes, keeps values off the channel and returns claims and salts once', async () => {
      const response = await server().request('POST', '/v1/credentials', {
        token: cast().registrar.token,
        body: {
          subject: cast().freelancer.party,
          type: 'Certification',
          claims: degreeClaims,
          expirationDate: ledgerDaysFromNow(server(), 365),
        },
      });
      expect(response.status).toBe(201);
      const { result: issued, transactionId } = response.body as {
        transactionId: string;
        result: { credential: CredentialRecord; claims: { name: string; value: string; salt: string }[] };
      };
      expect(issued.credential.credentialId).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(issued.claims.map((claim) => [claim.name, claim.value])).toEqual(
        degreeClaims.map((claim) => [claim.name, claim.value]),
      );
      for (const claim of issued.claims) expect(claim.salt).toMatch(/^[0-9a-f]{64}$/);
      expect(new Set(issued.claims.map((claim) => claim.salt)).size).toBe(issued.claims.length);
      expect(issued.credential.claims).toEqual(
        issued.claims.map((claim) => ({ name: claim.name, commitment: claimCommitment(claim) })),
      );
      expect(transactionId).toBe(issued.credential.issuedTxId);

      // Neither values nor salts are anywhere in channel state or in the recorded events.
      const channel = JSON.stringify([ledgerState(server()), server().ledger.ledger.transactions]);
      for (const claim of issued.claims) {
        expect(channel).not.toContain(claim.value);
        expect(channel).not.toContain(claim.salt);
      }

      const again = await server().request('GET', `/v1/credentials/${idPath(issued.credential.credentialId)}/claims`, {
        token: cast().freelancer.token,
      });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ credentialId: issued.credential.credentialId, claims: issued.claims });
      // The issuer and an admin of the subject's organisation may read the credential, so are
      // told why the claims are not theirs (403); another freelancer, or an admin of an
      // organisation neither the subject's nor the issuer's, may not, and meets the 404 of a
      // missing one.
      for (const [other, status] of [
        [cast().registrar.token, 403],
        [cast().otherFreelancer.token, 404],
        [cast().talentAdmin.token, 403],
        [cast().admin.token, 404],
      ] as const) {
        const hidden = await server().request(
          'GET',
          `/v1/credentials/${idPath(issued.credential.credentialId)}/claims`,
          {
            token: other,
          },
        );
        expect(hidden.status).toBe(status);
        expect(JSON.stringify(hidden.body)).not.toContain('distinction');
      }
      const hrHidden = await server().request(
        'GET',
        `/v1/credentials/${idPath(issued.credential.credentialId)}/claims`,
        {
          apiKey: cast().hrKey,
        },
      );
      // An HR system reads credential records, never their claims: told so.
      expect(hrHidden.status).toBe(403);
      expect(JSON.stringify(hrHidden.body)).not.toContain('distinction');
    });

    it('refuses non-issuers (403), types outside the grant (403) and issuers without a record (403), writing nothing', async () => {
      const before = ledgerState(server());
      const body = { subject: cast().freelancer.party, type: 'Certification', claims: degreeClaims };
      const attempts: [string, { token?: string; apiKey?: string }, Record<string, unknown>, string | undefined][] = [
        ['a freelancer', { token: cast().freelancer.token }, body, undefined],
        ['a client', { token: cast().client.token }, body, undefined],
        ['an HR system', { apiKey: cast().hrKey }, body, undefined],
        ['an admin', { token: cast().admin.token }, body, undefined],
        ['an issuer without a record', { token: cast().rogue.token }, body, undefined],
        ['an issuer outside its grant', { token: cast().certBody.token }, { ...body, type: 'Course' }, 'body.type'],
        [
          'an issuer to themselves',
          { token: cast().registrar.token },
          { ...body, subject: cast().registrar.party },
          undefined,
        ],
      ];
      for (const [who, auth, attempt, field] of attempts) {
        const response = await server().request('POST', '/v1/credentials', { ...auth, body: attempt });
        expect([who, response.status]).toEqual([who, 403]);
        expect(response.body).toMatchObject({ code: 'FORBIDDEN', ...(field === undefined ? {} : { field }) });
      }
      expect(ledgerState(server())).toEqual(before);
    });

    it('names the field of malformed issuance input with 422 and writes nothing', async () => {
      const before = ledgerState(server());
      const good = { subject: cast().freelancer.party, type: 'Certification', claims: degreeClaims };
      const cases: [Record<string, unknown>, string][] = [
        [{ ...good, type: 'Degree' }, 'body.type'],
        [{ ...good, subject: { mspId: 'TalentOrgMSP', userId: 'Tara Example' } }, 'body.subject.userId'],
        [{ ...good, claims: [] }, 'body.claims'],
        [{ ...good, claims: [{ name: '1st', value: 'x' }] }, 'body.claims.0.name'],
        [{ ...good, claims: [degreeClaims[0], degreeClaims[0]] }, 'body.claims.1'],
        [{ ...good, claims: [{ name: 'degree', value: 'x', salt: '00'.repeat(32) }] }, 'body.claims.0.salt'],
        [
          {
            ...good,
            issuanceDate: ledgerDaysFromNow(server(), -10),
            expirationDate: ledgerDaysFromNow(server(), -20),
          },
          'body.expirationDate',
        ],
        [{ ...good, credentialId: '-starts-with-a-dash' }, 'body.credentialId'],
        // A subject of an organisation this server enrols must be one of its active identities.
        [{ ...good, subject: { mspId: 'TalentOrgMSP', userId: 'ghost' } }, 'body.subject.userId'],
      ];
      for (const [body, field] of cases) {
        const response = await server().request('POST', '/v1/credentials', { token: cast().registrar.token, body });
        expect([field, response.status]).toEqual([field, 422]);
        expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
      }
      const ghost = await server().request('POST', '/graphql', {
        token: cast().registrar.token,
        body: {
          query:
            'mutation ($input: IssueCredentialInput!) { issueCredential(input: $input) { credential { credentialId } } }',
          variables: { input: { ...good, subject: { mspId: 'TalentOrgMSP', userId: 'ghost' } } },
        },
      });
      const [error] = (ghost.body as { errors?: { message: string; extensions?: { field?: string } }[] }).errors ?? [];
      expect([error?.extensions?.field, error?.message]).toEqual([
        'input.subject.userId',
        'input.subject.userId: TalentOrgMSP has no active identity ghost on this server',
      ]);
      expect(ledgerState(server())).toEqual(before);
    });

    it('answers a taken credential id with 409', async () => {
      const first = await issue(server(), cast().registrar, cast().freelancer.party, { credentialId: 'cert-dup-1' });
      const before = ledgerState(server());
      const second = await server().request('POST', '/v1/credentials', {
        token: cast().registrar.token,
        body: {
          subject: cast().otherFreelancer.party,
          type: 'Course',
          claims: degreeClaims,
          credentialId: 'cert-dup-1',
        },
      });
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ code: 'ALREADY_EXISTS', field: 'body.credentialId' });
      expect(first.credential.credentialId).toBe('cert-dup-1');
      expect(ledgerState(server())).toEqual(before);
    });

    it('takes the request id from Idempotency-Key when the body has none, and returns it', async () => {
      const body = {
        credentialId: 'cert-keyed-1',
        subject: cast().freelancer.party,
        type: 'Course',
        claims: degreeClaims,
      };
      const headers = { 'idempotency-key': 'issue-keyed-0001' };
      const first = await server().request('POST', '/v1/credentials', { token: cast().registrar.token, body, headers });
      expect(first).toMatchObject({ status: 201, body: { requestId: 'issue-keyed-0001' } });
      const before = ledgerState(server());
      const again = await server().request('POST', '/v1/credentials', { token: cast().registrar.token, body, headers });
      // A retry gets the stored result, claims and salts included, and issues nothing twice.
      expect(again.status).toBe(201);
      expect((again.body as { result: unknown }).result).toEqual((first.body as { result: unknown }).result);
      expect(ledgerState(server())).toEqual(before);
      const malformed = await server().request('POST', '/v1/credentials', {
        token: cast().registrar.token,
        body: { ...body, credentialId: 'cert-keyed-2' },
        headers: { 'idempotency-key': 'short' },
      });
      expect(malformed).toMatchObject({ status: 422, body: { field: 'header.idempotency-key' } });
      // The key for another request is refused naming the header it came in, not the body.
      const reused = await server().request('POST', '/v1/credentials', {
        token: cast().registrar.token,
        body: { ...body, claims: [{ name: 'grade', value: 'B' }] },
        headers,
      });
      expect(reused).toMatchObject({
        status: 409,
        body: { code: 'REQUEST_ID_REUSED', field: 'header.idempotency-key' },
      });
    });

    it('answers a retry under the same request id with the same credential, and refuses the id for another request', async () => {
      // No credentialId: the one derived from the request id is the same on the retry.
      const body = {
        requestId: 'issue-replay-0001',
        subject: cast().freelancer.party,
        type: 'Course',
        claims: degreeClaims,
      };
      const first = await server().request('POST', '/v1/credentials', { token: cast().registrar.token, body });
      expect(first).toMatchObject({ status: 201, body: { requestId: 'issue-replay-0001' } });
      const before = ledgerState(server());
      const again = await server().request('POST', '/v1/credentials', { token: cast().registrar.token, body });
      expect(again.status).toBe(201);
      expect((again.body as { result: unknown }).result).toEqual((first.body as { result: unknown }).result);
      expect(ledgerState(server())).toEqual(before);
      const other = await server().request('POST', '/v1/credentials', {
        token: cast().registrar.token,
        body: { ...body, claims: [{ name: 'grade', value: 'A+' }] },
      });
      expect(other).toMatchObject({ status: 409, body: { code: 'REQUEST_ID_REUSED', field: 'body.requestId' } });
      expect(ledgerState(server())).toEqual(before);
    });
  });

  describe('reading credentials', () => {
    it("shows a record to its subject, its issuer, HR, auditors and its subject's or issuer's admins, and answers 404 to anyone else", async () => {
      const { credential } = await issue(server(), cast().registrar, cast().freelancer.party);
      const path = `/v1/credentials/${idPath(credential.credentialId)}`;
      for (const auth of [
        { token: cast().freelancer.token },
        { token: cast().registrar.token },
        { token: cast().auditor.token },
        { apiKey: cast().hrKey },
        { token: cast().talentAdmin.token },
      ]) {
        const response = await server().request('GET', path, auth);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ credentialId: credential.credentialId, claims: credential.claims });
      }
      for (const auth of [
        { token: cast().otherFreelancer.token },
        { token: cast().certBody.token },
        { token: cast().client.token },
        // ClientOrg is neither the subject's organisation (TalentOrg) nor the issuer's (AuditOrg).
        { token: cast().admin.token },
      ]) {
        const response = await server().request('GET', path, auth);
        expect(response.status).toBe(404);
        expect(JSON.stringify(response.body)).not.toContain(credential.subject.userId);
      }
      expect((await server().request('GET', path, { token: cast().evaluator.token })).status).toBe(403);
      expect((await server().request('GET', path)).status).toBe(401);
      expect(await server().request('GET', '/v1/credentials/-bad-', { token: cast().freelancer.token })).toMatchObject({
        status: 422,
        body: { field: 'path.credentialId' },
      });
    });

    it("lists the caller's own credentials as holder or issuer", async () => {
      const holder = await server().person('lena', 'TalentOrg', 'freelancer');
      const { credential } = await issue(server(), cast().certBody, holder.party);
      const held = await server().request('GET', '/v1/credentials', { token: holder.token });
      expect((held.body as CredentialRecord[]).map((record) => record.credentialId)).toEqual([credential.credentialId]);
      const issued = await server().request('GET', '/v1/credentials?as=issuer&type=Certification', {
        token: cast().certBody.token,
      });
      expect((issued.body as CredentialRecord[]).map((record) => record.credentialId)).toContain(
        credential.credentialId,
      );
      expect(await server().request('GET', '/v1/credentials?as=owner', { token: holder.token })).toMatchObject({
        status: 422,
        body: { field: 'query.as' },
      });
      expect((await server().request('GET', '/v1/credentials', { token: cast().evaluator.token })).status).toBe(403);
    });

    it('pages the list with Link headers, and names a cursor that is not one of its own', async () => {
      const holder = await server().person('paula', 'TalentOrg', 'freelancer');
      const issuedIds: string[] = [];
      for (let made = 0; made < 3; made += 1) {
        issuedIds.push((await issue(server(), cast().certBody, holder.party)).credential.credentialId);
      }
      const seen: string[] = [];
      let next: string | undefined = '/v1/credentials?first=2';
      while (next !== undefined) {
        const page = await server().request('GET', next, { token: holder.token });
        expect(page.status).toBe(200);
        seen.push(...(page.body as CredentialRecord[]).map((record) => record.credentialId));
        next = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')?.[1];
      }
      expect(seen).toEqual([...issuedIds].sort());
      const foreign = Buffer.from('\u0000credentialBySubject\u0000', 'utf8').toString('base64url');
      expect(await server().request('GET', `/v1/credentials?after=${foreign}`, { token: holder.token })).toMatchObject({
        status: 422,
        body: { field: 'query.after', code: 'VALIDATION_FAILED' },
      });
      expect(await server().request('GET', '/v1/credentials?first=501', { token: holder.token })).toMatchObject({
        status: 422,
        body: { field: 'query.first' },
      });
    });
  });

  describe('suspension, reinstatement and revocation', () => {
    it('lets only the issuer change the status, with a reason; everyone else is refused and nothing is written', async () => {
      const { credential } = await issue(server(), cast().registrar, cast().freelancer.party);
      const path = (action: string) => `/v1/credentials/${idPath(credential.credentialId)}/${action}`;
      const before = ledgerState(server());
      for (const action of ['suspend', 'revoke', 'reinstate']) {
        const body = { reason: 'Under investigation' };
        expect((await server().request('POST', path(action), { token: cast().certBody.token, body })).status).toBe(404);
        expect((await server().request('POST', path(action), { token: cast().rogue.token, body })).status).toBe(404);
        expect((await server().request('POST', path(action), { token: cast().freelancer.token, body })).status).toBe(
          403,
        );
        expect((await server().request('POST', path(action), { apiKey: cast().hrKey, body })).status).toBe(403);
        expect((await server().request('POST', path(action), { token: cast().talentAdmin.token, body })).status).toBe(
          403,
        );
        expect((await server().request('POST', path(action), { token: cast().admin.token, body })).status).toBe(404);
        expect(
          await server().request('POST', path(action), { token: cast().registrar.token, body: { reason: ' ' } }),
        ).toMatchObject({ status: 422, body: { field: 'body.reason' } });
      }
      const notSuspended = await server().request('POST', path('reinstate'), {
        token: cast().registrar.token,
        body: { reason: 'Nothing to lift' },
      });
      expect(notSuspended).toMatchObject({ status: 409, body: { code: 'INVALID_STATE' } });
      expect(ledgerState(server())).toEqual(before);

      const suspended = await server().request('POST', path('suspend'), {
        token: cast().registrar.token,
        body: { reason: 'Under investigation' },
      });
      expect(suspended.status).toBe(200);
      expect(suspended.body).toMatchObject({ result: { status: 'suspended' } });
      expect(suspended.body).toHaveProperty(
        'requestId',
        expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      );
      const reinstated = await server().request('POST', path('reinstate'), {
        token: cast().registrar.token,
        body: { reason: 'Investigation closed' },
      });
      expect(reinstated.body).toMatchObject({ result: { status: 'active' } });
      const revoked = await server().request('POST', path('revoke'), {
        token: cast().registrar.token,
        body: { reason: 'Degree rescinded' },
      });
      expect(revoked.body).toMatchObject({
        result: {
          status: 'revoked',
          statusHistory: [
            expect.objectContaining({ to: 'suspended', reason: 'Under investigation' }),
            expect.objectContaining({ to: 'active', reason: 'Investigation closed' }),
            expect.objectContaining({ to: 'revoked', reason: 'Degree rescinded' }),
          ],
        },
      });
    });
  });

  it('answers issuer reads and admin input by the same rules: 403 without the scope, 404 unknown, 422 naming the field', async () => {
    expect((await server().request('GET', '/v1/issuers', { token: cast().evaluator.token })).status).toBe(403);
    expect(
      await server().request('GET', '/v1/issuers?credentialType=Degree', { token: cast().freelancer.token }),
    ).toMatchObject({ status: 422, body: { field: 'query.credentialType' } });
    expect(
      (await server().request('GET', '/v1/issuers/AuditOrgMSP/nobody', { token: cast().freelancer.token })).status,
    ).toBe(404);
    expect(
      (await server().request('GET', '/v1/issuers/AuditOrgMSP/uni-registrar', { token: cast().evaluator.token }))
        .status,
    ).toBe(403);
    expect(
      await server().request('GET', '/v1/issuers/Bad%20MSP!/x-y-z', { token: cast().freelancer.token }),
    ).toMatchObject({
      status: 422,
      body: { field: 'path.mspId' },
    });
    expect(
      await server().request('PUT', '/v1/admin/issuers/AuditOrgMSP/new-issuer', {
        token: cast().admin.token,
        body: { displayName: 'New', credentialTypes: ['Degree'] },
      }),
    ).toMatchObject({ status: 422, body: { field: 'body.credentialTypes.0' } });
    expect(
      await server().request('PUT', '/v1/admin/issuers/AuditOrgMSP/Not%20Valid', {
        token: cast().admin.token,
        body: { displayName: 'New', credentialTypes: ['Course'] },
      }),
    ).toMatchObject({ status: 422, body: { field: 'path.userId' } });
    expect(
      await server().request('POST', '/v1/admin/issuers/AuditOrgMSP/uni-registrar/removal', {
        token: cast().admin.token,
        body: {},
      }),
    ).toMatchObject({ status: 422, body: { field: 'body.reason' } });
    expect(
      (
        await server().request('POST', '/v1/admin/issuers/AuditOrgMSP/uni-registrar/removal', {
          token: cast().registrar.token,
          body: { reason: 'Removing myself' },
        })
      ).status,
    ).toBe(403);
  });

  it('stops an issuer whose record was removed from issuing, while what it issued stays valid', async () => {
    const issuer = await server().person('short-lived', 'AuditOrg', 'issuer');
    await registerIssuer(server(), cast().admin, issuer.party, 'Short-lived academy', ['Course']);
    const { credential, claims } = await issue(server(), issuer, cast().freelancer.party, { type: 'Course' });
    await server().request('POST', `/v1/admin/issuers/${issuer.party.mspId}/${issuer.party.userId}/removal`, {
      token: cast().admin.token,
      body: { reason: 'Closed down' },
    });
    const refused = await server().request('POST', '/v1/credentials', {
      token: issuer.token,
      body: { subject: cast().freelancer.party, type: 'Course', claims: degreeClaims },
    });
    expect(refused.status).toBe(403);
    const verdict = await server().request('POST', '/v1/credentials/verify', {
      body: { credentialId: credential.credentialId, revealedClaims: claims.slice(0, 1) },
    });
    expect(verdict.body).toMatchObject({ valid: true, reasons: [] });
  });
});
