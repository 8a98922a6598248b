import { suiteServer } from '../test-support/suite-server.js';

describe('GET /v1/index/transactions/{transactionId}', () => {
  const server = suiteServer();

  it('answers 422 naming path.transactionId for an id that is no Fabric transaction id, as the proofs do', async () => {
    const admin = await server().person('index-ops', 'AuditOrg', 'admin');
    const answer = await server().request('GET', '/v1/index/transactions/XYZ', { token: admin.token });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'path.transactionId' });
    const unknown = await server().request('GET', `/v1/index/transactions/${'a'.repeat(64)}`, { token: admin.token });
    expect(unknown.status).toBe(404);
  });
});

describe('index listings refuse ranges given the wrong way round', () => {
  const server = suiteServer();
  let callers = 0;

  it.each<[string, string, ('auditor' | 'admin')?]>([
    ['/v1/index/payouts?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.to'],
    ['/v1/index/payouts?minAmount=5000&maxAmount=100', 'query.maxAmount'],
    ['/v1/index/agreements?from=2026-06-01T00:00:00Z&to=2026-05-31T23:59:59Z', 'query.to'],
    ['/v1/index/transactions?fromBlock=9&toBlock=3', 'query.toBlock'],
    // A malformed bound is named for itself, and the range check does not trip over it.
    ['/v1/index/payouts?minAmount=(0|1)&maxAmount=(0|1)', 'query.minAmount'],
    ['/v1/index/payouts?from=yesterday&to=2026-01-01T00:00:00Z', 'query.from'],
    ['/v1/index/licences?minAmount=5000&maxAmount=100', 'query.maxAmount'],
    ['/v1/index/royalty-periods?minAmount=5000&maxAmount=100', 'query.maxAmount'],
    ['/v1/index/proposals?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.to'],
    ['/v1/index/works?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.to'],
    ['/v1/index/provenance-records?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.to'],
    ['/v1/index/dataset-access-grants?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.to'],
    // A person is named by both halves or not at all.
    ['/v1/index/works?ownerMspId=TalentOrgMSP', 'query.ownerUserId'],
    // An organisation is named by its MSP id: text that could be none is refused, not answered empty.
    ['/v1/index/agreements?org=Evil%20Org', 'query.org'],
    ['/v1/index/payouts?org=%E2%80%AEOrg', 'query.org'],
    ['/v1/index/licences?licenseeOrg=Talent%2FOrg', 'query.licenseeOrg'],
    ['/v1/index/proposals?org=a%3Bb', 'query.org'],
    ['/v1/index/payouts?settlingOrganisation=bad%20org', 'query.settlingOrganisation'],
    // Block numbers are decimal digits: not an exponent, not hexadecimal.
    ['/v1/index/blocks/1e3', 'path.blockNumber'],
    ['/v1/index/blocks/0x10', 'path.blockNumber'],
    // So are page sizes and positions, anywhere a query string carries a whole number.
    ...['0x10', '1e1', '%2B5', '%205', '10.', ''].map((first): [string, string] => [
      `/v1/index/payouts?first=${first}`,
      'query.first',
    ]),
    ['/v1/index/payouts?first=1&first=2', 'query.first'],
    ['/v1/provenance/records/DS-1/lineage?direction=ancestors&depth=0x3', 'query.depth'],
    ['/v1/audit/read-log?after=0x10', 'query.after', 'admin'],
    ['/v1/audit/read-log?after=', 'query.after', 'admin'],
    ['/v1/audit/read-log?limit=1e0', 'query.limit', 'admin'],
  ])('GET %s → 422 naming %s', async (path, field, role = 'auditor') => {
    callers += 1;
    const caller = await server().person(`range-caller-${String(callers)}`, 'AuditOrg', role);
    const answer = await server().request('GET', path, { token: caller.token });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('over GraphQL too, naming the filter field', async () => {
    const auditor = await server().person('range-auditor-gql', 'AuditOrg', 'auditor');
    const answer = await server().request('POST', '/graphql', {
      token: auditor.token,
      body: { query: '{ indexedPayouts(filter: { minAmount: "900", maxAmount: "10" }) { totalCount } }' },
    });
    const errors = (answer.body as { errors?: { extensions?: { code?: string; field?: string } }[] }).errors;
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'filter.maxAmount' });
    const licences = await server().request('POST', '/graphql', {
      token: auditor.token,
      body: { query: '{ indexedRoyaltyPeriods(filter: { minAmount: "900", maxAmount: "10" }) { totalCount } }' },
    });
    const licenceErrors = (licences.body as { errors?: { extensions?: { code?: string; field?: string } }[] }).errors;
    expect(licenceErrors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'filter.maxAmount' });
  });

  it.each([
    ['{ indexedPayouts(after: "not-a-cursor") { totalCount } }', 'after'],
    ['{ indexedPayouts(first: 0) { totalCount } }', 'first'],
    ['{ indexedAgreements(first: 101) { totalCount } }', 'first'],
  ])('names a page argument over GraphQL as the client wrote it: %s → %s', async (query, field) => {
    const auditor = await server().person(`page-auditor-${field}-${String(query.length)}`, 'AuditOrg', 'auditor');
    const answer = await server().request('POST', '/graphql', { token: auditor.token, body: { query } });
    const errors = (answer.body as { errors?: { extensions?: { code?: string; field?: string } }[] }).errors;
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it("counts index pages against the request's 1,000 records, over aliases and a batch's operations", async () => {
    const auditor = await server().person('wide-index-auditor', 'AuditOrg', 'auditor');
    const aliases = (count: number) =>
      `{ ${Array.from({ length: count }, (_, index) => `b${String(index)}: indexedBlocks(first: 100) { totalCount }`).join(' ')} }`;
    const refusalOf = (body: unknown) =>
      (body as { errors?: { message?: string; extensions?: { code?: string; field?: string } }[] }).errors?.find(
        (error) => error.extensions?.code === 'VALIDATION_FAILED',
      );
    const ten = await server().request('POST', '/graphql', { token: auditor.token, body: { query: aliases(10) } });
    expect(refusalOf(ten.body)).toBeUndefined();
    const eleven = await server().request('POST', '/graphql', { token: auditor.token, body: { query: aliases(11) } });
    expect(refusalOf(eleven.body)).toMatchObject({
      message: expect.stringMatching(/may ask for 1000 records together; this one asks for 1100/) as unknown,
      extensions: { field: 'first' },
    });
    const batch = await server().request('POST', '/graphql', {
      token: auditor.token,
      body: [{ query: aliases(6) }, { query: aliases(6) }],
    });
    expect(refusalOf((batch.body as unknown[])[1])).toMatchObject({ extensions: { field: 'first' } });
  });

  it('answers an empty index with the indexed height for every new listing, and 403 to a role without the scope', async () => {
    const auditor = await server().person('empty-auditor', 'AuditOrg', 'auditor');
    for (const path of [
      '/v1/index/proposals',
      '/v1/index/works',
      '/v1/index/licences',
      '/v1/index/royalty-periods',
      '/v1/index/provenance-records',
      '/v1/index/dataset-access-grants',
    ]) {
      const answer = await server().request('GET', path, { token: auditor.token });
      const body = answer.body as { totalCount: number; items: unknown[]; indexedHeight: string };
      expect([path, answer.status, body.totalCount, body.items]).toEqual([path, 200, 0, []]);
      expect(body.indexedHeight).toMatch(/^[0-9]+$/);
    }
    // HR reads works and datasets, not licences (no licensing:read).
    const hr = await server().person('index-hr', 'ClientOrg', 'hr');
    expect((await server().request('GET', '/v1/index/works', { token: hr.token })).status).toBe(200);
    expect((await server().request('GET', '/v1/index/licences', { token: hr.token })).status).toBe(403);
  });
});
