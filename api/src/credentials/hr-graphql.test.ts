import { ReputationService } from '../reputation/reputation-service.js';
import { callsInFlight } from '../test-support/calls-in-flight.js';
import { InMemoryLedgerAccess } from '../test-support/in-memory-ledger-access.js';
import { acceptedAgreement, completedMilestone } from '../test-support/reputation-test-kit.js';
import { CredentialService } from './credential-service.js';
import { memberRights, startTestServer, type TestServer } from '../test-support/test-server.js';
import {
  claimNamed,
  credentialCast,
  idPath,
  issue,
  ledgerDaysFromNow,
  type CredentialCast,
} from '../test-support/credential-test-kit.js';

interface GraphqlResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

interface Match {
  subject: { mspId: string; userId: string };
  credentials: {
    credentialId: string;
    type: string;
    issuer: { userId: string };
    status: string;
    claims: { name: string; commitment: string }[];
    verification: { valid: boolean; reasons: { code: string }[] };
  }[];
  reputation: {
    score: number;
    formulaVersion: string;
    components: { completions: { count: number; meanRating: number | null }; onTime: { onTime: number } };
    basis: { kind: string; objectType: string; attributes: string[]; txId: string }[];
  };
}

const findQuery = /* GraphQL */ `
  query Find($type: CredentialType!, $issuer: PartyInput) {
    freelancersByCredential(type: $type, issuer: $issuer) {
      subject {
        mspId
        userId
      }
      credentials {
        credentialId
        type
        issuer {
          userId
        }
        status
        claims {
          name
          commitment
        }
        verification {
          valid
          reasons {
            code
          }
        }
      }
      reputation {
        score
        formulaVersion
        components {
          completions {
            count
            meanRating
          }
          onTime {
            onTime
          }
        }
        basis {
          kind
          objectType
          attributes
          txId
        }
      }
    }
  }
`;

