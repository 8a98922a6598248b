import { AgreementKit, terms } from '../test-support/agreement-test-kit.js';

/*
 * Control characters (other than tab and line breaks) and bidirectional formatting
 * characters are refused in every string a caller sends, REST or GraphQL, with 422
 * naming the field, before the ledger is called; the chaincode refuses them too, for
 * Fabric clients that do not come through the API.
 */

interface GraphqlBody {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { readonly message: string; readonly extensions?: Record<string, unknown> }[];
}

const bidiMessage =
  'holds U+202E, a bidirectional formatting character, which could make the text display otherwise than it is stored';
const controlMessage = (code: string) =>
  `holds U+${code}, a control character (only tab, line feed and carriage return are allowed)`;

describe('control and bidirectional formatting characters at the edge', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const draftBody = (changes: Record<string, unknown> = {}) => {
    const { requestId: _generated, ...draft } = kit.draftRequest(kit.nextAgreementId());
    return { ...draft, terms, ...changes };
  };

  it.each([
    ['a title holding U+202E', { title: 'Invoice \u202Egnp.exe' }, 'body.title', bidiMessage],
    [
      'terms holding NUL',
      { terms: { ...terms, scope: 'Label\u0000images' } },
      'body.terms.scope',
      controlMessage('0000'),
    ],
    [
      'a key holding BEL',
      { terms: { ...terms, personalData: { 'tax\u0007Id': 'x' } } },
      'body.terms.personalData.tax\\u0007Id',
      `the key ${controlMessage('0007')}`,
    ],
    ['a C1 control', { title: 'Defects\u0085' }, 'body.title', controlMessage('0085')],
  ])(
    'refuses a REST body with %s: 422 naming the field, nothing sent to the ledger',
    async (_, changes, field, reason) => {
      const before = kit.mark();
      const response = await kit.server.request('POST', '/v1/agreements', {
        token: kit.cast.client.token,
        body: draftBody(changes),
      });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field, message: `${field}: ${reason}` });
      expect(kit.mark()).toEqual(before);
    },
  );

  it("names a key holding a lone surrogate or a bidirectional character escaped, so the refusal's text stays well-formed", async () => {
    const refusals: { field: string; message: string }[] = [];
    for (const body of [
      draftBody({ terms: { ...terms, personalData: { 'tax\uD800Id': 'x' } } }),
      // Member names repeated (refused before any other check): raw text, as JSON.stringify never repeats one.
      '{"title":"x","a\\uD800b":1,"a\\uD800b":2}',
      '{"title":"x","a\\u202Eb":1,"a\\u202Eb":2}',
      // Allowed in text, but a line terminator to log viewers and older JavaScript.
      '{"title":"x","a\\u2028b":1,"a\\u2028b":2}',
    ]) {
      const response = await kit.server.request('POST', '/v1/agreements', { token: kit.cast.client.token, body });
      expect([422, 400]).toContain(response.status);
      refusals.push(response.body as { field: string; message: string });
    }
    expect(refusals.map(({ field }) => field)).toEqual([
      'body.terms.personalData.tax\\uD800Id',
      'body.a\\uD800b',
      'body.a\\u202Eb',
      'body.a\\u2028b',
    ]);
    for (const { field, message } of refusals) {
      expect([field.isWellFormed(), message.isWellFormed(), message.startsWith(`${field}: `)]).toEqual([
        true,
        true,
        true,
      ]);
    }
  });

  it("shows what a caller sent in yoga's and graphql-js's own refusals escaped too, and keeps a field's length bounded", async () => {
    const graphql = async (body: string) => {
      const response = await kit.server.request('POST', '/graphql', { token: kit.cast.client.token, body });
      return (response.body as { errors: { message: string; extensions: { field?: string } }[] }).errors[0]!;
    };
    // An operation name the document lacks, and a literal an argument refuses.
    const unnamed = await graphql(
      '{"query":"query A { __typename } query B { __typename }","operationName":"C\\u202e\\ud800\\u0007"}',
    );
    expect(unnamed.message).toBe('operationName: the document has no operation named "C\\u202E\\uD800\\u0007"');
    const literal = await graphql(
      JSON.stringify({ query: '{ agreements(first: "\u202Eabc") { agreement { agreementId } } }' }),
    );
    expect(literal.message).toContain('"\\u202Eabc"');
    for (const { message } of [unnamed, literal]) expect(message.isWellFormed()).toBe(true);
    // A key of 5,000 lone surrogates: each shown as six characters, the field cut as a message is.
    const long = await kit.server.request('POST', '/v1/agreements', {
      token: kit.cast.client.token,
      body: draftBody({ terms: { ...terms, personalData: { ['\uD800'.repeat(5000)]: 'x' } } }),
    });
    const { field } = long.body as { field: string };
    expect([long.status, field.length < 1100, field.isWellFormed()]).toEqual([422, true, true]);
  });

  it('refuses a reason of a command on an existing agreement, and a query parameter', async () => {
    const target = await kit.offered();
    const before = kit.mark();
    const declined = await kit.server.request('POST', `/v1/agreements/${target.agreementId}/decline`, {
      token: kit.cast.freelancer.token,
      body: { reason: 'too \u001Bcheap' },
    });
    expect(declined.status).toBe(422);
    expect(declined.body).toMatchObject({ field: 'body.reason', message: `body.reason: ${controlMessage('001B')}` });
    const listed = await kit.server.request(
      'GET',
      `/v1/agreements?role=client&completed=${encodeURIComponent('\u0000')}`,
      {
        token: kit.cast.client.token,
      },
    );
    expect(listed.status).toBe(422);
    expect(listed.body).toMatchObject({
      field: 'query.completed',
      message: `query.completed: ${controlMessage('0000')}`,
    });
    expect(kit.mark()).toEqual(before);
    expect((await kit.view(target.agreementId)).agreement.status).toBe('offered');
  });

  it('refuses GraphQL input holding such a character, in variables or in the document, naming input.<field>', async () => {
    const document = `mutation ($input: DraftAgreementInput!) { draftAgreement(input: $input) { agreement { agreementId } } }`;
    const before = kit.mark();
    const fromVariables = await kit.server.request('POST', '/graphql', {
      token: kit.cast.client.token,
      body: { query: document, variables: { input: draftBody({ title: 'Invoice \u202Egnp.exe' }) } },
    });
    expect((fromVariables.body as GraphqlBody).errors?.[0]).toMatchObject({
      message: `input.title: ${bidiMessage}`,
      extensions: { code: 'VALIDATION_FAILED', status: 422, field: 'input.title' },
    });
    const fromLiteral = await kit.server.request('POST', '/graphql', {
      token: kit.cast.client.token,
      body: { query: '{ agreement(id: "A-\\u0007") { agreementId } }' },
    });
    expect((fromLiteral.body as GraphqlBody).errors?.[0]).toMatchObject({
      message: `id: ${controlMessage('0007')}`,
      extensions: { code: 'VALIDATION_FAILED', status: 422, field: 'id' },
    });
    expect(kit.mark()).toEqual(before);
  });

  it('keeps tabs, line breaks and right-to-left text with its marks', async () => {
    const body = draftBody({
      title: 'סיווג פגמים\u200F',
      terms: { ...terms, scope: 'Label images:\n\t- cats\r\n\t- dogs' },
    });
    const response = await kit.server.request('POST', '/v1/agreements', { token: kit.cast.client.token, body });
    expect(response.status).toBe(201);
    expect((await kit.view(body.agreementId)).agreement.title).toBe('סיווג פגמים\u200F');
  });

  it('takes text as sent where it is checked rather than stored: terms re-sent to be verified, a password', async () => {
    const target = await kit.offered();
    const before = kit.mark();
    const verified = await kit.server.request('POST', `/v1/agreements/${target.agreementId}/terms/verify`, {
      token: kit.cast.client.token,
      body: { terms: { ...terms, scope: 'Label\u0007images' } },
    });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ matches: false });
    const overGraphql = await kit.server.request('POST', '/graphql', {
      token: kit.cast.client.token,
      body: {
        query:
          'query ($a: ID!, $t: AgreementTermsInput!) { verifyAgreementTerms(agreementId: $a, terms: $t) { matches } }',
        variables: { a: target.agreementId, t: { ...terms, scope: 'Label\u202Eimages' } },
      },
    });
    expect(overGraphql.body).toMatchObject({ data: { verifyAgreementTerms: { matches: false } } });
    const login = await kit.server.request('POST', '/v1/auth/token', {
      body: { userId: kit.cast.client.party.userId, password: 'wrong\u0000password' },
    });
    expect(login.status).toBe(401);
    expect(kit.mark().writes).toBe(before.writes);
  });

  it('refuses such a character in a path parameter, and shows a refused key escaped', async () => {
    const path = await kit.server.request('GET', `/v1/agreements/${encodeURIComponent('A-\u0007')}`, {
      token: kit.cast.client.token,
    });
    expect(path.body).toMatchObject({ status: 422, field: 'path.agreementId' });
    const key = await kit.server.request('GET', `/v1/agreements?${encodeURIComponent('ro\u202Ele')}=client`, {
      token: kit.cast.client.token,
    });
    expect(key.body).toMatchObject({ status: 422, field: 'query.ro\\u202Ele' });
    expect(JSON.stringify(key.body)).not.toContain('\u202E');
  });

  it('shows refused characters escaped in the refusals of verbatim routes and of GraphQL variables', async () => {
    const login = await kit.server.request('POST', '/v1/auth/token', {
      body: { userId: kit.cast.client.party.userId, password: 'x', 'e\u0085': 1 },
    });
    expect(login.body).toMatchObject({ status: 422, field: 'body.e\\u0085' });
    const variable = await kit.server.request('POST', '/graphql', {
      token: kit.cast.client.token,
      body: {
        query:
          'mutation ($input: DraftAgreementInput!) { draftAgreement(input: $input) { agreement { agreementId } } }',
        variables: { input: { ...draftBody(), terms: { ...terms, 'k\u2069': 'x' } } },
      },
    });
    const [error] = (variable.body as GraphqlBody).errors ?? [];
    expect(error?.message).toContain('k\\u2069');
    for (const body of [login.body, variable.body]) {
      expect(JSON.stringify(body)).not.toMatch(/[\u0085\u2069]/u);
    }
  });
});
