import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { legacyServiceIdentityLabel } from '../auth/principal.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

describe('administrators and service accounts', () => {
  let server: TestServer;
  let clientAdmin: string;
  let auditAdmin: string;
  let talentAdmin: string;

  const keyCount = async () => (await server.db.selectFrom('api_keys').select('id').execute()).length;
  const userCount = async () => (await server.db.selectFrom('users').select('user_id').execute()).length;
  /** The answer is a refusal with `status`, naming its rule (`code`) and the `field` at fault. */
  const expectRefused = (answer: { status: number; body: unknown }, status: number, code: string, field: string) => {
    expect([answer.status, answer.body]).toMatchObject([status, { code, field }]);
  };
  /** An administrator asks for an API key, or for a person, through the admin API. */
  const createKey = (token: string, body: Record<string, unknown>) =>
    server.request('POST', '/v1/admin/api-keys', { token, body });
  const createUser = (token: string, body: Record<string, unknown>) =>
    server.request('POST', '/v1/admin/users', { token, body });

  beforeAll(async () => {
    server = await startTestServer();
    clientAdmin = (await server.person('client-admin', 'ClientOrg', 'admin')).token;
    auditAdmin = (await server.person('audit-admin', 'AuditOrg', 'admin')).token;
    talentAdmin = (await server.person('talent-admin', 'TalentOrg', 'admin')).token;
    await server.person('tara', 'ClientOrg', 'freelancer');
    await server.person('tom', 'TalentOrg', 'freelancer');
  });

  afterAll(async () => {
    await server.close();
  });

  it("refuses an API key named after a person, in the admin's organisation or another, and changes nothing", async () => {
    const [keysBefore, identitiesBefore] = [
      await keyCount(),
      await server.db.selectFrom('identities').select('label').execute(),
    ];
    const sameOrg = await createKey(clientAdmin, { name: 'tara', org: 'ClientOrg', role: 'freelancer' });
    expectRefused(sameOrg, 409, 'NAME_TAKEN', 'body.name');
    const otherOrg = await createKey(clientAdmin, { name: 'tom', org: 'TalentOrg', role: 'freelancer' });
    expectRefused(otherOrg, 403, 'FORBIDDEN', 'body.org');
    expect(await keyCount()).toBe(keysBefore);
    expect(await server.db.selectFrom('identities').select('label').execute()).toEqual(identitiesBefore);
  });

  it("lists the admin's own people and keys one page at a time (Link), each once and in order, refusing a cursor altered or of the other list", async () => {
    for (const name of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      expect((await server.person(name, 'TalentOrg', 'freelancer')).token).toEqual(expect.any(String));
      expect((await createKey(talentAdmin, { name: `${name}-key`, org: 'TalentOrg', role: 'hr' })).status).toBe(201);
    }
    const walk = async (path: string, id: (item: Record<string, string>) => string) => {
      const seen: string[] = [];
      let pages = 0;
      let next: string | undefined = `${path}?first=2`;
      while (next !== undefined) {
        const page = await server.request('GET', next, { token: talentAdmin });
        expect(page.status).toBe(200);
        const items = page.body as Record<string, string>[];
        expect(items.length).toBeLessThanOrEqual(2);
        expect(items.every((item) => item.org === 'TalentOrg')).toBe(true);
        seen.push(...items.map(id));
        pages += 1;
        next = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')?.[1];
      }
      return { seen, pages };
    };

    const people = await walk('/v1/admin/users', (person) => person.userId ?? '');
    const everyone = await server.db.selectFrom('users').select('user_id').where('org', '=', 'TalentOrg').execute();
    expect(people.seen).toEqual(everyone.map((row) => row.user_id).sort());
    expect(people.pages).toBe(Math.ceil(everyone.length / 2));

    const keys = await walk('/v1/admin/api-keys', (key) => key.id ?? '');
    const stored = await server.db
      .selectFrom('api_keys')
      .select(['id', 'created_at'])
      .where('org', '=', 'TalentOrg')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    expect(keys.seen).toEqual(stored.map((row) => row.id));
    expect(keys.seen.length).toBeGreaterThanOrEqual(5);

    const first = await server.request('GET', '/v1/admin/api-keys?first=2', { token: talentAdmin });
    const after = new URL(/^<([^>]+)>/.exec(first.headers.get('link') ?? '')?.[1] ?? '', server.url).searchParams.get(
      'after',
    );
    expect(after).toEqual(expect.any(String));
    const altered = `${after?.slice(0, -2) ?? ''}${after?.endsWith('AA') === true ? 'AB' : 'AA'}`;
    expectRefused(
      await server.request('GET', `/v1/admin/api-keys?after=${altered}`, { token: talentAdmin }),
      422,
      'VALIDATION_FAILED',
      'query.after',
    );
    const peopleFirst = await server.request('GET', '/v1/admin/users?first=2', { token: talentAdmin });
    const peopleAfter = new URL(
      /^<([^>]+)>/.exec(peopleFirst.headers.get('link') ?? '')?.[1] ?? '',
      server.url,
    ).searchParams.get('after');
    const otherList = await server.request('GET', `/v1/admin/api-keys?after=${peopleAfter ?? ''}`, {
      token: talentAdmin,
    });
    expectRefused(otherList, 422, 'VALIDATION_FAILED', 'query.after');
    expect((otherList.body as { message: string }).message).toContain('not a cursor of this list');
    // The same list of another organisation: the cursor names the organisation it pages.
    expectRefused(
      await server.request('GET', `/v1/admin/users?after=${peopleAfter ?? ''}`, { token: clientAdmin }),
      422,
      'VALIDATION_FAILED',
      'query.after',
    );
    expectRefused(
      await server.request('GET', '/v1/admin/users?first=0', { token: talentAdmin }),
      422,
      'VALIDATION_FAILED',
      'query.first',
    );
    expectRefused(
      await server.request('GET', '/v1/admin/users?first=501', { token: talentAdmin }),
      422,
      'VALIDATION_FAILED',
      'query.first',
    );
  });

  it("refuses a person named as any organisation's administrator or operator, or the CA's registrar, naming the field, and keeps no row", async () => {
    const before = await userCount();
    for (const [token, org] of [
      [talentAdmin, 'TalentOrg'],
      [clientAdmin, 'ClientOrg'],
      [auditAdmin, 'AuditOrg'],
    ] as const) {
      for (const userId of [
        'admin',
        'admin-auditorg',
        'admin-talentorg-2',
        'admin-neworg',
        'operator',
        'operator-clientorg',
        'operator-neworg',
        'registrar',
        'settlement-service',
        'read-log-anchor',
        'audit-index-check',
      ]) {
        const refused = await createUser(token, {
          userId,
          org,
          role: 'freelancer',
          password: 'a long enough password',
        });
        expect([org, userId, refused.status]).toEqual([org, userId, 422]);
        expectRefused(refused, 422, 'VALIDATION_FAILED', 'body.userId');
      }
    }
    expect(await userCount()).toBe(before);
    // Names that only begin like them are people's names as any other.
    for (const userId of ['administrator-ann', 'operators', 'admins-desk', 'registrar-bob']) {
      const created = await createUser(clientAdmin, {
        userId,
        org: 'ClientOrg',
        role: 'client',
        password: 'a long enough password',
      });
      expect([userId, created.status]).toEqual([userId, 201]);
    }
  });

  it("refuses a person named after an identity the organisation's CA holds that the server did not register, and keeps no row", async () => {
    const before = await userCount();
    for (const [token, org, userId] of [
      [talentAdmin, 'TalentOrg', 'ca-ops'],
      [clientAdmin, 'ClientOrg', 'ca-ops'],
    ] as const) {
      const taken = await createUser(token, { userId, org, role: 'admin', password: 'a long enough password' });
      expectRefused(taken, 409, 'USER_EXISTS', 'body.userId');
      expect((taken.body as { message: string }).message).toContain("the organisation's certificate authority holds");
    }
    expect(await userCount()).toBe(before);
    // The name stays free for nobody else either: refused again, not half-created.
    expectRefused(
      await createUser(talentAdmin, {
        userId: 'ca-ops',
        org: 'TalentOrg',
        role: 'freelancer',
        password: 'another long one',
      }),
      409,
      'USER_EXISTS',
      'body.userId',
    );
  });

  it('creates a user id asked for by two organisations at once once: one 201, one 409, and the stored person holds its own identity', async () => {
    for (let round = 0; round < 5; round += 1) {
      const userId = `raced-${String(round)}`;
      const answers = await Promise.all([
        createUser(clientAdmin, { userId, org: 'ClientOrg', role: 'client', password: 'a long enough password' }),
        createUser(talentAdmin, { userId, org: 'TalentOrg', role: 'freelancer', password: 'a long enough password' }),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
      const refused = answers.find((answer) => answer.status === 409)!;
      expectRefused(refused, 409, 'USER_EXISTS', 'body.userId');
      const stored = await server.db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
      expect(stored?.disabled).toBe(0);
      const identity = await server.db
        .selectFrom('identities')
        .select('msp_id')
        .where('label', '=', `person:${userId}`)
        .executeTakeFirst();
      expect([stored?.org, identity?.msp_id]).toEqual(
        stored?.org === 'ClientOrg' ? ['ClientOrg', 'ClientOrgMSP'] : ['TalentOrg', 'TalentOrgMSP'],
      );
    }
  });

  it("refuses a key named after the server's own services, and a second active key of the same name", async () => {
    const keysBefore = await keyCount();
    const reserved = await createKey(clientAdmin, { name: 'settlement-service', org: 'ClientOrg', role: 'settlement' });
    expectRefused(reserved, 409, 'NAME_TAKEN', 'body.name');
    const first = await createKey(clientAdmin, { name: 'acme-hr-twin', org: 'ClientOrg', role: 'hr' });
    expect(first.status).toBe(201);
    const second = await createKey(clientAdmin, { name: 'acme-hr-twin', org: 'ClientOrg', role: 'hr' });
    expectRefused(second, 409, 'NAME_TAKEN', 'body.name');
    expect(await keyCount()).toBe(keysBefore + 1);
  });

  it("never gives a revoked key's name again: its ledger identity still holds what it did", async () => {
    const first = await createKey(clientAdmin, { name: 'rotating-key', org: 'ClientOrg', role: 'client' });
    expect(first.status).toBe(201);
    const { id } = (first.body as { apiKey: { id: string } }).apiKey;
    expect((await server.request('DELETE', `/v1/admin/api-keys/${id}`, { token: clientAdmin })).status).toBe(200);
    const keysBefore = await keyCount();
    for (const role of ['client', 'freelancer']) {
      const again = await createKey(clientAdmin, { name: 'rotating-key', org: 'ClientOrg', role });
      expectRefused(again, 409, 'NAME_TAKEN', 'body.name');
      expect((again.body as { message: string }).message).toMatch(
        /had an API key named rotating-key, revoked: its ledger identity svc\.rotating-key still holds what it did/,
      );
    }
    expect(await keyCount()).toBe(keysBefore);
    // Another organisation's key of that name is another identity (TalentOrgMSP/svc.rotating-key).
    const talentAdmin = (await server.person('talent-admin-rk', 'TalentOrg', 'admin')).token;
    expect((await createKey(talentAdmin, { name: 'rotating-key', org: 'TalentOrg', role: 'client' })).status).toBe(201);
  });

  it('gives every key a ledger user id in the service namespace, which no person can take', async () => {
    const created = await createKey(clientAdmin, { name: 'payroll', org: 'ClientOrg', role: 'client' });
    expect(created.status).toBe(201);
    const { key } = created.body as { key: string };
    const me = await server.request('GET', '/v1/me', { apiKey: key });
    expect(me.body).toMatchObject({
      principal: { kind: 'service', userId: 'svc.payroll' },
      ledgerIdentity: { mspId: 'ClientOrgMSP', userId: 'svc.payroll', role: 'client' },
    });

    const users = await userCount();
    const taken = await createUser(clientAdmin, { userId: 'payroll', org: 'ClientOrg', role: 'client' });
    expectRefused(taken, 409, 'USER_EXISTS', 'body.userId');
    const namespaced = await createUser(clientAdmin, {
      userId: 'svc.payroll',
      org: 'ClientOrg',
      role: 'client',
      password: 'a long password 9',
    });
    expectRefused(namespaced, 422, 'VALIDATION_FAILED', 'body.userId');
    expect(await userCount()).toBe(users);
  });

  it('keeps an admin to its own organisation: no people elsewhere, its own lists, no revoking of others', async () => {
    const users = await userCount();
    const elsewhere = await createUser(auditAdmin, {
      userId: 'mallory',
      org: 'ClientOrg',
      role: 'admin',
      password: 'a long password 8',
    });
    expectRefused(elsewhere, 403, 'FORBIDDEN', 'body.org');
    expect(await userCount()).toBe(users);
    // An organisation no network could have is refused as input, and not quoted back whole.
    const huge = 'ü'.repeat(200_000);
    for (const refused of [
      await createUser(auditAdmin, { userId: 'huge-org', org: huge, role: 'client', password: 'a long password 9' }),
      await createKey(auditAdmin, { name: 'huge-org-key', org: huge, role: 'hr' }),
    ]) {
      expectRefused(refused, 422, 'VALIDATION_FAILED', 'body.org');
      expect(JSON.stringify(refused.body).length).toBeLessThan(2000);
    }

    const people = (await server.request('GET', '/v1/admin/users', { token: auditAdmin })).body as { org: string }[];
    expect(people.length).toBeGreaterThan(0);
    expect(people.every((person) => person.org === 'AuditOrg')).toBe(true);

    const clientKey = await server.service('client-sync', 'ClientOrg', 'hr');
    const keys = (await server.request('GET', '/v1/admin/api-keys', { token: auditAdmin })).body as { id: string }[];
    expect(keys.map((listed) => listed.id)).not.toContain(clientKey.id);
    const revoke = await server.request('DELETE', `/v1/admin/api-keys/${clientKey.id}`, { token: auditAdmin });
    expect(revoke.status).toBe(404);
    expect(revoke.body).toMatchObject({ code: 'NOT_FOUND' });
    expect((await server.request('GET', '/v1/me', { apiKey: clientKey.key })).status).toBe(200);
  });

  it("lets an administrator's API key provision people and keys of everyday roles, but no privileged role", async () => {
    const provisioner = await server.service('provisioner', 'ClientOrg', 'admin');
    const asKey = (route: string, body: Record<string, unknown>) =>
      server.request('POST', route, { apiKey: provisioner.key, body });
    const [users, keys] = [await userCount(), await keyCount()];
    const person = { org: 'ClientOrg', password: 'a long password 9' };

    // A leaked key must not outlive its revocation as privileged people or keys it made for itself.
    for (const role of ['admin', 'governor', 'auditor', 'settlement', 'arbitrator', 'issuer']) {
      const asPerson = await asKey('/v1/admin/users', { ...person, userId: `mint-${role}`, role });
      expectRefused(asPerson, 403, 'FORBIDDEN', 'body.role');
      expect((asPerson.body as { message: string }).message).toContain(`grant the role ${role}`);
      expectRefused(
        await asKey('/v1/admin/api-keys', { name: `mint-${role}-key`, org: 'ClientOrg', role }),
        403,
        'FORBIDDEN',
        'body.role',
      );
    }
    expect([await userCount(), await keyCount()]).toEqual([users, keys]);

    // Everyday roles it may still provision, and a person may still grant any role.
    for (const role of ['client', 'freelancer', 'evaluator', 'hr']) {
      expect((await asKey('/v1/admin/users', { ...person, userId: `provisioned-${role}`, role })).status).toBe(201);
      expect(
        (await asKey('/v1/admin/api-keys', { name: `provisioned-${role}-key`, org: 'ClientOrg', role })).status,
      ).toBe(201);
    }
    expect((await createKey(clientAdmin, { name: 'ops-admin', org: 'ClientOrg', role: 'admin' })).status).toBe(201);
    expect(
      (await createKey(clientAdmin, { name: 'ops-settlement', org: 'ClientOrg', role: 'settlement' })).status,
    ).toBe(201);
  });

  it("refuses an administrator's API key the grants that outlive it: audit access and an issuer's registration, over REST and GraphQL", async () => {
    const operator = await server.service('grant-operator', 'ClientOrg', 'admin');
    await server.person('audra-ext', 'AuditOrg', 'auditor');
    const grant = {
      grantId: 'AG-by-key',
      auditor: { mspId: 'AuditOrgMSP', userId: 'audra-ext' },
      kinds: ['agreement'],
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      purpose: 'statutory audit',
    };
    const refusedMessage = /^only an administrator signed in as a person may grant audit access/;
    const rest = await server.request('POST', '/v1/audit/grants', { apiKey: operator.key, body: grant });
    expect([rest.status, rest.body]).toMatchObject([
      403,
      { code: 'FORBIDDEN', message: expect.stringMatching(refusedMessage) as string },
    ]);
    const graphql = await server.request('POST', '/graphql', {
      apiKey: operator.key,
      body: {
        query: 'mutation ($input: GrantAuditAccessInput!) { grantAuditAccess(input: $input) { grant { grantId } } }',
        variables: { input: { ...grant, grantId: 'AG-by-key-2' } },
      },
    });
    const errors = (graphql.body as { errors?: { message: string; extensions?: { code?: string } }[] }).errors ?? [];
    expect([errors[0]?.extensions?.code, errors[0]?.message]).toEqual([
      'FORBIDDEN',
      expect.stringMatching(refusedMessage),
    ]);
    // Over GraphQL too, a key is refused before its input is judged.
    const invalidOverGraphql = await server.request('POST', '/graphql', {
      apiKey: operator.key,
      body: {
        query: 'mutation ($input: GrantAuditAccessInput!) { grantAuditAccess(input: $input) { grant { grantId } } }',
        variables: { input: { ...grant, grantId: '', purpose: '' } },
      },
    });
    const invalidErrors = (invalidOverGraphql.body as { errors?: { extensions?: { code?: string } }[] }).errors ?? [];
    expect(invalidErrors[0]?.extensions?.code).toBe('FORBIDDEN');
    const issuer = await server.request('PUT', '/v1/admin/issuers/ClientOrgMSP/key-made-issuer', {
      apiKey: operator.key,
      body: { displayName: 'Made by a key', credentialTypes: ['Course'] },
    });
    expect([issuer.status, issuer.body]).toMatchObject([
      403,
      { code: 'FORBIDDEN', message: expect.stringMatching(/may register an issuer/) as string },
    ]);
    // Refused before its input is judged, as a caller without the scope would be.
    for (const [method, path] of [
      ['POST', '/v1/audit/grants'],
      ['PUT', '/v1/admin/issuers/ClientOrgMSP/key-made-issuer'],
    ] as const) {
      const empty = await server.request(method, path, { apiKey: operator.key, body: {} });
      expect([path, empty.status, (empty.body as { code?: string }).code]).toEqual([path, 403, 'FORBIDDEN']);
    }
    // Nothing reached the ledger; the same grant from a person is given.
    const grants = await server.request('GET', '/v1/audit/grants', { token: clientAdmin });
    expect((grants.body as { grantId: string }[]).map((held) => held.grantId)).not.toEqual(
      expect.arrayContaining(['AG-by-key']),
    );
    const given = await server.request('POST', '/v1/audit/grants', { token: clientAdmin, body: grant });
    expect([given.status, given.body]).toMatchObject([
      201,
      { result: { grantId: 'AG-by-key', grantedBy: { userId: 'client-admin' } } },
    ]);
  });

  it('re-enrolls a key enrolled before the service namespace, before it acts', async () => {
    const legacy = await server.service('old-sync', 'ClientOrg', 'hr');
    // As such a key was stored: its identity under the old label, carrying the bare name.
    const identity = await server.db
      .selectFrom('identities')
      .selectAll()
      .where('enrollment_id', '=', `svc-${legacy.id}`)
      .executeTakeFirstOrThrow();
    await server.db
      .updateTable('identities')
      .set({ label: legacyServiceIdentityLabel(legacy.id) })
      .where('label', '=', identity.label)
      .execute();
    await server.db
      .updateTable('api_keys')
      .set({ identity_label: legacyServiceIdentityLabel(legacy.id) })
      .where('id', '=', legacy.id)
      .execute();

    const me = await server.request('GET', '/v1/me', { apiKey: legacy.key });

    expect(me.body).toMatchObject({ ledgerIdentity: { userId: 'svc.old-sync' } });
    const labels = (await server.db.selectFrom('identities').select('label').execute()).map((row) => row.label);
    expect(labels).not.toContain(legacyServiceIdentityLabel(legacy.id));
    expect(labels).toContain(identity.label);
  });

  it('completes a bootstrap file written when only the first organisation had an administrator', async () => {
    const upgraded = await startTestServer();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-bootstrap-old-'));
    try {
      // As the server's bootstrap made it, under the name reserved for it.
      await upgraded.accounts.createPerson(
        { userId: 'admin', org: 'ClientOrg', role: 'admin', password: 'old admin pass' },
        'local',
        { ownRegistrationsOnly: false },
      );
      const file = path.join(dataDir, 'bootstrap-admin.json');
      writeFileSync(file, JSON.stringify({ userId: 'admin', password: 'old admin pass' }));
      await upgraded.accounts.ensureBootstrapAdmin(dataDir);
      const written = JSON.parse(readFileSync(file, 'utf8')) as {
        admins: Record<string, { userId: string; password: string }>;
      };
      expect(written.admins.ClientOrg).toEqual({ userId: 'admin', password: 'old admin pass' });
      expect(Object.keys(written.admins).sort()).toEqual(['AuditOrg', 'ClientOrg', 'TalentOrg']);
      const login = await upgraded.request('POST', '/v1/auth/token', { body: written.admins.ClientOrg });
      expect(login.status).toBe(200);
    } finally {
      await upgraded.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('gives a second database beside the same data folder the administrators the file names, with their passwords', async () => {
    const first = await startTestServer();
    const second = await startTestServer();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-bootstrap-two-'));
    try {
      const file = path.join(dataDir, 'bootstrap-admin.json');
      expect((await first.accounts.ensureBootstrapAdmin(dataDir)).created).toBe(true);
      const written = readFileSync(file, 'utf8');
      // As `npm start` over PostgreSQL after SQLite: a database with no administrator yet.
      expect((await second.accounts.ensureBootstrapAdmin(dataDir)).created).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(written);
      const { admins } = JSON.parse(written) as { admins: Record<string, { userId: string; password: string }> };
      for (const server of [first, second]) {
        for (const admin of Object.values(admins)) {
          const login = await server.request('POST', '/v1/auth/token', { body: admin });
          expect([admin.userId, login.status]).toEqual([admin.userId, 200]);
        }
      }
    } finally {
      await first.close();
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("bootstraps an organisation's administrator under the next free name when another organisation took its default one", async () => {
    const fresh = await startTestServer();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-bootstrap-taken-'));
    try {
      // ClientOrg's people first (as when AuditOrg joins later), one of them named as AuditOrg's
      // default administrator: a database written before such names were reserved for administrators.
      const unreserved = { ownRegistrationsOnly: false };
      await fresh.accounts.createPerson({ userId: 'admin', org: 'ClientOrg', role: 'admin' }, 'local', unreserved);
      await fresh.accounts.createPerson(
        { userId: 'admin-auditorg', org: 'ClientOrg', role: 'client' },
        'local',
        unreserved,
      );
      await fresh.accounts.createPerson(
        { userId: 'admin-auditorg-2', org: 'TalentOrg', role: 'client' },
        'local',
        unreserved,
      );
      expect((await fresh.accounts.ensureBootstrapAdmin(dataDir)).created).toBe(true);
      const written = JSON.parse(readFileSync(path.join(dataDir, 'bootstrap-admin.json'), 'utf8')) as {
        admins: Record<string, { userId: string }>;
      };
      expect(written.admins.AuditOrg?.userId).toBe('admin-auditorg-3');
      const stored = await fresh.db
        .selectFrom('users')
        .selectAll()
        .where('user_id', '=', 'admin-auditorg-3')
        .executeTakeFirst();
      expect(stored).toMatchObject({ org: 'AuditOrg', role: 'admin', disabled: 0 });
    } finally {
      await fresh.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('bootstraps one administrator per organisation, each confined to it', async () => {
    const fresh = await startTestServer();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-bootstrap-'));
    try {
      expect((await fresh.accounts.ensureBootstrapAdmin(dataDir)).created).toBe(true);
      const file = path.join(dataDir, 'bootstrap-admin.json');
      const written = JSON.parse(readFileSync(file, 'utf8')) as {
        userId: string;
        password: string;
        admins: Record<string, { userId: string; password: string }>;
      };
      expect(written.userId).toBe('admin');
      expect(Object.fromEntries(Object.entries(written.admins).map(([org, admin]) => [org, admin.userId]))).toEqual({
        ClientOrg: 'admin',
        TalentOrg: 'admin-talentorg',
        AuditOrg: 'admin-auditorg',
      });
      expect(await fresh.accounts.ensureBootstrapAdmin(dataDir)).toMatchObject({ created: false });
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(written);

      const talent = written.admins.TalentOrg;
      if (talent === undefined) throw new Error('no TalentOrg administrator');
      const login = await fresh.request('POST', '/v1/auth/token', { body: talent });
      const { accessToken } = login.body as { accessToken: string };
      const refused = await fresh.request('POST', '/v1/admin/users', {
        token: accessToken,
        body: { userId: 'someone', org: 'ClientOrg', role: 'client' },
      });
      expect(refused.status).toBe(403);
      const allowed = await fresh.request('POST', '/v1/admin/users', {
        token: accessToken,
        body: { userId: 'someone', org: 'TalentOrg', role: 'freelancer' },
      });
      expect(allowed.status).toBe(201);
    } finally {
      await fresh.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
