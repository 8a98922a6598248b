import { startTestServer, type Person, type TestServer } from '../test-support/test-server.js';

/*
 * The Idempotency-Key header over GraphQL, over real HTTP: taken by the one command
 * mutation of a request, refused when it conflicts with the mutation's own request id or
 * could belong to several commands.
 */

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions: { code: string; field?: string } }[];
}

describe('the Idempotency-Key header over GraphQL', () => {
  let server: TestServer;
  let admin: Person;

  beforeAll(async () => {
    server = await startTestServer();
    admin = await server.person('idem-admin', 'ClientOrg', 'admin');
    await server.person('idem-auditor', 'AuditOrg', 'auditor');
  });

  afterAll(async () => {
    await server.close();
  });

  // One expiry for every grant, so that a repeated request is the same request.
  const expiresAt = new Date(Date.now() + 10 * 86_400_000).toISOString();
  const grantInput = (grantId: string, extra: Record<string, unknown> = {}) => ({
    grantId,
    auditor: { mspId: 'AuditOrgMSP', userId: 'idem-auditor' },
    kinds: ['agreement'],
    expiresAt,
    purpose: 'idempotency key',
    ...extra,
  });
  const grantMutation =
    'mutation ($input: GrantAuditAccessInput!) { grantAuditAccess(input: $input) { requestId transactionId grant { grantId status } } }';

  const gql = async (body: unknown, key?: string): Promise<Answer | Answer[]> =>
    (
      await server.request('POST', '/graphql', {
        token: admin.token,
        body,
        ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }),
      })
    ).body as Answer | Answer[];
  const one = async (body: unknown, key?: string) => (await gql(body, key)) as Answer;
  const grantIds = async () =>
    ((await one({ query: '{ auditGrants { grantId } }' })).data?.auditGrants as { grantId: string }[]).map(
      (grant) => grant.grantId,
    );

  it("is the request id of an operation's one command mutation that sends none, and a repeat answers the stored result", async () => {
    const first = await one({ query: grantMutation, variables: { input: grantInput('AG-idem-1') } }, 'idem-grant-0001');
    expect(first.errors).toBeUndefined();
    expect(first.data?.grantAuditAccess).toMatchObject({
      requestId: 'idem-grant-0001',
      grant: { grantId: 'AG-idem-1', status: 'active' },
    });
    // Without the header the same grant again is a conflict; with it, the stored result.
    const repeated = await one(
      { query: grantMutation, variables: { input: grantInput('AG-idem-1') } },
      'idem-grant-0001',
    );
    expect(repeated.errors).toBeUndefined();
    expect(repeated.data?.grantAuditAccess).toMatchObject({
      requestId: 'idem-grant-0001',
      grant: { grantId: 'AG-idem-1' },
    });
    const unkeyed = await one({ query: grantMutation, variables: { input: grantInput('AG-idem-1') } });
    expect(unkeyed.errors?.[0]?.extensions.code).toMatch(/EXISTS|CONFLICT/);

    // The same id in both places is one id.
    const same = await one(
      { query: grantMutation, variables: { input: grantInput('AG-idem-2', { requestId: 'idem-grant-0002' }) } },
      'idem-grant-0002',
    );
    expect(same.data?.grantAuditAccess).toMatchObject({ requestId: 'idem-grant-0002' });
  });

  it('refuses a header that differs from the mutation’s requestId, naming the header as REST does', async () => {
    const inInput = await one(
      { query: grantMutation, variables: { input: grantInput('AG-idem-3', { requestId: 'idem-grant-0003' }) } },
      'idem-grant-other',
    );
    expect(inInput.errors?.[0]).toMatchObject({
      message:
        'header.idempotency-key: differs from input.requestId (idem-grant-0003): send the request id once, or the same in both',
      extensions: { code: 'VALIDATION_FAILED', field: 'header.idempotency-key' },
    });
    const asArgument = await one(
      {
        query:
          'mutation { revokeAuditAccess(grantId: "AG-idem-2", reason: "done", requestId: "idem-revoke-0001") { requestId } }',
      },
      'idem-revoke-other',
    );
    expect(asArgument.errors?.[0]).toMatchObject({
      message:
        'header.idempotency-key: differs from requestId (idem-revoke-0001): send the request id once, or the same in both',
      extensions: { code: 'VALIDATION_FAILED', field: 'header.idempotency-key' },
    });
    const malformed = await one({ query: grantMutation, variables: { input: grantInput('AG-idem-4') } }, 'x');
    expect(malformed.errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'header.idempotency-key',
    });
    expect(await grantIds()).not.toEqual(expect.arrayContaining(['AG-idem-3']));
    expect(await grantIds()).not.toEqual(expect.arrayContaining(['AG-idem-4']));
  });

  it('refuses a header on a request with several command mutations, in one operation or across a batch, and runs none', async () => {
    const two = await one(
      {
        query: `mutation ($a: GrantAuditAccessInput!, $b: GrantAuditAccessInput!) {
          a: grantAuditAccess(input: $a) { requestId }
          ...more
        }
        fragment more on Mutation { b: grantAuditAccess(input: $b) { requestId } }`,
        variables: { a: grantInput('AG-idem-5'), b: grantInput('AG-idem-6') },
      },
      'idem-grant-0005',
    );
    expect(two.data ?? null).toBeNull();
    expect(two.errors?.[0]).toMatchObject({
      message: expect.stringMatching(
        /^header\.idempotency-key: names one command, but the request holds 2 command mutations/,
      ) as string,
      extensions: { code: 'VALIDATION_FAILED', field: 'header.idempotency-key' },
    });
    const batch = (await gql(
      [
        { query: grantMutation, variables: { input: grantInput('AG-idem-7') } },
        { query: grantMutation, variables: { input: grantInput('AG-idem-8') } },
      ],
      'idem-grant-0007',
    )) as Answer[];
    expect(batch.map((answer) => answer.errors?.[0]?.extensions.field)).toEqual([
      'header.idempotency-key',
      'header.idempotency-key',
    ]);
    const ids = await grantIds();
    for (const grantId of ['AG-idem-5', 'AG-idem-6', 'AG-idem-7', 'AG-idem-8']) expect(ids).not.toContain(grantId);

    // Several commands each with its own id, and no header, run as before.
    const keyed = await one({
      query: `mutation ($a: GrantAuditAccessInput!, $b: GrantAuditAccessInput!) {
        a: grantAuditAccess(input: $a) { requestId }
        b: grantAuditAccess(input: $b) { requestId }
      }`,
      variables: {
        a: grantInput('AG-idem-5', { requestId: 'idem-grant-0051' }),
        b: grantInput('AG-idem-6', { requestId: 'idem-grant-0061' }),
      },
    });
    expect(keyed.data).toEqual({ a: { requestId: 'idem-grant-0051' }, b: { requestId: 'idem-grant-0061' } });
  });

  it('leaves a query with the header alone: it has no command to key', async () => {
    const read = await one({ query: '{ auditGrants { grantId } }' }, 'idem-read-0001');
    expect(read.errors).toBeUndefined();
    expect(read.data?.auditGrants).toEqual(expect.arrayContaining([{ grantId: 'AG-idem-1' }]));
  });
});
