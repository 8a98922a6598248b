import { startTestServer } from '../test-support/test-server.js';

describe('/metrics and /readyz', () => {
  const token = 'a metrics token of some length';

  it('answer only the configured bearer token when one is set; /healthz stays open', async () => {
    const server = await startTestServer({ METRICS_TOKEN: token });
    try {
      for (const path of ['/metrics', '/readyz']) {
        const none = await server.request('GET', path);
        expect([path, none.status, (none.body as { code?: string }).code]).toEqual([path, 401, 'UNAUTHENTICATED']);
        const wrong = await server.request('GET', path, { headers: { authorization: 'Bearer not the token at all' } });
        expect([path, wrong.status]).toEqual([path, 401]);
        const right = await server.request('GET', path, { headers: { authorization: `Bearer ${token}` } });
        expect([path, right.status]).toEqual([path, 200]);
      }
      expect((await server.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('stay open without a token, and are rate-limited per address', async () => {
    const server = await startTestServer({ PROBE_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (const path of ['/metrics', '/readyz', '/metrics', '/readyz']) {
        statuses.push((await server.request('GET', path)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await server.request('GET', '/metrics');
      expect(refused.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect((await server.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