describe('GraphQL for HR systems: credentials and reputation', () => {
  let server: TestServer;
  let cast: CredentialCast;
  const values = new Set<string>();

  beforeAll(async () => {
    server = await startTestServer();
    cast = await credentialCast(server);
    const settlement = await server.person('settler', 'AuditOrg', 'settlement');
    const lena = await server.person('lena', 'TalentOrg', 'freelancer');
    for (const claim of [
      ...(
        await issue(server, cast.registrar, cast.freelancer.party, { expirationDate: ledgerDaysFromNow(server, 365) })
      ).claims,
      ...(await issue(server, cast.certBody, cast.otherFreelancer.party)).claims,
      ...(await issue(server, cast.registrar, lena.party, { type: 'Course' })).claims,
    ]) {
      values.add(claim.value);
    }
    const revoked = await issue(server, cast.certBody, lena.party);
    await server.request('POST', `/v1/credentials/${idPath(revoked.credential.credentialId)}/revoke`, {
      token: cast.certBody.token,
      body: { reason: 'Exam irregularity' },
    });
    await acceptedAgreement(server, { client: cast.client, freelancer: cast.freelancer }, 'A-1');
    await completedMilestone(server, { client: cast.client, freelancer: cast.freelancer, settlement }, 'A-1');
    await server.request('POST', '/v1/reputation/completions', {
      token: cast.client.token,
      body: { agreementId: 'A-1', milestoneId: 'm1', rating: 5 },
    });
  });

  afterAll(async () => {
    await server.close();
  });

  const graphql = async (
    query: string,
    options: { apiKey?: string; token?: string; variables?: Record<string, unknown> } = {},
  ): Promise<GraphqlResponse> => {
    const response = await server.request('POST', '/graphql', {
      ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
      ...(options.token === undefined ? {} : { token: options.token }),
      body: { query, variables: options.variables ?? {} },
    });
    return response.body as GraphqlResponse;
  };

  it('finds freelancers by credential type with an HR API key, and reads their reputation', async () => {
    const result = await graphql(findQuery, { apiKey: cast.hrKey, variables: { type: 'Certification' } });
    expect(result.errors).toBeUndefined();
    const matches = result.data!.freelancersByCredential as Match[];
    // Lena's Certification was revoked and her other credential is a Course: she is not found.
    expect(matches.map((match) => match.subject.userId)).toEqual(['tara', 'tom']);
    const [tara, tom] = matches as [Match, Match];
    expect(tara.credentials).toEqual([
      expect.objectContaining({
        type: 'Certification',
        issuer: { userId: 'uni-registrar' },
        status: 'active',
        verification: { valid: true, reasons: [] },
      }),
    ]);
    expect(tara.credentials[0]!.claims.map((claim) => claim.name)).toEqual(['degree', 'grade', 'thesis']);
    expect(tara.reputation).toMatchObject({
      formulaVersion: 'gigledger-reputation/v1',
      components: { completions: { count: 1, meanRating: 5 }, onTime: { onTime: 1 } },
      basis: [{ kind: 'completion', txId: expect.stringMatching(/^tx/) as string }],
    });
    // Which agreement and milestone each record is, as over REST: the key's attributes after the subject.
    const [record] = tara.reputation.basis;
    expect(record?.objectType).toEqual(expect.any(String));
    expect(record?.attributes.slice(0, 2)).toEqual(['TalentOrgMSP', 'tara']);
    expect(record?.attributes).toHaveLength(4);
    expect(tara.reputation.score).toBeGreaterThan(50);
    expect(tom.reputation).toMatchObject({ score: 50, basis: [] });
    // Claim values never leave the ledger this way.
    const text = JSON.stringify(result);
    for (const value of values) expect(text).not.toContain(value);
  });

  it('verifies credentials and reads reputations for the matches at most eight at once per HTTP request, and counts the matches asked for', async () => {
    const reads = callsInFlight([
      [CredentialService.prototype, 'verify'],
      [ReputationService.prototype, 'reputationOf'],
    ]);
    try {
      // Four operations, each two matches with a credential and a reputation: sixteen reads.
      const batch = await server.request('POST', '/graphql', {
        apiKey: cast.hrKey,
        body: Array.from({ length: 4 }, () => ({
          query:
            '{ freelancersByCredential(type: Certification) { subject { userId } credentials { verification { valid } } reputation { score } } }',
        })),
      });
      expect(batch.status).toBe(200);
      for (const answer of batch.body as GraphqlResponse[]) {
        expect(answer.errors).toBeUndefined();
        expect(answer.data?.freelancersByCredential).toHaveLength(2);
      }
      expect(reads.most()).toBe(8);
    } finally {
      reads.restore();
    }
    // Six searches of 200 matches ask for 1,200 records: refused, naming the argument.
    const wide = await graphql(
      `{ ${Array.from({ length: 6 }, (_, index) => `s${String(index)}: freelancersByCredential(type: Certification, limit: 200) { subject { userId } }`).join(' ')} }`,
      { apiKey: cast.hrKey },
    );
    expect(wide.errors?.[0]).toMatchObject({
      message: expect.stringMatching(
        /^limit: the list fields of one request may ask for 1000 records together; this one asks for 1200/,
      ) as unknown,
      extensions: { code: 'VALIDATION_FAILED', field: 'limit' },
    });
  });

  it('narrows the search to one issuer', async () => {
    const result = await graphql(findQuery, {
      apiKey: cast.hrKey,
      variables: { type: 'Certification', issuer: cast.certBody.party },
    });
    expect((result.data!.freelancersByCredential as Match[]).map((match) => match.subject.userId)).toEqual(['tom']);
  });

  it('has no way to ask for claim values, only for commitments', async () => {
    const result = await graphql(
      '{ freelancersByCredential(type: Certification) { credentials { claims { value } } } }',
      {
        apiKey: cast.hrKey,
      },
    );
    expect(result.errors?.[0]?.message).toMatch(/value/);
    expect(result.data ?? undefined).toBeUndefined();
  });

  it('verifies a presentation the holder gave, showing only the disclosed values', async () => {
    const presented = await server.request(
      'POST',
      `/v1/credentials/${idPath((await issue(server, cast.registrar, cast.freelancer.party)).credential.credentialId)}/presentations`,
      { token: cast.freelancer.token, body: { reveal: ['degree'] } },
    );
    const { presentation } = presented.body as {
      presentation: { credentialId: string; revealedClaims: { name: string; value: string; salt: string }[] };
    };
    const query = /* GraphQL */ `
      query Verify($presentation: PresentationInput!) {
        verifyPresentation(presentation: $presentation) {
          valid
          reasons {
            code
          }
          disclosedClaims {
            name
            value
            verified
          }
          undisclosedClaims
          credential {
            issuerDisplayName
          }
        }
      }
    `;
    const verdict = await graphql(query, {
      apiKey: cast.hrKey,
      variables: { presentation: { ...presentation, expectedSubject: cast.freelancer.party } },
    });
    expect(verdict.errors).toBeUndefined();
    expect(verdict.data!.verifyPresentation).toEqual({
      valid: true,
      reasons: [],
      disclosedClaims: [{ name: 'degree', value: 'MSc Machine Learning', verified: true }],
      undisclosedClaims: ['grade', 'thesis'],
      credential: { issuerDisplayName: 'TU Delft registrar' },
    });
    const forged = await graphql(query, {
      variables: {
        presentation: {
          credentialId: presentation.credentialId,
          revealedClaims: [{ ...claimNamed(presentation.revealedClaims, 'degree'), value: 'PhD' }],
        },
      },
    });
    expect(forged.data!.verifyPresentation).toMatchObject({ valid: false, reasons: [{ code: 'CLAIM_MISMATCH' }] });
  });

  it('issues a credential with the issueCredential mutation, the same command as POST /v1/credentials', async () => {
    const issueDocument = /* GraphQL */ `
      mutation ($input: IssueCredentialInput!) {
        issueCredential(input: $input) {
          requestId
          transactionId
          blockNumber
          credential {
            credentialId
            type
            status
            subject {
              userId
            }
          }
          claims {
            name
            value
            salt
          }
        }
      }
    `;
    const input = {
      requestId: 'gql-issue-1',
      subject: cast.otherFreelancer.party,
      type: 'Course',
      claims: [
        { name: 'course', value: 'Applied ML' },
        { name: 'grade', value: 'A' },
      ],
    };
    const issued = await graphql(issueDocument, { token: cast.registrar.token, variables: { input } });
    expect(issued.errors).toBeUndefined();
    const payload = issued.data!.issueCredential as {
      requestId: string;
      transactionId: string;
      credential: { credentialId: string; type: string; status: string; subject: { userId: string } };
      claims: { name: string; value: string; salt: string }[];
    };
    expect(payload.requestId).toBe('gql-issue-1');
    expect(payload.transactionId).toEqual(expect.any(String));
    expect(payload.credential).toMatchObject({
      type: 'Course',
      status: 'active',
      subject: { userId: cast.otherFreelancer.party.userId },
    });
    expect(payload.claims.map((claim) => claim.name)).toEqual(['course', 'grade']);

    // The salted claims it returned disclose the credential to a verifier.
    const verdict = await graphql(
      'query ($p: PresentationInput!) { verifyPresentation(presentation: $p) { valid disclosedClaims { name value } } }',
      {
        variables: {
          p: { credentialId: payload.credential.credentialId, revealedClaims: [payload.claims[1]] },
        },
      },
    );
    expect(verdict.data!.verifyPresentation).toEqual({ valid: true, disclosedClaims: [{ name: 'grade', value: 'A' }] });

    // An issuer not accredited for the type, and a caller without the scope, are refused;
    // a malformed claim is named.
    const notAccredited = await graphql(issueDocument, {
      token: cast.certBody.token,
      variables: { input: { ...input, requestId: 'gql-issue-2' } },
    });
    expect(notAccredited.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const withoutScope = await graphql(issueDocument, {
      token: cast.evaluator.token,
      variables: { input: { ...input, requestId: 'gql-issue-3' } },
    });
    expect(withoutScope.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const malformed = await graphql(issueDocument, {
      token: cast.registrar.token,
      variables: { input: { ...input, requestId: 'gql-issue-4', claims: [{ name: 'Not A Name', value: 'x' }] } },
    });
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ status: 422 });
    expect(JSON.stringify(malformed.errors?.[0]?.extensions)).toContain('input.claims.0.name');
  });

  it('reads one person’s credentials and reputation, and refuses callers without the scope or the role', async () => {
    const read = await graphql(
      /* GraphQL */ `
        query ($subject: PartyInput!) {
          credentialsOf(subject: $subject) {
            type
            status
          }
          reputation(subject: $subject) {
            score
            parts {
              rating
            }
          }
        }
      `,
      { apiKey: cast.hrKey, variables: { subject: cast.freelancer.party } },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data!.credentialsOf).toEqual(expect.arrayContaining([{ type: 'Certification', status: 'active' }]));
    const pageDocument = /* GraphQL */ `
      query ($subject: PartyInput!, $after: String) {
        credentialPage(subject: $subject, first: 1, after: $after) {
          items {
            credentialId
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    `;
    const whole = await graphql('query ($subject: PartyInput!) { credentialsOf(subject: $subject) { credentialId } }', {
      apiKey: cast.hrKey,
      variables: { subject: cast.freelancer.party },
    });
    const paged: string[] = [];
    let after: string | null = null;
    do {
      const page = await graphql(pageDocument, {
        apiKey: cast.hrKey,
        variables: { subject: cast.freelancer.party, after },
      });
      expect(page.errors).toBeUndefined();
      const answer = page.data!.credentialPage as {
        items: { credentialId: string }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
      expect(answer.items.length).toBeLessThanOrEqual(1);
      paged.push(...answer.items.map((item) => item.credentialId));
      after = answer.pageInfo.endCursor;
    } while (after !== null);
    expect(paged).toEqual((whole.data!.credentialsOf as { credentialId: string }[]).map((item) => item.credentialId));
    expect((read.data!.reputation as { score: number }).score).toBeGreaterThan(50);

    const evaluator = await graphql('{ freelancersByCredential(type: Course) { subject { userId } } }', {
      token: cast.evaluator.token,
    });
    expect(evaluator.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    // An admin finds only the credentials whose subject or issuer is of its organisation: the
    // Courses were issued by AuditOrg's registrar to TalentOrg's freelancers, so ClientOrg's
    // admin finds none, TalentOrg's every holder HR finds.
    const courses = '{ freelancersByCredential(type: Course) { subject { userId } } }';
    const byHr = await graphql(courses, { apiKey: cast.hrKey });
    expect((byHr.data!.freelancersByCredential as Match[]).length).toBeGreaterThan(0);
    expect(await graphql(courses, { token: cast.admin.token })).toEqual({ data: { freelancersByCredential: [] } });
    expect(await graphql(courses, { token: cast.talentAdmin.token })).toEqual(byHr);
    // A freelancer holds credentials:read but may not search other people's credentials.
    const freelancer = await graphql('{ freelancersByCredential(type: Course) { subject { userId } } }', {
      token: cast.freelancer.token,
    });
    expect(freelancer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    // The refusal names the rule the caller broke, not whichever issuer happened to be searched first.
    expect(freelancer.errors?.[0]?.message).toBe(
      'only hr, auditor, admin may search the holders of every issuer; an issuer names itself as issuer; the caller has role freelancer',
    );
    const anonymous = await graphql('{ freelancersByCredential(type: Course) { subject { userId } } }');
    expect(anonymous.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    const malformed = await graphql(
      '{ reputation(subject: { mspId: "TalentOrgMSP", userId: "Not Valid" }) { score } }',
      {
        apiKey: cast.hrKey,
      },
    );
    expect(malformed.errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'subject.userId',
    });
    await server.genesis(memberRights);
    const outsider = await graphql('{ reputation(subject: { mspId: "GhostOrgMSP", userId: "gus" }) { score } }', {
      apiKey: cast.hrKey,
    });
    expect(outsider.data).toEqual({ reputation: null });
    expect(outsider.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'subject.mspId' });
    const tooMany = await graphql('{ freelancersByCredential(type: Course, limit: 500) { subject { userId } } }', {
      apiKey: cast.hrKey,
    });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'limit' });
  });
});

