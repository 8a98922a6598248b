import { once } from 'node:events';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { graphqlRefusalIn, refusalAt } from '../test-support/party-refusals.js';
import { suiteServer } from '../test-support/suite-server.js';
import type { TestServer } from '../test-support/test-server.js';

/** Raw HTTP, because these requests are deliberately not what the JSON helpers send. */
async function send(
  server: TestServer,
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; body: { code?: string; field?: string } }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
  });
  return { status: response.status, body: (await response.json()) as { code?: string; field?: string } };
}

describe('request bodies the framework refuses get their 4xx, never 500', () => {
  const server = suiteServer();

  it.each([
    [
      'over the 1 MB limit',
      JSON.stringify({ title: 'x'.repeat(1_100_000) }),
      { 'content-type': 'application/json' },
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['not JSON at all', '{"title": ', { 'content-type': 'application/json' }, 400, 'MALFORMED_REQUEST'],
    ['JSON sent as text/plain', '{"title":"x"}', { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['form-encoded', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'in a charset other than UTF-8',
      '{"title":"x"}',
      { 'content-type': 'application/json; charset=latin1' },
      415,
      'UNSUPPORTED_CHARSET',
    ],
    [
      'in an unknown content encoding',
      '{"title":"x"}',
      { 'content-type': 'application/json', 'content-encoding': 'compress' },
      415,
      'UNSUPPORTED_ENCODING',
    ],
  ])('refuses a body %s, naming the body or the header at fault', async (what, body, headers, status, code) => {
    const field = ['UNSUPPORTED_MEDIA_TYPE', 'UNSUPPORTED_CHARSET'].includes(code)
      ? 'header.content-type'
      : code === 'UNSUPPORTED_ENCODING'
        ? 'header.content-encoding'
        : 'body';
    // A provider callback is read as bytes whatever it declares, and refused 401 when
    // unsigned before they are read (settlement-routes.test); its bytes are still bounded
    // and decoded as every other body's.
    const bytesAlone = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_ENCODING'].includes(code);
    const paths = ['/v1/agreements', ...(bytesAlone ? ['/v1/settlement/callbacks/sandbox'] : []), '/v1/auth/token'];
    // A body is refused once its route knows its caller may call it: a stranger is told
    // 401 on a route that needs credentials, unless the body was too large to read at all.
    const client = await server().person(`bodies-${what.replace(/[^a-z0-9]+/gi, '-')}`, 'ClientOrg', 'client');
    for (const path of paths) {
      const answer = await send(server(), path, body, { ...headers, authorization: `Bearer ${client.token}` });
      expect([path, answer.status, answer.body.code, answer.body.field]).toEqual([path, status, code, field]);
    }
    const stranger = await send(server(), '/v1/agreements', body, headers);
    expect(stranger.status).toBe(code === 'PAYLOAD_TOO_LARGE' ? 413 : 401);
  });

  it('says a bare JSON value such as null is no object, rather than that it is not JSON, naming the body', async () => {
    for (const body of ['null', '1', '"x"', 'true']) {
      const response = await fetch(`${server().url}/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect([body, response.status]).toEqual([body, 400]);
      expect(await response.json()).toMatchObject({
        code: 'MALFORMED_REQUEST',
        field: 'body',
        message: expect.stringContaining('must be a JSON object or array') as string,
      });
    }
  });

  it('refuses a corrupt or truncated compressed body as malformed', async () => {
    const truncated = gzipSync(Buffer.from(JSON.stringify({ userId: 'x', password: 'y' }))).subarray(0, 12);
    for (const [encoding, body] of [
      ['gzip', Buffer.from('not gzip at all')],
      ['deflate', Buffer.from('not deflate either')],
      ['gzip', truncated],
    ] as const) {
      const answer = await send(server(), '/v1/auth/token', body, {
        'content-type': 'application/json',
        'content-encoding': encoding,
      });
      expect([encoding, answer.status, answer.body.code]).toEqual([encoding, 400, 'MALFORMED_REQUEST']);
    }
  });

  it('refuses a body with a key that has no canonical encoding, naming it, on any route', async () => {
    const token = (await server().person('canon-client', 'ClientOrg', 'client')).token;
    const answer = await fetch(`${server().url}/v1/agreements/A-1/milestones/m1/deliverables`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body:
        '{"artifactSha256":"' +
        'a'.repeat(64) +
        '","uri":"https://a.example/x","claimedMetrics":{"__proto__":{"accuracy":1}}}',
    });
    expect(answer.status).toBe(422);
    expect(await answer.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.claimedMetrics.__proto__' });
  });

  it('refuses a body naming one member twice, which JSON.parse would resolve silently, naming the member', async () => {
    const token = (await server().person('twice-client', 'ClientOrg', 'client')).token;
    const twice = [
      ['/v1/auth/token', '{"userId":"someone","userId":"someone-else","password":"p"}', 'body.userId', false],
      ['/v1/auth/token', '{"userId":"someone","password":"p","password":"p"}', 'body.password', false],
      [
        '/v1/agreements/A-1/milestones/m1/deliverables',
        `{"artifactSha256":"${'a'.repeat(64)}","uri":"https://a.example/x","claimedMetrics":{"f1":0.5,"f1":0.9}}`,
        'body.claimedMetrics.f1',
        false,
      ],
      ['/v1/auth/token', '{"userId":"someone","userId":"someone-else","password":"p"}', 'body.userId', true],
    ] as const;
    for (const [path, body, field, gzipped] of twice) {
      const answer = await send(server(), path, gzipped ? gzipSync(Buffer.from(body)) : body, {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        ...(gzipped ? { 'content-encoding': 'gzip' } : {}),
      });
      expect([field, answer.status, answer.body]).toEqual([
        field,
        400,
        expect.objectContaining({
          code: 'MALFORMED_REQUEST',
          field,
          message: `${field}: appears twice in one JSON object; member names must be unique (I-JSON, RFC 7493 §2.3)`,
        }),
      ]);
    }
  });

  it('refuses a body whose bytes are not UTF-8 rather than storing replacement characters, over REST and GraphQL', async () => {
    const token = (await server().person('utf8-freelancer', 'TalentOrg', 'freelancer')).token;
    const bodies = [
      [
        '/v1/ip/works',
        Buffer.concat([
          Buffer.from('{"workId":"W-utf8","title":"bad '),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(' bytes"}'),
        ]),
      ],
      // A lone continuation byte, and an overlong encoding of "/" (0xC0 0xAF), are not UTF-8 either.
      ['/v1/ip/works', Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0x80]), Buffer.from('"}')])],
      ['/v1/ip/works', Buffer.concat([Buffer.from('{"title":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])],
      [
        '/graphql',
        Buffer.concat([
          Buffer.from('{"query":"{ me { userId } }","variables":{"x":"'),
          Buffer.from([0xed, 0xa0, 0x80]),
          Buffer.from('"}}'),
        ]),
      ],
    ] as const;
    for (const [path, bytes] of bodies) {
      for (const gzipped of [false, true]) {
        const answer = await send(server(), path, gzipped ? gzipSync(bytes) : bytes, {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          ...(gzipped ? { 'content-encoding': 'gzip' } : {}),
        });
        expect([
          path,
          gzipped,
          answer.status,
          refusalAt(path, answer.body).code,
          refusalAt(path, answer.body).field,
        ]).toEqual([path, gzipped, 400, 'MALFORMED_REQUEST', 'body']);
      }
    }
    const stored = await server().request('GET', '/v1/ip/works/W-utf8', { token });
    expect(stored.status).toBe(404);
  });

  it('refuses JSON in UTF-16 or UTF-32, where a name written twice would pass a check reading UTF-8', async () => {
    const text = '{"userId":"tara","\\u0075serId":"carol","password":"p"}';
    for (const [charset, bytes] of [
      ['utf-16le', Buffer.from(text, 'utf16le')],
      ['utf-16be', Buffer.from(text, 'utf16le').swap16()],
      ['utf-32le', Buffer.concat(Array.from(Buffer.from(text, 'latin1'), (byte) => Buffer.from([byte, 0, 0, 0])))],
    ] as const) {
      for (const path of ['/v1/auth/token', '/graphql']) {
        const answer = await send(server(), path, bytes, { 'content-type': `application/json; charset=${charset}` });
        expect([
          charset,
          path,
          answer.status,
          refusalAt(path, answer.body).code,
          refusalAt(path, answer.body).field,
        ]).toEqual([charset, path, 415, 'UNSUPPORTED_CHARSET', 'header.content-type']);
      }
    }
    const utf8 = await send(server(), '/v1/auth/token', text, { 'content-type': 'application/json; charset=UTF-8' });
    expect([utf8.status, utf8.body.field]).toEqual([400, 'body.userId']);
  });

  it('refuses GraphQL variables naming one member twice, in a POST body or a GET parameter', async () => {
    const post = await send(server(), '/graphql', '{"query":"{ __typename }","variables":{"first":1,"first":2}}', {
      'content-type': 'application/json',
    });
    expect([post.status, graphqlRefusalIn(post.body).code, graphqlRefusalIn(post.body).field]).toEqual([
      400,
      'MALFORMED_REQUEST',
      'variables.first',
    ]);
    // GET carries subscriptions only (over server-sent events).
    const query = new URLSearchParams({
      query: 'subscription { governanceEvents { __typename } }',
      variables: '{"first":1,"first":2}',
    });
    const get = await fetch(`${server().url}/graphql?${query.toString()}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect([get.status, graphqlRefusalIn(await get.json()).field]).toEqual([400, 'query.variables.first']);
  });

  it('refuses a gzip body that inflates past the limit', async () => {
    const inflated = gzipSync(Buffer.from(JSON.stringify({ title: 'y'.repeat(5_000_000) })));
    const answer = await send(server(), '/v1/auth/token', inflated, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect([answer.status, answer.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });
});

describe('a body declared larger than the limit', () => {
  const server = suiteServer();

  it('is refused 413 at once, before it arrives, and its connection closed', async () => {
    const { port } = new URL(server().url);
    for (const [method, path] of [
      ['POST', '/v1/credentials/verify'],
      ['POST', '/v1/settlement/callbacks/sandbox'],
      ['POST', '/graphql'],
      // Answered before any route reads a body: refused all the same, not left waiting for it.
      ['GET', '/healthz'],
      ['OPTIONS', '/v1/agreements'],
    ] as const) {
      const socket = net.connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const closed = once(socket, 'close');
      // Two of the two million bytes declared: only an answer before the rest arrives can come.
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{}`,
      );
      await closed;
      expect([path, received.split('\r\n')[0]]).toEqual([path, 'HTTP/1.1 413 Payload Too Large']);
      expect(received).toContain('"code":"PAYLOAD_TOO_LARGE"');
    }
  });
});
