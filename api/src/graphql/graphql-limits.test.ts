import { gzipSync } from 'node:zlib';
import { graphqlRefusalIn } from '../test-support/party-refusals.js';
import { AgreementKit, terms } from '../test-support/agreement-test-kit.js';
import { maxJsonDepth, maxJsonValues } from '../http/json-limits.js';
import { SseSubscription } from '../test-support/sse-subscription.js';

interface GraphqlResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; status?: number } }[];
}

const draftDocument = `mutation ($input: DraftAgreementInput!) {
  draftAgreement(input: $input) { agreement { agreementId } }
}`;

function nested(levels: number): unknown {
  let value: unknown = 'x';
  for (let level = 0; level < levels; level += 1) value = { a: value };
  return value;
}

describe('GraphQL requests are bounded before they are parsed or executed', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const draftInput = (personalData: unknown = { freelancerLegalName: 'Tom Example' }) => ({
    ...kit.draftRequest(kit.nextAgreementId()),
    terms: { ...terms, personalData },
  });

  const post = async (body: string | Uint8Array, headers: Record<string, string> = {}) => {
    const response = await fetch(`${kit.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${kit.cast.client.token}`, ...headers },
      body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('drafts through the same request when it keeps to the limits', async () => {
    const before = kit.mark();
    const response = await post(JSON.stringify({ query: draftDocument, variables: { input: draftInput() } }));
    expect((response.body as GraphqlResponse).errors).toBeUndefined();
    expect(kit.mark().writes).toBe(before.writes + 1);
  });

  it('answers a body over 1 MB with 413 and executes nothing', async () => {
    const before = kit.mark();
    const padded = { ...draftInput(), title: 'x'.repeat(1_100_000) };
    const response = await post(JSON.stringify({ query: draftDocument, variables: { input: padded } }));
    expect([response.status, graphqlRefusalIn(response.body).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(kit.mark()).toEqual(before);
  });

  it('answers an anonymous 30 MB body with 413 without reading it into the parser', async () => {
    const response = await fetch(`${kit.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ chaincodeVersion { name } }', variables: { pad: 'x'.repeat(30_000_000) } }),
    });
    expect(response.status).toBe(413);
    expect(graphqlRefusalIn(await response.json())).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers a streamed body without a length, and a gzip body that inflates past the limit, with 413', async () => {
    const before = kit.mark();
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"query":"{ chaincodeVersion { name } }","pad":"'));
      },
      pull(controller) {
        sent += chunk.length;
        if (sent > 4_000_000) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const streamed = await fetch(`${kit.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect([streamed.status, graphqlRefusalIn(await streamed.json()).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

    const bomb = gzipSync(
      Buffer.from(JSON.stringify({ query: draftDocument, variables: { input: draftInput('y'.repeat(5_000_000)) } })),
    );
    const inflated = await post(bomb, { 'content-encoding': 'gzip' });
    expect([inflated.status, graphqlRefusalIn(inflated.body).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(kit.mark()).toEqual(before);
  });

  it.each([
    [
      'a charset other than UTF-8',
      { 'content-type': 'application/json; charset=latin1' },
      415,
      'UNSUPPORTED_CHARSET',
      'header.content-type',
    ],
    [
      'an unknown content encoding',
      { 'content-encoding': 'compress' },
      415,
      'UNSUPPORTED_ENCODING',
      'header.content-encoding',
    ],
  ])('refuses %s, naming the header', async (_case, headers, status, code, field) => {
    const before = kit.mark();
    const response = await post(JSON.stringify({ query: draftDocument, variables: { input: draftInput() } }), headers);
    const refusal = graphqlRefusalIn(response.body);
    expect([response.status, refusal.code, refusal.field]).toEqual([status, code, field]);
    expect(kit.mark()).toEqual(before);
  });

  it('refuses variables nested past the limit with 422 naming the field, before resolving anything', async () => {
    const before = kit.mark();
    const response = await post(
      JSON.stringify({ query: draftDocument, variables: { input: draftInput(nested(maxJsonDepth)) } }),
    );
    expect(response.status).toBe(422);
    expect(graphqlRefusalIn(response.body)).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: [
        'variables',
        'input',
        'terms',
        'personalData',
        ...Array.from({ length: maxJsonDepth - 4 }, () => 'a'),
      ].join('.'),
    });
    expect(kit.mark()).toEqual(before);
  });

  it('names the field and the reason of a variable that does not fit its type, without echoing the value', async () => {
    const before = kit.mark();
    const padding = 'x'.repeat(200_000);
    const response = await post(
      JSON.stringify({ query: draftDocument, variables: { input: { ...draftInput(), surprise: padding } } }),
    );
    const error = (response.body as GraphqlResponse).errors?.[0];
    expect(error?.message).toBe('Variable "$input": Field "surprise" is not defined by type "DraftAgreementInput".');
    expect(error?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, field: 'variables.input' });
    const wrongType = await post(
      JSON.stringify({ query: draftDocument, variables: { input: { ...draftInput(), title: 42 } } }),
    );
    const typeError = (wrongType.body as GraphqlResponse).errors?.[0];
    expect(typeError?.message).toMatch(
      /^Variable "\$input" at "input\.title": String cannot represent a non string value/,
    );
    expect(typeError?.message).not.toContain('Tom Example');
    expect(typeError?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'variables.input.title' });
    expect(JSON.stringify(response.body).length).toBeLessThan(1000);
    expect(kit.mark()).toEqual(before);
  });

  it.each([
    [
      'left out',
      {},
      'variables.input',
      /^Variable "\$input" \(DraftAgreementInput!\) is required and was not provided$/,
    ],
    ['null', { input: null }, 'variables.input', /^Variable "\$input" \(DraftAgreementInput!\) must not be null$/],
    ['of another type', { input: 'x' }, 'variables.input', /^Variable "\$input": /],
  ])(
    'refuses a required variable %s as a request error: code, field and status 400, HTTP 200 for application/json and 400 for application/graphql-response+json',
    async (_case, variables, field, message) => {
      const before = kit.mark();
      for (const [accept, status] of [
        ['application/json', 200],
        ['application/graphql-response+json', 400],
      ] as const) {
        const response = await post(JSON.stringify({ query: draftDocument, variables }), { accept });
        const error = (response.body as GraphqlResponse).errors?.[0];
        expect([accept, response.status]).toEqual([accept, status]);
        expect(error?.extensions).toMatchObject({
          code: 'VALIDATION_FAILED',
          status: 400,
          field,
          requestId: expect.any(String) as unknown,
        });
        expect(error?.message).toMatch(message);
      }
      expect(kit.mark()).toEqual(before);
    },
  );

  it('refuses a JSON scalar with too many values, naming the variable', async () => {
    const before = kit.mark();
    const many = Array.from({ length: maxJsonValues + 1 }, (_value, index) => index);
    const response = await post(JSON.stringify({ query: draftDocument, variables: { input: draftInput(many) } }));
    const error = (response.body as GraphqlResponse).errors?.[0];
    expect(error?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(error?.message).toMatch(/input\.terms\.personalData/);
    // The whole value breaks the limit, not the element where counting passed it.
    expect(error?.message).toMatch(/holds more than 10000 values/);
    expect(error?.message).not.toMatch(/\.\d{3,}/);
    expect(kit.mark()).toEqual(before);
  });

  it('refuses an inline JSON literal nested past the limit, and a very deep one, without a 500', async () => {
    const before = kit.mark();
    const deepLiteral = (levels: number) =>
      `mutation { draftAgreement(input: { agreementId: "A-900", title: "t", client: { mspId: "ClientOrgMSP", userId: "carol" }, freelancer: { mspId: "TalentOrgMSP", userId: "tom" }, milestones: [], terms: { scope: "s", rates: [], personalData: ${'['.repeat(levels)}${']'.repeat(levels)} } }) { agreement { agreementId } } }`;
    const shallow = await post(JSON.stringify({ query: deepLiteral(maxJsonDepth + 1) }));
    const errors = (shallow.body as GraphqlResponse).errors ?? [];
    expect(errors.map((error) => error.extensions?.code)).toContain('VALIDATION_FAILED');
    expect(errors.map((error) => error.message).join(' ')).toMatch(/deeper than 32/);
    // graphql-js's recursive parser runs out of stack on this, well inside the token limit.
    const deep = await post(JSON.stringify({ query: deepLiteral(1990) }));
    expect([deep.status, graphqlRefusalIn(deep.body).code, graphqlRefusalIn(deep.body).field]).toEqual([
      422,
      'VALIDATION_FAILED',
      'query',
    ]);
    const inBatch = await post(JSON.stringify([{ query: '{ me { userId } }' }, { query: deepLiteral(1990) }]));
    expect([inBatch.status, graphqlRefusalIn(inBatch.body).field]).toEqual([422, '1.query']);
    const subscription = await fetch(
      `${kit.server.url}/graphql?query=${encodeURIComponent(`subscription { x(a: ${'['.repeat(1990)}${']'.repeat(1990)}) }`)}`,
      { headers: { accept: 'text/event-stream' } },
    );
    expect(subscription.status).toBe(422);
    expect(kit.mark()).toEqual(before);
  });

  it('refuses a request, or a batch entry, that is no request object or whose members are of the wrong type with 400 naming it', async () => {
    const before = kit.mark();
    const query = '{ me { userId } }';
    for (const [body, field] of [
      [{}, 'query'],
      [[], 'body'],
      [{ variables: {} }, 'query'],
      [{ query: 123 }, 'query'],
      [{ query: null }, 'query'],
      [{ query, variables: 5 }, 'variables'],
      [{ query, variables: [1] }, 'variables'],
      [{ query, variables: 'x' }, 'variables'],
      [{ query, operationName: 7 }, 'operationName'],
      [{ query, operationName: {} }, 'operationName'],
      [{ query, extensions: true }, 'extensions'],
      [[{ query }, { query, variables: 5 }], '1.variables'],
      [[{ query: 1 }, { query }], '0.query'],
      // A batch entry that is no request object at all is named by its index.
      [[1, 2], '0'],
      [[{ query }, null], '1'],
      [[{ query }, [query]], '1'],
    ] as const) {
      const answer = await post(JSON.stringify(body));
      expect([body, answer.status, graphqlRefusalIn(answer.body).code, graphqlRefusalIn(answer.body).field]).toEqual([
        body,
        400,
        'MALFORMED_REQUEST',
        field,
      ]);
      expect(graphqlRefusalIn(answer.body).message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
    }
    // A body of no bytes, or of only JSON's whitespace, is no request at all.
    for (const [body, message] of [
      ['', 'body: must be a GraphQL request or a non-empty batch of them'],
      ['   ', expect.any(String) as string],
    ] as const) {
      const empty = await post(body);
      expect([
        JSON.stringify(body),
        empty.status,
        graphqlRefusalIn(empty.body).code,
        graphqlRefusalIn(empty.body).field,
        graphqlRefusalIn(empty.body).message,
      ]).toEqual([JSON.stringify(body), 400, 'MALFORMED_REQUEST', 'body', message]);
    }
    // Null where GraphQL over HTTP allows it is no refusal, and an empty operation name
    // runs the only operation, as over GET.
    const nulls = await post(JSON.stringify({ query, variables: null, operationName: null, extensions: null }));
    expect([nulls.status, (nulls.body as GraphqlResponse).errors]).toEqual([200, undefined]);
    for (const sent of [{ query, operationName: '' }, [{ query, operationName: '' }]]) {
      const unnamed = await post(JSON.stringify(sent));
      const answers = (Array.isArray(unnamed.body) ? unnamed.body : [unnamed.body]) as GraphqlResponse[];
      expect([unnamed.status, answers.map((answer) => answer.errors)]).toEqual([200, [undefined]]);
    }
    expect(kit.mark()).toEqual(before);
  });

  it('refuses variables with no canonical encoding (a lone surrogate) with 422 naming the variable, over POST, in a batch and over GET', async () => {
    const before = kit.mark();
    const lone = '\ud800';
    for (const [body, field] of [
      [{ query: draftDocument, variables: { input: { ...draftInput(), title: `T${lone}` } } }, 'variables.input.title'],
      [
        [{ query: '{ me { userId } }' }, { query: '{ me { userId } }', variables: { [lone]: 1 } }],
        // The lone surrogate shown escaped, so the refusal itself stays well-formed.
        '1.variables.\\uD800',
      ],
    ] as const) {
      const answer = await post(JSON.stringify(body));
      expect([answer.status, graphqlRefusalIn(answer.body).code, graphqlRefusalIn(answer.body).field]).toEqual([
        422,
        'VALIDATION_FAILED',
        field,
      ]);
    }
    const subscription = encodeURIComponent(
      'subscription ($id: ID!) { agreementEvents(agreementId: $id) { __typename } }',
    );
    const overGet = await fetch(
      `${kit.server.url}/graphql?query=${subscription}&variables=${encodeURIComponent(JSON.stringify({ id: lone }))}`,
      { headers: { accept: 'text/event-stream' } },
    );
    expect([overGet.status, graphqlRefusalIn(await overGet.json()).field]).toEqual([422, 'query.variables.id']);
    expect(kit.mark()).toEqual(before);
  });

  it('names a refused variable of a subscription as of a query: VALIDATION_FAILED and variables.<name>, in the stream', async () => {
    const subscription = encodeURIComponent(
      'subscription ($id: ID!) { agreementEvents(agreementId: $id) { __typename } }',
    );
    for (const [variables, message] of [
      ['{"id":{}}', 'Variable "$id": ID cannot represent value: {}'],
      ['{}', 'Variable "$id" (ID!) is required and was not provided'],
      ['{"id":null}', 'Variable "$id" (ID!) must not be null'],
    ] as const) {
      const response = await fetch(
        `${kit.server.url}/graphql?query=${subscription}&variables=${encodeURIComponent(variables)}`,
        { headers: { accept: 'text/event-stream', authorization: `Bearer ${kit.cast.client.token}` } },
      );
      // The stream holds the one result and completes.
      const data = (await response.text())
        .split('\n')
        .filter((line) => line.startsWith('data: {'))
        .map(
          (line) => JSON.parse(line.slice(6)) as GraphqlResponse & { errors: { extensions?: { field?: string } }[] },
        );
      expect([variables, response.status, data.length]).toEqual([variables, 200, 1]);
      const [error] = data[0]?.errors ?? [];
      expect([variables, error?.message, error?.extensions?.code, error?.extensions?.field]).toEqual([
        variables,
        message,
        'VALIDATION_FAILED',
        'variables.id',
      ]);
    }
  });

  it('refuses a subscription whose variables or extensions are not one JSON object with 400 naming the parameter, without a 500', async () => {
    const query = encodeURIComponent('subscription { governanceEvents { __typename } }');
    for (const [name, value] of [
      ['variables', '{bad'],
      ['extensions', 'notjson'],
      ['variables', '[1]'],
      ['extensions', '"text"'],
    ] as const) {
      const response = await fetch(`${kit.server.url}/graphql?query=${query}&${name}=${encodeURIComponent(value)}`, {
        headers: { accept: 'text/event-stream' },
      });
      const body = graphqlRefusalIn(await response.json());
      expect([name, value, response.status, body.code, body.field]).toEqual([
        name,
        value,
        400,
        'MALFORMED_REQUEST',
        `query.${name}`,
      ]);
    }
    const repeated = await fetch(`${kit.server.url}/graphql?query=${query}&variables={}&variables={}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect([repeated.status, graphqlRefusalIn(await repeated.json()).field]).toEqual([400, 'query.variables']);
  });

  it('names the missing document of a subscription over GET, in the stream an EventSource reads', async () => {
    for (const search of ['', '?query=', '?variables=%7B%7D']) {
      const response = await fetch(`${kit.server.url}/graphql${search}`, { headers: { accept: 'text/event-stream' } });
      expect([search, response.status]).toEqual([search, 200]);
      const data = (await response.text()).match(/^event: next\ndata: (.*)$/m)?.[1];
      expect([search, graphqlRefusalIn(JSON.parse(data ?? 'null'))]).toEqual([
        search,
        expect.objectContaining({
          status: 400,
          code: 'MALFORMED_REQUEST',
          field: 'query.query',
          message: 'query.query: is missing: a GraphQL request carries its document',
        }),
      ]);
    }
  });

  it('refuses a subscription parameter whose percent-encoded bytes are not UTF-8 with 400 naming it, before any stream opens', async () => {
    const subscription = encodeURIComponent(
      'subscription ($id: ID!) { agreementEvents(agreementId: $id) { __typename } }',
    );
    const invalidVariables = `%7B%22id%22%3A%22A%C3%28%22%7D`; // {"id":"A\xC3("}
    for (const [search, field] of [
      [`query=${subscription}&variables=${invalidVariables}`, 'query.variables'],
      [`query=${subscription}%FF&variables=%7B%7D`, 'query.query'],
      [`query=${subscription}&operationName=%ED%A0%80`, 'query.operationName'], // an encoded surrogate
      [`query=${subscription}&ext%65nsions=%80`, 'query.extensions'],
    ] as const) {
      const response = await fetch(`${kit.server.url}/graphql?${search}`, { headers: { accept: 'text/event-stream' } });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = graphqlRefusalIn(await response.json());
      expect([search, response.status, body.code, body.field, body.message]).toEqual([
        search,
        400,
        'MALFORMED_REQUEST',
        field,
        `${field}: is not UTF-8 once percent-decoded`,
      ]);
    }
    // Well-formed UTF-8, a `%` that escapes nothing, `+` for a space and other parameters pass the gate (to authentication).
    const valid = await fetch(
      `${kit.server.url}/graphql?query=${subscription}&variables=%7B%22id%22%3A%22%C3%A9%zz+x%22%7D&other=%FF`,
      { headers: { accept: 'text/event-stream' } },
    );
    const passed = (await valid.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect([valid.status, passed.errors?.[0]?.extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('caps the subscriptions one caller holds open (429 TOO_MANY_SUBSCRIPTIONS), counting each until its connection closes', async () => {
    const capped = await AgreementKit.start({ GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER: '2' });
    const opened: SseSubscription[] = [];
    try {
      const document = 'subscription { governanceEvents { name } }';
      const as = (token: string) => ({ authorization: `Bearer ${token}` });
      const client = as(capped.cast.client.token);
      opened.push(await SseSubscription.open(capped.server.url, document, client));
      opened.push(await SseSubscription.open(capped.server.url, document, client));
      const third = await fetch(`${capped.server.url}/graphql?query=${encodeURIComponent(document)}`, {
        headers: { accept: 'text/event-stream', ...client },
      });
      expect([third.status, graphqlRefusalIn(await third.json())]).toMatchObject([
        429,
        { code: 'TOO_MANY_SUBSCRIPTIONS', message: expect.stringMatching(/holds 2 open subscriptions/) as string },
      ]);
      // Over POST too; a query is no subscription, and another caller has a count of their own.
      const posted = await fetch(`${capped.server.url}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...client },
        body: JSON.stringify({ query: document }),
      });
      expect([posted.status, graphqlRefusalIn(await posted.json()).code]).toEqual([429, 'TOO_MANY_SUBSCRIPTIONS']);
      const query = await capped.server.request('POST', '/graphql', {
        token: capped.cast.client.token,
        body: { query: '{ me { userId } }' },
      });
      expect(query.status).toBe(200);
      opened.push(await SseSubscription.open(capped.server.url, document, as(capped.cast.freelancer.token)));
      // Once a connection closes its place is free again (the server hears of it a moment later).
      opened.shift()?.close();
      let reopened: SseSubscription | undefined;
      while (reopened === undefined) {
        reopened = await SseSubscription.open(capped.server.url, document, client).catch(() => undefined);
      }
      opened.push(reopened);
    } finally {
      for (const subscription of opened) subscription.close();
      await capped.close();
    }
  });
});
