import type { AuditGrantRecord, AuditScope } from '@gigledger/chaincode/model';
import { pino } from 'pino';
import { sql } from 'kysely';
import { AgreementKit } from '../test-support/agreement-test-kit.js';
import { SseSubscription } from '../test-support/sse-subscription.js';
import { startTestServer, testOperator, type Person, type TestServer } from '../test-support/test-server.js';
import { ReadLog, type ReadLogRow } from './read-log.js';
import { ReadLogAnchorer } from './read-log-anchorer.js';
import { AuditService } from './audit-routes.js';

interface ReadLogPage {
  entries: {
    seq: number;
    principal: { id: string; mspId: string; role: string };
    operation: string;
    kinds: string[];
    organisations: string[];
    resultCount: number;
    status: number;
    grants: string[];
    prevHash: string;
    hash: string;
  }[];
  nextAfter?: number;
}

describe('auditor access over HTTP', () => {
  let server: TestServer;
  let kit: AgreementKit;
  let clientAdmin: Person;
  let talentAdmin: Person;
  let auditor: Person;
  let hr: Person;
  let agreementId: string;

  beforeAll(async () => {
    kit = await AgreementKit.start();
    server = kit.server;
    clientAdmin = await server.person('client-ops', 'ClientOrg', 'admin');
    talentAdmin = await server.person('talent-ops', 'TalentOrg', 'admin');
    // Not the kit's auditor, who holds grants everywhere.
    auditor = await server.person('audra', 'AuditOrg', 'auditor');
    hr = await server.person('hr-sync', 'AuditOrg', 'hr');
    agreementId = (await kit.active()).agreementId;
  });

  afterAll(async () => {
    await server.close();
  });

  const grant = (body: Record<string, unknown>, as: Person = clientAdmin) =>
    server.request('POST', '/v1/audit/grants', {
      token: as.token,
      body: {
        auditor: { mspId: 'AuditOrgMSP', userId: 'audra' },
        kinds: ['agreement'],
        expiresAt: kit.daysAhead(30),
        purpose: 'statutory audit 2026',
        ...body,
      },
    });
  /** The newest row as stored, whoever it concerns (one concerning nobody shows in no organisation's page). */
  const newestRow = () =>
    server.db
      .selectFrom('read_log')
      .select(['operation', 'result_count', 'status', 'grants'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
  /** The newest row's operation with the kinds and organisations it names, whoever it concerns. */
  const newestNaming = () =>
    server.db
      .selectFrom('read_log')
      .select(['operation', 'kinds', 'organisations'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();

  const rowCount = async () =>
    Number(
      (
        await server.db
          .selectFrom('read_log')
          .select((eb) => eb.fn.countAll<number | string>().as('rows'))
          .executeTakeFirstOrThrow()
      ).rows,
    );
  /** A POST read and the read-log rows it added, with the newest row. */
  const posted = async (as: Person, path: string, body: unknown) => {
    const before = await rowCount();
    const answer = await server.request('POST', path, { token: as.token, body });
    return { answer, added: (await rowCount()) - before, row: await newestRow() };
  };

  const readLog = (as: Person, query = '') =>
    server
      .request('GET', `/v1/audit/read-log${query}`, { token: as.token })
      .then((answer) => answer.body as ReadLogPage);
  /**
   * The newest row each party of the agreement sees is the auditor's read, with `expected`;
   * each sees its own MSP id alone: the other organisations a read concerned are withheld.
   */
  const expectNewestInBothPartiesLogs = async (expected: Record<string, unknown>) => {
    for (const [admin, mspId] of [
      [talentAdmin, 'TalentOrgMSP'],
      [clientAdmin, 'ClientOrgMSP'],
    ] as const) {
      const [last] = (await readLog(admin)).entries.slice(-1);
      expect(last).toMatchObject({
        principal: { mspId: 'AuditOrgMSP', role: 'auditor' },
        organisations: [mspId],
        ...expected,
      });
    }
  };

  it('answers an auditor read without a grant as for a missing agreement, and logs the refusal', async () => {
    const answer = await server.request('GET', `/v1/agreements/${agreementId}`, { token: auditor.token });
    const missing = await server.request('GET', '/v1/agreements/A-never-drafted', { token: auditor.token });
    // Nothing tells the two apart: not the status, the code, the field, nor the sentence's shape.
    const withoutIds = (body: unknown) => {
      const { requestId: _requestId, message, ...rest } = body as { requestId: string; message: string };
      return { ...rest, message: message.replace(/agreement \S+ /, 'agreement <id> ') };
    };
    expect([answer.status, withoutIds(answer.body)]).toEqual([404, withoutIds(missing.body)]);
    expect(answer.body).toMatchObject({ code: 'NOT_FOUND', field: 'path.agreementId' });
    expect(answer.text).not.toMatch(/ClientOrgMSP|TalentOrgMSP|20\d\d-/);
    // The answer names nobody, yet the read was about this agreement: both parties'
    // organisations find it in their log, with no grant and no record counted.
    await expectNewestInBothPartiesLogs({
      operation: 'GET /v1/agreements/:agreementId',
      kinds: ['agreement'],
      resultCount: 0,
      status: 404,
      grants: [],
    });
  });

  it('logs a refused GraphQL read for the organisations of the record it asked for', async () => {
    const answer = await server.request('POST', '/graphql', {
      token: auditor.token,
      body: {
        query: 'query One($id: ID!) { agreement(id: $id) { agreementId } }',
        variables: { id: agreementId },
      },
    });
    expect(JSON.stringify(answer.body)).toContain('"code":"NOT_FOUND"');
    expect(JSON.stringify(answer.body)).not.toMatch(/ClientOrgMSP|TalentOrgMSP/);
    const [last] = (await readLog(clientAdmin)).entries.slice(-1);
    expect(last).toMatchObject({
      operation: 'graphql query agreement',
      organisations: ['ClientOrgMSP'],
      resultCount: 0,
      grants: [],
    });
  });

  it('lets an admin grant access, then logs the auditor reads with the grant for the organisations concerned', async () => {
    const granted = await grant({ grantId: 'AG-http-1' });
    expect(granted.status).toBe(201);
    expect(granted.headers.get('location')).toBe('/v1/audit/grants/AG-http-1');
    expect((granted.body as { result: AuditGrantRecord }).result).toMatchObject({
      organisation: 'ClientOrgMSP',
      status: 'active',
    });

    const read = await server.request('GET', `/v1/agreements/${agreementId}`, { token: auditor.token });
    expect(read.status).toBe(200);
    const page = await readLog(clientAdmin);
    const entry = page.entries.at(-1);
    expect(entry).toMatchObject({
      principal: { id: 'audra', mspId: 'AuditOrgMSP', role: 'auditor' },
      operation: 'GET /v1/agreements/:agreementId',
      kinds: ['agreement'],
      organisations: ['ClientOrgMSP'],
      resultCount: 1,
      status: 200,
      grants: ['AG-http-1'],
    });
    // The other party's organisation reads the same entry; an organisation not concerned does not.
    expect((await readLog(talentAdmin)).entries.map((row) => row.seq)).toContain(entry?.seq);

    // HEAD sends no body, but its status, length and ETag tell that the record exists and
    // when it changed: logged as a read, and a missing id as one too.
    for (const [id, status, resultCount, grants] of [
      [agreementId, 200, 1, ['AG-http-1']],
      ['A-made-up', 404, 0, []],
    ] as const) {
      const head = await server.request('HEAD', `/v1/agreements/${id}`, { token: auditor.token });
      expect([head.status, head.text]).toEqual([status, '']);
      expect(await newestRow()).toEqual({
        operation: 'HEAD /v1/agreements/:agreementId',
        result_count: resultCount,
        status,
        grants: JSON.stringify(grants),
      });
    }

    // A conditional GET answered 304 is logged as 304: the row and the answer agree.
    const etag = read.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    for (const [ifNoneMatch, status] of [
      [etag, 304],
      ['W/"something-else"', 200],
    ] as const) {
      const conditional = await server.request('GET', `/v1/agreements/${agreementId}`, {
        token: auditor.token,
        // fetch adds `Cache-Control: no-cache` to a conditional request unless it carries one,
        // and no-cache asks for a full answer; `max-age=0` is what a browser's reload sends.
        headers: { 'if-none-match': ifNoneMatch, 'cache-control': 'max-age=0' },
      });
      expect(conditional.status).toBe(status);
      expect(conditional.headers.get('etag')).toBe(etag);
      expect(await newestRow()).toEqual({
        operation: 'GET /v1/agreements/:agreementId',
        result_count: 1,
        status,
        grants: JSON.stringify(['AG-http-1']),
      });
    }

    // A read that cannot be logged is answered 503, without the withheld answer's ETag,
    // which would tell unlogged whether the record changed.
    await sql`alter table read_log rename to read_log_away`.execute(server.db);
    try {
      const unlogged = await server.request('GET', `/v1/agreements/${agreementId}`, {
        token: auditor.token,
        headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' },
      });
      expect([unlogged.status, unlogged.body]).toMatchObject([503, { code: 'READ_LOG_UNAVAILABLE' }]);
      expect(unlogged.headers.get('etag')).not.toBe(etag);
    } finally {
      await sql`alter table read_log_away rename to read_log`.execute(server.db);
    }

    // Fragments select root fields too, and a field that fails does not unlog the records
    // the others answered: each row says what was read and under which grant.
    const graphqlRow = async (query: string) => {
      const answer = await server.request('POST', '/graphql', {
        token: auditor.token,
        body: { query, variables: { id: agreementId } },
      });
      expect(answer.status).toBe(200);
      expect((answer.body as { data?: { agreement?: unknown } }).data?.agreement).toMatchObject({ agreementId });
      return (await readLog(clientAdmin)).entries.at(-1);
    };
    const asRead = {
      operation: 'graphql query agreement',
      kinds: ['agreement'],
      organisations: ['ClientOrgMSP'],
      resultCount: 1,
      status: 200,
      grants: ['AG-http-1'],
    };
    expect(
      await graphqlRow('query ($id: ID!) { ...F } fragment F on Query { agreement(id: $id) { agreementId } }'),
    ).toMatchObject(asRead);
    expect(await graphqlRow('query ($id: ID!) { ... on Query { agreement(id: $id) { agreementId } } }')).toMatchObject(
      asRead,
    );
    // One field answered, the other refused: a read that disclosed a record (207), not a failure.
    expect(
      await graphqlRow(
        'query ($id: ID!) { agreement(id: $id) { agreementId } missing: agreement(id: "A-made-up") { agreementId } }',
      ),
    ).toMatchObject({ ...asRead, status: 207 });
  });

  it('logs GraphQL queries by HR systems through the same log', async () => {
    const before = (await readLog(talentAdmin)).entries.length;
    const answer = await server.request('POST', '/graphql', {
      token: hr.token,
      body: { query: `query { agreement(id: "${agreementId}") { agreementId } }` },
    });
    expect(answer.status).toBe(200);
    const entries = (await readLog(talentAdmin)).entries;
    expect(entries.length).toBe(before + 1);
    expect(entries.at(-1)).toMatchObject({
      principal: { role: 'hr' },
      operation: 'graphql query agreement',
      kinds: ['agreement'],
      grants: [],
    });
  });

  it('logs the reads sent by POST as the GET reads are (a terms check, a presentation, a statement), and no command', async () => {
    // The kit's auditor holds grants everywhere: its check of the terms is answered, and logged with its grants.
    const check = await posted(kit.cast.auditor, `/v1/agreements/${agreementId}/terms/verify`, {
      terms: { scope: 'Anything at all' },
    });
    expect([check.answer.status, check.added]).toEqual([200, 1]);
    expect(check.answer.body).toMatchObject({ agreementId, matches: false });
    expect(check.row).toMatchObject({
      operation: 'POST /v1/agreements/:agreementId/terms/verify',
      status: 200,
      result_count: 1,
    });
    expect(JSON.parse(check.row.grants)).not.toEqual([]);
    // An HR system's, answered or refused: each leaves its row with the answer's status.
    for (const [path, operation, body] of [
      [
        '/v1/credentials/verify',
        '/v1/credentials/verify',
        { presentation: { credentialId: 'C-x', revealedClaims: [] } },
      ],
      ['/v1/credentials/C-x/presentations', '/v1/credentials/:credentialId/presentations', { reveal: [] }],
      ['/v1/reputation/statements/verification', '/v1/reputation/statements/verification', { statement: 'none' }],
      ['/v1/reputation/statements', '/v1/reputation/statements', {}],
    ] as const) {
      const { answer, added, row } = await posted(hr, path, body);
      expect([path, added, row.operation, row.status]).toEqual([path, 1, `POST ${operation}`, answer.status]);
    }
    // A command is no read, whoever sends it.
    const command = await posted(hr, '/v1/audit/grants', { grantId: 'AG-not-hr' });
    expect([command.answer.status, command.added]).toEqual([403, 0]);
  });

  it('logs reads whose body holds lone surrogates, answered as for anyone', async () => {
    const freelancer = kit.cast.freelancer;
    for (const [path, body] of [
      ['/v1/credentials/verify', { credentialId: 'x1', revealedClaims: [], expectedSubject: '\ud800' }],
      [`/v1/agreements/${agreementId}/terms/verify`, { a: '\ud800' }],
      [`/v1/agreements/${agreementId}/terms/verify`, { ['\udc00key']: 'x\ud800y' }],
      ['/v1/credentials/vc/verify', { credential: { id: '\ud800' } }],
    ] as const) {
      const anyone = await server.request('POST', path, { token: freelancer.token, body });
      for (const reader of [auditor, hr]) {
        const { answer, added, row } = await posted(reader, path, body);
        expect([path, reader.party.userId, answer.status]).toEqual([path, reader.party.userId, anyone.status]);
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect([added, row.status]).toEqual([1, answer.status]);
      }
    }
  });

  it('logs reads refused before their input is read as arguments, answered as for anyone', async () => {
    const freelancer = kit.cast.freelancer;
    /** A request as the person sends it, with the read-log rows it added and the newest one. */
    const sent = async (as: Person, path: string, body: string, contentType = 'application/json') => {
      const before = await rowCount();
      const answer = await server.request('POST', path, {
        token: as.token,
        body,
        headers: { 'content-type': contentType },
      });
      const added = (await rowCount()) - before;
      return { answer, added, row: added > 0 ? await newestRow() : undefined };
    };
    const termsCheck = `/v1/agreements/${agreementId}/terms/verify`;
    const deep = `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`;
    const rest: [string, string, string?][] = [
      ['not JSON', '{"terms": '],
      ['a repeated member', '{"terms":{},"terms":{}}'],
      ['nested too deep', `{"terms":${deep}}`],
      ['another media type', 'terms=x', 'text/plain'],
      ['another charset', '{"terms":{}}', 'application/json; charset=latin1'],
      // JSON.parse reads 1e400 as Infinity, which RFC 8785 cannot write either.
      ['a number past the float range', '{"terms":{"scope":"x","n":1e400}}'],
      ['a negative one', '{"terms":-1e999}'],
    ];
    for (const [why, body, contentType] of rest) {
      const anyone = await sent(freelancer, termsCheck, body, contentType);
      expect([why, anyone.added]).toEqual([why, 0]);
      for (const reader of [auditor, hr]) {
        const { answer, added, row } = await sent(reader, termsCheck, body, contentType);
        expect([why, answer.status, answer.body]).toEqual([
          why,
          anyone.answer.status,
          {
            ...(anyone.answer.body as object),
            requestId: (answer.body as { requestId: string }).requestId,
          },
        ]);
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect([why, added, row?.operation, row?.status]).toEqual([
          why,
          1,
          'POST /v1/agreements/:agreementId/terms/verify',
          answer.status,
        ]);
      }
    }
    // The route checked the path before the body: the agreement it names was named validly,
    // and both parties' organisations see the attempt in their log, whatever the body was.
    for (const [body, status] of [
      ['{"terms": ', 400],
      ['{"bogus":1}', 422],
    ] as const) {
      expect((await sent(auditor, termsCheck, body)).answer.status).toBe(status);
      await expectNewestInBothPartiesLogs({ operation: 'POST /v1/agreements/:agreementId/terms/verify', status });
    }
    // Express matches a path whatever its letters' case: the record is found all the same.
    // (Answered or refused, as the auditor's grants of the tests before have it.)
    const shouted = await server.request('GET', `/V1/Agreements/${agreementId}`, { token: auditor.token });
    expect([200, 404]).toContain(shouted.status);
    await expectNewestInBothPartiesLogs({ operation: 'GET /v1/agreements/:agreementId', status: shouted.status });
    expect((await sent(auditor, `/v1/AGREEMENTS/${agreementId}/Terms/Verify`, '{"terms": ')).answer.status).toBe(400);
    await expectNewestInBothPartiesLogs({ operation: 'POST /v1/agreements/:agreementId/terms/verify', status: 400 });
    // A query refused for one parameter keeps the organisations another named, as GraphQL's arguments do.
    const refusedQuery = await server.request('GET', '/v1/index/agreements?org=ClientOrgMSP&first=0', {
      token: auditor.token,
    });
    expect([refusedQuery.status, (refusedQuery.body as { field?: string }).field]).toEqual([422, 'query.first']);
    const queried = await newestNaming();
    expect([queried.operation, JSON.parse(queried.organisations)]).toEqual([
      'GET /v1/index/agreements',
      ['ClientOrgMSP'],
    ]);
    // A path refused names no record: nothing is looked up, and the row concerns nobody.
    const badPath = await sent(auditor, '/v1/agreements/A%20bad/terms/verify', '{"terms": ');
    expect([badPath.answer.status, (badPath.answer.body as { field?: string }).field, badPath.added]).toEqual([
      422,
      'path.agreementId',
      1,
    ]);
    const aliases = Array.from({ length: 40 }, (_, index) => `a${String(index)}: me { __typename }`).join(' ');
    const graphql: [string, string, string][] = [
      ['not JSON', '{"query": ', 'graphql request'],
      ['no GraphQL request', '{"text":"{ me { userId } }"}', 'graphql request'],
      ['a document that does not parse', JSON.stringify({ query: '{ agreement(id: ' }), 'graphql request'],
      [
        'a document that does not validate',
        JSON.stringify({ query: `{ agreement(id: "${agreementId}") { noSuchField } }` }),
        'graphql query agreement',
      ],
      [
        'variables with a lone surrogate',
        JSON.stringify({
          query: 'query ($id: ID!) { agreement(id: $id) { agreementId } }',
          variables: { id: '\ud800' },
        }),
        'graphql query agreement',
      ],
      ['a document past the alias limit', JSON.stringify({ query: `{ ${aliases} }` }), 'graphql query me'],
      [
        'a variable past the float range',
        '{"query":"query ($n: Int) { me { userId } }","variables":{"n":1e400}}',
        'graphql query me',
      ],
      [
        'two operations, a mutation first, and no operation name',
        JSON.stringify({ query: 'mutation M { noSuch } query Q { me { userId } }' }),
        'graphql request',
      ],
    ];
    for (const [why, body, operation] of graphql) {
      const anyone = await sent(freelancer, '/graphql', body);
      expect([why, anyone.added]).toEqual([why, 0]);
      for (const reader of [auditor, hr]) {
        const { answer, added, row } = await sent(reader, '/graphql', body);
        // Refused as anyone is, by status and errors; GraphQL answers a document it could
        // not run 200 over application/json, and the row keeps the error's status.
        expect([why, answer.status]).toEqual([why, anyone.answer.status]);
        expect([why, (answer.body as { errors?: unknown[] }).errors?.length]).toEqual([
          why,
          (anyone.answer.body as { errors?: unknown[] }).errors?.length,
        ]);
        expect([why, added, row?.operation]).toEqual([why, 1, operation]);
        expect([why, (row?.status ?? 0) >= 400]).toEqual([why, true]);
      }
    }
    // Each operation of a batch is a read of its own: one that does not parse beside one that runs.
    const batch = await sent(auditor, '/graphql', JSON.stringify([{ query: '{ __typename }' }, { query: '{ me(' }]));
    const batchRows = await server.db
      .selectFrom('read_log')
      .select(['operation', 'status'])
      .orderBy('seq', 'desc')
      .limit(2)
      .execute();
    expect([batch.answer.status, batch.added]).toEqual([200, 2]);
    expect(batchRows.map((row) => [row.operation, row.status]).sort()).toEqual([
      ['graphql query __typename', 200],
      ['graphql request', 400],
    ]);
    // A root field the caller's role may not ask for, refused before yoga reads the document.
    const forbidden = await sent(hr, '/graphql', JSON.stringify({ query: '{ readLog { __typename } }' }));
    expect([forbidden.answer.status, forbidden.added, forbidden.row?.operation, forbidden.row?.status]).toEqual([
      403,
      1,
      'graphql query readLog',
      403,
    ]);
    // A mutation reads nothing, refused or not.
    const mutation = await sent(auditor, '/graphql', JSON.stringify({ query: 'mutation { noSuchMutation }' }));
    expect([(mutation.answer.body as { errors?: unknown[] }).errors?.length, mutation.added]).toEqual([1, 0]);
  });

  it('names the records a read asks about however it writes them: a default variable, a filter, a payout instruction', async () => {
    // An auditor without grants: every read below is refused or empty, so only the read log's lookups name anyone.
    const newcomer = await server.person('audit-newcomer', 'AuditOrg', 'auditor');
    const defaulted = await server.request('POST', '/graphql', {
      token: newcomer.token,
      body: { query: `query Q($id: ID = "${agreementId}") { agreement(id: $id) { agreementId } }` },
    });
    expect((defaulted.body as { errors?: { extensions: { code: string } }[] }).errors?.[0]?.extensions.code).toBe(
      'NOT_FOUND',
    );
    await expectNewestInBothPartiesLogs({
      principal: { mspId: 'AuditOrgMSP', role: 'auditor', userId: 'audit-newcomer' },
      operation: 'graphql query agreement',
    });
    // A royalty period's licence grant named in a filter is looked up, over REST and GraphQL:
    // one evaluation more than the same read naming none.
    const evaluations = async (read: () => Promise<{ status: number }>) => {
      const before = kit.mark().transactions;
      expect((await read()).status).toBe(200);
      return kit.mark().transactions - before;
    };
    for (const read of [
      (filter: string) => server.request('GET', `/v1/index/royalty-periods?${filter}`, { token: newcomer.token }),
      (filter: string) =>
        server.request('POST', '/graphql', {
          token: newcomer.token,
          body: {
            query: `{ indexedRoyaltyPeriods(filter: { ${filter.replace('=', ': "')}" }) { totalCount } }`,
          },
        }),
    ]) {
      await evaluations(() => read('status=paid'));
      const naming = await evaluations(() => read('grantId=G-none'));
      expect(naming - (await evaluations(() => read('status=paid')))).toBe(1);
    }
    // An erasure receipts filter's target is looked up as the record its kind names, as either without one.
    const receipts = (filter: string) => () =>
      server.request('POST', '/graphql', {
        token: newcomer.token,
        body: { query: `{ indexedErasureReceipts(filter: { ${filter} }) { totalCount } }` },
      });
    const unnamed = await evaluations(receipts('org: "TalentOrgMSP"'));
    expect(await evaluations(receipts('targetKind: "agreementTerms", targetId: "A-none"'))).toBe(unnamed + 1);
    expect(await evaluations(receipts('targetId: "A-none"'))).toBe(unnamed + 2);
    // A payout instruction is read as part of the agreement it pays out of, under that agreement's grants.
    const { instructionId } = await kit.released();
    const instruction = await server.request(
      'GET',
      `/v1/settlement/instructions/${encodeURIComponent(instructionId!)}`,
      {
        token: kit.cast.auditor.token,
      },
    );
    // (This server runs no settlement service, so it is refused; the row is what is checked.)
    expect(instruction.status).toBe(503);
    const row = await newestNaming();
    expect([row.operation, JSON.parse(row.kinds)]).toEqual([
      'GET /v1/settlement/instructions/:instructionId',
      ['agreement'],
    ]);
  });

  it('refuses an anchoring request that sends fields, naming them', async () => {
    const refused = await server.request('POST', '/v1/audit/read-log/anchors', {
      token: clientAdmin.token,
      body: { x: 1 },
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(JSON.stringify(refused.body)).toContain('body');
  });

  it('pages the log and keeps it chained', async () => {
    const all = (await readLog(clientAdmin, '?limit=500')).entries;
    const first = await readLog(clientAdmin, '?limit=1');
    expect(first.entries.length).toBe(1);
    expect(first.nextAfter).toBe(first.entries[0]?.seq);
    const rest = await readLog(clientAdmin, `?after=${String(first.nextAfter)}&limit=500`);
    expect([...first.entries, ...rest.entries]).toEqual(all);
    expect(rest.nextAfter).toBeUndefined();
    for (let i = 1; i < all.length; i += 1) {
      if (all[i]!.seq === all[i - 1]!.seq + 1) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
    }
    const refused = await server.request('GET', '/v1/audit/read-log?limit=0', { token: clientAdmin.token });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ field: 'query.limit' });
    expect((await server.request('GET', '/v1/audit/read-log', { token: auditor.token })).status).toBe(403);
  });

  it('shows grants to their admins and auditors, gives the auditor a scope, and revokes', async () => {
    const listed = await server.request('GET', '/v1/audit/grants', { token: auditor.token });
    expect((listed.body as AuditGrantRecord[]).map((entry) => entry.grantId)).toEqual(['AG-http-1']);
    const talentGrants = (await server.request('GET', '/v1/audit/grants', { token: talentAdmin.token }))
      .body as AuditGrantRecord[];
    expect(talentGrants.every((entry) => entry.organisation === 'TalentOrgMSP')).toBe(true);
    expect(talentGrants.map((entry) => entry.grantId)).not.toContain('AG-http-1');
    const scope = (await server.request('GET', '/v1/audit/scope', { token: auditor.token })).body as AuditScope;
    expect(scope).toMatchObject({ organisations: ['ClientOrgMSP'], kinds: ['agreement'] });

    const revoked = await server.request('POST', '/v1/audit/grants/AG-http-1/revocation', {
      token: clientAdmin.token,
      body: { reason: 'engagement ended' },
    });
    expect(revoked.status).toBe(200);
    const after = await server.request('GET', `/v1/agreements/${agreementId}`, { token: auditor.token });
    expect(after.status).toBe(404);
    expect(after.body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('grants, lists and pages the read log over GraphQL too', async () => {
    const gql = (as: Person, query: string, variables: Record<string, unknown> = {}) =>
      server
        .request('POST', '/graphql', { token: as.token, body: { query, variables } })
        .then(
          (answer) => answer.body as { data?: Record<string, unknown>; errors?: { extensions: { code: string } }[] },
        );
    const granted = await gql(
      talentAdmin,
      `mutation ($input: GrantAuditAccessInput!) { grantAuditAccess(input: $input) { transactionId grant { grantId organisation kinds from } } }`,
      {
        input: {
          grantId: 'AG-gql-1',
          auditor: { mspId: 'AuditOrgMSP', userId: 'audra' },
          kinds: ['agreement', 'credential'],
          expiresAt: kit.daysAhead(10),
          purpose: 'GraphQL grant',
        },
      },
    );
    expect(granted.data?.grantAuditAccess).toMatchObject({
      grant: { grantId: 'AG-gql-1', organisation: 'TalentOrgMSP', kinds: ['agreement', 'credential'], from: null },
    });
    const scope = await gql(auditor, '{ auditScope { organisations kinds grants { grantId } } }');
    expect(scope.data?.auditScope).toEqual({
      organisations: ['TalentOrgMSP'],
      kinds: ['agreement', 'credential'],
      grants: [{ grantId: 'AG-gql-1' }],
    });
    const page = await gql(talentAdmin, '{ readLog(first: 50) { entries { seq operation grants } nextAfter } }');
    const entries = (page.data?.readLog as { entries: { operation: string; grants: string[] }[] }).entries;
    expect(entries.map((entry) => entry.operation)).toContain('GET /v1/agreements/:agreementId');
    expect((await gql(auditor, '{ readLog { nextAfter } }')).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    // GraphQL's page size is `first` (REST's `limit`); a refusal names the argument the client sent.
    const tooLarge = await gql(talentAdmin, '{ readLog(first: 501) { nextAfter } }');
    expect(tooLarge.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'first' });
    // Pages of 500 passed as a variable (which the cost limit does not weigh) count against
    // the request's 1,000 records like ledger lists: the third of one request is refused.
    const pages = await gql(
      talentAdmin,
      'query ($f: Int) { a: readLog(first: $f) { nextAfter } b: readLog(first: $f) { nextAfter } c: readLog(first: $f) { nextAfter } }',
      { f: 500 },
    );
    expect(pages.errors?.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'first' }),
    ]);
    const revoked = await gql(
      talentAdmin,
      'mutation { revokeAuditAccess(grantId: "AG-gql-1", reason: "done") { grant { status } } }',
    );
    expect(revoked.data?.revokeAuditAccess).toEqual({ grant: { status: 'revoked' } });
  });

  it('refuses bad grants with 422 naming the field, and other roles with 403', async () => {
    const bad = await grant({ grantId: 'AG-http-2', kinds: ['payroll'] });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ field: 'body.kinds.0' });
    const past = await grant({ grantId: 'AG-http-3', expiresAt: '2020-01-01T00:00:00.000Z' });
    expect(past.status).toBe(422);
    expect(past.body).toMatchObject({ field: 'body.expiresAt' });
    expect((await grant({ grantId: 'AG-http-4' }, auditor)).status).toBe(403);
  });

  it('refuses an expiry later than auditGrantMaxSeconds allows with 422 naming body.expiresAt', async () => {
    // Kind ip: the agreement reads of the other tests stay outside these grants.
    const tooLate = await grant({ grantId: 'AG-http-long', kinds: ['ip'], expiresAt: kit.daysAhead(367) });
    expect(tooLate.status).toBe(422);
    expect(tooLate.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.expiresAt' });
    expect((tooLate.body as { message: string }).message).toContain(
      'must be at most 31622400 seconds (auditGrantMaxSeconds) after the transaction time',
    );
    expect((await grant({ grantId: 'AG-http-year', kinds: ['ip'], expiresAt: kit.daysAhead(366) })).status).toBe(201);
  });

  it('refuses a grant naming a person who is no auditor, over REST and GraphQL, naming the field', async () => {
    await server.person('fran', 'AuditOrg', 'freelancer');
    const toFreelancer = await grant({ grantId: 'AG-not-auditor', auditor: { mspId: 'AuditOrgMSP', userId: 'fran' } });
    expect(toFreelancer.status).toBe(422);
    expect(toFreelancer.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'body.auditor.userId',
      message: 'body.auditor.userId: AuditOrgMSP/fran is no active auditor on this server',
    });
    // The user id is of another organisation's person: this organisation has nobody of that name.
    const elsewhere = await grant({ grantId: 'AG-not-here', auditor: { mspId: 'TalentOrgMSP', userId: 'audra' } });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body).toMatchObject({
      field: 'body.auditor.userId',
      message: 'body.auditor.userId: TalentOrgMSP/audra is no active auditor on this server',
    });
    const viaGraphql = await server.request('POST', '/graphql', {
      token: clientAdmin.token,
      body: {
        query: 'mutation ($input: GrantAuditAccessInput!) { grantAuditAccess(input: $input) { transactionId } }',
        variables: {
          input: {
            grantId: 'AG-not-auditor-gql',
            auditor: { mspId: 'AuditOrgMSP', userId: 'fran' },
            kinds: ['agreement'],
            expiresAt: kit.daysAhead(30),
            purpose: 'statutory audit 2026',
          },
        },
      },
    });
    expect((viaGraphql.body as { errors?: { extensions?: unknown }[] }).errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'input.auditor.userId',
    });
    // An auditor's API key is an auditor too; a grant to every auditor of an organisation names no person.
    const key = await server.service('audit-robot', 'AuditOrg', 'auditor');
    expect(key.id).toBeDefined();
    expect(
      (
        await grant({
          grantId: 'AG-robot',
          kinds: ['ip'],
          auditor: { mspId: 'AuditOrgMSP', userId: 'svc.audit-robot' },
        })
      ).status,
    ).toBe(201);
    expect((await grant({ grantId: 'AG-firm', kinds: ['ip'], auditor: { mspId: 'AuditOrgMSP' } })).status).toBe(201);
    const grants = (await server.request('GET', '/v1/audit/grants', { token: clientAdmin.token }))
      .body as AuditGrantRecord[];
    expect(grants.map((entry) => entry.grantId)).not.toContain('AG-not-auditor');
  });

  describe("a dataset's access grants and access log", () => {
    let dana: Person;
    let gil: Person;
    let datasetAuditor: Person;

    beforeAll(async () => {
      dana = await server.person('dana', 'TalentOrg', 'freelancer');
      gil = await server.person('gil', 'ClientOrg', 'client');
      datasetAuditor = await server.person('dora', 'AuditOrg', 'auditor');
      const registered = await server.request('POST', '/v1/provenance/datasets', {
        token: dana.token,
        body: {
          recordId: 'DS-log',
          contentSha256: 'e'.repeat(64),
          title: 'Claims history',
          licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
          source: 'https://data.example.org',
          legalBasis: 'consent',
          piiClass: 'personal',
          retention: { kind: 'period', period: 'P2Y' },
        },
      });
      expect(registered.status).toBe(201);
      const granted = await server.request('POST', '/v1/provenance/datasets/DS-log/grants', {
        token: dana.token,
        body: {
          grantId: 'DG-log',
          grantee: gil.party,
          purpose: 'Benchmark',
          scope: ['read'],
          expiresAt: kit.daysAhead(30),
        },
      });
      expect(granted.status).toBe(201);
      const used = await server.request('POST', '/v1/provenance/grants/DG-log/accesses', {
        token: gil.token,
        body: { scope: 'read' },
      });
      expect(used.status).toBe(201);
    });

    it('refuses an auditor without an audit grant the grant list with 403 NO_AUDIT_GRANT, as the access log', async () => {
      for (const path of ['/v1/provenance/datasets/DS-log/grants', '/v1/provenance/datasets/DS-log/access-log']) {
        const answer = await server.request('GET', path, { token: datasetAuditor.token });
        expect([path, answer.status, answer.body]).toEqual([
          path,
          403,
          expect.objectContaining({ code: 'NO_AUDIT_GRANT' }),
        ]);
      }
      // The dataset's controller still reads them, and the grantee its own grant.
      const own = await server.request('GET', '/v1/provenance/datasets/DS-log/grants', { token: gil.token });
      expect((own.body as { grantId: string }[]).map((entry) => entry.grantId)).toEqual(['DG-log']);
    });

    it('logs a granted read of the access log for the controller and the accessor, with the grant that allowed it', async () => {
      const talentGrant = await grant(
        { grantId: 'AG-datasets', auditor: datasetAuditor.party, kinds: ['provenance'] },
        talentAdmin,
      );
      expect(talentGrant.status).toBe(201);
      // A grant of the accessor's organisation does not open the controller's dataset.
      expect(
        (await grant({ grantId: 'AG-accessor', auditor: datasetAuditor.party, kinds: ['provenance'] })).status,
      ).toBe(201);
      const answer = await server.request('GET', '/v1/provenance/datasets/DS-log/access-log', {
        token: datasetAuditor.token,
      });
      expect(answer.status).toBe(200);
      expect((answer.body as { accessor: { mspId: string } }[]).map((entry) => entry.accessor.mspId)).toEqual([
        'ClientOrgMSP',
      ]);
      const [last] = (await readLog(talentAdmin)).entries.slice(-1);
      expect(last).toMatchObject({
        principal: { id: 'dora' },
        operation: 'GET /v1/provenance/datasets/:datasetId/access-log',
        organisations: ['TalentOrgMSP'],
        resultCount: 1,
        status: 200,
        grants: ['AG-datasets'],
      });
    });
  });
  it("does not tell an organisation's admins through the log which ids of other organisations' records exist", async () => {
    const silent = pino({ level: 'silent' });
    const serviceLedger = await server.ledger.clientFor(testOperator, silent);
    // The auditor's own organisation anchors the log, so it wrote every row: the case where
    // it used to see the rows of reads that concerned nobody.
    const service = new AuditService({
      ledger: server.ledger,
      db: server.db,
      serviceLedger,
      accounts: server.accounts,
      readLogAnchoring: {
        anchorer: new ReadLogAnchorer({
          readLog: new ReadLog(server.db),
          ledger: serviceLedger,
          log: silent,
          intervalMs: 0,
        }),
        mspId: 'AuditOrgMSP',
      },
    });
    const auditAdmin = await server.person('audit-ops', 'AuditOrg', 'admin');
    // An auditor of its own, so that no scope kept from other tests' grants answers for it.
    const prober = await server.person('ora', 'AuditOrg', 'auditor');
    const pageOf = async (admin: Person) =>
      (await service.readLogPage({ principal: admin.principal, log: silent }, 0, 500)).entries;
    const before = (await pageOf(auditAdmin)).length;
    const ids = { existing: agreementId, unknown: 'A-never-drafted-oracle' };

    // By id alone: both refused alike, and neither read shows in the auditor's organisation's log.
    for (const id of Object.values(ids)) {
      expect((await server.request('GET', `/v1/agreements/${id}`, { token: prober.token })).status).toBe(404);
    }
    expect((await pageOf(auditAdmin)).length).toBe(before);
    // An empty answer, `{ __typename }`, concerns nobody either; it is in the chain all the same.
    expect(
      (await server.request('POST', '/graphql', { token: prober.token, body: { query: '{ __typename }' } })).status,
    ).toBe(200);
    expect((await pageOf(auditAdmin)).length).toBe(before);

    // By id beside a field naming the auditor's own organisation, so that its admins see the
    // row: the row of the existing id and that of the unknown one are the same to them.
    const rowOf = async (id: string, query: string, operation: string) => {
      const answer = await server.request('POST', '/graphql', {
        token: prober.token,
        body: { query, variables: { id } },
      });
      expect(answer.status).toBe(200);
      const row = (await pageOf(auditAdmin)).at(-1);
      expect(row?.operation).toBe(operation);
      return row!;
    };
    const namingOwn = [
      'query ($id: ID!) { agreement(id: $id) { agreementId } memberRule(mspId: "AuditOrgMSP") { record } }',
      'graphql query agreement,memberRule',
    ] as const;
    const withoutPlace = ({
      seq: _seq,
      at: _at,
      argumentsSha256: _args,
      prevHash: _prev,
      hash: _hash,
      ...rest
    }: ReadLogRow) => rest;
    const [existing, unknown] = [await rowOf(ids.existing, ...namingOwn), await rowOf(ids.unknown, ...namingOwn)];
    expect(withoutPlace(existing)).toEqual(withoutPlace(unknown));
    expect(existing.organisations).toEqual(['AuditOrgMSP']);

    // Answered (200), under grants of both the auditor's own organisation and the
    // agreement's client (one the auditor cannot read it under, from 2020): the own
    // organisation's admins see its grant on both rows, whichever id exists.
    const ownGrant = await grant({ grantId: 'AG-own-oracle', auditor: prober.party }, auditAdmin);
    const clientGrant = await grant({
      grantId: 'AG-client-2020',
      auditor: prober.party,
      from: '2020-01-01T00:00:00.000Z',
      to: '2020-02-01T00:00:00.000Z',
    });
    expect([ownGrant.status, clientGrant.status]).toEqual([201, 201]);
    const answeredNamingOwn = [
      'query ($id: ID!) { me { mspId } indexedPayouts(filter: { agreementId: $id }) { edges { node { agreementId } } } }',
      'graphql query me,indexedPayouts',
    ] as const;
    const [existingAnswered, unknownAnswered] = [
      await rowOf(ids.existing, ...answeredNamingOwn),
      await rowOf(ids.unknown, ...answeredNamingOwn),
    ];
    expect(withoutPlace(existingAnswered)).toEqual(withoutPlace(unknownAnswered));
    expect([existingAnswered.status, existingAnswered.grants]).toEqual([200, ['AG-own-oracle']]);
    // `me` names the auditor's organisation but is no record: the row counts the payouts alone.
    expect([existingAnswered.organisations, existingAnswered.resultCount]).toEqual([['AuditOrgMSP'], 0]);
    for (const [grantId, admin] of [
      ['AG-own-oracle', auditAdmin],
      ['AG-client-2020', clientAdmin],
    ] as const) {
      const revoked = await server.request('POST', `/v1/audit/grants/${grantId}/revocation`, {
        token: admin.token,
        body: { reason: 'probe done' },
      });
      expect(revoked.status).toBe(200);
    }
    // The agreement's own organisations still see the read, each with its own MSP id alone.
    for (const [admin, mspId] of [
      [clientAdmin, 'ClientOrgMSP'],
      [talentAdmin, 'TalentOrgMSP'],
    ] as const) {
      const row = (await pageOf(admin)).find((entry) => entry.seq === existing.seq);
      expect([row?.operation, row?.organisations]).toEqual(['graphql query agreement,memberRule', [mspId]]);
    }
    const [stored] = await new ReadLog(server.db).concerning('AuditOrgMSP', existing.seq - 1, 1);
    expect(stored?.organisations).toEqual(expect.arrayContaining(['AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP']));
    expect((await new ReadLog(server.db).verify([])).ok).toBe(true);
  });

  it("logs an auditor's refused subscription before its refusal leaves", async () => {
    const subscription = await SseSubscription.open(
      server.url,
      'subscription { agreementEvents(agreementId: "A-never-subscribed") { name agreementId } }',
      { authorization: `Bearer ${auditor.token}` },
    );
    try {
      const refusal = (await subscription.next(5000)) as { errors?: { extensions?: { code?: string } }[] };
      expect(refusal.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    } finally {
      subscription.close();
    }
    expect(await newestRow()).toEqual({
      operation: 'graphql subscription agreementEvents',
      result_count: 0,
      status: 404,
      grants: '[]',
    });
  });

  it("ends an auditor's live agreement events once the grant is revoked", async () => {
    expect((await grant({ grantId: 'AG-live-1' })).status).toBe(201);
    const { sequence: before } = await new ReadLog(server.db).head();
    const subscription = await SseSubscription.open(
      server.url,
      `subscription { agreementEvents(agreementId: "${agreementId}") { name agreementId } }`,
      { authorization: `Bearer ${auditor.token}` },
    );
    const publish = (n: number) => {
      server.events.publish({
        name: 'agreement.AgreementAccepted',
        transactionId: `tx-live-grant-${String(n)}`,
        blockNumber: BigInt(900 + n),
        payload: {
          agreementId,
          at: new Date().toISOString(),
          txId: `tx-live-grant-${String(n)}`,
          actor: { mspId: 'ClientOrgMSP', userId: 'someone', role: 'client' },
          settlementRequests: [],
        },
      });
    };
    try {
      publish(1);
      expect(await subscription.next(5000)).toMatchObject({
        data: { agreementEvents: { name: 'agreement.AgreementAccepted', agreementId } },
      });
      // The opening is a row written before the first event left, and so is each event.
      const rows = () =>
        server.db
          .selectFrom('read_log')
          .select(['kinds', 'organisations', 'result_count', 'status', 'grants'])
          .where('operation', '=', 'graphql subscription agreementEvents')
          .where('seq', '>', before)
          .orderBy('seq')
          .execute();
      const underGrant = {
        kinds: '["agreement"]',
        organisations: '["ClientOrgMSP","TalentOrgMSP"]',
        grants: '["AG-live-1"]',
      };
      expect(await rows()).toEqual([
        { ...underGrant, result_count: 0, status: 200 },
        { ...underGrant, result_count: 1, status: 200 },
      ]);
      const revoked = await server.request('POST', '/v1/audit/grants/AG-live-1/revocation', {
        token: clientAdmin.token,
        body: { reason: 'engagement over' },
      });
      expect(revoked.status).toBe(200);
      publish(2);
      const last = (await subscription.next(5000)) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string; status?: number; field?: string } }[];
      };
      expect(last.errors?.[0]?.message).toMatch(/no longer readable by the caller/);
      // The auditor's credential still stands: the agreement left its view, as a read would now say.
      expect(last.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', status: 404, field: 'agreementId' });
      expect(JSON.stringify(last)).not.toContain('tx-live-grant-2');
      expect(await subscription.next(2000)).toBeUndefined();
      // The refused event is logged too, with nothing counted.
      expect((await rows()).slice(2).map((row) => [row.result_count, row.organisations])).toEqual([
        [0, '["ClientOrgMSP","TalentOrgMSP"]'],
      ]);
    } finally {
      subscription.close();
    }
  });
});

