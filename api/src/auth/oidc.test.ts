import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { parseApiConfig } from '../config.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { TokenService } from './tokens.js';
import { createPasswordPerson } from '../test-support/password-people.js';

/** A stand-in identity provider on loopback: it publishes its signing key as a JWKS. */
async function startIdentityProvider(): Promise<{
  issuer: string;
  sign: (claims: Record<string, unknown>, subject: string, audience?: string) => Promise<string>;
  close: () => Promise<void>;
}> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  const server: Server = createServer((request, response) => {
    if (request.url === '/jwks.json') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    sign: (claims, subject, audience = 'gigledger-test') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

describe('tokens of an OIDC issuer', () => {
  let provider: Awaited<ReturnType<typeof startIdentityProvider>>;
  let server: TestServer;

  beforeAll(async () => {
    provider = await startIdentityProvider();
    server = await startTestServer({
      OIDC_ISSUER: provider.issuer,
      OIDC_JWKS_URL: `${provider.issuer}/jwks.json`,
      OIDC_AUDIENCE: 'gigledger-test',
    });
  });

  afterAll(async () => {
    await server.close();
    await provider.close();
  });

  it('enrolls a person on first use with the organisation and role the token carries', async () => {
    const token = await provider.sign({ gigledger_org: 'TalentOrg', gigledger_role: 'freelancer' }, 'oidc-olga');

    const me = await server.request('GET', '/v1/me', { token });

    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      principal: { userId: 'oidc-olga', mspId: 'TalentOrgMSP', role: 'freelancer' },
      ledgerIdentity: { mspId: 'TalentOrgMSP', role: 'freelancer', userId: 'oidc-olga' },
    });
    const stored = await server.db
      .selectFrom('users')
      .selectAll()
      .where('user_id', '=', 'oidc-olga')
      .executeTakeFirst();
    expect(stored).toMatchObject({ source: 'oidc', password_hash: null });
  });

  it('refuses a token without an organisation and role, one for another audience, and a forged one', async () => {
    const bare = await provider.sign({}, 'oidc-nobody');
    expect((await server.request('GET', '/v1/me', { token: bare })).status).toBe(401);

    const other = await startIdentityProvider();
    try {
      const foreign = await other.sign({ gigledger_org: 'ClientOrg', gigledger_role: 'admin' }, 'mallory');
      // Same claims, but signed by a key the configured issuer does not publish.
      const forged = `${foreign.split('.').slice(0, 2).join('.')}.${(await provider.sign({}, 'x')).split('.')[2] ?? ''}`;
      expect((await server.request('GET', '/v1/me', { token: foreign })).status).toBe(401);
      expect((await server.request('GET', '/v1/me', { token: forged })).status).toBe(401);
    } finally {
      await other.close();
    }
    expect(
      await server.db
        .selectFrom('users')
        .select('user_id')
        .where('user_id', 'in', ['oidc-nobody', 'mallory'])
        .execute(),
    ).toEqual([]);
  });

  it("never resolves a subject to a local account of the same name, nor to a service's", async () => {
    await createPasswordPerson(server.accounts, 'boss', 'ClientOrg', 'admin', 'a long password 7');
    await server.service('oidc-sync', 'ClientOrg', 'hr');
    const before = await server.db.selectFrom('users').selectAll().orderBy('user_id').execute();

    for (const subject of ['boss', 'oidc-sync', 'svc.oidc-sync']) {
      const token = await provider.sign({ gigledger_org: 'ClientOrg', gigledger_role: 'admin' }, subject);
      const me = await server.request('GET', '/v1/me', { token });
      expect(me.status).toBe(401);
      expect(me.body).toMatchObject({ code: 'UNAUTHENTICATED' });
      const admin = await server.request('GET', '/v1/admin/users', { token });
      expect(admin.status).toBe(401);
    }
    expect(await server.db.selectFrom('users').selectAll().orderBy('user_id').execute()).toEqual(before);
  });

  it("refuses the issuer's tokens meant for another audience", async () => {
    const token = await provider.sign(
      { gigledger_org: 'TalentOrg', gigledger_role: 'freelancer' },
      'oidc-elsewhere',
      'another-app',
    );
    expect((await server.request('GET', '/v1/me', { token })).status).toBe(401);
    expect(
      await server.db.selectFrom('users').select('user_id').where('user_id', '=', 'oidc-elsewhere').executeTakeFirst(),
    ).toBeUndefined();
  });

  it('will not start verifying OIDC tokens without an audience', () => {
    // Refused when the configuration is read, naming the variable…
    expect(() =>
      parseApiConfig({
        GIGLEDGER_CONNECTION_PROFILE: '/dev/null',
        OIDC_ISSUER: provider.issuer,
        OIDC_JWKS_URL: `${provider.issuer}/jwks.json`,
      }),
    ).toThrow(/environment variable OIDC_AUDIENCE/);
    // …and by the token service itself, for configurations built another way.
    const config = parseApiConfig({ GIGLEDGER_CONNECTION_PROFILE: '/dev/null' });
    const oidc = {
      issuer: provider.issuer,
      jwksUrl: `${provider.issuer}/jwks.json`,
      audience: undefined,
      consoleClientId: undefined,
      consoleScope: 'openid',
    };
    expect(
      () => new TokenService({ ...config.jwt, oidc }, 'a test signing secret of more than thirty-two characters'),
    ).toThrow(/OIDC_AUDIENCE/);
  });
});

describe("the console's OIDC sign-in settings", () => {
  it('are public when OIDC_CLIENT_ID is set, and the console may then call the issuer, no other origin', async () => {
    const server = await startTestServer({
      OIDC_ISSUER: 'https://login.example.com/realms/gigledger',
      OIDC_AUDIENCE: 'gigledger-api',
      OIDC_CLIENT_ID: 'gigledger-console',
    });
    try {
      const settings = await server.request('GET', '/v1/auth/oidc');
      expect(settings.status).toBe(200);
      expect(settings.body).toEqual({
        enabled: true,
        issuer: 'https://login.example.com/realms/gigledger',
        clientId: 'gigledger-console',
        audience: 'gigledger-api',
        scope: 'openid',
        redirectPath: '/console/oidc-callback',
      });
      const page = await server.request('GET', '/console/sign-in');
      const policy = page.headers.get('content-security-policy') ?? '';
      expect(policy.split('; ')).toContain("connect-src 'self' https://login.example.com");
      expect(policy.split('; ')).toContain("script-src 'self'");
    } finally {
      await server.close();
    }
  });

  it('say OIDC is off without a client id (200, so no browser logs an error), and the policy stays on this origin', async () => {
    const server = await startTestServer({
      OIDC_ISSUER: 'https://login.example.com/realms/gigledger',
      OIDC_AUDIENCE: 'gigledger-api',
    });
    try {
      const settings = await server.request('GET', '/v1/auth/oidc');
      expect([settings.status, settings.body]).toEqual([200, { enabled: false }]);
      const page = await server.request('GET', '/console/sign-in');
      expect(page.headers.get('content-security-policy')).not.toContain('login.example.com');
    } finally {
      await server.close();
    }
  });

  it('are listed in the OpenAPI document', async () => {
    const server = await startTestServer({});
    try {
      const document = (await server.request('GET', '/openapi.json')).body as {
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      expect(document.paths['/v1/auth/oidc']?.get?.operationId).toBe('getOidcSignIn');
    } finally {
      await server.close();
    }
  });
});
