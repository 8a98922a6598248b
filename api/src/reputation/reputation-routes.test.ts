import type { AttestationRecord, CompletionRecord, Reputation } from '@gigledger/chaincode/model';
import { ledgerState } from '../test-support/credential-test-kit.js';
import { memberRights, startTestServer, type TestServer } from '../test-support/test-server.js';
import { acceptedAgreement, completedMilestone, type Person } from '../test-support/reputation-test-kit.js';
import type { ReputationStatement } from './statement.js';

describe('reputation over HTTP', () => {
  let server: TestServer;
  let carol: Person;
  let dave: Person;
  let tara: Person;
  let tom: Person;
  let zoe: Person;
  let settlement: Person;
  let evaluator: Person;
  let hrKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    await server.genesis(memberRights);
    carol = await server.person('carol', 'ClientOrg', 'client');
    dave = await server.person('dave', 'ClientOrg', 'client');
    tara = await server.person('tara', 'TalentOrg', 'freelancer');
    tom = await server.person('tom', 'TalentOrg', 'freelancer');
    zoe = await server.person('zoe', 'TalentOrg', 'freelancer');
    settlement = await server.person('settler', 'AuditOrg', 'settlement');
    evaluator = await server.person('harness', 'ClientOrg', 'evaluator');
    hrKey = (await server.service('acme-hr', 'ClientOrg', 'hr')).key;
    // Tara and Tom work for Carol at the same time; Tara finishes her milestone.
    await acceptedAgreement(server, { client: carol, freelancer: tara }, 'A-1');
    await acceptedAgreement(server, { client: carol, freelancer: tom }, 'A-2');
    await completedMilestone(server, { client: carol, freelancer: tara, settlement }, 'A-1');
  });

  afterAll(async () => {
    await server.close();
  });

  const reputationOf = async (person: Person): Promise<Reputation> => {
    const response = await server.request('GET', `/v1/reputation/${person.party.mspId}/${person.party.userId}`, {
      apiKey: hrKey,
    });
    expect(response.status).toBe(200);
    return response.body as Reputation;
  };

  it('records a rating by the client and shows it in the score with its components and transaction', async () => {
    const empty = await reputationOf(tara);
    expect(empty).toMatchObject({ score: 50, basis: [], components: { completions: { count: 0 } } });

    const rating = {
      token: carol.token,
      body: { agreementId: 'A-1', milestoneId: 'm1', rating: 5 },
      headers: { 'idempotency-key': 'rate-A-1-m1-0001' },
    };
    const response = await server.request('POST', '/v1/reputation/completions', rating);
    expect(response.status).toBe(201);
    const {
      requestId,
      transactionId,
      result: completion,
    } = response.body as {
      requestId: string;
      transactionId: string;
      result: CompletionRecord;
    };
    expect(requestId).toBe('rate-A-1-m1-0001');
    expect(completion).toMatchObject({ subject: tara.party, client: carol.party, rating: 5, onTime: true });
    expect(completion.txId).toBe(transactionId);

    // A retry under the same key answers the stored result instead of rating twice.
    const retried = await server.request('POST', '/v1/reputation/completions', rating);
    expect(retried).toMatchObject({ status: 201, body: { requestId, result: completion } });

    const scored = await reputationOf(tara);
    expect(scored.score).toBeGreaterThan(50);
    expect(scored.components.completions).toMatchObject({ count: 1, meanRating: 5 });
    expect(scored.components.onTime).toMatchObject({ onTime: 1, late: 0 });
    expect(scored.basis).toEqual([expect.objectContaining({ kind: 'completion', txId: completion.txId })]);
    expect(scored.formula.version).toBe('gigledger-reputation/v1');
  });

  it('refuses ratings by anyone but the client, twice, or of unfinished work, writing nothing', async () => {
    const before = ledgerState(server);
    const rate = (auth: { token?: string; apiKey?: string }, body: Record<string, unknown>) =>
      server.request('POST', '/v1/reputation/completions', { ...auth, body });
    const good = { agreementId: 'A-1', milestoneId: 'm1', rating: 4 };
    expect((await rate({ apiKey: hrKey }, good)).status).toBe(403);
    expect((await rate({ token: evaluator.token }, good)).status).toBe(403);
    expect(await rate({ token: tara.token }, good)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const stranger = await rate({ token: dave.token }, good);
    expect(stranger.status).toBe(404);
    expect(JSON.stringify(stranger.body)).not.toContain('carol');
    expect(await rate({ token: carol.token }, good)).toMatchObject({
      status: 409,
      body: { code: 'ALREADY_EXISTS', field: 'body.milestoneId' },
    });
    expect(await rate({ token: carol.token }, { ...good, agreementId: 'A-2' })).toMatchObject({
      status: 409,
      body: { code: 'INVALID_STATE' },
    });
    expect(await rate({ token: carol.token }, { ...good, rating: 6 })).toMatchObject({
      status: 422,
      body: { field: 'body.rating' },
    });
    expect(await rate({ token: carol.token }, { ...good, milestoneId: '' })).toMatchObject({
      status: 422,
      body: { field: 'body.milestoneId' },
    });
    expect((await rate({}, good)).status).toBe(401);
    expect(ledgerState(server)).toEqual(before);
  });

  it('lets a freelancer vouch for a colleague on shared work, folding the skill to lower case', async () => {
    const response = await server.request('POST', '/v1/reputation/attestations', {
      token: tom.token,
      body: {
        subject: tara.party,
        agreementId: 'A-1',
        attesterAgreementId: 'A-2',
        skill: 'PyTorch',
        level: 4,
        comment: 'Fast and careful',
      },
    });
    expect(response.status).toBe(201);
    const { requestId, result: attestation } = response.body as { requestId: string; result: AttestationRecord };
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(attestation).toMatchObject({ subject: tara.party, attester: tom.party, skill: 'pytorch', weight: 1 });
    const scored = await reputationOf(tara);
    expect(scored.components.attestations).toMatchObject({
      count: 1,
      skills: [{ skill: 'pytorch', count: 1, weightedLevel: 4 }],
    });
    expect(scored.basis.map((entry) => entry.txId)).toContain(attestation.txId);
  });

  it('refuses attestations from non-freelancers, on someone else’s agreement, or malformed, writing nothing', async () => {
    const before = ledgerState(server);
    const attest = (auth: { token?: string; apiKey?: string }, body: Record<string, unknown>) =>
      server.request('POST', '/v1/reputation/attestations', { ...auth, body });
    const good = { subject: tara.party, agreementId: 'A-1', attesterAgreementId: 'A-2', skill: 'nlp', level: 3 };
    expect((await attest({ apiKey: hrKey }, good)).status).toBe(403);
    // Carol can read A-2 (she is its client) but is no freelancer.
    expect(await attest({ token: carol.token }, good)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    // Zoe names Tom's agreement as her own.
    expect((await attest({ token: zoe.token }, good)).status).toBe(404);
    expect(await attest({ token: tom.token }, good)).toMatchObject({ status: 409, body: { code: 'ALREADY_EXISTS' } });
    expect(await attest({ token: tom.token }, { ...good, level: 9 })).toMatchObject({
      status: 422,
      body: { field: 'body.level' },
    });
    expect(await attest({ token: tom.token }, { ...good, attesterAgreementId: 'A-1' })).toMatchObject({
      status: 422,
      body: { field: 'body.attesterAgreementId' },
    });
    expect(await attest({ token: tom.token }, { ...good, skill: '' })).toMatchObject({
      status: 422,
      body: { field: 'body.skill' },
    });
    expect(ledgerState(server)).toEqual(before);
  });

  it('answers score reads by scope: 403 without reputation:read, 422 naming a malformed path or an outsider', async () => {
    expect((await server.request('GET', '/v1/reputation/TalentOrgMSP/tara', { token: evaluator.token })).status).toBe(
      403,
    );
    expect(await server.request('GET', '/v1/reputation/TalentOrgMSP/Tara!', { token: carol.token })).toMatchObject({
      status: 422,
      body: { field: 'path.userId' },
    });
    // Reputation travels: any reader may see anyone's, and someone without records scores 50.
    const unknown = await server.request('GET', '/v1/reputation/TalentOrgMSP/nobody', { token: tom.token });
    expect(unknown).toMatchObject({ status: 200, body: { score: 50, basis: [] } });
    // Nobody of an organisation outside the consortium scores the newcomer's 50.
    const outsider = await server.request('GET', '/v1/reputation/GhostOrgMSP/gus', { token: tom.token });
    expect(outsider).toMatchObject({ status: 422, body: { code: 'VALIDATION_FAILED', field: 'path.mspId' } });
    expect((outsider.body as { message: string }).message).toContain('GhostOrgMSP is no member organisation');
    // An MSP id's bounds are worded as a user id's are.
    const tooLong = await server.request('GET', `/v1/reputation/${'M'.repeat(65)}/gus`, { token: tom.token });
    expect(tooLong).toMatchObject({ status: 422, body: { field: 'path.mspId' } });
    expect((tooLong.body as { message: string }).message).toContain('must be at most 64 characters');
  });

  it('exports a signed statement to the freelancer it is about, and to no one else', async () => {
    const response = await server.request('POST', '/v1/reputation/statements', { token: tara.token });
    expect(response.status).toBe(201);
    const statement = response.body as ReputationStatement;
    const current = await reputationOf(tara);
    expect(statement.body).toMatchObject({
      type: 'GigLedgerReputationStatement',
      subject: tara.party,
      issuer: { mspId: 'ClientOrgMSP' },
      reputation: { score: current.score, components: current.components, basis: current.basis },
    });
    expect(BigInt(statement.body.ledger.blockHeight)).toBeGreaterThan(0n);
    expect(statement.signature).toMatchObject({ algorithm: 'ECDSA-P256-SHA256-DER', mspId: 'ClientOrgMSP' });

    expect((await server.request('POST', '/v1/reputation/statements', { token: carol.token })).status).toBe(403);
    expect((await server.request('POST', '/v1/reputation/statements', { apiKey: hrKey })).status).toBe(403);
    expect((await server.request('POST', '/v1/reputation/statements', { token: evaluator.token })).status).toBe(403);
    expect((await server.request('POST', '/v1/reputation/statements')).status).toBe(401);
    // The operation takes no body: an empty object passes, anything else is refused, not ignored.
    expect((await server.request('POST', '/v1/reputation/statements', { token: tara.token, body: {} })).status).toBe(
      201,
    );
    for (const body of [[], { bogus: 1 }, JSON.parse('{"__proto__":{"admin":true}}') as unknown]) {
      const refused = await server.request('POST', '/v1/reputation/statements', { token: tara.token, body });
      expect([refused.status, (refused.body as { field?: string }).field]).toEqual([422, 'body']);
    }
    // Nor query parameters: one sent is refused, naming it, not ignored.
    const withQuery = await server.request('POST', '/v1/reputation/statements?bogus=1', { token: tara.token });
    expect([withQuery.status, (withQuery.body as { field?: string }).field]).toEqual([422, 'query.bogus']);
  });

  it('verifies a statement for anyone, signed in or not, against the CA of the organisation that signed it', async () => {
    const statement = (await server.request('POST', '/v1/reputation/statements', { token: tara.token }))
      .body as ReputationStatement;
    const verify = (body: unknown) => server.request('POST', '/v1/reputation/statements/verification', { body });

    const valid = await verify(statement);
    expect(valid.status).toBe(200);
    expect(valid.body).toMatchObject({
      valid: true,
      reasons: [],
      statement: { statementId: statement.body.statementId, subject: tara.party },
      signer: { mspId: 'ClientOrgMSP' },
    });

    const altered = await verify({ ...statement, body: { ...statement.body, statementId: 'forged' } });
    expect(altered.body).toMatchObject({ valid: false, reasons: [{ code: 'SIGNATURE_INVALID' }] });
    // A key the schema does not know still counts: the bytes as sent are what was signed.
    const padded = await verify({ ...statement, body: { ...statement.body, bonus: 'points' } });
    expect(padded.body).toMatchObject({ valid: false, reasons: [{ code: 'SIGNATURE_INVALID' }] });
    const stranger = await verify({ ...statement, signature: { ...statement.signature, mspId: 'ElsewhereMSP' } });
    expect(stranger.body).toMatchObject({ valid: false, reasons: [{ code: 'UNKNOWN_ORGANISATION' }] });

    const malformed = await verify({ body: statement.body });
    expect(malformed.status).toBe(422);
    expect(malformed.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.signature' });
  });
});
