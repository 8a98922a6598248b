import net from 'node:net';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/** Sends `raw` as it is over a fresh connection and reads until the server closes it. */
function exchange(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', reject);
  });
}

function parsed(answer: string): { statusLine: string; headers: Map<string, string>; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { statusLine, headers, body: JSON.parse(body) as unknown };
}

describe('a request Node refuses before the app sees it', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it.each([
    ['a URL over 16 KB', `GET /v1/agreements?role=${'x'.repeat(17_000)} HTTP/1.1\r\nHost: api\r\n\r\n`],
    ['a header over 16 KB', `GET /healthz HTTP/1.1\r\nHost: api\r\nX-Junk: ${'x'.repeat(17_000)}\r\n\r\n`],
  ])('answers %s with 431 in the API’s JSON error shape', async (_case, raw) => {
    const { statusLine, headers, body } = parsed(await exchange(server.url, raw));

    expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(headers.get('connection')).toBe('close');
    expect(body).toEqual({
      status: 431,
      code: 'HEADERS_TOO_LARGE',
      message: 'the request line and headers together exceed 16 KB; send long values in a POST body',
      requestId: headers.get('x-request-id'),
    });
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a request that is not HTTP/1.1 with 400 MALFORMED_REQUEST, as JSON', async () => {
    const { statusLine, body } = parsed(await exchange(server.url, 'NOT HTTP AT ALL\r\n\r\n'));

    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(body).toMatchObject({
      status: 400,
      code: 'MALFORMED_REQUEST',
      message: 'the request is not valid HTTP/1.1',
    });
  });

  it('answers an HTTP/1.1 request without Host with 400 naming header.host, in the JSON error shape; HTTP/1.0 needs none', async () => {
    const { statusLine, headers, body } = parsed(
      await exchange(server.url, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'),
    );
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(headers.get('content-security-policy')).toBeDefined();
    expect(body).toEqual({
      status: 400,
      code: 'MALFORMED_REQUEST',
      message: 'header.host: an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)',
      field: 'header.host',
      requestId: headers.get('x-request-id'),
    });
    const older = await exchange(server.url, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(older.startsWith('HTTP/1.1 200 OK')).toBe(true);
    // Node itself keeps the first of two Host headers without a word.
    for (const version of ['1.1', '1.0']) {
      const twice = parsed(
        await exchange(server.url, `GET /healthz HTTP/${version}\r\nHost: a\r\nhost: b\r\nConnection: close\r\n\r\n`),
      );
      expect([version, twice.statusLine, twice.body]).toMatchObject([
        version,
        'HTTP/1.1 400 Bad Request',
        {
          code: 'MALFORMED_REQUEST',
          field: 'header.host',
          message: 'header.host: a request carries one Host header (RFC 9112 §3.2)',
        },
      ]);
    }
  });

  it('answers a refused request on a kept-alive connection whose earlier answer is complete, as on a new one', async () => {
    const { hostname, port } = new URL(server.url);
    const socket = net.connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    const closed = new Promise<void>((resolve) => {
      socket.on('close', () => {
        resolve();
      });
    });
    socket.write('GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n');
    const deadline = Date.now() + 10_000;
    while (!/\r\n\r\n\{.*\}$/s.test(received) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(received.startsWith('HTTP/1.1 200 OK')).toBe(true);
    const first = received.length;
    socket.write(`GET /healthz HTTP/1.1\r\nHost: api\r\nX-Junk: ${'x'.repeat(17_000)}\r\n\r\n`);
    await closed;

    const { statusLine, body } = parsed(received.slice(first));
    expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(body).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
  });

  it('still answers well-formed requests on other connections', async () => {
    expect((await server.request('GET', '/healthz')).status).toBe(200);
  });
});
