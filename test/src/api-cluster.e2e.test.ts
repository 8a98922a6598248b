import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SseSubscription } from '@gigledger/api/test-support/sse-subscription';
import { freeLoopbackPort, repoRoot } from '@gigledger/network';
import { e2eConfig } from './support/e2e-environment.js';
import { prometheusSampleSum as sampleSum } from '@gigledger/api/test-support/prometheus-text';

/*
 * The API as an operator runs it with API_WORKERS=2 (`node api/dist/main.js`): a primary
 * with the one chaincode event follower, index follower and read-log anchorer, two HTTP
 * workers with their own gateway connections. Which worker served a request is read
 * from the request lines the workers log (each names its worker), nothing in the API.
 */
describe('the API cluster on the real network (API_WORKERS=2)', () => {
  const config = e2eConfig();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-e2e-cluster-'));
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let url = '';
  let output = '';
  const lines = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  const call = async (method: string, pathname: string, token?: string, body?: unknown) => {
    const response = await fetch(`${url}${pathname}`, {
      method,
      headers: {
        connection: 'close',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  /** An organisation's first administrator (from the primary's bootstrap file), signed in. */
  const adminOf = async (org: string) => {
    const bootstrap = JSON.parse(readFileSync(path.join(dataDir, 'bootstrap-admin.json'), 'utf8')) as {
      admins: Record<string, { userId: string; password: string }>;
    };
    const login = await call('POST', '/v1/auth/token', undefined, bootstrap.admins[org]);
    expect(login.status).toBe(200);
    return (login.body as { accessToken: string }).accessToken;
  };
  /** A new person of `org` in `role`, created by `admin` and signed in. */
  const newPerson = async (admin: string, org: string, role: string, userId: string) => {
    const password = `e2e password of ${userId}`;
    expect((await call('POST', '/v1/admin/users', admin, { userId, org, role, password })).status).toBe(201);
    return ((await call('POST', '/v1/auth/token', undefined, { userId, password })).body as { accessToken: string })
      .accessToken;
  };

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    url = `http://127.0.0.1:${String(port)}`;
    child = spawn(process.execPath, [path.join(repoRoot, 'api', 'dist', 'main.js')], {
      env: {
        ...process.env,
        API_WORKERS: '2',
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        GIGLEDGER_CONNECTION_PROFILE: config.paths.connectionProfile,
        GIGLEDGER_DATA_DIR: dataDir,
        GIGLEDGER_READ_LOG_ANCHOR_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 240_000;
    while (!lines().some((line) => line.msg === 'API cluster serving')) {
      if (child.exitCode !== null) throw new Error(`the API cluster exited ${String(child.exitCode)}: ${output}`);
      if (Date.now() > deadline) throw new Error(`the API cluster did not come up: ${output}`);
      await delay(200);
    }
  }, 300_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('acts once on a command sent to both workers at once under one request id: one answer, no invalidated copy', async () => {
    const admin = await adminOf('ClientOrg');
    const governor = await newPerson(admin, 'ClientOrg', 'governor', `cluster-gov-once-${String(Date.now())}`);
    const minimum = async (name: string) =>
      ((await call('GET', `/v1/governance/rules/parameters/${name}`, governor)).body as { record: { value: number } })
        .record.value;
    const proposalId = `P-cluster-once-${String(Date.now())}`;
    const proposal = {
      requestId: `propose-${proposalId}`,
      proposalId,
      title: 'Sent to both workers at once',
      text: 'Proposed eight times at once by the cluster suite.',
      actions: [{ type: 'setParameter', name: 'maxRevisions', value: 3 }],
      votingSeconds: await minimum('governanceMinVotingSeconds'),
      timelockSeconds: await minimum('governanceMinTimelockSeconds'),
    };

    // Eight copies on eight connections: the primary hands connections to the workers in turn.
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/v1/governance/proposals', governor, proposal)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 8 }, () => 201));
    for (const answer of answers) expect(answer.body).toEqual(answers[0]?.body);
    await delay(300);
    expect(
      new Set(
        lines()
          .filter(
            (line) => line.msg === 'request' && line.path === '/v1/governance/proposals' && line.method === 'POST',
          )
          .map((line) => line.worker),
      ),
    ).toEqual(new Set([1, 2]));

    // Once the primary's index holds every block: no copy of the proposal was invalidated.
    for (let attempt = 0; ; attempt += 1) {
      const heights = (await call('GET', '/v1/index/height', admin)).body as {
        indexedHeight: string;
        channelHeight: string;
      };
      if (BigInt(heights.indexedHeight) >= BigInt(heights.channelHeight)) break;
      if (attempt > 300) throw new Error(`the index did not catch up: ${JSON.stringify(heights)}`);
      await delay(100);
    }
    const invalid = await call('POST', '/graphql', admin, {
      query:
        '{ indexedTransactions(filter: { validation: "INVALID", function: "governance:propose" }, first: 10) { totalCount } }',
    });
    expect(invalid.body).toEqual({ data: { indexedTransactions: { totalCount: 0 } } });
  }, 300_000);

  it("serves from both workers, feeds both workers' subscribers from the one follower, anchors through the primary, and drains on SIGTERM", async () => {
    const admin = await adminOf('ClientOrg');
    const governor = await newPerson(admin, 'ClientOrg', 'governor', `cluster-gov-${String(Date.now())}`);

    // Two streams on two connections: the primary hands connections to the workers in turn.
    const query = 'subscription { governanceEvents { name proposalId transactionId } }';
    const subscriptions = [
      await SseSubscription.open(url, query, { authorization: `Bearer ${governor}` }),
      await SseSubscription.open(url, query, { authorization: `Bearer ${governor}` }),
    ];
    const proposalId = `P-cluster-${String(Date.now())}`;
    const minimum = async (name: string) =>
      ((await call('GET', `/v1/governance/rules/parameters/${name}`, governor)).body as { record: { value: number } })
        .record.value;
    const proposed = await call('POST', '/v1/governance/proposals', governor, {
      proposalId,
      title: 'Cluster check',
      text: 'Proposed by the cluster suite.',
      actions: [{ type: 'setParameter', name: 'maxRevisions', value: 3 }],
      votingSeconds: await minimum('governanceMinVotingSeconds'),
      timelockSeconds: await minimum('governanceMinTimelockSeconds'),
    });
    expect(proposed.status).toBe(201);
    for (const subscription of subscriptions) {
      let event: { data?: { governanceEvents?: { proposalId?: string; name?: string } } } | undefined;
      do {
        event = (await subscription.next(60_000)) as typeof event;
      } while (event !== undefined && event.data?.governanceEvents?.proposalId !== proposalId);
      expect(event?.data?.governanceEvents?.name).toBe('governance.ProposalSubmitted');
    }
    for (const subscription of subscriptions) subscription.close();

    // An auditor's read puts a row in the log; the primary anchors the head when a worker is asked to.
    const auditor = await newPerson(
      await adminOf('AuditOrg'),
      'AuditOrg',
      'auditor',
      `cluster-auditor-${String(Date.now())}`,
    );
    const read = await call('POST', '/graphql', auditor, { query: '{ indexedAgreements(first: 1) { totalCount } }' });
    expect(read.status).toBe(200);
    const anchorRequest = { requestId: `cluster-anchor-${String(Date.now())}` };
    const anchored = await call('POST', '/v1/audit/read-log/anchors', admin, anchorRequest);
    expect(anchored.status).toBe(200);
    const anchor = anchored.body as { requestId: string; result: { sequence: number; logId?: string } };
    expect(anchor.requestId).toBe(anchorRequest.requestId);
    expect(anchor.result.sequence).toBeGreaterThanOrEqual(1);
    expect(anchor.result.logId).toMatch(/^[0-9a-f]{64}$/);
    // The log grows; retries, whichever workers take them (the primary hands connections
    // to its workers in turn), are answered the stored anchor, not refused for a newer head.
    expect(
      (await call('POST', '/graphql', auditor, { query: '{ indexedAgreements(first: 1) { totalCount } }' })).status,
    ).toBe(200);
    for (let n = 0; n < 4; n += 1) {
      const retried = await call('POST', '/v1/audit/read-log/anchors', admin, anchorRequest);
      expect([retried.status, (retried.body as { result: unknown }).result]).toEqual([200, anchor.result]);
    }
    await delay(300);
    const anchoringWorkers = new Set(
      lines()
        .filter((line) => line.msg === 'request' && line.path === '/v1/audit/read-log/anchors')
        .map((line) => line.worker),
    );
    expect(anchoringWorkers).toEqual(new Set([1, 2]));
    const verified = await call('GET', '/v1/audit/read-log/verification', admin);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ ok: true });

    for (let n = 0; n < 8; n += 1) expect((await call('GET', '/v1/governance/proposals', governor)).status).toBe(200);
    await delay(500);
    const workers = new Set(
      lines()
        .filter((line) => line.msg === 'request')
        .map((line) => line.worker),
    );
    expect(workers).toEqual(new Set([1, 2]));
    // Scrapes on new connections reach both workers; each answers the whole cluster's
    // metrics: the workers' requests summed, and the anchoring only the primary sent.
    const scrapes: string[] = [];
    for (let n = 0; n < 4; n += 1) {
      const scraped = await fetch(`${url}/metrics`, { headers: { connection: 'close' } });
      expect(scraped.status).toBe(200);
      scrapes.push(await scraped.text());
    }
    const proposalListings = scrapes.map((text) =>
      sampleSum(text, 'gigledger_http_request_duration_seconds_count', 'method="GET"', 'proposals"', 'status="200"'),
    );
    expect(proposalListings).toEqual([8, 8, 8, 8]);
    // Only the primary anchors (the first request and each retry send the head again).
    const anchorings = scrapes.map((text) =>
      sampleSum(
        text,
        'gigledger_ledger_transaction_duration_seconds_count',
        'transaction="anchorReadLog"',
        'outcome="ok"',
      ),
    );
    expect(anchorings[0]).toBeGreaterThanOrEqual(1);
    expect(new Set(anchorings).size).toBe(1);
    await delay(300);
    expect(
      new Set(
        lines()
          .filter((line) => line.msg === 'request' && line.path === '/metrics')
          .map((line) => line.worker),
      ),
    ).toEqual(new Set([1, 2]));
    // One follower: the primary's. No worker opened a chaincode event stream of its own.
    expect(lines().filter((line) => line.msg === 'worker serving')).toHaveLength(2);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const messages = lines().map((line) => String(line.msg));
    expect(messages.some((message) => message.includes('draining the workers'))).toBe(true);
    expect(messages.filter((message) => message === 'worker exited; starting another')).toEqual([]);
  }, 300_000);
});
