import { spawnSync } from 'node:child_process';
import { createVerify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { acceptedAgreement, completedMilestone } from '../test-support/reputation-test-kit.js';
import {
  signStatement,
  statementLowSRequiredFrom,
  statementSigningBytes,
  verifyStatement,
  type ReputationStatement,
} from './statement.js';
import {
  createTestCa,
  issueTestIdentity,
  testOrganizationCa,
  testStatementSigner,
} from '../test-support/test-certificates.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'verify-statement.js');

/** A deep copy with one change, so every tampering starts from the signed original. */
function tampered(statement: ReputationStatement, change: (copy: ReputationStatement) => void): ReputationStatement {
  const copy = structuredClone(statement);
  change(copy);
  return copy;
}

describe('portable reputation statements', () => {
  let server: TestServer;
  let statement: ReputationStatement;
  let workDir: string;

  beforeAll(async () => {
    server = await startTestServer();
    workDir = mkdtempSync(path.join(os.tmpdir(), 'gl-statement-'));
    const carol = await server.person('carol', 'ClientOrg', 'client');
    const tara = await server.person('tara', 'TalentOrg', 'freelancer');
    const settlement = await server.person('settler', 'AuditOrg', 'settlement');
    await acceptedAgreement(server, { client: carol, freelancer: tara }, 'A-1');
    await completedMilestone(server, { client: carol, freelancer: tara, settlement }, 'A-1');
    await server.request('POST', '/v1/reputation/completions', {
      token: carol.token,
      body: { agreementId: 'A-1', milestoneId: 'm1', rating: 4 },
    });
    const exported = await server.request('POST', '/v1/reputation/statements', { token: tara.token });
    expect(exported.status).toBe(201);
    statement = exported.body as ReputationStatement;
  });

  afterAll(async () => {
    await server.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** Writes a file into the work directory and returns its path. */
  const file = (name: string, content: string) => {
    const target = path.join(workDir, name);
    writeFileSync(target, content);
    return target;
  };
  const caFile = () => file('org-ca.pem', testOrganizationCa.certificatePem);
  const runCli = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const codes = (statementToCheck: unknown, caPem = testOrganizationCa.certificatePem) =>
    verifyStatement(statementToCheck, caPem).reasons.map((reason) => reason.code);

  it('rests on ledger records and verifies offline against the organisation CA', () => {
    expect(statement.body.reputation.basis).toHaveLength(1);
    expect(statement.body.reputation.basis[0]!.txId).toMatch(/^tx/);
    expect(statement.signature.certificatePem).toBe(testStatementSigner.certificatePem);
    const verdict = verifyStatement(JSON.parse(JSON.stringify(statement)), testOrganizationCa.certificatePem);
    expect(verdict).toMatchObject({
      valid: true,
      reasons: [],
      statement: { subject: { mspId: 'TalentOrgMSP', userId: 'tara' }, score: statement.body.reputation.score },
      signer: { mspId: 'ClientOrgMSP' },
    });
  });

  it('fails after any part of the statement is altered', () => {
    const alterations: [string, (copy: ReputationStatement) => void][] = [
      ['the score', (s) => (s.body.reputation.score += 10)],
      ['a component', (s) => (s.body.reputation.components.completions.count += 1)],
      ['a part', (s) => (s.body.reputation.parts.rating = 1)],
      ['a formula constant', (s) => (s.body.reputation.formula.ratingShare = 0.9)],
      ['a transaction it rests on', (s) => (s.body.reputation.basis[0]!.txId = 'tx999999')],
      ['the block height', (s) => (s.body.ledger.blockHeight = '999999')],
      ['the signing time', (s) => (s.body.issuedAt = new Date(Date.now() - 3_600_000).toISOString())],
      ['the subject', (s) => (s.body.subject.userId = 'tom')],
      ['an added field', (s) => Object.assign(s.body, { note: 'verified by hand' })],
      ['the signature', (s) => (s.signature.value = Buffer.from('not a signature').toString('base64'))],
    ];
    for (const [what, alter] of alterations) {
      expect([what, codes(tampered(statement, alter))]).toEqual([what, ['SIGNATURE_INVALID']]);
    }
    expect(codes(tampered(statement, (s) => (s.signature.mspId = 'TalentOrgMSP')))).toEqual(['SIGNER_MISMATCH']);
    expect(codes(tampered(statement, (s) => (s.body.issuer.mspId = 'TalentOrgMSP')))).toEqual([
      'SIGNER_MISMATCH',
      'SIGNATURE_INVALID',
    ]);
  });

  it('is signed with low S, and refuses the same signature in its high-S form or in non-canonical base64', () => {
    const signed = p256.Signature.fromBytes(Buffer.from(statement.signature.value, 'base64'), 'der');
    expect(signed.hasHighS()).toBe(false);
    const highS = new p256.Signature(signed.r, p256.Point.Fn.ORDER - signed.s).toBytes('der');
    const altered = tampered(statement, (s) => (s.signature.value = Buffer.from(highS).toString('base64')));
    // The other form verifies as ECDSA: only the low-S rule tells the two apart.
    expect(
      createVerify('sha256')
        .update(statementSigningBytes(statement.body))
        .verify(new X509Certificate(statement.signature.certificatePem).publicKey, Buffer.from(highS)),
    ).toBe(true);
    expect(verifyStatement(altered, testOrganizationCa.certificatePem).reasons).toEqual([
      {
        code: 'SIGNATURE_INVALID',
        message: `the signature's S is in its high form (n − s): a statement issued from ${statementLowSRequiredFrom} on is signed, and verified, with low S only`,
      },
    ]);
    // A statement issued before the rule keeps verifying in the form it was issued in.
    const earlier = signStatement(
      { ...statement.body, issuedAt: new Date(Date.parse(statementLowSRequiredFrom) - 60_000).toISOString() },
      testStatementSigner,
    );
    const earlierSigned = p256.Signature.fromBytes(Buffer.from(earlier.signature.value, 'base64'), 'der');
    const earlierHighS = new p256.Signature(earlierSigned.r, p256.Point.Fn.ORDER - earlierSigned.s).toBytes('der');
    expect(codes(earlier)).toEqual([]);
    expect(codes(tampered(earlier, (s) => (s.signature.value = Buffer.from(earlierHighS).toString('base64'))))).toEqual(
      [],
    );
    // A low-S P-256 signature is at most 71 bytes: its base64 ends in padding, and the character before has unused bits.
    const text = statement.signature.value;
    const last = text.replace(/=+$/, '').length - 1;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const unusedBitSet = alphabet[alphabet.indexOf(text[last]!) + 1]!;
    const sameBytes = `${text.slice(0, last)}${unusedBitSet}${text.slice(last + 1)}`;
    expect(Buffer.from(sameBytes, 'base64')).toEqual(Buffer.from(text, 'base64'));
    expect(codes(tampered(statement, (s) => (s.signature.value = sameBytes)))).toEqual(['SIGNATURE_INVALID']);
  });

  it("fails with another CA's certificate, even one with the same name", () => {
    const impostor = createTestCa('ClientOrg');
    expect(codes(statement, impostor.certificatePem)).toEqual(['CERTIFICATE_NOT_ISSUED_BY_CA']);
    expect(codes(statement, createTestCa('TalentOrg').certificatePem)).toEqual(['CERTIFICATE_NOT_ISSUED_BY_CA']);
    // A statement re-signed by an identity of the impostor CA carries a good signature but the wrong issuer.
    const forged = signStatement(statement.body, issueTestIdentity(impostor, 'ClientOrgMSP', 'operator-clientorg'));
    expect(codes(forged)).toEqual(['CERTIFICATE_NOT_ISSUED_BY_CA']);
    expect(codes(forged, impostor.certificatePem)).toEqual([]);
    expect(codes(statement, testStatementSigner.certificatePem)).toEqual(['CA_CERTIFICATE_INVALID']);
    expect(codes(statement, 'not a certificate')).toEqual(['CA_CERTIFICATE_INVALID']);
  });

  it("fails when signed by another certificate of the organisation's CA than its operator's", () => {
    // What the CA also issues: its peers', its people's; each signs a statement with a good signature.
    for (const commonName of [
      'peer0.clientorg.gigledger.local',
      'User1@clientorg.gigledger.local',
      'carol',
      'operators',
    ]) {
      const other = issueTestIdentity(testOrganizationCa, 'ClientOrgMSP', commonName);
      const forged = signStatement(
        { ...statement.body, reputation: { ...statement.body.reputation, score: 99.5 } },
        other,
      );
      expect([commonName, codes(forged)]).toEqual([commonName, ['SIGNER_NOT_OPERATOR']]);
    }
    for (const commonName of ['operator', 'operator-clientorg', 'operator-labelorg']) {
      const operator = issueTestIdentity(testOrganizationCa, 'ClientOrgMSP', commonName);
      expect([commonName, codes(signStatement(statement.body, operator))]).toEqual([commonName, []]);
    }
  });

  it('has one text: no member beside the signed body and the signature, and the certificate exactly as written', () => {
    expect(statement.signature.certificatePem).toBe(new X509Certificate(statement.signature.certificatePem).toString());
    const pem = statement.signature.certificatePem;
    const envelopes: [string, (copy: ReputationStatement) => void, string][] = [
      ['a member in the signature', (s) => Object.assign(s.signature, { note: 'x' }), 'MALFORMED_STATEMENT'],
      ['a member beside body and signature', (s) => Object.assign(s, { note: 'x' }), 'MALFORMED_STATEMENT'],
      [
        'text before the certificate',
        (s) => (s.signature.certificatePem = `issued to us\n${pem}`),
        'CERTIFICATE_INVALID',
      ],
      ['CRLF line ends', (s) => (s.signature.certificatePem = pem.replace(/\n/g, '\r\n')), 'CERTIFICATE_INVALID'],
      ['a second certificate after it', (s) => (s.signature.certificatePem = `${pem}${pem}`), 'CERTIFICATE_INVALID'],
      ['no final line end', (s) => (s.signature.certificatePem = pem.trimEnd()), 'CERTIFICATE_INVALID'],
    ];
    for (const [what, change, code] of envelopes) {
      expect([what, codes(tampered(statement, change))]).toEqual([what, [code]]);
    }
  });

  it('fails when the signing certificate was not valid at the signing time', () => {
    const lapsed = issueTestIdentity(testOrganizationCa, 'ClientOrgMSP', 'operator-old', {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 5 * 86_400_000),
    });
    expect(codes(signStatement(statement.body, lapsed))).toEqual(['CERTIFICATE_NOT_VALID_AT_ISSUANCE']);
  });

  it('reports what is malformed instead of throwing', () => {
    expect(verifyStatement({}, testOrganizationCa.certificatePem)).toMatchObject({
      valid: false,
      reasons: [{ code: 'MALFORMED_STATEMENT', message: expect.stringContaining('body') as string }],
    });
    expect(codes('just text')).toEqual(['MALFORMED_STATEMENT']);
    expect(codes(tampered(statement, (s) => (s.signature.certificatePem = 'garbage')))).toEqual([
      'CERTIFICATE_INVALID',
    ]);
  });

  it('verifies with the command-line verifier, exiting 0 when valid, 1 when not, 2 when it could not check', () => {
    const ca = caFile();
    const valid = runCli('--statement', file('statement.json', JSON.stringify(statement, null, 2)), '--ca', ca);
    expect(valid.status).toBe(0);
    expect(valid.stdout).toMatch(/^VALID reputation statement/);
    expect(valid.stdout).toContain('tara (TalentOrgMSP)');
    expect(valid.stdout).toContain(`score        ${statement.body.reputation.score}`);

    // The score named twice: JSON.parse keeps the signed one, a reader keeping the first shows another.
    const signedScore = JSON.stringify(statement.body.reputation.score);
    const twice = JSON.stringify(statement).replace(`"score":${signedScore}`, `"score":99.99,"score":${signedScore}`);
    expect(twice).toContain('"score":99.99');
    const repeated = runCli('--statement', file('twice.json', twice), '--ca', ca, '--json');
    expect(repeated.status).toBe(1);
    expect(JSON.parse(repeated.stdout)).toMatchObject({
      valid: false,
      reasons: [{ code: 'MALFORMED_STATEMENT', field: 'body.reputation.score' }],
    });

    const altered = tampered(statement, (s) => (s.body.reputation.components.onTime.late += 1));
    const refused = runCli('--statement', file('altered.json', JSON.stringify(altered)), '--ca', ca);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/^INVALID reputation statement/);
    expect(refused.stdout).toContain('SIGNATURE_INVALID');

    const otherCa = file('other-ca.pem', createTestCa('ClientOrg').certificatePem);
    const wrongCa = runCli('--statement', path.join(workDir, 'statement.json'), '--ca', otherCa);
    expect(wrongCa.status).toBe(1);
    expect(wrongCa.stdout).toContain('CERTIFICATE_NOT_ISSUED_BY_CA');

    const asJson = runCli('--statement', path.join(workDir, 'statement.json'), '--ca', ca, '--json');
    expect(JSON.parse(asJson.stdout)).toMatchObject({ valid: true, reasons: [] });

    // Nothing verified: a wrong command line or an unreadable statement exits 2, not 1.
    expect(runCli('--statement', path.join(workDir, 'statement.json')).status).toBe(2);
    expect(runCli('--statement', path.join(workDir, 'missing.json'), '--ca', ca)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('cannot read the statement') as string,
    });
    expect(runCli('--statement', file('not-json.json', '{'), '--ca', ca).status).toBe(2);
  });

  it('refuses a statement holding a __proto__ key or a lone surrogate as NOT_CANONICAL, naming the field', () => {
    const withProto = JSON.parse(
      JSON.stringify(statement).replace('"subject":{', '"subject":{"__proto__":{"userId":"mallory"},'),
    ) as unknown;
    expect(verifyStatement(withProto, testOrganizationCa.certificatePem)).toEqual({
      valid: false,
      reasons: [
        {
          code: 'NOT_CANONICAL',
          field: 'body.subject.__proto__',
          message: expect.stringContaining('__proto__') as string,
        },
      ],
    });
    const surrogate = tampered(statement, (s) => (s.body.statementId = 'urn:uuid:\ud800'));
    expect(verifyStatement(surrogate, testOrganizationCa.certificatePem).reasons).toEqual([
      {
        code: 'NOT_CANONICAL',
        field: 'body.statementId',
        message: expect.stringContaining('lone surrogate') as string,
      },
    ]);
    expect(() => statementSigningBytes(surrogate.body)).toThrow('body.statementId');
  });

  it('has the offline verifier refuse a statement with an added __proto__ field instead of verifying it', () => {
    // The text a verifier receives: the signed statement plus a key that JSON.parse keeps
    // but zod would strip, so a check of the parsed value alone would still pass.
    const text = JSON.stringify(statement).replace('"subject":{', '"subject":{"__proto__":{"userId":"mallory"},');
    const result = runCli('--statement', file('proto.json', text), '--ca', caFile(), '--json');
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      reasons: [{ code: 'NOT_CANONICAL', field: 'body.subject.__proto__' }],
    });
  });

  it('signs the RFC 8785 bytes, which for every v1 body equal the sorted-key JSON of earlier releases', () => {
    const body = JSON.parse(JSON.stringify(statement.body)) as Record<string, unknown>;
    const sortedKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(sortedKeys)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.keys(value)
                .sort()
                .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
            )
          : value;
    expect(statementSigningBytes(body).toString('utf8')).toBe(JSON.stringify(sortedKeys(body)));
  });
});
