import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MilestoneRecord } from '@gigledger/chaincode/model';
import { readConnectionProfile } from '@gigledger/gateway';
import { repoRoot } from '@gigledger/network';
import { startE2eApi, type E2eApi } from './support/api-server.js';
import { e2eConfig } from './support/e2e-environment.js';

interface Verdict {
  valid: boolean;
  reasons: { code: string }[];
}

describe('credentials and portable reputation on the real network', () => {
  let api: E2eApi;

  beforeAll(async () => {
    api = await startE2eApi(e2eConfig());
  });

  afterAll(async () => {
    await api.close();
  });

  it('issues a credential, verifies a selective disclosure, reflects revocation at once, and exports W3C anchored to its block', async () => {
    const suffix = randomBytes(3).toString('hex');
    const university = await api.person(`uni-${suffix}`, 'AuditOrg', 'issuer');
    const holder = await api.person(`holder-${suffix}`, 'TalentOrg', 'freelancer');
    await api.enact([
      {
        type: 'registerIssuer',
        issuer: university.party,
        displayName: 'University of Examples',
        credentialTypes: ['Certification', 'Course'],
      },
    ]);

    const outsideGrant = await api.call('POST', '/v1/credentials', university.token, {
      subject: holder.party,
      type: 'KYC',
      claims: [{ name: 'verified', value: 'yes' }],
    });
    expect(outsideGrant.status).toBe(403);

    const issued = await api.call('POST', '/v1/credentials', university.token, {
      subject: holder.party,
      type: 'Certification',
      claims: [
        { name: 'title', value: 'Deep Learning Specialist' },
        { name: 'grade', value: 'A' },
        { name: 'studentNumber', value: 'S-2231' },
      ],
    });
    expect(issued.status).toBe(201);
    const {
      requestId,
      transactionId,
      result: { credential },
    } = issued.body as {
      requestId: string;
      transactionId: string;
      result: { credential: { credentialId: string } };
    };
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const secrets = await api.call(
      'GET',
      `/v1/credentials/${encodeURIComponent(credential.credentialId)}/claims`,
      holder.token,
    );
    expect(secrets.status).toBe(200);
    const notMine = await api.call(
      'GET',
      `/v1/credentials/${encodeURIComponent(credential.credentialId)}/claims`,
      university.token,
    );
    // The issuer may read the credential, so is told why its claims are the holder's alone.
    expect(notMine.status).toBe(403);
    expect(JSON.stringify(notMine.body)).not.toContain('"claims"');
    // An admin reads the records of its own organisation's people and issuers: TalentOrg's
    // (the holder's) reads this one; ClientOrg's, neither the holder's nor the issuer's
    // organisation, meets the 404 of a missing credential.
    const recordPath = `/v1/credentials/${encodeURIComponent(credential.credentialId)}`;
    const talentAdmin = await api.person(`talent-admin-${suffix}`, 'TalentOrg', 'admin');
    const clientAdmin = await api.person(`client-admin-${suffix}`, 'ClientOrg', 'admin');
    expect((await api.call('GET', recordPath, talentAdmin.token)).status).toBe(200);
    expect((await api.call('GET', recordPath, clientAdmin.token)).status).toBe(404);

    const presented = await api.call(
      'POST',
      `/v1/credentials/${encodeURIComponent(credential.credentialId)}/presentations`,
      holder.token,
      { reveal: ['title'] },
    );
    const { presentation, verifiableCredential } = presented.body as {
      presentation: { credentialId: string; revealedClaims: { name: string; value: string; salt: string }[] };
      verifiableCredential: { proof: Record<string, unknown> };
    };
    expect(presentation.revealedClaims.map((claim) => claim.name)).toEqual(['title']);
    expect(JSON.stringify(presented.body)).not.toContain('S-2231');
    expect(JSON.stringify(verifiableCredential.proof)).toContain(transactionId);

    // Anyone, without an account, verifies the disclosure; a forged value is caught.
    const verify = async (body: unknown) =>
      (await api.call('POST', '/v1/credentials/verify', undefined, body)).body as Verdict;
    expect(await verify({ ...presentation, expectedSubject: holder.party })).toMatchObject({
      valid: true,
      reasons: [],
    });
    const forged = presentation.revealedClaims.map((claim) => ({ ...claim, value: 'Deep Learning Professor' }));
    expect((await verify({ ...presentation, revealedClaims: forged })).reasons.map((reason) => reason.code)).toEqual([
      'CLAIM_MISMATCH',
    ]);
    // An imported document is checked against the record without the server reading it
    // (its operator, ClientOrg's admin, may not): a hidden claim's commitment changed is caught.
    const imported = await api.call('POST', '/v1/credentials/vc/verify', undefined, verifiableCredential);
    expect(imported.body).toMatchObject({ valid: true });
    const { credentialSubject } = verifiableCredential as unknown as {
      credentialSubject: { claimCommitments: { name: string; commitment: string }[] };
    };
    const tampered = await api.call('POST', '/v1/credentials/vc/verify', undefined, {
      ...verifiableCredential,
      credentialSubject: {
        ...credentialSubject,
        claimCommitments: credentialSubject.claimCommitments.map((claim) =>
          claim.name === 'studentNumber' ? { ...claim, commitment: '0'.repeat(64) } : claim,
        ),
      },
    });
    expect(tampered.body).toMatchObject({
      valid: false,
      reasons: [{ code: 'DOCUMENT_MISMATCH', field: 'credentialSubject.claimCommitments' }],
    });

    const revoked = await api.call(
      'POST',
      `/v1/credentials/${encodeURIComponent(credential.credentialId)}/revoke`,
      university.token,
      {
        reason: 'issued in error',
      },
    );
    expect(revoked.status).toBe(200);
    expect((await verify(presentation)).reasons.map((reason) => reason.code)).toContain('REVOKED');
  });

  it('builds reputation from a completed milestone and signs a statement that verifies offline with the CLI', async () => {
    const suffix = randomBytes(3).toString('hex');
    const client = await api.person(`rc-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`rf-${suffix}`, 'TalentOrg', 'freelancer');
    const bank = await api.person(`rb-${suffix}`, 'ClientOrg', 'settlement');
    const agreementId = `REP-${suffix}`;
    const milestone = `/v1/agreements/${agreementId}/milestones/m1`;
    await api.draftOneMilestone(client, freelancer, {
      agreementId,
      title: 'Data cleaning',
      scope: 'Deduplicate the customer table.',
      milestone: {
        title: 'Clean set',
        amount: '9000',
        criteria: 'no duplicates',
        dueDate: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    await api.acceptTerms(freelancer, agreementId);
    const funded = (await api.call('POST', `${milestone}/fund`, client.token, {})).body as { result: MilestoneRecord };
    await api.call('POST', `${milestone}/settlement-confirmations`, bank.token, {
      instructionId: funded.result.instructions[0]!.instructionId,
      outcome: 'paid',
      providerReference: `f-${suffix}`,
    });
    await api.call('POST', `${milestone}/deliverables`, freelancer.token, {
      artifactSha256: randomBytes(32).toString('hex'),
      uri: 'https://data.example.com/clean.parquet',
    });
    expect((await api.call('POST', `${milestone}/accept`, client.token, {})).status).toBe(200);

    const completion = await api.call('POST', '/v1/reputation/completions', client.token, {
      agreementId,
      milestoneId: 'm1',
      rating: 5,
    });
    expect(completion.status).toBe(201);
    const score = (
      await api.call('GET', `/v1/reputation/${freelancer.party.mspId}/${freelancer.party.userId}`, client.token)
    ).body as { score: number; components: { completions: { count: number } } };
    expect(score.components.completions.count).toBe(1);
    expect(score.score).toBeGreaterThan(50);

    const statement = await api.call('POST', '/v1/reputation/statements', freelancer.token);
    expect(statement.status).toBe(201);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gl-statement-'));
    try {
      const statementFile = path.join(dir, 'statement.json');
      writeFileSync(statementFile, JSON.stringify(statement.body));
      // The statement is signed by the first organisation's operator, whose certificate its CA issued.
      const [signingOrg] = readConnectionProfile(e2eConfig().paths.connectionProfile).organizations;
      const caFile = path.join(dir, 'ca.pem');
      const cacerts = path.join(signingOrg!.operatorMspDir, 'cacerts');
      const [caCertificate] = readdirSync(cacerts);
      writeFileSync(caFile, readFileSync(path.join(cacerts, caCertificate!)));
      const cli = path.join(repoRoot, 'api', 'dist', 'cli', 'verify-statement.js');
      expect(
        execFileSync(process.execPath, [cli, '--statement', statementFile, '--ca', caFile], { encoding: 'utf8' }),
      ).toMatch(/valid/i);

      const tampered = JSON.parse(readFileSync(statementFile, 'utf8')) as { body: { score: number } };
      tampered.body.score = 99.99;
      writeFileSync(statementFile, JSON.stringify(tampered));
      expect(() =>
        execFileSync(process.execPath, [cli, '--statement', statementFile, '--ca', caFile], { stdio: 'pipe' }),
      ).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
