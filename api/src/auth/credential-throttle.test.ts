import http from 'node:http';
import { CredentialThrottle, CredentialsThrottledError } from './credential-throttle.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { createPasswordPerson } from '../test-support/password-people.js';

const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2lnbmF0dXJl';

const login = (server: TestServer, userId: string, password: string) =>
  server.request('POST', '/v1/auth/token', { body: { userId, password } });

/** A request over a real socket from `localAddress` (any 127.x.y.z reaches the test server on Linux), so the server sees another client. */
function fromAddress(
  server: TestServer,
  localAddress: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${server.url}${path}`,
      {
        method,
        localAddress,
        headers: { ...options.headers, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (answer) => {
        let text = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => {
          text += chunk;
        });
        answer.on('end', () => {
          resolve({ status: answer.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

const loginFrom = (server: TestServer, localAddress: string, userId: string, password: string) =>
  fromAddress(server, localAddress, 'POST', '/v1/auth/token', { body: { userId, password } });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe('failed credentials are throttled', () => {
  it('does not count an empty Authorization or X-API-Key header, nor two credentials at once, as a failed credential', async () => {
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
        // Refused before either is examined: nothing was guessed.
        const both = await server.request('GET', '/v1/me', {
          token: forged,
          apiKey: `glk_aaaaaaaaaaaa_${'x'.repeat(43)}`,
        });
        expect([both.status, (both.body as { code: string }).code]).toEqual([400, 'MALFORMED_REQUEST']);
      }
      expect((await server.request('GET', '/v1/me', { token })).status).toBe(200);
      // A wrong token is still the first counted, not refused as from a locked-out address.
      expect((await server.request('GET', '/v1/me', { token: forged })).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('answers 429 with Retry-After to wrong tokens and keys once an address has presented 20, and still serves a right one', async () => {
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

      const wrong = await server.request('GET', '/v1/me', { token: forged });
      expect(wrong.status).toBe(429);
      expect(wrong.body).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(wrong.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another client behind the same address (a proxy, a NAT) is not locked out by them:
      // a token cannot be guessed, so serving a right one tells a guesser nothing.
      const right = await server.request('GET', '/v1/me', { token });
      expect([right.status, right.body]).toEqual([
        200,
        expect.objectContaining({ principal: expect.objectContaining({ id: 'carla' }) as unknown }),
      ]);
      expect((await server.request('GET', '/v1/me', { token: forged })).status).toBe(429);
      // Two credentials at once are malformed whatever the address's count.
      const both = await server.request('GET', '/v1/me', { token, apiKey: `glk_aaaaaaaaaaaa_${'x'.repeat(43)}` });
      expect([both.status, (both.body as { field: string }).field]).toEqual([400, 'header.authorization']);
      // Nor is password login closed to them: bad tokens have a count of their own.
      expect((await login(server, 'carla', 'password of carla')).status).toBe(200);
      // Nothing that needs no credential is held back.
      expect((await server.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("backs an account off from one address after 10 wrong passwords there, without issuing a token or touching others' logins", async () => {
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

  it('keeps an account open to a clean address while another address hammers it with wrong passwords', async () => {
    const server = await startTestServer();
    try {
      await createPasswordPerson(server.accounts, 'fern', 'ClientOrg', 'client', 'fern password 1');
      const attacker = '127.0.0.2';
      const owner = '127.0.0.3';
      const attempts: number[] = [];
      for (let attempt = 0; attempt < 15; attempt += 1) {
        attempts.push((await loginFrom(server, attacker, 'fern', `guess ${attempt}`)).status);
      }
      expect(attempts).toEqual([...Array<number>(10).fill(401), ...Array<number>(5).fill(429)]);
      // The attacker's own right guess is not even looked at.
      expect((await loginFrom(server, attacker, 'fern', 'fern password 1')).status).toBe(429);

      const ownLogin = await loginFrom(server, owner, 'fern', 'fern password 1');
      expect(ownLogin.status).toBe(200);
      expect(ownLogin.body).toHaveProperty('accessToken');
      // Still hammering: refused attempts are not counted, and the owner keeps logging in.
      for (let attempt = 0; attempt < 5; attempt += 1) {
        expect((await loginFrom(server, attacker, 'fern', `more ${attempt}`)).status).toBe(429);
        expect((await loginFrom(server, owner, 'fern', 'fern password 1')).status).toBe(200);
      }
    } finally {
      await server.close();
    }
  });

  it('closes password login to every address once wrong passwords from all addresses reach the account ceiling', async () => {
    const server = await startTestServer(
      {},
      { credentialThrottle: { failuresPerAccount: 5, failuresPerAccountAllAddresses: 12 } },
    );
    try {
      await createPasswordPerson(server.accounts, 'gail', 'ClientOrg', 'client', 'gail password 1');
      await createPasswordPerson(server.accounts, 'hugo', 'ClientOrg', 'client', 'hugo password 1');
      const statuses: number[] = [];
      for (const address of ['127.0.0.4', '127.0.0.5', '127.0.0.6']) {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          statuses.push((await loginFrom(server, address, 'gail', `guess ${attempt}`)).status);
        }
      }
      // 5 + 5 from the first two addresses, then the ceiling of 12 stops the third after two.
      expect(statuses).toEqual([...Array<number>(12).fill(401), 429, 429, 429]);
      const clean = await loginFrom(server, '127.0.0.7', 'gail', 'gail password 1');
      expect(clean.status).toBe(429);
      expect(clean.body).toMatchObject({ code: 'RATE_LIMITED' });
      // Other accounts, even from the same addresses, are untouched.
      expect((await loginFrom(server, '127.0.0.4', 'hugo', 'hugo password 1')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('counts two clients behind a trusted proxy apart, and together when the proxy is not trusted', async () => {
    const forgedFrom = (server: TestServer, client: string) =>
      fromAddress(server, '127.0.0.1', 'GET', '/v1/me', {
        headers: { authorization: `Bearer ${forged}`, 'x-forwarded-for': client },
      });
    const run = async (environment: Record<string, string>): Promise<number[]> => {
      const server = await startTestServer(environment, { credentialThrottle: { failuresPerAddress: 3 } });
      try {
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 4; attempt += 1)
          statuses.push((await forgedFrom(server, '203.0.113.7')).status);
        statuses.push((await forgedFrom(server, '198.51.100.9')).status);
        return statuses;
      } finally {
        await server.close();
      }
    };
    expect(await run({ TRUST_PROXY: 'loopback' })).toEqual([401, 401, 401, 429, 401]);
    expect(await run({ TRUST_PROXY: '1' })).toEqual([401, 401, 401, 429, 401]);
    expect(await run({})).toEqual([401, 401, 401, 429, 429]);
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

  it('examines no more guesses sent side by side than the limit allows: a batch of aliased logins, parallel requests', async () => {
    const server = await startTestServer();
    try {
      await createPasswordPerson(server.accounts, 'hana', 'ClientOrg', 'client', 'hana password 1');
      // Five operations of three aliases each: fifteen guesses at one account from one address, all at once.
      const operation = (n: number) => ({
        query: `mutation { ${[0, 1, 2].map((a) => `g${String(a)}: createToken(userId: "hana", password: "guess ${String(n)}-${String(a)}") { accessToken }`).join(' ')} }`,
      });
      const batch = await server.request('POST', '/graphql', { body: [0, 1, 2, 3, 4].map(operation) });
      const codes = (batch.body as { errors?: { extensions?: { code?: string } }[] }[]).flatMap((answer) =>
        (answer.errors ?? []).map((error) => error.extensions?.code),
      );
      expect(codes).toHaveLength(15);
      // The account's limit from one address is 10: ten guesses examined, the rest refused unexamined.
      expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(10);
      expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(5);
      // Parallel requests from another address: again ten examined, not more.
      const parallel = await Promise.all(
        Array.from({ length: 14 }, (_, n) => loginFrom(server, '127.0.0.7', 'hana', `parallel guess ${String(n)}`)),
      );
      expect(parallel.filter((answer) => answer.status === 401)).toHaveLength(10);
      expect(parallel.filter((answer) => answer.status === 429)).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  it('holds each of N workers to its share of a burst: the rest wait, and are refused for the window once those fail', async () => {
    // Two workers see each other's failures only once answered: each lets through half the
    // account's 10 at once, so the burst examines 10 between them, not 20.
    const worker = new CredentialThrottle({ examiningProcesses: 2 });
    const subject = { address: '127.0.0.9', account: 'ivy' };
    const ends: (() => void)[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) ends.push(await worker.beginAttempt(subject));
    // The sixth waits for a place rather than being refused at once.
    const sixth = worker.beginAttempt(subject).then(
      () => 'examined',
      (error: unknown) => error,
    );
    expect(
      await Promise.race([
        sixth,
        new Promise((resolve) =>
          setTimeout(() => {
            resolve('waiting');
          }, 200),
        ),
      ]),
    ).toBe('waiting');
    // The five fail, and so do the other worker's five: the counter is full of failures, and
    // the sixth is refused for the window (15 minutes).
    for (let failure = 0; failure < 5; failure += 1) await worker.recordFailure(subject);
    for (const end of ends) {
      await worker.recordFailure(subject);
      end();
    }
    const refused = await sixth;
    expect(refused).toBeInstanceOf(CredentialsThrottledError);
    expect((refused as CredentialsThrottledError).retryAfterSeconds).toBe(900);
    expect((refused as CredentialsThrottledError).message).toMatch(/^too many failed credentials/);
    // A process alone examines up to the whole limit at once.
    const one = new CredentialThrottle({ queueMs: 0 });
    const singles: (() => void)[] = [];
    for (let attempt = 0; attempt < 10; attempt += 1) singles.push(await one.beginAttempt(subject));
    await expect(one.beginAttempt(subject)).rejects.toBeInstanceOf(CredentialsThrottledError);
    for (const end of singles) end();
    // Had only this worker's five failed, the sixth would have been examined once they ended.
    const fresh = new CredentialThrottle({ examiningProcesses: 2 });
    const held: (() => void)[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) held.push(await fresh.beginAttempt(subject));
    const next = fresh.beginAttempt(subject).then(() => 'examined');
    for (const end of held) {
      await fresh.recordFailure(subject);
      end();
    }
    expect(await next).toBe('examined');
  });

  it("keeps a waiting guess out until the other workers' failures of the same moment have reached this one", async () => {
    const worker = new CredentialThrottle({ examiningProcesses: 2, replayMs: 500 });
    const subject = { address: '127.0.0.12', account: 'lee' };
    const ends: (() => void)[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) ends.push(await worker.beginAttempt(subject));
    const sixth = worker.beginAttempt(subject).then(
      () => 'examined',
      (error: unknown) => error,
    );
    // This worker's five fail now; the other worker's five, examined at the same time, fail
    // too, and their replay reaches this worker 200 ms later.
    for (const end of ends) {
      await worker.recordFailure(subject);
      end();
    }
    setTimeout(() => {
      for (let failure = 0; failure < 5; failure += 1) void worker.recordFailure(subject);
    }, 200);
    const refused = await sixth;
    expect(refused).toBeInstanceOf(CredentialsThrottledError);
    expect((refused as CredentialsThrottledError).retryAfterSeconds).toBe(900);
  });

  it("gives a right password's place back at once with other workers too, so a burst of sign-ins is not slowed", async () => {
    // Failed places would be held a minute here: the sixth gets in only through a right password's place.
    const worker = new CredentialThrottle({ examiningProcesses: 2, replayMs: 60_000, queueMs: 60_000 });
    const subject = { address: '127.0.0.13', account: 'mia' };
    const ends: ((failed?: boolean) => void)[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) ends.push(await worker.beginAttempt(subject));
    const sixth = worker.beginAttempt(subject);
    await worker.recordSuccess(subject);
    ends.pop()?.(false);
    ends.push(await sixth);
    for (const end of ends) end(false);
  });

  it('lets a password waiting behind others under way in once one ends, and after its wait refuses it saying why, for 1 s', async () => {
    const throttle = new CredentialThrottle({ queueMs: 300 });
    const subject = { address: '127.0.0.10', account: 'jay' };
    const ends: (() => void)[] = [];
    for (let attempt = 0; attempt < 10; attempt += 1) ends.push(await throttle.beginAttempt(subject));
    const waiting = throttle.beginAttempt(subject);
    // A right password ends without a failure: its place goes to the one waiting.
    await throttle.recordSuccess(subject);
    ends.pop()?.();
    ends.push(await waiting);
    const refused = await throttle.beginAttempt(subject).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(CredentialsThrottledError);
    expect([(refused as CredentialsThrottledError).retryAfterSeconds, (refused as Error).message]).toEqual([
      1,
      'too many passwords from this address or for this account are being checked at once; try again in 1 s',
    ]);
    for (const end of ends) end();
  });

  it('signs in every one of a burst of right passwords from one address, more than its failure limit at once', async () => {
    const server = await startTestServer({ AUTH_FAILURES_PER_ADDRESS: '4', AUTH_FAILURES_PER_ACCOUNT: '2' });
    try {
      const people = ['kim', 'lou', 'max'];
      for (const userId of people) {
        await createPasswordPerson(server.accounts, userId, 'ClientOrg', 'client', `${userId} password 1`);
      }
      const burst = await Promise.all(
        Array.from({ length: 24 }, (_, n) => {
          const userId = people[n % people.length] ?? 'kim';
          return loginFrom(server, '127.0.0.11', userId, `${userId} password 1`);
        }),
      );
      expect(burst.map((answer) => answer.status)).toEqual(Array.from({ length: 24 }, () => 200));
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

  it('refuses a request with both a bearer token and an API key, or two of either, even valid ones, and does nothing', async () => {
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
        expect(both.body).toMatchObject({ code: 'MALFORMED_REQUEST', field: 'header.authorization' });
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
      // Two API keys and no Authorization header: the refusal names the header repeated.
      const twoKeys = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const request = http.request(`${server.url}/v1/me`, { method: 'GET' }, (answer) => {
          let text = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => {
            text += chunk;
          });
          answer.on('end', () => {
            resolve({ status: answer.statusCode ?? 0, body: JSON.parse(text) as unknown });
          });
        });
        request.on('error', reject);
        request.setHeader('x-api-key', [service.key, service.key]);
        request.end();
      });
      expect(twoKeys).toMatchObject({ status: 400, body: { code: 'MALFORMED_REQUEST', field: 'header.x-api-key' } });
      expect(await server.db.selectFrom('api_keys').select('id').execute()).toEqual(keysBefore);
    } finally {
      await server.close();
    }
  });
});
