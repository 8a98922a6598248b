import http from 'node:http';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { createPasswordPerson } from '../test-support/password-people.js';

const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2lnbmF0dXJl';

const login = (server: TestServer, userId: string, password: string) =>
  server.request('POST', '/v1/auth/token', { body: { userId, password } });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe('failed credentials are throttled', () => {
  it('does not count an empty Authorization or X-API-Key header as a failed credential', async () => {
    const server = await startTestServer();
    try {
      const { token } = await server.person('cleo', 'ClientOrg', 'client');
      for (let attempt = 0; attempt < 25; attempt += 1) {
        const blanks: Record<string, string>[] = [
          { authorization: 'Bearer ' },
          { authorization: 'Bearer' },
          { 'x-api-key': '' },
        ];
        for (const headers of blanks) {
          const blank = await server.request('GET', '/v1/me', { headers });
          expect([blank.status, (blank.body as { code: string }).code]).toEqual([401, 'UNAUTHENTICATED']);
        }
      }
      expect((await server.request('GET', '/v1/me', { token })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('answers 429 with Retry-After once an address has presented 20 wrong tokens or keys, even to a right one', async () => {
    const server = await startTestServer();
    try {
      const { token } = await server.person('carla', 'ClientOrg', 'client');
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 12; attempt += 1) {
        statuses.push((await server.request('GET', '/v1/me', { token: forged })).status);
        statuses.push((await server.request('GET', '/v1/me', { apiKey: `glk_aaaaaaaaaaaa_${'x'.repeat(43)}` })).status);
      }
      expect(statuses.slice(0, 20)).toEqual(Array<number>(20).fill(401));
      expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);

      const right = await server.request('GET', '/v1/me', { token });
      expect(right.status).toBe(429);
      expect(right.body).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
      // Nothing that needs no credential is held back.
      expect((await server.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("backs an account off after 10 wrong passwords, without issuing a token or touching others' logins", async () => {
    const server = await startTestServer();
    try {
      await createPasswordPerson(server.accounts, 'dana', 'ClientOrg', 'client', 'dana password 1');
      await createPasswordPerson(server.accounts, 'eric', 'ClientOrg', 'client', 'eric password 1');
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const wrong = await login(server, 'dana', `guess number ${attempt}`);
        expect(wrong.status).toBe(401);
        expect(wrong.body).toMatchObject({ code: 'UNAUTHENTICATED' });
      }
      const right = await login(server, 'dana', 'dana password 1');
      expect(right.status).toBe(429);
      expect(right.body).toMatchObject({ code: 'RATE_LIMITED' });
      expect(right.body).not.toHaveProperty('accessToken');
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);

      expect((await login(server, 'eric', 'eric password 1')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('charges wrong GraphQL logins to the address too', async () => {
    const server = await startTestServer({}, { credentialThrottle: { failuresPerAddress: 4 } });
    try {
      await createPasswordPerson(server.accounts, 'gwen', 'ClientOrg', 'client', 'gwen password 1');
      const mutation = (userId: string) =>
        server.request('POST', '/graphql', {
          body: { query: `mutation { createToken(userId: "${userId}", password: "wrong one") { accessToken } }` },
        });
      for (const userId of ['ghost-1', 'ghost-2', 'ghost-3', 'ghost-4']) {
        const answer = await mutation(userId);
        expect(answer.body).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
      }
      const throttled = await mutation('ghost-5');
      expect(throttled.body).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      const rest = await login(server, 'gwen', 'gwen password 1');
      expect(rest.status).toBe(429);
    } finally {
      await server.close();
    }
  });

  it('takes as long to refuse an unknown user as a known one', async () => {
    const server = await startTestServer({}, { credentialThrottle: { failuresPerAddress: 1000 } });
    try {
      await createPasswordPerson(server.accounts, 'hana', 'ClientOrg', 'client', 'hana password 1');
      const timed = async (userId: string): Promise<number> => {
        const started = performance.now();
        expect((await login(server, userId, 'not the password')).status).toBe(401);
        return performance.now() - started;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      for (let round = 0; round < 7; round += 1) {
        known.push(await timed('hana'));
        unknown.push(await timed(`nobody-${round}`));
      }
      // Without the dummy hash an unknown user is answered about twenty times faster.
      expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    } finally {
      await server.close();
    }
  });

  it('refuses a request with both a bearer token and an API key, even valid ones, and does nothing', async () => {
    const server = await startTestServer();
    try {
      const admin = await server.person('ivy-admin', 'ClientOrg', 'admin');
      const service = await server.service('ivy-sync', 'ClientOrg', 'admin');
      const keysBefore = await server.db.selectFrom('api_keys').select('id').execute();
      for (const apiKey of [service.key, `glk_aaaaaaaaaaaa_${'x'.repeat(43)}`]) {
        const both = await server.request('POST', '/v1/admin/api-keys', {
          token: admin.token,
          apiKey,
          body: { name: 'ivy-extra', org: 'ClientOrg', role: 'hr' },
        });
        expect(both.status).toBe(400);
        expect(both.body).toMatchObject({ code: 'MALFORMED_REQUEST' });
      }
      const twoWays = await server.request('GET', '/v1/me', {
        headers: { authorization: `ApiKey ${service.key}`, 'x-api-key': service.key },
      });
      expect(twoWays.status).toBe(400);
      // Two Authorization headers: Node would keep only the first, so they are counted on the raw request.
      const other = await server.person('ivy-other', 'ClientOrg', 'client');
      const twoBearers = await new Promise<number>((resolve, reject) => {
        const request = http.request(`${server.url}/v1/me`, { method: 'GET' }, (answer) => {
          answer.resume();
          resolve(answer.statusCode ?? 0);
        });
        request.on('error', reject);
        request.setHeader('authorization', [`Bearer ${admin.token}`, `Bearer ${other.token}`]);
        request.end();
      });
      expect(twoBearers).toBe(400);
      expect(await server.db.selectFrom('api_keys').select('id').execute()).toEqual(keysBefore);
    } finally {
      await server.close();
    }
  });
});
