import { AgreementKit, terms } from '../test-support/agreement-test-kit.js';
import { graphqlRefusalIn } from '../test-support/party-refusals.js';
import { startTestServer } from '../test-support/test-server.js';

const draftDocument = `mutation ($input: DraftAgreementInput!) {
  draftAgreement(input: $input) { agreement { agreementId } }
}`;

describe('what the GraphQL endpoint lets through', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const draft = () => ({
    query: draftDocument,
    variables: { input: { ...kit.draftRequest(kit.nextAgreementId()), terms } },
  });

  const send = async (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${kit.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${kit.cast.evaluator.token}`, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    };
  };

  it.each([
    ['form-encoded', 'application/x-www-form-urlencoded', () => `query=${encodeURIComponent(draftDocument)}`],
    [
      'multipart',
      'multipart/form-data; boundary=b',
      () => `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify(draft())}\r\n--b--\r\n`,
    ],
    ['text/plain', 'text/plain', () => JSON.stringify(draft())],
    ['application/graphql', 'application/graphql', () => draftDocument],
  ])('refuses a %s operation with 415 and runs nothing', async (_case, contentType, body) => {
    const before = kit.mark();
    const response = await send('POST', '/graphql', { body: body(), headers: { 'content-type': contentType } });
    expect([response.status, graphqlRefusalIn(response.body).code, graphqlRefusalIn(response.body).field]).toEqual([
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'header.content-type',
    ]);
    expect(kit.mark()).toEqual(before);
  });

  it('answers a GET subscription naming an operation its document lacks as its other refusals: one event, on a 200 stream', async () => {
    const document = 'subscription S { agreementEvents(agreementId: "A-1") { agreementId } }';
    const response = await fetch(`${kit.server.url}/graphql?query=${encodeURIComponent(document)}&operationName=Nope`, {
      headers: { authorization: `Bearer ${kit.cast.evaluator.token}`, accept: 'text/event-stream' },
    });
    const text = await response.text();
    expect([response.status, response.headers.get('content-type')]).toEqual([
      200,
      expect.stringContaining('text/event-stream'),
    ]);
    expect(text).toMatch(/^event: next\ndata: .*"errors":\[.*Nope/m);
    expect(text).toMatch(/^event: complete$/m);
  });

  it('refuses queries and mutations over GET, and other methods, with 405', async () => {
    const before = kit.mark();
    const mutation = `/graphql?query=${encodeURIComponent('mutation { createToken(userId: "carol", password: "x") { accessToken } }')}`;
    const query = `/graphql?query=${encodeURIComponent('{ me { userId } }')}`;
    for (const [method, path, accept] of [
      ['GET', mutation, 'application/json'],
      ['GET', query, 'application/json'],
      ['GET', query, 'text/event-stream'],
      ['GET', '/graphql', 'text/html'],
      ['PUT', query, 'application/json'],
      ['DELETE', '/graphql', 'application/json'],
    ] as const) {
      const response = await send(method, path, { headers: { accept } });
      expect([method, path, accept, response.status, graphqlRefusalIn(response.body).code]).toEqual([
        method,
        path,
        accept,
        405,
        'METHOD_NOT_ALLOWED',
      ]);
      expect(response.headers.get('allow')).toMatch(/POST/);
    }
    expect(kit.mark()).toEqual(before);
  });

  /** A 406 at /graphql for the Accept header `accept`, naming the header. */
  const expectNotAcceptable = (accept: string | undefined, response: { status: number; body: unknown }) => {
    const refusal = graphqlRefusalIn(response.body);
    expect([accept, response.status, refusal.code, refusal.field]).toEqual([
      accept,
      406,
      'NOT_ACCEPTABLE',
      'header.accept',
    ]);
  };

  it('streams a subscription over GET to an Accept that allows a stream, and refuses any other with 406 naming the header', async () => {
    const subscription = `/graphql?query=${encodeURIComponent('subscription { governanceEvents { name } }')}`;
    for (const accept of ['application/json', 'application/json, text/html']) {
      expectNotAcceptable(accept, await send('GET', subscription, { headers: { accept } }));
    }
    // curl's default (*/*), a range, or no Accept at all: a stream is allowed, so one is sent.
    for (const accept of ['*/*', 'text/*', undefined]) {
      const stop = new AbortController();
      const response = await fetch(`${kit.server.url}${subscription}`, {
        headers: { authorization: `Bearer ${kit.cast.evaluator.token}`, ...(accept === undefined ? {} : { accept }) },
        signal: stop.signal,
      });
      expect([accept, response.status, response.headers.get('content-type')]).toEqual([
        accept,
        200,
        expect.stringMatching(/^text\/event-stream/),
      ]);
      stop.abort();
    }
  });

  it('refuses a subscription POSTed without accepting a stream with 406 naming the header, at once', async () => {
    const subscription = JSON.stringify({
      query: 'subscription Events { agreementEvents(agreementId: "A-1") { name } }',
      operationName: 'Events',
    });
    // Subscriptions stream as server-sent events only: multipart/mixed answers queries, not them.
    for (const accept of [
      undefined,
      'application/json',
      'application/graphql-response+json, application/json',
      'multipart/mixed',
      'multipart/mixed; deferSpec=20220824',
    ]) {
      const response = await send('POST', '/graphql', {
        body: subscription,
        headers: { 'content-type': 'application/json', ...(accept === undefined ? {} : { accept }) },
      });
      expectNotAcceptable(accept, response);
    }
    // A query whose text holds the word (here in a comment) is no subscription.
    const query = await send('POST', '/graphql', {
      body: JSON.stringify({ query: '{ me { userId } } # subscription' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(query.status).toBe(200);
  });

  it('answers a POST in JSON or a stream whenever the Accept header allows one, and refuses one that allows none with 406 naming it', async () => {
    const query = JSON.stringify({ query: '{ me { userId } }' });
    for (const accept of [
      undefined,
      '*/*',
      'application/*',
      'application/json',
      'application/graphql-response+json',
      'application/graphql-response+json, application/json;q=0.9',
      'text/html, application/json;q=0.1',
      'text/event-stream',
      'text/*',
      'multipart/mixed',
    ]) {
      const response = await fetch(`${kit.server.url}/graphql`, {
        method: 'POST',
        body: query,
        headers: {
          authorization: `Bearer ${kit.cast.evaluator.token}`,
          'content-type': 'application/json',
          ...(accept === undefined ? {} : { accept }),
        },
      });
      const text = await response.text();
      expect([accept, response.status, text]).toEqual([
        accept,
        200,
        expect.stringContaining(`"userId":"${kit.cast.evaluator.party.userId}"`),
      ]);
    }
    for (const accept of ['application/xml', 'text/html', 'image/png, text/plain', 'application/json;q=0']) {
      const refused = await send('POST', '/graphql', {
        body: query,
        headers: { 'content-type': 'application/json', accept },
      });
      expectNotAcceptable(accept, refused);
      expect(refused.headers.get('content-security-policy')).not.toBeNull();
    }
  });

  it('refuses a member GraphQL over HTTP does not define with 400 naming it, alone or in a batch', async () => {
    const query = '{ me { userId } }';
    for (const [body, field] of [
      [{ query, foo: 1 }, 'foo'],
      [{ query, id: 'persisted' }, 'id'],
      [[{ query }, { query, documentId: 'x' }], '1.documentId'],
    ] as const) {
      const response = await send('POST', '/graphql', {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect([
        response.status,
        graphqlRefusalIn(response.body).code,
        graphqlRefusalIn(response.body).field,
        graphqlRefusalIn(response.body).message,
      ]).toEqual([
        400,
        'MALFORMED_REQUEST',
        field,
        `${field}: is not a member of a GraphQL request (query, operationName, variables, extensions)`,
      ]);
    }
  });

  it('counts every operation of a batch against the caller’s rate limit', async () => {
    const limited = await AgreementKit.start({ RATE_LIMIT_PER_MINUTE: '4' });
    try {
      const batch = (size: number) =>
        limited.server.request('POST', '/graphql', {
          token: limited.cast.client.token,
          body: Array.from({ length: size }, () => ({
            query: draftDocument,
            variables: { input: { ...limited.draftRequest(limited.nextAgreementId()), terms } },
          })),
        });
      const first = await batch(3);
      expect(first.status).toBe(200);
      const before = limited.mark();
      // Three operations were counted, not one request: two more take the caller past four.
      const second = await batch(2);
      expect([second.status, graphqlRefusalIn(second.body).code]).toEqual([429, 'RATE_LIMITED']);
      expect(limited.mark()).toEqual(before);
      const other = await limited.server.request('POST', '/graphql', {
        token: limited.cast.freelancer.token,
        body: { query: '{ me { userId } }' },
      });
      expect(other.status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('serves GraphiQL only when configured, with its own content security policy', async () => {
    const open = await startTestServer({ GRAPHQL_GRAPHIQL: 'true' });
    try {
      const page = await fetch(`${open.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/graphiql/i);
      expect(page.headers.get('content-security-policy')).toMatch(/script-src [^;]*https:\/\/unpkg\.com/);
      const api = await open.request('POST', '/graphql', { body: { query: '{ __typename }' } });
      expect(api.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    } finally {
      await open.close();
    }
  });

  it('answers CORS only to the configured origins', async () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/graphql`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
    const closed = await preflight(kit.server.url, 'https://app.example.com');
    expect(closed.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await startTestServer({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });
    try {
      const allowed = await preflight(listed.url, 'https://app.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await preflight(listed.url, 'https://evil.example.net');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await listed.request('POST', '/graphql', {
        body: { query: '{ __typename }' },
        headers: { origin: 'https://evil.example.net' },
      });
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await listed.close();
    }
  });
});
