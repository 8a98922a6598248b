import { startTestServer } from '../test-support/test-server.js';

describe('rate limits per caller', () => {
  it('counts providers’ signed callbacks apart from people’s requests from the same address', async () => {
    const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '2', CALLBACK_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const callback = () =>
        limited.request('POST', '/v1/settlement/callbacks/sandbox', {
          body: { type: 'payment_order.paid' },
          headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
        });
      for (let sent = 0; sent < 3; sent += 1) expect((await callback()).status).not.toBe(429);
      expect(await callback()).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
      // The callbacks took nothing of the address's own budget, which still holds its two requests.
      const verify = () =>
        limited.request('POST', '/v1/credentials/verify', {
          body: { credentialId: 'urn:uuid:00000000-0000-4000-8000-000000000000', revealedClaims: [] },
        });
      expect((await verify()).status).toBe(200);
      expect((await verify()).status).toBe(200);
      expect(await verify()).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
    } finally {
      await limited.close();
    }
  });
});
