import type { OwnershipChangeView, WorkRecord } from '@gigledger/chaincode/model';
import { grantAuditEverywhere } from '../test-support/audit-grants.js';
import { expectRefusedNaming, firstErrorField } from '../test-support/party-refusals.js';
import type { Committed } from '../ledger/committed.js';
import { startTestServer, type Person, type TestServer } from '../test-support/test-server.js';

const hashA = '1'.repeat(64);
const hashB = '2'.repeat(64);
const hashC = '3'.repeat(64);

describe('IP records over HTTP', () => {
  let server: TestServer;
  let tara: Person;
  let carol: Person;
  let auditor: Person;
  let hr: Person;
  const taraParty = { mspId: 'TalentOrgMSP', userId: 'tara' };
  const carolParty = { mspId: 'ClientOrgMSP', userId: 'carol' };

  beforeAll(async () => {
    server = await startTestServer();
    tara = await server.person('tara', 'TalentOrg', 'freelancer');
    carol = await server.person('carol', 'ClientOrg', 'client');
    auditor = await server.person('audrey', 'AuditOrg', 'auditor');
    hr = await server.person('hana', 'ClientOrg', 'hr');
  });

  afterAll(async () => {
    await server.close();
  });

  const register = (as: Person, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    server.request('POST', '/v1/ip/works', {
      token: as.token,
      headers,
      body: {
        kind: 'model',
        title: 'Fraud model',
        uri: 'https://models.example.com/fraud',
        creators: [taraParty],
        ...body,
      },
    });

  it('registers a work, answers a repeated Idempotency-Key with the stored result and refuses a duplicate hash naming the first', async () => {
    const first = await register(tara, { workId: 'W-1', contentHash: hashA }, { 'Idempotency-Key': 'register-w1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v1/ip/works/W-1');
    const created = first.body as Committed<WorkRecord>;
    expect(created.requestId).toBe('register-w1');
    expect(created.result.owners).toEqual([{ party: taraParty, shareBps: 10_000 }]);

    const again = await register(tara, { workId: 'W-1', contentHash: hashA }, { 'Idempotency-Key': 'register-w1' });
    expect(again.status).toBe(201);
    expect((again.body as Committed<WorkRecord>).result).toEqual(created.result);

    const duplicate = await register(carol, { workId: 'W-2', contentHash: hashA, creators: [carolParty] });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 'ALREADY_REGISTERED', field: 'body.contentHash' });
    expect((duplicate.body as { message: string }).message).toContain(
      `work W-1, owned by TalentOrgMSP/tara (10000 bps), in transaction ${created.result.registrationTxId} at ${created.result.registeredAt}`,
    );

    const byHash = await server.request('GET', `/v1/ip/content-hashes/${hashA}`, { token: hr.token });
    expect(byHash.status).toBe(200);
    expect((byHash.body as WorkRecord).workId).toBe('W-1');
    const byOwner = await server.request('GET', '/v1/ip/owners/TalentOrgMSP/tara/works', { token: auditor.token });
    expect((byOwner.body as WorkRecord[]).map((work) => work.workId)).toEqual(['W-1']);
  });

  it('answers 422 naming the field for shares not summing to 10000 and 403 for a role that may not register', async () => {
    const shares = await register(tara, {
      workId: 'W-3',
      contentHash: hashB,
      owners: [
        { party: taraParty, shareBps: 5000 },
        { party: carolParty, shareBps: 4000 },
      ],
    });
    expect(shares.status).toBe(422);
    expect(shares.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.owners' });
    const badHash = await register(tara, { workId: 'W-3', contentHash: 'xyz' });
    expect(badHash.body).toMatchObject({ field: 'body.contentHash' });
    const forbidden = await register(hr, { workId: 'W-3', contentHash: hashB });
    expect(forbidden.status).toBe(403);
  });

  it('refuses owners and creators this server enrols who do not exist, or an owner who could not approve, naming them', async () => {
    const ghost = { mspId: 'TalentOrgMSP', userId: 'ghost' };
    const hrParty = { mspId: 'ClientOrgMSP', userId: 'hana' };
    for (const [body, field, message] of [
      [
        { creators: [taraParty, ghost] },
        'body.creators.1.userId',
        'TalentOrgMSP has no active identity ghost on this server',
      ],
      [
        {
          owners: [
            { party: taraParty, shareBps: 5000 },
            { party: ghost, shareBps: 5000 },
          ],
        },
        'body.owners.1.party.userId',
        'TalentOrgMSP/ghost is no active client or freelancer on this server',
      ],
      [
        {
          owners: [
            { party: taraParty, shareBps: 5000 },
            { party: hrParty, shareBps: 5000 },
          ],
        },
        'body.owners.1.party.userId',
        'ClientOrgMSP/hana is no active client or freelancer on this server',
      ],
    ] as const) {
      expectRefusedNaming(await register(tara, { workId: 'W-ghost', contentHash: hashC, ...body }), field, message);
    }
    const overGraphql = await server.request('POST', '/graphql', {
      token: tara.token,
      body: {
        query: 'mutation ($input: RegisterWorkInput!) { registerWork(input: $input) { work { workId } } }',
        variables: {
          input: {
            workId: 'W-ghost',
            contentHash: hashC,
            kind: 'model',
            title: 'T',
            uri: 'https://x.example/t',
            creators: [ghost],
          },
        },
      },
    });
    expect(firstErrorField(overGraphql.body)).toBe('input.creators.0.userId');
    expect((await server.request('GET', '/v1/ip/works/W-ghost', { token: tara.token })).status).toBe(404);
  });

  it('changes co-owned ownership only after both owners approve, and shows the change to owners only', async () => {
    const registered = await register(tara, {
      workId: 'W-4',
      contentHash: hashC,
      owners: [
        { party: taraParty, shareBps: 7000 },
        { party: carolParty, shareBps: 3000 },
      ],
    });
    expect(registered.status).toBe(201);
    const proposed = await server.request('POST', '/v1/ip/works/W-4/ownership-changes', {
      token: tara.token,
      body: { changeId: 'C1', owners: [{ party: carolParty, shareBps: 10_000 }], reason: 'sold to the client' },
    });
    expect(proposed.status).toBe(201);
    const open = (proposed.body as Committed<OwnershipChangeView>).result;
    expect(open.change.status).toBe('open');
    expect(open.awaiting).toEqual([carolParty]);
    expect(
      ((await server.request('GET', '/v1/ip/works/W-4', { token: hr.token })).body as WorkRecord).owners,
    ).toHaveLength(2);

    const hidden = await server.request('GET', '/v1/ip/works/W-4/ownership-changes/C1', { token: hr.token });
    expect(hidden.status).toBe(404);
    const twice = await server.request('POST', '/v1/ip/works/W-4/ownership-changes/C1/approvals', {
      token: tara.token,
      body: {},
    });
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ code: 'ALREADY_APPROVED' });

    const approved = await server.request('POST', '/v1/ip/works/W-4/ownership-changes/C1/approvals', {
      token: carol.token,
      body: {},
    });
    expect(approved.status).toBe(200);
    expect((approved.body as Committed<OwnershipChangeView>).result.work.owners).toEqual([
      { party: carolParty, shareBps: 10_000 },
    ]);
  });

  it('serves works and changes over GraphQL', async () => {
    const query = /* GraphQL */ `
      mutation ($input: RegisterWorkInput!) {
        registerWork(input: $input) {
          requestId
          work {
            workId
            owners {
              party {
                userId
              }
              shareBps
            }
          }
        }
      }
    `;
    const registered = await server.request('POST', '/graphql', {
      token: carol.token,
      body: {
        query,
        variables: {
          input: {
            workId: 'W-5',
            kind: 'dataset',
            contentHash: '5'.repeat(64),
            title: 'Claims corpus',
            uri: 's3://bucket/claims',
            creators: [carolParty],
          },
        },
      },
    });
    expect(registered.body).toMatchObject({
      data: { registerWork: { work: { workId: 'W-5', owners: [{ party: { userId: 'carol' }, shareBps: 10000 }] } } },
    });
    // Works are open to every member; ownership changes open to an auditor under a grant only.
    const ungranted = await server.request('POST', '/graphql', {
      token: auditor.token,
      body: { query: 'query { ownershipChanges(workId: "W-4") { changeId status } }' },
    });
    expect(ungranted.body).toMatchObject({ data: { ownershipChanges: [] } });
    await grantAuditEverywhere(server, auditor);
    const read = await server.request('POST', '/graphql', {
      token: auditor.token,
      body: {
        query: `query { workByContentHash(contentHash: "${'5'.repeat(64)}") { workId kind registeredAt } ownershipChanges(workId: "W-4") { changeId status } }`,
      },
    });
    expect(read.body).toMatchObject({
      data: {
        workByContentHash: { workId: 'W-5', kind: 'dataset' },
        ownershipChanges: [{ changeId: 'C1', status: 'applied' }],
      },
    });
  });
});
