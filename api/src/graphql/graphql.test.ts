import { suiteServer } from '../test-support/suite-server.js';
import { graphqlRefusalIn } from '../test-support/party-refusals.js';
import { startTestServer } from '../test-support/test-server.js';
import { createPasswordPerson } from '../test-support/password-people.js';

interface GraphqlResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

describe('the GraphQL endpoint', () => {
  const server = suiteServer();

  const graphql = async (query: string, options: { token?: string; variables?: Record<string, unknown> } = {}) => {
    const response = await server().request('POST', '/graphql', {
      ...(options.token === undefined ? {} : { token: options.token }),
      body: { query, variables: options.variables ?? {} },
    });
    return { status: response.status, body: response.body as GraphqlResponse };
  };

  it('logs in through a mutation and answers who the caller is', async () => {
    await createPasswordPerson(server().accounts, 'gina', 'TalentOrg', 'freelancer', 'a long password 4');
    const login = await graphql(
      'mutation ($u: String!, $p: String!) { createToken(userId: $u, password: $p) { accessToken } }',
      {
        variables: { u: 'gina', p: 'a long password 4' },
      },
    );
    const token = (login.body.data?.createToken as { accessToken: string }).accessToken;

    const me = await graphql('{ me { userId mspId role } chaincodeVersion { name } }', { token });

    expect(me.body.errors).toBeUndefined();
    expect(me.body.data).toEqual({
      me: { userId: 'gina', mspId: 'TalentOrgMSP', role: 'freelancer' },
      chaincodeVersion: { name: 'gigledger' },
    });
  });

  it('answers an unauthenticated query with extensions.code UNAUTHENTICATED', async () => {
    const response = await graphql('{ me { userId } }');
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('answers a refused bearer token, before the document runs, as a GraphQL response with 401', async () => {
    const response = await graphql('{ me { userId } }', { token: 'not-a-token' });
    expect(response.status).toBe(401);
    expect(graphqlRefusalIn(response.body)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    // REST keeps its own envelope for the same refusal.
    const rest = await server().request('GET', '/v1/me', { token: 'not-a-token' });
    expect([rest.status, rest.body]).toEqual([401, expect.objectContaining({ status: 401, code: 'UNAUTHENTICATED' })]);
  });

  it('gives a wrong password the code UNAUTHENTICATED, not a stack trace', async () => {
    const response = await graphql('mutation { createToken(userId: "nobody", password: "x") { accessToken } }');
    expect(response.body.errors?.[0]).toMatchObject({
      message: 'wrong user id or password',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(JSON.stringify(response.body)).not.toContain('at ');
  });

  it.each([
    ['a user id of another form', { u: 'not an id!', p: 'a long password 4' }, 'userId'],
    ['an empty password', { u: 'gina', p: '' }, 'password'],
    ['a password longer than any stored', { u: 'gina', p: 'x'.repeat(201) }, 'password'],
  ])('refuses a sign-in with %s as REST does: 422 naming the field', async (_case, variables, field) => {
    const response = await graphql(
      'mutation ($u: String!, $p: String!) { createToken(userId: $u, password: $p) { accessToken } }',
      { variables },
    );
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', status: 422, field });
    const rest = await server().request('POST', '/v1/auth/token', {
      body: { userId: variables.u, password: variables.p },
    });
    expect(rest.status).toBe(422);
    expect(rest.body).toMatchObject({ code: 'VALIDATION_FAILED', field: `body.${field}` });
  });

  it.each([
    [
      'an unknown field',
      '{ agreement(agreementId: "A-1") { agreement { agreementId } } }',
      'GRAPHQL_VALIDATION_FAILED',
    ],
    ['a document that does not parse', '{ me { userId }', 'GRAPHQL_PARSE_FAILED'],
    ['two unnamed operations', 'query { me { userId } } query { me { role } }', 'OPERATION_RESOLUTION_FAILURE'],
    ['an operation name the document lacks', 'query A { me { userId } }', 'OPERATION_RESOLUTION_FAILURE'],
    [
      'a wrong password',
      'mutation { createToken(userId: "nobody", password: "x") { accessToken } }',
      'UNAUTHENTICATED',
    ],
  ])('names the request it answers in every error, %s included', async (name, query: string, code) => {
    // Signed in: an anonymous caller's document is refused at the door, before validation.
    const { token } = await server().person(`rid-${name.replaceAll(' ', '-')}`, 'ClientOrg', 'client');
    const operationName = name === 'an operation name the document lacks' ? { operationName: 'B' } : {};
    const response = await server().request('POST', '/graphql', {
      token,
      body: { query, variables: {}, ...operationName },
    });
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const [error] = (response.body as GraphqlResponse).errors ?? [];
    const status = code === 'UNAUTHENTICATED' ? 401 : 400;
    // The HTTP status is GraphQL over HTTP's (with `application/json`, 200 for some request
    // errors); `extensions.status` says what the refusal is, whoever made it.
    expect(error?.extensions).toMatchObject({ code, requestId, status });
  });

  it('names the argument, or the document, a refused document is at fault in, as REST names a field', async () => {
    const { token } = await server().person('doc-fields', 'ClientOrg', 'client');
    for (const [query, field] of [
      ['{ panelDisputes(decided: "yes") { agreement { agreementId } } }', 'decided'],
      ['mutation { openDispute(input: { agreementId: "A-1", milestoneId: "m1" }) { transactionId } }', 'input.reason'],
      [
        'mutation { openDispute(input: { agreementId: "A-1", milestoneId: true, reason: "x" }) { transactionId } }',
        'input.milestoneId',
      ],
      ['{ agreement { agreementId } }', 'id'],
      ['{ agreement(id: "A-1", agreementId: "A-1") { agreementId } }', 'agreementId'],
      ['{ agreements(party: { mspId: "ClientOrgMSP", userId: 5 }) { role } }', 'party.userId'],
      ['{ me { nothing } }', 'query'],
      ['{ me { userId }', 'query'],
      // A variable whose type does not fit where it is used: named at the use.
      [
        'mutation ($r: Int) { declineAgreement(input: { agreementId: "A", reason: $r }) { transactionId } }',
        'input.reason',
      ],
      // A directive's argument, and a variable's default (the value a request leaves out).
      ['{ me { userId @include(if: 2147483648) } }', 'if'],
      ['query @skip(if: "no") { me { userId } }', 'query'],
      ['query ($n: Int = 2147483648) { agreements(first: $n) { role } }', 'variables.n'],
      [
        'query ($p: PartyInput = { mspId: "ClientOrgMSP", userId: 5 }) { agreements(party: $p) { role } }',
        'variables.p.userId',
      ],
    ] as const) {
      const response = await server().request('POST', '/graphql', { token, body: { query } });
      const [error] = (response.body as GraphqlResponse).errors ?? [];
      expect([query, error?.extensions?.status, error?.extensions?.field]).toEqual([query, 400, field]);
    }
    // A page size past the field's range, written in the document: the argument, not the cost.
    const widePage = await server().request('POST', '/graphql', {
      token,
      body: { query: '{ agreements(first: 1500) { role } }' },
    });
    const [wideError] = (widePage.body as GraphqlResponse).errors ?? [];
    expect(wideError?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', status: 422, field: 'first' });
    // In a variable's value, as in a literal: dotted paths, and a required field left out named itself.
    for (const [query, variables, field] of [
      [
        'mutation ($i: AgreementReasonInput!) { declineAgreement(input: $i) { transactionId } }',
        { i: { agreementId: 'A' } },
        'variables.i.reason',
      ],
      [
        'query ($p: PartyInput) { agreements(party: $p) { role } }',
        { p: { mspId: 'ClientOrgMSP', userId: 5 } },
        'variables.p.userId',
      ],
    ] as const) {
      const response = await server().request('POST', '/graphql', { token, body: { query, variables } });
      const [error] = (response.body as GraphqlResponse).errors ?? [];
      expect([query, error?.extensions?.field]).toEqual([query, field]);
    }
  });

  it('answers every request error 200 under application/json and 400 under application/graphql-response+json', async () => {
    const { token } = await server().person('rid-media-types', 'ClientOrg', 'client');
    for (const [query, operationName, code] of [
      ['{ me { userId }', undefined, 'GRAPHQL_PARSE_FAILED'],
      ['{ me { nothing } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['query { me { userId } } query { me { role } }', undefined, 'OPERATION_RESOLUTION_FAILURE'],
      ['query A { me { userId } }', 'B', 'OPERATION_RESOLUTION_FAILURE'],
    ] as const) {
      for (const [accept, httpStatus] of [
        ['application/json', 200],
        ['application/graphql-response+json', 400],
      ] as const) {
        const response = await server().request('POST', '/graphql', {
          token,
          headers: { accept },
          body: { query, ...(operationName === undefined ? {} : { operationName }) },
        });
        const [error] = (response.body as GraphqlResponse).errors ?? [];
        expect([query, accept, response.status, error?.extensions?.code, error?.extensions?.status]).toEqual([
          query,
          accept,
          httpStatus,
          code,
          400,
        ]);
        // Yoga's internal hint of the HTTP status stays out of the answer.
        expect(error?.extensions).not.toHaveProperty('http');
        if (code === 'OPERATION_RESOLUTION_FAILURE') {
          // Refused as a parameter, in the API's form: the parameter named first, then why.
          expect(error?.extensions?.field).toBe('operationName');
          expect(error?.message).toBe(
            operationName === undefined
              ? 'operationName: must name the operation to run: the document has several, or none'
              : 'operationName: the document has no operation named "B"',
          );
        }
      }
    }
  });

  it('refuses a query that costs more than the limit, before running it', async () => {
    const frugal = await startTestServer({ GRAPHQL_MAX_COST: '10' });
    try {
      const { token } = await frugal.person('frugal', 'ClientOrg', 'client');
      const response = await frugal.request('POST', '/graphql', {
        token,
        body: { query: '{ chaincodeVersion { name version packageId } me { userId mspId role kind org scopes } }' },
      });
      const body = response.body as GraphqlResponse;
      expect(body.errors?.[0]?.message).toMatch(/^Query Cost limit of 10 exceeded/);
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: 'QUERY_LIMIT_EXCEEDED',
        status: 400,
        limit: 'cost',
        field: 'query',
      });
      expect(body.data ?? undefined).toBeUndefined();
    } finally {
      await frugal.close();
    }
  });

  it('refuses a literal first no Int can hold as the argument it is, not as a costly document', async () => {
    const { token } = await server().person('wide-page', 'ClientOrg', 'client');
    const refused = { code: 'GRAPHQL_VALIDATION_FAILED', status: 400, field: 'first' };
    const tooWide = await graphql('{ agreementPage(first: 2147483648) { items { role } } }', { token });
    expect(tooWide.body.errors?.[0]?.message).toBe('Int cannot represent non 32-bit signed integer value: 2147483648');
    expect(tooWide.body.errors?.[0]?.extensions).toMatchObject(refused);
    expect(tooWide.body.data ?? undefined).toBeUndefined();
    // Answered as any other literal of the wrong type is.
    const notAnInt = await graphql('{ agreementPage(first: "wide") { items { role } } }', { token });
    expect(notAnInt.body.errors?.[0]?.extensions).toMatchObject(refused);
    expect(tooWide.status).toBe(notAnInt.status);
  });

  it('counts a page size written in the document as it counts one passed as a variable, against the cost limit', async () => {
    const { token } = await server().person('full-page', 'ClientOrg', 'client');
    const selection = '{ items { role agreement { agreementId title milestones { milestoneId status amount } } } }';
    const literal = await graphql(`{ agreementPage(first: 500) ${selection} }`, { token });
    const variable = await graphql(`query Page($first: Int) { agreementPage(first: $first) ${selection} }`, {
      token,
      variables: { first: 500 },
    });
    expect(literal.body.errors).toBeUndefined();
    expect(literal.body).toEqual(variable.body);
  });

  it.each([
    ['depth', '{ me { userId } }'.replace('userId', 'a { b { c { d { e { f { g { h { i } } } } } } } }')],
    ['aliases', `{ ${Array.from({ length: 16 }, (_, index) => `a${String(index)}: me { userId }`).join(' ')} }`],
    ['tokens', `{ me { ${'userId '.repeat(4001)}} }`],
    ['directives', `{ me { userId ${'@include(if: true) '.repeat(21)}} }`],
  ])('names the %s limit a query went past, with its own code, not as a syntax error', async (limit, query) => {
    // `me` wants a caller; a stranger would be refused before the limits are looked at.
    const { token } = await server().person(`limits-${limit}`, 'ClientOrg', 'client');
    const response = await graphql(query, { token });
    const error = response.body.errors?.[0];
    expect(error?.message).not.toMatch(/Syntax Error/);
    expect(error?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', status: 400, limit });
    expect(response.body.data ?? undefined).toBeUndefined();
  });

  it('counts the depth of fields through fragments as written inline, no deeper and no shallower', async () => {
    const { token } = await server().person('limits-fragments', 'AuditOrg', 'admin');
    // Six fields deep, two of them through fragments: answered as the same query inline is.
    const throughFragments =
      'fragment K on IndexedTransaction { keys { key } } fragment B on IndexedBlock { transactions { ...K } } ' +
      '{ indexedBlocks(first: 1) { edges { node { ...B } } } }';
    const inline = '{ indexedBlocks(first: 1) { edges { node { transactions { keys { key } } } } } }';
    for (const query of [throughFragments, inline]) {
      const answered = await graphql(query, { token });
      expect([query, answered.body.errors]).toEqual([query, undefined]);
    }
    // A fragment does not hide depth either: ten fields deep through one is refused.
    const refused = await graphql(
      'fragment D on Query { me { a { b { c { d { e { f { g { h } } } } } } } } } { ...D }',
      { token },
    );
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'depth' });
  });

  it('refuses introspection unless the configuration turns it on, whatever NODE_ENV says', async () => {
    const introspection = '{ __schema { queryType { name } } }';
    for (const mode of ['development', 'test', 'production']) {
      const closed = await startTestServer({ NODE_ENV: mode });
      try {
        const refused = await closed.request('POST', '/graphql', { body: { query: introspection } });
        const body = refused.body as GraphqlResponse;
        expect([mode, body.errors?.[0]?.message]).toEqual([mode, expect.stringMatching(/introspection/i)]);
        expect(body.data ?? undefined).toBeUndefined();
      } finally {
        await closed.close();
      }
    }
    const open = await startTestServer({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' });
    try {
      const answered = await open.request('POST', '/graphql', { body: { query: introspection } });
      expect((answered.body as GraphqlResponse).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    } finally {
      await open.close();
    }
  });

  it('applies the depth limit to introspection queries too', async () => {
    const open = await startTestServer({ GRAPHQL_INTROSPECTION: 'true', GRAPHQL_MAX_DEPTH: '4' });
    try {
      const deep = '{ __schema { types { fields { type { ofType { ofType { name } } } } } } }';
      const refused = await open.request('POST', '/graphql', { body: { query: deep } });
      const body = refused.body as GraphqlResponse;
      expect(body.errors?.[0]?.message).toMatch(/depth/i);
      expect(body.data ?? undefined).toBeUndefined();
      const shallow = await open.request('POST', '/graphql', {
        body: { query: '{ __schema { queryType { name } } }' },
      });
      expect((shallow.body as GraphqlResponse).errors).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('limits requests per principal, not per server', async () => {
    const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const first = await limited.person('rate-one', 'ClientOrg', 'client');
      const second = await limited.person('rate-two', 'ClientOrg', 'client');
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 4; attempt += 1) {
        statuses.push((await limited.request('GET', '/v1/me', { token: first.token })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await limited.request('GET', '/v1/me', { token: first.token });
      expect(refused.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect((await limited.request('GET', '/v1/me', { token: second.token })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('limits batched operations', async () => {
    const batch = Array.from({ length: server().config.graphql.maxBatch + 1 }, () => ({
      query: '{ chaincodeVersion { name } }',
    }));
    const response = await server().request('POST', '/graphql', { body: batch });
    expect(response.status).toBe(413);
    expect(graphqlRefusalIn(response.body)).toMatchObject({
      code: 'QUERY_LIMIT_EXCEEDED',
      field: 'body',
      message: `a batch holds at most ${String(batch.length - 1)} operations (GRAPHQL_MAX_BATCH); this one holds ${String(batch.length)}`,
      requestId: response.headers.get('x-request-id'),
    });
    const allowed = await server().request('POST', '/graphql', { body: batch.slice(1) });
    expect(Array.isArray(allowed.body)).toBe(true);
  });

  it("names, in a batch, each operation's own missing operation name", async () => {
    const { token } = await server().person('rid-batch-names', 'ClientOrg', 'client');
    const response = await server().request('POST', '/graphql', {
      token,
      body: [
        { query: '{ me { userId } }' },
        { query: 'query A { me { userId } }', operationName: 'B' },
        { query: 'query { me { userId } } query { me { role } }' },
      ],
    });
    const answers = response.body as GraphqlResponse[];
    expect(answers.map((answer) => answer.errors?.[0]?.message)).toEqual([
      undefined,
      'operationName: the document has no operation named "B"',
      'operationName: must name the operation to run: the document has several, or none',
    ]);
  });
});