describe('POST /v1/audit/read-log/anchors', () => {
  it('is a command: request id from the body, Idempotency-Key or x-request-id, the command envelope, and a retry answered the stored anchor', async () => {
    const server = await startTestServer(
      {},
      {
        readLogAnchoring: async ({ db, ledger, log }) => ({
          anchorer: new ReadLogAnchorer({
            readLog: new ReadLog(db),
            ledger: await ledger.clientFor(
              { ...testOperator, id: 'read-log-anchor', userId: 'svc.read-log-anchor', role: 'settlement' },
              log,
            ),
            log,
            intervalMs: 0,
          }),
          mspId: 'ClientOrgMSP',
        }),
      },
    );
    try {
      const admin = await server.person('anchor-ops', 'ClientOrg', 'admin');
      const auditor = await server.person('anchor-auditor', 'AuditOrg', 'auditor');
      const anchor = (options: { body?: unknown; headers?: Record<string, string> } = {}) =>
        server.request('POST', '/v1/audit/read-log/anchors', { token: admin.token, ...options });
      const logARead = async () => {
        const read = await server.request('POST', '/graphql', {
          token: auditor.token,
          body: { query: '{ __typename }' },
        });
        expect(read.status).toBe(200);
      };

      const empty = await anchor({ body: {} });
      expect([empty.status, (empty.body as { code: string }).code]).toEqual([409, 'READ_LOG_EMPTY']);

      await logARead();
      const first = await anchor({ body: { requestId: 'anchor-request-1' } });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        requestId: 'anchor-request-1',
        transactionId: expect.any(String) as string,
        blockNumber: expect.stringMatching(/^\d+$/) as string,
        // Under its log's id, as the anchors the server makes on its own.
        result: { mspId: 'ClientOrgMSP', sequence: 1, logId: expect.stringMatching(/^[0-9a-f]{64}$/) as string },
      });
      const stored = (first.body as { result: { txId: string } }).result;
      expect(stored.txId).toBe((first.body as { transactionId: string }).transactionId);

      // The log grows; a retry under the same id is answered the anchor it made, not a new one.
      await logARead();
      const retried = await anchor({ headers: { 'idempotency-key': 'anchor-request-1' } });
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ requestId: 'anchor-request-1', result: stored });

      const byHeader = await anchor({ headers: { 'idempotency-key': 'anchor-request-2' } });
      expect(byHeader.body).toMatchObject({ requestId: 'anchor-request-2', result: { sequence: 2 } });

      const both = await anchor({
        body: { requestId: 'anchor-request-3' },
        headers: { 'idempotency-key': 'anchor-request-4' },
      });
      expect([both.status, (both.body as { field?: string }).field]).toEqual([422, 'header.idempotency-key']);

      await logARead();
      const unnamed = await anchor();
      expect(unnamed.status).toBe(200);
      expect((unnamed.body as { requestId: string }).requestId).toBe(unnamed.headers.get('x-request-id'));
      expect(unnamed.body).toMatchObject({ result: { sequence: 3 } });

      // Request ids are per caller: another organisation's admin sending a used id anchors anew.
      await logARead();
      const otherAdmin = await server.person('anchor-ops-talent', 'TalentOrg', 'admin');
      const theirs = await server.request('POST', '/v1/audit/read-log/anchors', {
        token: otherAdmin.token,
        body: { requestId: 'anchor-request-1' },
      });
      expect([theirs.status, theirs.body]).toMatchObject([
        200,
        { requestId: 'anchor-request-1', result: { sequence: 4 } },
      ]);

      const verified = await server.request('GET', '/v1/audit/read-log/verification', { token: admin.token });
      expect(verified.body).toMatchObject({ ok: true });
    } finally {
      await server.close();
    }
  });
});
