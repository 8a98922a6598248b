import { SseSubscription } from '../test-support/sse-subscription.js';
import { suiteServer } from '../test-support/suite-server.js';

describe('response headers', () => {
  const server = suiteServer();

  it('marks every /v1 and /graphql answer no-store and nosniff, errors included', async () => {
    const { token } = await server().person('hedda', 'ClientOrg', 'client');
    const answers = [
      await server().request('GET', '/v1/me', { token }),
      await server().request('POST', '/v1/auth/token', { body: { userId: 'hedda', password: 'wrong password' } }),
      await server().request('GET', '/v1/nothing-here'),
      await server().request('POST', '/graphql', { token, body: { query: '{ me { userId } }' } }),
      await server().request('POST', '/graphql', { body: 'x'.repeat(1_100_000) }),
      await server().request('GET', '/graphql'),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 401, 404, 200, 413, 405]);
    for (const answer of answers) {
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
      expect(answer.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers a subscription stream no-store and no-transform, with no made-up content coding', async () => {
    const { token } = await server().person('sven', 'ClientOrg', 'admin');
    const stream = await SseSubscription.open(server().url, 'subscription { governanceEvents { name } }', {
      authorization: `Bearer ${token}`,
    });
    try {
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.headers.get('cache-control')).toBe('no-store, no-transform');
      // `none` is no content coding: a strict client would refuse the stream.
      expect(stream.headers.get('content-encoding')).toBeNull();
      expect(stream.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      stream.close();
    }
  });

  it('keeps the request id a client offers apart from the server’s own', async () => {
    const offered = await server().request('GET', '/v1/nothing-here', {
      headers: { 'x-request-id': 'client-chosen-1' },
    });
    const serverId = offered.headers.get('x-request-id');
    expect(serverId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(offered.headers.get('x-client-request-id')).toBe('client-chosen-1');
    expect(offered.body).toMatchObject({ code: 'ROUTE_NOT_FOUND', requestId: serverId });

    const again = await server().request('GET', '/v1/nothing-here', { headers: { 'x-request-id': 'client-chosen-1' } });
    expect(again.headers.get('x-request-id')).not.toBe(serverId);

    const malformed = await server().request('GET', '/v1/nothing-here', { headers: { 'x-request-id': 'has spaces' } });
    expect(malformed.headers.get('x-client-request-id')).toBeNull();
  });
});
