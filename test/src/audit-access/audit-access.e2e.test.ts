import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { AuditGrantRecord, ReadLogAnchor } from '@gigledger/chaincode/model';
import { repoRoot } from '@gigledger/network';
import { startE2eApi, type E2eApi } from '../support/api-server.js';
import { e2eConfig } from '../support/e2e-environment.js';

interface ReadLogRow {
  seq: number;
  principal: { id: string; mspId: string; role: string };
  operation: string;
  kinds: string[];
  organisations: string[];
  resultCount: number;
  status: number;
  grants: string[];
}

interface Verification {
  ok: boolean;
  rows: number;
  anchorsChecked: number;
  firstBadRow?: { seq: number; reason: string };
}

const run = promisify(execFile);
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scoped and logged auditor access, on the real network', () => {
  let api: E2eApi;
  const suffix = randomBytes(3).toString('hex');
  const agreementId = `AUD-${suffix}`;
  let auditor: { token: string; party: { mspId: string; userId: string } };
  let clientAdmin: string;

  beforeAll(async () => {
    // Anchoring on demand only, so the test decides when a head lands on the ledger.
    api = await startE2eApi(e2eConfig(), { GIGLEDGER_READ_LOG_ANCHOR_SECONDS: '0' });
    clientAdmin = await api.adminToken('ClientOrg');
    const client = await api.person(`client-${suffix}`, 'ClientOrg', 'client');
    const freelancer = await api.person(`talent-${suffix}`, 'TalentOrg', 'freelancer');
    auditor = await api.person(`audit-${suffix}`, 'AuditOrg', 'auditor');
    const drafted = await api.call('POST', '/v1/agreements', client.token, {
      agreementId,
      title: 'Fraud model review',
      client: client.party,
      freelancer: freelancer.party,
      milestones: [
        {
          kind: 'deliverable',
          milestoneId: 'm1',
          title: 'Review report',
          amount: '250000',
          currency: 'EUR',
          dueDate: inSeconds(14 * 86_400),
          acceptanceCriteria: { description: 'Findings with severity' },
        },
      ],
      terms: { scope: 'Review the fraud model for bias.' },
    });
    expect(drafted.status).toBe(201);
  });

  afterAll(async () => {
    await api.close();
  });

  const grant = async (admin: string, grantId: string, body: Record<string, unknown> = {}) => {
    const answer = await api.call('POST', '/v1/audit/grants', admin, {
      grantId: `${grantId}-${suffix}`,
      auditor: auditor.party,
      kinds: ['agreement'],
      expiresAt: inSeconds(3600),
      purpose: 'end-to-end audit',
      ...body,
    });
    expect(answer.status).toBe(201);
    return (answer.body as { result: AuditGrantRecord }).result;
  };
  const read = () => api.call('GET', `/v1/agreements/${agreementId}`, auditor.token);
  const expectRefused = async () => {
    // Outside the auditor's grants an agreement reads as one that does not exist: the
    // answer names neither its organisations nor its time.
    const answer = await read();
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({
      code: 'NOT_FOUND',
      field: 'path.agreementId',
      message: `agreement ${agreementId} does not exist or is not visible to you`,
    });
  };

  it('refuses a grant to an organisation that is no member of the consortium, naming the field', async () => {
    const answer = await api.call('POST', '/v1/audit/grants', clientAdmin, {
      grantId: `AG-nobody-${suffix}`,
      auditor: { mspId: 'NoSuchOrgMSP' },
      kinds: ['agreement'],
      expiresAt: inSeconds(3600),
      purpose: 'end-to-end audit',
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.auditor.mspId' });
    expect((answer.body as { message: string }).message).toContain(
      'NoSuchOrgMSP is no member organisation of the consortium; members are AuditOrgMSP, ClientOrgMSP, TalentOrgMSP',
    );
  });

  it('refuses the auditor without a grant, outside its organisations, kinds and time range, and once expired', async () => {
    await expectRefused();
    // Granted by an organisation the agreement does not concern.
    await grant(await api.adminToken('AuditOrg'), 'AG-other-org');
    await expectRefused();
    await grant(clientAdmin, 'AG-other-kind', { kinds: ['credential', 'ip'] });
    await expectRefused();
    await grant(clientAdmin, 'AG-later', { from: inSeconds(86_400) });
    await expectRefused();

    const short = await grant(clientAdmin, 'AG-short', { expiresAt: inSeconds(8) });
    expect((await read()).status).toBe(200);
    await sleep(Date.parse(short.expiresAt) - Date.now() + 1000);
    await expectRefused();
  });

  it('lets the auditor read within a grant over REST and GraphQL until it is revoked', async () => {
    const main = await grant(clientAdmin, 'AG-main', { from: inSeconds(-3600) });
    expect(main).toMatchObject({ organisation: 'ClientOrgMSP', status: 'active' });
    const answer = await read();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ agreement: { agreementId } });
    const data = await api.graphql<{ agreement: { agreementId: string } }>(
      `query { agreement(id: "${agreementId}") { agreementId } }`,
      auditor.token,
    );
    expect(data.agreement.agreementId).toBe(agreementId);
    const scope = await api.call('GET', '/v1/audit/scope', auditor.token);
    expect((scope.body as { grants: AuditGrantRecord[] }).grants.map((entry) => entry.grantId)).toContain(main.grantId);

    const revoked = await api.call('POST', `/v1/audit/grants/${main.grantId}/revocation`, clientAdmin, {
      reason: 'engagement ended',
    });
    expect(revoked.status).toBe(200);
    await expectRefused();
  });

  it('scopes IP ownership changes and dataset access logs by grants, keeps works open, and logs refused reads for the organisation concerned', async () => {
    const tara = await api.person(`tara-${suffix}`, 'TalentOrg', 'freelancer');
    // A co-owner of TalentOrg: the change concerns TalentOrg alone, which ClientOrg's grants do not open.
    const tom = await api.person(`tom-${suffix}`, 'TalentOrg', 'freelancer');
    const talentAdmin = await api.adminToken('TalentOrg');
    const workId = `W-AUD-${suffix}`;
    const datasetId = `DS-AUD-${suffix}`;
    const registered = await api.call('POST', '/v1/ip/works', tara.token, {
      workId,
      kind: 'model',
      contentHash: createHash('sha256').update(workId).digest('hex'),
      title: 'Fraud model weights',
      uri: `https://models.example.com/${workId}`,
      creators: [tara.party],
    });
    expect(registered.status).toBe(201);
    const proposed = await api.call('POST', `/v1/ip/works/${workId}/ownership-changes`, tara.token, {
      changeId: 'C1',
      owners: [
        { party: tara.party, shareBps: 5000 },
        { party: tom.party, shareBps: 5000 },
      ],
    });
    expect(proposed.status).toBe(201);
    const dataset = await api.call('POST', '/v1/provenance/datasets', tara.token, {
      recordId: datasetId,
      contentSha256: createHash('sha256').update(datasetId).digest('hex'),
      title: 'Card transactions, labelled',
      licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
      source: 'https://data.example.org/cards',
      legalBasis: 'consent',
      piiClass: 'none',
      retention: { kind: 'period', period: 'P5Y' },
    });
    expect(dataset.status).toBe(201);

    const change = () => api.call('GET', `/v1/ip/works/${workId}/ownership-changes/C1`, auditor.token);
    const accessLog = () => api.call('GET', `/v1/provenance/datasets/${datasetId}/access-log`, auditor.token);
    const expectBothRefused = async () => {
      const [ip, provenance] = [await change(), await accessLog()];
      // An ownership change read by id is answered as a missing one; the access log of a
      // dataset every member reads names the grant it needs.
      expect([ip.status, provenance.status]).toEqual([404, 403]);
      expect(ip.body).toMatchObject({ code: 'NOT_FOUND' });
      expect(JSON.stringify(ip.body)).not.toContain('TalentOrgMSP');
      expect(provenance.body).toMatchObject({ code: 'NO_AUDIT_GRANT' });
      expect((provenance.body as { message: string }).message).toContain('read provenance records of TalentOrgMSP');
    };

    await expectBothRefused();
    // The registries themselves are open to every member: priority and lineage are checked by anyone.
    expect((await api.call('GET', `/v1/ip/works/${workId}`, auditor.token)).status).toBe(200);
    expect((await api.call('GET', `/v1/provenance/records/${datasetId}`, auditor.token)).status).toBe(200);

    const granted = await grant(talentAdmin, 'AG-ip-prov', { kinds: ['ip', 'provenance'], from: inSeconds(-3600) });
    expect(granted.organisation).toBe('TalentOrgMSP');
    const [ip, provenance] = [await change(), await accessLog()];
    expect(ip.status).toBe(200);
    expect(ip.body).toMatchObject({ change: { changeId: 'C1' } });
    expect(provenance.status).toBe(200);
    expect(provenance.body).toEqual([]);

    const revoked = await api.call('POST', `/v1/audit/grants/${granted.grantId}/revocation`, talentAdmin, {
      reason: 'engagement ended',
    });
    expect(revoked.status).toBe(200);
    await expectBothRefused();

    // TalentOrg's admin sees every one of those reads, the refused ones included.
    const page = (await api.call('GET', '/v1/audit/read-log?limit=500', talentAdmin)).body as { entries: ReadLogRow[] };
    const reads = page.entries
      .filter(
        (row) =>
          row.principal.id === `audit-${suffix}` && (row.kinds.includes('ip') || row.kinds.includes('provenance')),
      )
      .map((row) => [row.operation, row.status, row.organisations.includes('TalentOrgMSP'), row.grants]);
    expect(reads).toEqual([
      ['GET /v1/ip/works/:workId/ownership-changes/:changeId', 404, true, []],
      ['GET /v1/provenance/datasets/:datasetId/access-log', 403, true, []],
      ['GET /v1/ip/works/:workId', 200, true, []],
      ['GET /v1/provenance/records/:recordId', 200, true, []],
      ['GET /v1/ip/works/:workId/ownership-changes/:changeId', 200, true, [granted.grantId]],
      ['GET /v1/provenance/datasets/:datasetId/access-log', 200, true, [granted.grantId]],
      ['GET /v1/ip/works/:workId/ownership-changes/:changeId', 404, true, []],
      ['GET /v1/provenance/datasets/:datasetId/access-log', 403, true, []],
    ]);
  });

  it('refuses a grant beyond auditGrantMaxSeconds or to a person who is no auditor, naming the field', async () => {
    const tooLong = await api.call('POST', '/v1/audit/grants', clientAdmin, {
      grantId: `AG-long-${suffix}`,
      auditor: auditor.party,
      kinds: ['agreement'],
      expiresAt: inSeconds(367 * 86_400),
      purpose: 'end-to-end audit',
    });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.expiresAt' });
    expect((tooLong.body as { message: string }).message).toContain('(auditGrantMaxSeconds)');
    const freelancer = await api.person(`not-auditor-${suffix}`, 'AuditOrg', 'freelancer');
    const toFreelancer = await api.call('POST', '/v1/audit/grants', clientAdmin, {
      grantId: `AG-freelancer-${suffix}`,
      auditor: freelancer.party,
      kinds: ['agreement'],
      expiresAt: inSeconds(3600),
      purpose: 'end-to-end audit',
    });
    expect(toFreelancer.status).toBe(422);
    expect(toFreelancer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.auditor.userId' });
  });

  it("logs refused reads of an erasure receipt, a dataset's grants and a proof for the organisations they concern", async () => {
    const tara = await api.person(`tara-er-${suffix}`, 'TalentOrg', 'freelancer');
    const carol = await api.person(`carol-er-${suffix}`, 'ClientOrg', 'client');
    const datasetId = `DS-ER-${suffix}`;
    const registered = await api.call('POST', '/v1/provenance/datasets', tara.token, {
      recordId: datasetId,
      contentSha256: createHash('sha256').update(datasetId).digest('hex'),
      title: 'Support tickets',
      licence: { kind: 'spdx', expression: 'CC-BY-4.0' },
      source: 'https://data.example.org/tickets',
      legalBasis: 'consent',
      piiClass: 'personal',
      retention: { kind: 'period', period: 'P1Y' },
      subjectData: { contact: 'dpo@example.org' },
    });
    expect(registered.status).toBe(201);
    const erased = await api.call('POST', '/v1/erasure-requests', tara.token, {
      receiptId: `ER-${suffix}`,
      target: { kind: 'datasetSubjectData', datasetId },
      dataSubject: carol.party,
      ground: 'a',
    });
    expect(erased.status).toBe(201);
    const transactionId = (erased.body as { transactionId: string }).transactionId;

    const reads = [
      `/v1/erasure-receipts/ER-${suffix}`,
      `/v1/erasure-receipts/ER-${suffix}/verification`,
      `/v1/provenance/datasets/${datasetId}/grants`,
      `/v1/proofs/${transactionId}`,
    ];
    for (const path of reads) {
      const answer = await api.call('GET', path, auditor.token);
      // A record or proof read by id outside the auditor's grants is 404, as an unknown id,
      // so it tells nothing; the grant list of a dataset every member reads is 403.
      const refusal = path.endsWith('/grants') ? [403, 'NO_AUDIT_GRANT'] : [404, 'NOT_FOUND'];
      expect([path, answer.status, (answer.body as { code?: string }).code]).toEqual([path, ...refusal]);
    }
    const page = (await api.call('GET', '/v1/audit/read-log?limit=500', await api.adminToken('TalentOrg'))).body as {
      entries: ReadLogRow[];
    };
    const refusedReads = page.entries
      .filter((row) => row.principal.id === `audit-${suffix}` && (row.status === 403 || row.status === 404))
      .slice(-reads.length);
    const logged = refusedReads.map((row) => [row.operation, row.organisations]);
    // TalentOrg's admins see each read with their own organisation; ClientOrg's sees the
    // ones that concerned it (the receipt's data subject, the proof's other party) too.
    expect(logged).toEqual([
      ['GET /v1/erasure-receipts/:receiptId', ['TalentOrgMSP']],
      ['GET /v1/erasure-receipts/:receiptId/verification', ['TalentOrgMSP']],
      ['GET /v1/provenance/datasets/:datasetId/grants', ['TalentOrgMSP']],
      ['GET /v1/proofs/:transactionId', ['TalentOrgMSP']],
    ]);
    const client = (await api.call('GET', '/v1/audit/read-log?limit=500', await api.adminToken('ClientOrg'))).body as {
      entries: ReadLogRow[];
    };
    const seenByClient = new Map(client.entries.map((row) => [row.seq, row]));
    expect(refusedReads.map((row) => [row.operation, seenByClient.get(row.seq)?.organisations])).toEqual([
      ['GET /v1/erasure-receipts/:receiptId', ['ClientOrgMSP']],
      ['GET /v1/erasure-receipts/:receiptId/verification', ['ClientOrgMSP']],
      ['GET /v1/provenance/datasets/:datasetId/grants', undefined],
      ['GET /v1/proofs/:transactionId', ['ClientOrgMSP']],
    ]);
  });

  it('logs reads refused for their body or document, for the agreement a valid path names', async () => {
    const raw = (where: string, body: string) =>
      fetch(`${api.url}${where}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auditor.token}`, 'content-type': 'application/json' },
        body,
      }).then((answer) => answer.status);
    const termsCheck = `/v1/agreements/${agreementId}/terms/verify`;
    // Not JSON, a member twice, a body of the wrong shape: each refused as for anyone.
    expect(await raw(termsCheck, '{"terms": ')).toBe(400);
    expect(await raw(termsCheck, '{"terms":{},"terms":{}}')).toBe(400);
    expect(await raw(termsCheck, '{"bogus":1}')).toBe(422);
    // A document that does not parse, and one that does not validate: refused before they run.
    expect(await raw('/graphql', JSON.stringify({ query: '{ agreement(id: ' }))).toBe(200);
    expect(await raw('/graphql', JSON.stringify({ query: `{ agreement(id: "${agreementId}") { nope } }` }))).toBe(200);
    const rows = (await api.call('GET', '/v1/audit/read-log?limit=500', clientAdmin)).body as { entries: ReadLogRow[] };
    const refused = rows.entries
      .filter((row) => row.principal.id === `audit-${suffix}` && row.operation.endsWith('/terms/verify'))
      .slice(-3);
    // The agreement the path names was looked up on the ledger: both parties' organisations see each attempt.
    expect(refused.map((row) => [row.operation, row.status, row.organisations])).toEqual([
      ['POST /v1/agreements/:agreementId/terms/verify', 400, ['ClientOrgMSP']],
      ['POST /v1/agreements/:agreementId/terms/verify', 400, ['ClientOrgMSP']],
      ['POST /v1/agreements/:agreementId/terms/verify', 422, ['ClientOrgMSP']],
    ]);
    const talent = (await api.call('GET', '/v1/audit/read-log?limit=500', await api.adminToken('TalentOrg'))).body as {
      entries: ReadLogRow[];
    };
    expect(talent.entries.filter((row) => refused.some((seen) => seen.seq === row.seq)).length).toBe(3);
    // Every row is in the chain, those naming no organisation included.
    const operations = await api.running.deps.db
      .selectFrom('read_log')
      .select(['operation', 'status'])
      .orderBy('seq', 'desc')
      .limit(2)
      .execute();
    expect(operations.map((row) => [row.operation, row.status]).reverse()).toEqual([
      ['graphql request', 400],
      ['graphql query agreement', 400],
    ]);
  });

  it('shows the audited organisation its log of reads with the grants, anchors the head, and catches an edited row', async () => {
    const page = (await api.call('GET', '/v1/audit/read-log?limit=500', clientAdmin)).body as { entries: ReadLogRow[] };
    // The record's own reads (the terms checks refused for their bodies are the test's before).
    const auditorReads = page.entries.filter(
      (row) =>
        row.principal.id === `audit-${suffix}` && row.kinds.includes('agreement') && !row.operation.startsWith('POST '),
    );
    // Refused reads too: they were about this agreement, so its organisations see them.
    const refused = ['GET /v1/agreements/:agreementId', 404, []];
    expect(auditorReads.map((row) => [row.operation, row.status, row.grants])).toEqual([
      refused,
      refused,
      refused,
      refused,
      ['GET /v1/agreements/:agreementId', 200, [`AG-short-${suffix}`]],
      refused,
      ['GET /v1/agreements/:agreementId', 200, [`AG-main-${suffix}`]],
      ['graphql query agreement', 200, [`AG-main-${suffix}`]],
      refused,
    ]);
    for (const row of auditorReads) {
      expect(row).toMatchObject({
        kinds: ['agreement'],
        organisations: ['ClientOrgMSP'],
        resultCount: row.status === 200 ? 1 : 0,
      });
    }
    // TalentOrg is concerned too; AuditOrg's admin sees no read about AuditOrg.
    const talent = (await api.call('GET', '/v1/audit/read-log?limit=500', await api.adminToken('TalentOrg'))).body as {
      entries: ReadLogRow[];
    };
    expect(
      talent.entries
        .filter((row) => row.kinds.includes('agreement') && !row.operation.startsWith('POST '))
        .map((row) => row.seq),
    ).toEqual(auditorReads.map((row) => row.seq));
    const audit = (await api.call('GET', '/v1/audit/read-log?limit=500', await api.adminToken('AuditOrg'))).body as {
      entries: ReadLogRow[];
    };
    expect(audit.entries.filter((row) => row.kinds.includes('agreement'))).toEqual([]);

    const anchored = await api.call('POST', '/v1/audit/read-log/anchors', clientAdmin);
    expect(anchored.status).toBe(200);
    const { result: anchor, transactionId } = anchored.body as { result: ReadLogAnchor; transactionId: string };
    expect(anchor.txId).toBe(transactionId);
    const onLedger = await api.running.deps.serviceLedger.audit.listReadLogAnchors({
      mspId: anchor.mspId,
      ...(anchor.logId === undefined ? {} : { logId: anchor.logId }),
    });
    expect(onLedger.items.at(-1)).toMatchObject({
      sequence: anchor.sequence,
      headHash: anchor.headHash,
      txId: anchor.txId,
    });
    expect(anchor.sequence).toBeGreaterThanOrEqual(8);

    const verified = await api.call('GET', '/v1/audit/read-log/verification', clientAdmin);
    expect(verified.body).toMatchObject({ ok: true, anchorsChecked: 1 });

    // Someone with the database's full rights drops the append-only triggers and edits a row.
    const edited = auditorReads.find((row) => row.grants.includes(`AG-main-${suffix}`))!.seq;
    const db = api.running.deps.db;
    await sql.raw('DROP TRIGGER read_log_no_update').execute(db);
    await sql.raw(`UPDATE read_log SET grants = '[]' WHERE seq = ${String(edited)}`).execute(db);

    const caught = (await api.call('GET', '/v1/audit/read-log/verification', clientAdmin)).body as Verification;
    expect(caught).toMatchObject({
      ok: false,
      firstBadRow: {
        seq: edited,
        reason: `row ${String(edited)} does not hash to its stored hash: its content was changed`,
      },
    });

    // The operator's command line says the same, from the server's configuration.
    const config = api.running.deps.config;
    const cli = await run(
      process.execPath,
      [path.join(repoRoot, 'api', 'dist', 'cli', 'read-log.js'), 'verify', '--json'],
      {
        env: {
          ...process.env,
          GIGLEDGER_CONNECTION_PROFILE: config.connectionProfile,
          GIGLEDGER_DATA_DIR: config.dataDir,
          LOG_LEVEL: 'silent',
        },
      },
    ).then(
      () => ({ code: 0, stdout: '' }),
      (error: unknown) => {
        const failure = error as { code: number; stdout: string };
        return { code: failure.code, stdout: failure.stdout };
      },
    );
    expect(cli.code).toBe(1);
    expect((JSON.parse(cli.stdout) as Verification).firstBadRow?.seq).toBe(edited);
  });

  it("anchors a second deployment's read log of the same organisation on its own, and each names the other", async () => {
    const deployments = [
      await startE2eApi(e2eConfig(), { GIGLEDGER_READ_LOG_ANCHOR_SECONDS: '0' }),
      await startE2eApi(e2eConfig(), { GIGLEDGER_READ_LOG_ANCHOR_SECONDS: '0' }),
    ] as const;
    try {
      const anchors: ReadLogAnchor[] = [];
      // The first log is anchored further on than the second will ever be: each head moves on its own.
      for (const [index, deployment] of deployments.entries()) {
        const reader = await deployment.person(`audit-${suffix}-deployment-${String(index)}`, 'AuditOrg', 'auditor');
        for (let read = 0; read < (index === 0 ? 4 : 1); read += 1) {
          expect((await deployment.call('GET', `/v1/agreements/${agreementId}`, reader.token)).status).toBe(404);
        }
        const anchored = await deployment.call(
          'POST',
          '/v1/audit/read-log/anchors',
          await deployment.adminToken('ClientOrg'),
        );
        expect([index, anchored.status]).toEqual([index, 200]);
        anchors.push((anchored.body as { result: ReadLogAnchor }).result);
      }
      const [first, second] = anchors;
      expect(first?.logId).toMatch(/^[0-9a-f]{64}$/);
      expect(second?.logId).toMatch(/^[0-9a-f]{64}$/);
      expect(second?.logId).not.toBe(first?.logId);
      expect(second!.sequence).toBeLessThan(first!.sequence);
      for (const [index, deployment] of deployments.entries()) {
        const verification = (
          await deployment.call('GET', '/v1/audit/read-log/verification', await deployment.adminToken('ClientOrg'))
        ).body as Verification & { otherLogs?: { logId: string }[] };
        const other = anchors[1 - index]!;
        expect([index, verification.ok, verification.anchorsChecked]).toEqual([index, true, 1]);
        expect(verification.otherLogs?.map((log) => log.logId)).toContain(other.logId);
      }
    } finally {
      await Promise.all(deployments.map((deployment) => deployment.close()));
    }
  });
});
