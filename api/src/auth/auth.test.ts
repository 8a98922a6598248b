import { suiteServer } from '../test-support/suite-server.js';
import { createPasswordPerson } from '../test-support/password-people.js';
import type { Role } from '@gigledger/chaincode/model';
import { scopesByRole } from './principal.js';
import { organisationOfRole } from '../test-support/role-organisations.js';

describe('authentication and accounts over HTTP', () => {
  const server = suiteServer();

  it('exchanges a password for a bearer token that identifies the person to the ledger', async () => {
    await createPasswordPerson(server().accounts, 'carol', 'ClientOrg', 'client', 'a long password 1');

    const issued = await server().request('POST', '/v1/auth/token', {
      body: { userId: 'carol', password: 'a long password 1' },
    });
    expect(issued.status).toBe(200);
    const { accessToken } = issued.body as { accessToken: string };
    const me = await server().request('GET', '/v1/me', { token: accessToken });

    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      principal: { kind: 'person', userId: 'carol', mspId: 'ClientOrgMSP', role: 'client' },
      ledgerIdentity: { mspId: 'ClientOrgMSP', role: 'client', userId: 'carol' },
    });
  });

  it('tells every signed-in caller who they are, whatever their role or scopes, over REST and GraphQL; a stranger 401', async () => {
    const query = { query: '{ me { userId role scopes } }' };
    for (const [role, org] of Object.entries(organisationOfRole) as [Role, string][]) {
      const person = await server().person(`me-${role}`, org, role);
      const rest = await server().request('GET', '/v1/me', { token: person.token });
      expect([role, rest.status, (rest.body as { principal?: { role?: string } }).principal?.role]).toEqual([
        role,
        200,
        role,
      ]);
      const graphql = await server().request('POST', '/graphql', { token: person.token, body: query });
      expect([role, graphql.status, graphql.body]).toEqual([
        role,
        200,
        { data: { me: { userId: `me-${role}`, role, scopes: [...scopesByRole[role]] } } },
      ]);
      const { key } = await server().service(`me-key-${role}`, org, role);
      expect([role, (await server().request('GET', '/v1/me', { apiKey: key })).status]).toEqual([role, 200]);
    }
    // A stranger is refused before the operation runs, as for every field that is not public.
    const stranger = await server().request('POST', '/graphql', { body: query });
    expect([
      stranger.status,
      (stranger.body as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code,
    ]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('refuses a wrong password and an unknown user alike, with 401', async () => {
    await createPasswordPerson(server().accounts, 'dave', 'ClientOrg', 'client', 'a long password 2');
    for (const body of [
      { userId: 'dave', password: 'wrong password!' },
      { userId: 'nobody', password: 'a long password 2' },
    ]) {
      const response = await server().request('POST', '/v1/auth/token', { body });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ code: 'UNAUTHENTICATED', message: 'wrong user id or password' });
    }
  });

  it('rejects a forged or expired-looking token with 401 and no credential with 401', async () => {
    const forged = await server().request('GET', '/v1/me', {
      token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2lnbmF0dXJl',
    });
    expect(forged.status).toBe(401);
    const none = await server().request('GET', '/v1/me');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', requestId: expect.any(String) as string });
  });

  it('names the field of malformed login input with 422', async () => {
    const response = await server().request('POST', '/v1/auth/token', { body: { userId: 'Not Valid', password: 'x' } });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.userId' });
    const notJson = await server().request('POST', '/v1/auth/token', { body: '{"userId":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ code: 'MALFORMED_REQUEST' });
  });

  it("signs a bearer token out: it opens nothing afterwards, while the same person's other tokens still do", async () => {
    await createPasswordPerson(server().accounts, 'signing-out', 'ClientOrg', 'client', 'a long password 9');
    const login = async () =>
      (
        (
          await server().request('POST', '/v1/auth/token', {
            body: { userId: 'signing-out', password: 'a long password 9' },
          })
        ).body as { accessToken: string }
      ).accessToken;
    const leaving = await login();
    const staying = await login();
    expect(staying).not.toBe(leaving);
    expect((await server().request('GET', '/v1/me', { token: leaving })).status).toBe(200);

    const revoked = await server().request('POST', '/v1/auth/token/revocation', { token: leaving });
    expect([revoked.status, revoked.body]).toEqual([200, { revoked: true }]);

    for (const [method, path] of [
      ['GET', '/v1/me'],
      ['GET', '/v1/agreements?role=client'],
      ['POST', '/v1/auth/token/revocation'],
    ] as const) {
      const refused = await server().request(method, path, { token: leaving });
      expect([method, path, refused.status]).toEqual([method, path, 401]);
    }
    // Other spellings of the same signature (padding, the last character's two spare bits) are no way around it.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(leaving.at(-1)!);
    const sameBits = alphabet[(last & ~3) | ((last + 1) & 3)]!;
    for (const spelling of [`${leaving}=`, `${leaving}==`, `${leaving.slice(0, -1)}${sameBits}`]) {
      expect([spelling, (await server().request('GET', '/v1/me', { token: spelling })).status]).toEqual([
        spelling,
        401,
      ]);
    }
    const graphql = await server().request('POST', '/graphql', {
      token: leaving,
      body: { query: '{ me { userId } }' },
    });
    expect(JSON.stringify(graphql.body)).toContain('UNAUTHENTICATED');
    expect((await server().request('GET', '/v1/me', { token: staying })).status).toBe(200);
    // Only the token's hash is kept.
    const rows = await server().db.selectFrom('revoked_tokens').selectAll().execute();
    expect(rows.some((row) => row.user_id === 'signing-out' && !leaving.includes(row.token_sha256))).toBe(true);
  });

  it('revokes only a bearer token: an API key is revoked by an administrator, and nothing at all is 401', async () => {
    const { key } = await server().service('revoking-key', 'ClientOrg', 'hr');
    const byKey = await server().request('POST', '/v1/auth/token/revocation', { apiKey: key });
    expect([byKey.status, (byKey.body as { field?: string }).field]).toEqual([422, 'header.authorization']);
    expect((await server().request('GET', '/v1/me', { apiKey: key })).status).toBe(200);
    expect((await server().request('POST', '/v1/auth/token/revocation')).status).toBe(401);
  });

  it('forgets a revoked token once it would have expired anyway', async () => {
    const accounts = server().accounts;
    await accounts.revokeToken('a token long expired', { userId: 'someone', expiresAt: Date.now() - 1000 });
    expect(await accounts.tokenRevoked('a token long expired')).toBe(true);
    await accounts.revokeToken('a token still valid', { userId: 'someone', expiresAt: Date.now() + 60_000 });
    expect(await accounts.tokenRevoked('a token long expired')).toBe(false);
    expect(await accounts.tokenRevoked('a token still valid')).toBe(true);
  });

  it('lets an admin create people and API keys, and a revoked key stops working at once', async () => {
    const admin = await server().person('root-admin', 'ClientOrg', 'admin');
    const created = await server().request('POST', '/v1/admin/users', {
      token: admin.token,
      body: { userId: 'tara', org: 'ClientOrg', role: 'freelancer', password: 'a long password 3' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ userId: 'tara', mspId: 'ClientOrgMSP', role: 'freelancer' });
    const duplicate = await server().request('POST', '/v1/admin/users', {
      token: admin.token,
      body: { userId: 'tara', org: 'ClientOrg', role: 'freelancer' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 'USER_EXISTS', field: 'body.userId' });

    const keyResponse = await server().request('POST', '/v1/admin/api-keys', {
      token: admin.token,
      body: { name: 'acme-hr', org: 'ClientOrg', role: 'hr' },
    });
    expect(keyResponse.status).toBe(201);
    const { key, apiKey } = keyResponse.body as { key: string; apiKey: { id: string; scopes: string[] } };
    expect(apiKey.scopes).toEqual([
      'agreements:read',
      'credentials:read',
      'reputation:read',
      'governance:read',
      'ip:read',
      'provenance:read',
    ]);
    const asService = await server().request('GET', '/v1/me', { apiKey: key });
    expect(asService.body).toMatchObject({
      principal: { kind: 'service', userId: 'svc.acme-hr', role: 'hr' },
      ledgerIdentity: { mspId: 'ClientOrgMSP', userId: 'svc.acme-hr' },
    });

    const stored = await server()
      .db.selectFrom('api_keys')
      .select('secret_hash')
      .where('id', '=', apiKey.id)
      .executeTakeFirstOrThrow();
    expect(key).not.toContain(stored.secret_hash);

    expect((await server().request('DELETE', `/v1/admin/api-keys/${apiKey.id}`, { token: admin.token })).status).toBe(
      200,
    );
    expect((await server().request('GET', '/v1/me', { apiKey: key })).status).toBe(401);
    expect((await server().request('DELETE', `/v1/admin/api-keys/${apiKey.id}`, { token: admin.token })).status).toBe(
      404,
    );
  });

  it('keeps administration to admins of the organisation (403) and refuses a scope outside the role (422)', async () => {
    const client = await server().person('erin', 'ClientOrg', 'client');
    const admin = await server().person('second-admin', 'AuditOrg', 'admin');
    const refused = await server().request('POST', '/v1/admin/api-keys', {
      token: client.token,
      body: { name: 'sneaky', org: 'ClientOrg', role: 'admin' },
    });
    expect(refused.status).toBe(403);
    const tooBroad = await server().request('POST', '/v1/admin/api-keys', {
      token: admin.token,
      body: { name: 'hr-writer', org: 'AuditOrg', role: 'hr', scopes: ['agreements:write'] },
    });
    expect(tooBroad.status).toBe(422);
    expect(tooBroad.body).toMatchObject({
      field: 'body.scopes',
      message: expect.stringMatching(/^body\.scopes: /) as unknown,
    });
    const unknownOrg = await server().request('POST', '/v1/admin/users', {
      token: admin.token,
      body: { userId: 'frank', org: 'NoSuchOrg', role: 'client' },
    });
    expect(unknownOrg.status).toBe(403);
    expect(unknownOrg.body).toMatchObject({ code: 'FORBIDDEN', field: 'body.org' });
    expect(
      await server().db.selectFrom('users').select('user_id').where('user_id', '=', 'frank').executeTakeFirst(),
    ).toBeUndefined();
  });

  it('serves the OpenAPI document, health and Prometheus metrics', async () => {
    const document = await server().request('GET', '/openapi.json');
    expect(document.body).toMatchObject({
      openapi: '3.1.0',
      paths: { '/v1/auth/token': { post: { operationId: 'createToken' } } },
    });
    expect((await server().request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const metrics = await server().request('GET', '/metrics');
    expect(metrics.body).toContain('gigledger_http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('gigledger_ledger_transaction_duration_seconds_bucket');
  });
});
