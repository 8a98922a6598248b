import { datasetSubjectDataSha256 } from '@gigledger/chaincode/model';
import { expectRefusedNaming, firstErrorField } from '../test-support/party-refusals.js';
import { createHash } from 'node:crypto';
import type { AccessGrantRecord, DatasetRecord, ErasureReceipt, LineageGraph } from '@gigledger/chaincode/model';
import { datasetRegistration } from '@gigledger/chaincode/test-support';
import { organisationsAndCount } from '../audit/read-recorder.js';
import { grantAuditEverywhere } from '../test-support/audit-grants.js';
import type { Committed } from '../ledger/committed.js';
import { startTestServer, type Person, type TestServer } from '../test-support/test-server.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const subjectData = { contact: 'dpo@example.org' };

describe('provenance and erasure over HTTP', () => {
  let server: TestServer;
  let tara: Person;
  let gina: Person;
  let dave: Person;
  let auditor: Person;

  beforeAll(async () => {
    server = await startTestServer();
    tara = await server.person('tara', 'TalentOrg', 'freelancer');
    gina = await server.person('gina', 'ClientOrg', 'client');
    dave = await server.person('dave', 'ClientOrg', 'client');
    auditor = await server.person('audrey', 'AuditOrg', 'auditor');
  });

  afterAll(async () => {
    await server.close();
  });

  const dataset = (recordId: string, extra: Record<string, unknown> = {}) =>
    datasetRegistration(recordId, {
      source: 'https://data.example.org',
      piiClass: 'personal',
      retention: { kind: 'period', period: 'P2Y' },
      ...extra,
    });
  const register = (body: unknown, as: Person = tara, headers: Record<string, string> = {}) =>
    server.request('POST', '/v1/provenance/datasets', { token: as.token, body, headers });
  const graphql = async (as: Person, query: string, variables: Record<string, unknown> = {}) =>
    (await server.request('POST', '/graphql', { token: as.token, body: { query, variables } })).body as {
      data?: Record<string, unknown>;
      errors?: { message: string; extensions?: { code?: string } }[];
    };

  it('registers a lineage, refuses a known hash with 409 naming the first, and reads the graph', async () => {
    const first = await register(dataset('raw', { subjectData }), tara, { 'Idempotency-Key': 'reg-raw-0001' });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v1/provenance/records/raw');
    const body = first.body as Committed<DatasetRecord>;
    expect(body.requestId).toBe('reg-raw-0001');
    expect(body.result.subjectData).toEqual({ status: 'held', sha256: expect.any(String) as string });
    expect(first.text).not.toContain('dpo@example.org');
    // Salted by the API: the kept hash, which outlives an erasure, is not that of the guessable data.
    expect((body.result.subjectData as { sha256: string }).sha256).not.toBe(datasetSubjectDataSha256(subjectData));

    const retried = await register(dataset('raw', { subjectData }), tara, { 'Idempotency-Key': 'reg-raw-0001' });
    // A retry commits a transaction that writes nothing and answers the stored record.
    expect((retried.body as Committed<DatasetRecord>).result).toEqual(body.result);

    const duplicate = await register(dataset('copy', { contentSha256: sha('raw') }), gina);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({
      code: 'ALREADY_EXISTS',
      message: expect.stringContaining('already registered as dataset raw by TalentOrgMSP/tara') as string,
    });

    const step = (parents: string[], what: string) => ({
      derivedFrom: { parents, transformation: { description: what, codeSha256: sha(what) } },
    });
    expect((await register(dataset('clean', step(['raw'], 'clean')))).status).toBe(201);
    // Derived by another organisation's member: the graph spans two controllers.
    expect((await register(dataset('labelled', step(['clean'], 'label')), gina)).status).toBe(201);

    const graph = await server.request('GET', '/v1/provenance/records/raw/lineage?direction=descendants&depth=2', {
      token: auditor.token,
    });
    expect(graph.status).toBe(200);
    const lineage = graph.body as LineageGraph;
    expect(lineage.nodes.map((node) => node.recordId)).toEqual(['raw', 'clean', 'labelled']);
    expect(lineage.edges.map((edge) => `${edge.from}>${edge.to}`)).toEqual(['raw>clean', 'clean>labelled']);
    // Each node names its controller, so the read log names every organisation whose record the graph shows.
    expect(lineage.nodes.map((node) => [node.recordId, node.controller])).toEqual([
      ['raw', tara.party],
      ['clean', tara.party],
      ['labelled', gina.party],
    ]);
    expect(organisationsAndCount(lineage).organisations).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);

    const tooDeep = await server.request('GET', '/v1/provenance/records/raw/lineage?direction=descendants&depth=11', {
      token: auditor.token,
    });
    expect(tooDeep.status).toBe(422);
    expect(tooDeep.body).toMatchObject({ field: 'query.depth' });

    const viaGraphql = await graphql(
      gina,
      'query ($id: ID!) { lineage(recordId: $id, direction: "ancestors", depth: 5) { nodes { recordId distance } edges { from to relation } truncated } }',
      { id: 'labelled' },
    );
    expect(viaGraphql.data?.lineage).toEqual({
      nodes: [
        { recordId: 'labelled', distance: 0 },
        { recordId: 'clean', distance: 1 },
        { recordId: 'raw', distance: 2 },
      ],
      edges: [
        { from: 'clean', to: 'labelled', relation: 'derivedFrom' },
        { from: 'raw', to: 'clean', relation: 'derivedFrom' },
      ],
      truncated: false,
    });
  });

  it('refuses bad input with 422 naming the field and other roles with 403', async () => {
    const bad = await register(dataset('bad', { legalBasis: 'whim' }));
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ field: 'body.legalBasis' });
    const missingParent = await register(
      dataset('orphan', {
        derivedFrom: { parents: ['nowhere'], transformation: { description: 'x', codeSha256: sha('x') } },
      }),
    );
    expect(missingParent.status).toBe(404);
    expect(missingParent.body).toMatchObject({ code: 'NOT_FOUND' });
    const asAuditor = await register(dataset('audit'), auditor);
    expect(asAuditor.status).toBe(403);
  });

  it('grants access, logs uses for the controller and auditors only, and refuses after revocation', async () => {
    expect((await register(dataset('DS-G'))).status).toBe(201);
    const granted = await server.request('POST', '/v1/provenance/datasets/DS-G/grants', {
      token: tara.token,
      body: {
        grantId: 'G-1',
        grantee: gina.party,
        purpose: 'Benchmark',
        scope: ['read'],
        expiresAt: '2099-01-01T00:00:00.000Z',
      },
    });
    expect(granted.status).toBe(201);
    expect((granted.body as Committed<AccessGrantRecord>).result.status).toBe('active');
    // A grantee this server enrols must exist here, over REST and GraphQL alike.
    const ghost = { mspId: 'TalentOrgMSP', userId: 'ghost' };
    const toGhost = await server.request('POST', '/v1/provenance/datasets/DS-G/grants', {
      token: tara.token,
      body: {
        grantId: 'G-ghost',
        grantee: ghost,
        purpose: 'Benchmark',
        scope: ['read'],
        expiresAt: '2099-01-01T00:00:00.000Z',
      },
    });
    expectRefusedNaming(toGhost, 'body.grantee.userId', 'TalentOrgMSP has no active identity ghost on this server');
    const overGraphql = await server.request('POST', '/graphql', {
      token: tara.token,
      body: {
        query:
          'mutation ($input: JSON!) { grantDatasetAccess(datasetId: "DS-G", input: $input) { grant { grantId } } }',
        variables: {
          input: {
            grantId: 'G-ghost',
            grantee: ghost,
            purpose: 'Benchmark',
            scope: ['read'],
            expiresAt: '2099-01-01T00:00:00.000Z',
          },
        },
      },
    });
    expect(firstErrorField(overGraphql.body)).toBe('input.grantee.userId');

    const use = (as: Person) =>
      server.request('POST', '/v1/provenance/grants/G-1/accesses', { token: as.token, body: { scope: 'read' } });
    expect((await use(gina)).status).toBe(201);
    // Someone the grant does not name learns nothing of it: 404 as for a grant id naming none.
    const stranger = await use(dave);
    expect(stranger.status).toBe(404);
    expect(stranger.body).toMatchObject({ code: 'NOT_FOUND', field: 'path.grantId' });

    const log = (as: Person) => server.request('GET', '/v1/provenance/datasets/DS-G/access-log', { token: as.token });
    expect(((await log(tara)).body as unknown[]).length).toBe(1);
    // An auditor reads it only under a grant from the controller's organisation.
    const ungranted = await log(auditor);
    expect(ungranted.status).toBe(403);
    expect(ungranted.body).toMatchObject({ code: 'NO_AUDIT_GRANT' });
    await grantAuditEverywhere(server, auditor);
    expect(((await log(auditor)).body as unknown[]).length).toBe(1);
    expect((await log(gina)).status).toBe(403);

    // Two more uses, then the log one use per page: each use once, the Link header leading on.
    for (let more = 0; more < 2; more += 1) expect((await use(gina)).status).toBe(201);
    const whole = (await log(tara)).body as { accessId: string }[];
    expect(whole).toHaveLength(3);
    const paged: string[] = [];
    let next: string | undefined = '/v1/provenance/datasets/DS-G/access-log?grantId=G-1&first=1';
    while (next !== undefined) {
      const page = await server.request('GET', next, { token: tara.token });
      expect(page.status).toBe(200);
      paged.push(...(page.body as { accessId: string }[]).map((entry) => entry.accessId));
      next = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')?.[1];
      if (next !== undefined) expect(next).toContain('grantId=G-1');
    }
    expect(paged).toEqual(whole.map((entry) => entry.accessId));
    const grantsPage = await server.request('GET', '/v1/provenance/datasets/DS-G/grants?first=1', {
      token: tara.token,
    });
    expect(grantsPage.status).toBe(200);
    expect(grantsPage.body).toHaveLength(1);
    expect((await server.request('GET', '/v1/provenance/grants/G-1', { token: dave.token })).status).toBe(404);

    const revoked = await server.request('POST', '/v1/provenance/grants/G-1/revocation', {
      token: tara.token,
      body: { reason: 'Benchmark done' },
    });
    expect(revoked.status).toBe(200);
    const after = await use(gina);
    expect(after.status).toBe(409);
    expect(after.body).toMatchObject({ code: 'ACCESS_GRANT_REVOKED', field: 'path.grantId' });
  });

  it('erases subject data with a receipt the data subject can verify, naming the block', async () => {
    expect((await register(dataset('DS-E', { subjectData }))).status).toBe(201);
    const erased = await server.request('POST', '/v1/erasure-requests', {
      token: tara.token,
      body: {
        receiptId: 'ER-1',
        target: { kind: 'datasetSubjectData', datasetId: 'DS-E' },
        dataSubject: gina.party,
        ground: 'a',
      },
    });
    expect(erased.status).toBe(201);
    expect(erased.headers.get('location')).toBe('/v1/erasure-receipts/ER-1');
    const receipt = (erased.body as Committed<ErasureReceipt>).result;
    expect(receipt.legalBasis).toBe('GDPR Art. 17(1)(a)');

    const read = await server.request('GET', '/v1/provenance/datasets/DS-E/subject-data', { token: tara.token });
    expect(read.body).toMatchObject({ status: 'erased', receiptId: 'ER-1' });

    const verification = await server.request('GET', '/v1/erasure-receipts/ER-1/verification', { token: gina.token });
    expect(verification.status).toBe(200);
    expect(verification.body).toMatchObject({
      verified: true,
      hashMatches: true,
      privateDataAbsent: true,
      blockNumber: (erased.body as Committed<ErasureReceipt>).blockNumber,
    });
    expect((await server.request('GET', '/v1/erasure-receipts/ER-1', { token: dave.token })).status).toBe(404);

    const again = await graphql(
      tara,
      'mutation ($input: JSON!) { requestErasure(input: $input) { receipt { receiptId } } }',
      {
        input: {
          receiptId: 'ER-2',
          target: { kind: 'datasetSubjectData', datasetId: 'DS-E' },
          dataSubject: gina.party,
          ground: 'a',
        },
      },
    );
    expect(again.errors?.[0]?.extensions?.code).toBe('PERSONAL_DATA_ERASED');
  });
});
