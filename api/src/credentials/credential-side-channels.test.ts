import { startTestServer, type TestServer } from '../test-support/test-server.js';
import {
  credentialCast,
  degreeClaims,
  idPath,
  issue,
  ledgerState,
  type CredentialCast,
  type Person,
} from '../test-support/credential-test-kit.js';

/*
 * Over HTTP, a credential the caller may not read answers exactly like one that does not
 * exist; a taken id answers alike for every issuer; an anonymous verifier of a bare
 * presentation learns neither the holder nor the issuer's reasons; and claims that could
 * not be hashed as sent are refused with 422 naming the field.
 */

interface ErrorBody {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
  readonly requestId: string;
  readonly commandRequestId?: string;
}

/** The answer without its request id, which differs for every request. */
function withoutRequestId(body: unknown): Omit<ErrorBody, 'requestId' | 'commandRequestId'> {
  const { requestId: _requestId, commandRequestId: _commandRequestId, ...rest } = body as ErrorBody;
  return rest;
}

describe('credentials over HTTP: side channels and canonical input', () => {
  let server: TestServer;
  let cast: CredentialCast;
  let credentialId: string;

  beforeAll(async () => {
    server = await startTestServer();
    cast = await credentialCast(server);
    credentialId = (await issue(server, cast.registrar, cast.freelancer.party)).credential.credentialId;
  });

  afterAll(async () => {
    await server.close();
  });

  const unknownId = 'urn:uuid:00000000-0000-4000-8000-000000000000';

  type Operation = readonly [string, (id: string, as: Person) => Promise<{ status: number; body: unknown }>];
  const operations: readonly Operation[] = [
    ['read', (id, as) => server.request('GET', `/v1/credentials/${idPath(id)}`, { token: as.token })],
    [
      'read the claims of',
      (id, as) => server.request('GET', `/v1/credentials/${idPath(id)}/claims`, { token: as.token }),
    ],
    ...['suspend', 'reinstate', 'revoke'].map((action): Operation => [
      action,
      (id, as) =>
        server.request('POST', `/v1/credentials/${idPath(id)}/${action}`, {
          token: as.token,
          body: { reason: 'Probing' },
        }),
    ]),
  ];

  it.each(operations)(
    'answers an outsider who tries to %s a credential exactly as for one that does not exist',
    async (_, run) => {
      for (const outsider of [cast.otherFreelancer, cast.certBody, cast.rogue]) {
        const before = ledgerState(server);
        const hidden = await run(credentialId, outsider);
        const missing = await run(unknownId, outsider);
        expect(ledgerState(server)).toEqual(before);
        expect(hidden.status).toBe(missing.status);
        // The id is the one part that may differ: it is what the caller sent.
        const same = (body: unknown, id: string) =>
          JSON.parse(JSON.stringify(withoutRequestId(body)).replaceAll(id, '<id>')) as unknown;
        expect(same(hidden.body, credentialId)).toEqual(same(missing.body, unknownId));
        expect(JSON.stringify(hidden.body)).not.toMatch(/tara|uni-registrar|TalentOrgMSP/);
      }
    },
  );

  it('answers an issue under a taken id alike, whether or not the issuer may read the credential', async () => {
    const body = { credentialId, subject: cast.otherFreelancer.party, type: 'Certification', claims: degreeClaims };
    const before = ledgerState(server);
    const byIssuer = await server.request('POST', '/v1/credentials', { token: cast.registrar.token, body });
    const byOther = await server.request('POST', '/v1/credentials', { token: cast.certBody.token, body });
    expect(ledgerState(server)).toEqual(before);
    expect(byIssuer.status).toBe(409);
    expect(withoutRequestId(byOther.body)).toEqual(withoutRequestId(byIssuer.body));
    expect(withoutRequestId(byIssuer.body)).toEqual({
      status: 409,
      code: 'ALREADY_EXISTS',
      field: 'body.credentialId',
      message: `the credential id ${credentialId} is already taken; choose another id`,
    });
  });

  it('tells an anonymous verifier of a bare presentation neither who holds it nor why it is suspended', async () => {
    const path = `/v1/credentials/${idPath(credentialId)}`;
    const suspended = await server.request('POST', `${path}/suspend`, {
      token: cast.registrar.token,
      body: { reason: 'Thesis under plagiarism review' },
    });
    expect(suspended.status).toBe(200);
    const verdict = await server.request('POST', '/v1/credentials/verify', {
      body: { credentialId, revealedClaims: [] },
    });
    expect(verdict.status).toBe(200);
    expect(verdict.body).toMatchObject({
      valid: false,
      reasons: [{ code: 'SUSPENDED', message: `credential ${credentialId} is suspended by its issuer` }],
      disclosedClaims: [],
      undisclosedClaims: [],
    });
    expect((verdict.body as { credential: object }).credential).not.toHaveProperty('subject');
    for (const secret of ['tara', 'TalentOrgMSP', 'plagiarism', 'thesis']) {
      expect(JSON.stringify(verdict.body)).not.toContain(secret);
    }
    await server.request('POST', `${path}/reinstate`, { token: cast.registrar.token, body: { reason: 'Cleared' } });
  });

  it.each([
    ['a __proto__ key', '[{"__proto__":{"name":"x"},"name":"degree","value":"MSc"}]', 'body.claims.0.__proto__'],
    ['a lone surrogate', '[{"name":"degree","value":"MSc \\ud800"}]', 'body.claims.0.value'],
  ])('refuses claims holding %s with 422 naming the field, writing nothing', async (_, claims, field) => {
    // Raw JSON text: neither a __proto__ key nor a lone surrogate survives building an object literal.
    const text = JSON.stringify({ subject: cast.freelancer.party, type: 'Certification', claims: [] }).replace(
      '"claims":[]',
      `"claims":${claims}`,
    );
    const before = ledgerState(server);
    const response = await server.request('POST', '/v1/credentials', { token: cast.registrar.token, body: text });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    expect(ledgerState(server)).toEqual(before);
  });
});