describe('GraphQL for HR systems: the ledger reads of a search', () => {
  let server: TestServer;
  let cast: CredentialCast;
  const held = 70;

  beforeAll(async () => {
    server = await startTestServer();
    cast = await credentialCast(server);
    for (let n = 0; n < held; n += 1) await issue(server, cast.registrar, cast.freelancer.party, { type: 'Course' });
  });

  afterAll(async () => {
    await server.close();
  });

  it("counts every credential's verification and every page a search reads against the request's 1,000 ledger reads, where `limit` counts people", async () => {
    const search = (aliases: number) => ({
      query: `{ ${Array.from({ length: aliases }, (_, index) => `s${String(index)}: freelancersByCredential(type: Course, limit: 1) { credentials { verification { valid } } }`).join(' ')} }`,
    });
    // Thirteen searches of one person holding 70 credentials: 910 verifications, and each
    // search's list of issuers and its pages of their credentials.
    const within = await server.request('POST', '/graphql', { apiKey: cast.hrKey, body: search(13) });
    const answered = within.body as GraphqlResponse;
    expect(answered.errors).toBeUndefined();
    expect(Object.values(answered.data ?? {}).flat()).toHaveLength(13);
    // Fourteen: 980 verifications and the searches' own reads pass 1,000, though their limits count fourteen people.
    const over = await server.request('POST', '/graphql', { apiKey: cast.hrKey, body: search(14) });
    expect((over.body as GraphqlResponse).errors?.[0]).toMatchObject({
      message: expect.stringMatching(
        /^verification: one request may read 1000 records from the ledger for the nodes of its lists/,
      ) as unknown,
      extensions: { code: 'VALIDATION_FAILED', field: 'verification' },
    });
  });

  it('reads the issuers and pages of aliased searches at most eight at once per HTTP request', async () => {
    const listings = new Set(['listIssuers', 'listCredentialsByIssuer']);
    const original = Reflect.get<InMemoryLedgerAccess, 'transportFor'>(InMemoryLedgerAccess.prototype, 'transportFor');
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    Reflect.set(
      InMemoryLedgerAccess.prototype,
      'transportFor',
      function (this: InMemoryLedgerAccess, ...args: Parameters<InMemoryLedgerAccess['transportFor']>) {
        const transport = original.apply(this, args);
        const evaluate: typeof transport.evaluate = async (spec, request, options) => {
          if (!listings.has(spec.name)) return transport.evaluate(spec, request, options);
          inFlight += 1;
          calls += 1;
          most = Math.max(most, inFlight);
          try {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return await transport.evaluate(spec, request, options);
          } finally {
            inFlight -= 1;
          }
        };
        return { ...transport, evaluate };
      },
    );
    try {
      const aliased = await server.request('POST', '/graphql', {
        apiKey: cast.hrKey,
        body: {
          query: `{ ${Array.from({ length: 15 }, (_, index) => `s${String(index)}: freelancersByCredential(type: Course, limit: 1) { subject { userId } }`).join(' ')} }`,
        },
      });
      const answer = aliased.body as GraphqlResponse;
      expect(answer.errors).toBeUndefined();
      expect(Object.keys(answer.data ?? {})).toHaveLength(15);
      // Each search lists the issuers, then each issuer's pages.
      expect(calls).toBeGreaterThanOrEqual(30);
      expect(most).toBe(8);
    } finally {
      Reflect.set(InMemoryLedgerAccess.prototype, 'transportFor', original);
    }
  });
});
