import { createHash } from 'node:crypto';
import { provenanceCommandRoles } from '../model/access-roles';
import { roles } from '../model/identity';
import {
  datasetSubjectDataSha256,
  maxLineageDepth,
  provenanceEvents,
  type AccessGrantRecord,
  type AccessLogEntry,
  type DatasetRecord,
  type ErasureReceipt,
  type ErasureVerification,
  type LineageGraph,
  type ModelRecord,
} from '../model/provenance';
import {
  AgreementDriver,
  admin,
  agreementId,
  auditor,
  client,
  clientParty,
  compositeKey,
  freelancer,
  freelancerParty,
  otherClient,
  termsSha256,
} from '../test-support/agreement-fixtures';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';
import { ProvenanceContract } from './provenance-contract';
import { datasetRegistration } from '../test-support/domain-fixtures';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const hour = 3600;
const grantee = testIdentity('ClientOrgMSP', 'gina', 'client');
const granteeParty = { mspId: 'ClientOrgMSP', userId: 'gina' };
const subjectData = {
  contact: 'dpo@example.org',
  consentRecords: 'batch 2026-01, 412 forms',
  salt: '6c1f0e2d3b4a59687766554433221100',
};
const talentAdmin = testIdentity('TalentOrgMSP', 'talent-ops', 'admin');

describe('ProvenanceContract', () => {
  let driver: AgreementDriver;
  let contract: ProvenanceContract;
  let requests = 0;

  const call = <Result>(
    as: TestIdentity,
    name: keyof ProvenanceContract,
    request: unknown,
    transient?: Record<string, unknown>,
  ): Promise<Result> => driver.ledger.transact(as, contract, name, request, transient);
  const requestId = () => {
    requests += 1;
    return `req-prov-${requests}`;
  };

  const dataset = (recordId: string, overrides: Record<string, unknown> = {}) => ({
    requestId: requestId(),
    ...datasetRegistration(recordId, { piiClass: 'personal', ...overrides }),
  });
  const registerDataset = (
    recordId: string,
    overrides: Record<string, unknown> = {},
    as = freelancer,
    data?: unknown,
  ) =>
    call<DatasetRecord>(
      as,
      'registerDataset',
      dataset(recordId, overrides),
      data === undefined ? undefined : { subjectData: data },
    );
  /** A model trained on `trainedOn` by a script whose hash derives from the model's id. */
  const model = (recordId: string, trainedOn: string[], overrides: Record<string, unknown> = {}) => ({
    requestId: requestId(),
    recordId,
    contentSha256: sha(`weights of ${recordId}`),
    title: `Model ${recordId}`,
    licence: { kind: 'spdx', expression: 'MIT' },
    trainedOn,
    trainingCodeSha256: [sha(`training code of ${recordId}`)],
    ...overrides,
  });
  const derived = (parents: string[], step: string) => ({
    derivedFrom: { parents, transformation: { description: step, codeSha256: sha(`code of ${step}`) } },
  });
  const lineage = (recordId: string, direction: 'ancestors' | 'descendants', depth?: number) =>
    call<LineageGraph>(auditor, 'getLineage', { recordId, direction, ...(depth === undefined ? {} : { depth }) });

  beforeEach(() => {
    driver = new AgreementDriver();
    contract = new ProvenanceContract();
  });

  describe('records', () => {
    it('registers a dataset with the caller as controller and keeps subject data off the channel', async () => {
      const record = await registerDataset('DS-1', {}, freelancer, subjectData);
      expect(record).toMatchObject({
        kind: 'dataset',
        recordId: 'DS-1',
        controller: freelancerParty,
        legalBasis: 'consent',
        piiClass: 'personal',
        subjectData: { status: 'held', sha256: datasetSubjectDataSha256(subjectData) },
        registeredAt: '2026-01-05T09:00:00.000Z',
      });
      expect(driver.ledger.readPrivate('datasetSubjectData', compositeKey('subjectData', 'DS-1'))).toEqual(subjectData);
      // Unsalted subject data would leave a hash that confirms a guess of it after its erasure.
      const { salt: _salt, ...unsalted } = subjectData;
      await expect(registerDataset('DS-1u', {}, freelancer, unsalted)).rejects.toThrow(
        /^VALIDATION_FAILED\[subjectData\.salt\]: subjectData\.salt: must be given/,
      );
      expect(driver.ledger.lastEvent?.name).toBe(provenanceEvents.datasetRegistered.name);
      expect(JSON.stringify(driver.ledger.lastEvent)).not.toContain('dpo@example.org');
      expect(await call(client, 'getRecord', { recordId: 'DS-1' })).toEqual(record);
    });

    it('refuses subject data from an organisation outside its collection, naming the collection, and writes nothing', async () => {
      const auditOrgFreelancer = testIdentity('AuditOrgMSP', 'ada', 'freelancer');
      await expect(registerDataset('DS-A', {}, auditOrgFreelancer, subjectData)).rejects.toThrow(
        /^FORBIDDEN: AuditOrgMSP may not keep the subject data of dataset DS-A: that data is kept in private data collection datasetSubjectData, whose members are ClientOrgMSP, TalentOrgMSP/,
      );
      await expect(call(client, 'getRecord', { recordId: 'DS-A' })).rejects.toThrow(/^NOT_FOUND/);
      expect(await registerDataset('DS-A', {}, auditOrgFreelancer)).toMatchObject({ recordId: 'DS-A' });
    });

    it('refuses a content hash registered before, naming the earlier record', async () => {
      const first = await registerDataset('DS-1');
      await expect(registerDataset('DS-2', { contentSha256: sha('DS-1') }, client)).rejects.toThrow(
        `ALREADY_EXISTS[contentSha256]: content ${sha('DS-1')} is already registered as dataset DS-1 by TalentOrgMSP/tara in transaction ${first.txId} at ${first.registeredAt}`,
      );
      await expect(registerDataset('DS-1', { contentSha256: sha('other') })).rejects.toThrow(
        /^ALREADY_EXISTS\[recordId\]: provenance record DS-1 already exists/,
      );
    });

    it('answers a repeated request with the stored record and refuses its id for another request', async () => {
      const request = dataset('DS-1');
      const first = await call<DatasetRecord>(freelancer, 'registerDataset', request);
      driver.ledger.advanceSeconds(60);
      expect(await call(freelancer, 'registerDataset', request)).toEqual(first);
      await expect(call(freelancer, 'registerDataset', { ...request, title: 'Other' })).rejects.toThrow(
        /^REQUEST_ID_REUSED\[requestId\]/,
      );
    });

    it('takes a source as a description or a URI of data, never one a link would run', async () => {
      for (const [index, source] of [
        'Survey of 10,000 drivers: consented, 2025',
        's3://datasets/drivers/2025.parquet',
        'doi:10.5281/zenodo.1234567',
        'HTTPS://data.example.org/drivers',
        'Collected: a survey of 2,000 annotators',
      ].entries()) {
        await expect(registerDataset(`DS-source-${String(index)}`, { source })).resolves.toMatchObject({ source });
      }
      for (const source of [
        'javascript:alert(1)',
        ' JavaScript:alert(document.cookie) ',
        'data:text/html;base64,PHNjcmlwdD4=',
        'vbscript:msgbox',
        'file:///etc/passwd',
        // As a browser reads a link: tabs and line breaks removed, leading spaces dropped.
        'java\tscript:alert(1)',
        'java\nscript:alert(1)',
        'javascript:\nalert(1)',
        'javascript:alert(1) //x',
      ]) {
        await expect(registerDataset('DS-refused', { source })).rejects.toThrow(
          /^VALIDATION_FAILED\[source\]: source: a URI must use one of the schemes https, http, /,
        );
      }
    });

    it('refuses bad input naming the field', async () => {
      await expect(registerDataset('DS-1', { legalBasis: 'whim' })).rejects.toThrow(/^VALIDATION_FAILED\[legalBasis\]/);
      await expect(registerDataset('DS-1', { piiClass: 'secret' })).rejects.toThrow(/^VALIDATION_FAILED\[piiClass\]/);
      await expect(registerDataset('DS-1', { retention: { kind: 'period', period: '5 years' } })).rejects.toThrow(
        /^VALIDATION_FAILED\[retention.period\]/,
      );
      await expect(
        registerDataset('DS-1', { retention: { kind: 'until', until: '2025-01-01T00:00:00.000Z' } }),
      ).rejects.toThrow('VALIDATION_FAILED[retention.until]: retention.until: must be after the registration time');
      await expect(
        registerDataset('DS-1', { licence: { kind: 'spdx', expression: 'not a licence!' } }),
      ).rejects.toThrow(/^VALIDATION_FAILED\[licence.expression\]/);
      await expect(registerDataset('DS-1', { contentSha256: 'ABC' })).rejects.toThrow(
        /^VALIDATION_FAILED\[contentSha256\]/,
      );
      await expect(registerDataset('DS-1', { piiClass: 'none' }, freelancer, subjectData)).rejects.toThrow(
        /^VALIDATION_FAILED\[piiClass\]: piiClass: a dataset with subject data holds personal data/,
      );
      await expect(registerDataset('DS-1', {}, freelancer, {})).rejects.toThrow(/^VALIDATION_FAILED\[subjectData\]/);
      await expect(registerDataset('DS-1', derived(['DS-0', 'DS-0'], 'dedupe'))).rejects.toThrow(
        /^VALIDATION_FAILED\[derivedFrom.parents.1\]: derivedFrom.parents.1: repeats DS-0/,
      );
      expect(driver.ledger.keys()).toEqual([]);
    });

    it('refuses a parent that does not exist, so no cycle can form', async () => {
      await registerDataset('DS-1');
      await expect(registerDataset('DS-2', derived(['DS-1', 'DS-9'], 'join'))).rejects.toThrow(
        'NOT_FOUND[derivedFrom.parents.1]: provenance record DS-9 does not exist',
      );
    });

    it('registers a model from datasets and code hashes, and refuses a model named as training data', async () => {
      await registerDataset('DS-1');
      const registered = await call<ModelRecord>(
        client,
        'registerModel',
        model('M-1', ['DS-1'], { licence: { kind: 'text', text: 'Internal use by the client only.' } }),
      );
      expect(registered).toMatchObject({ kind: 'model', controller: clientParty, trainedOn: ['DS-1'] });
      await expect(call(client, 'registerModel', model('M-2', ['M-1']))).rejects.toThrow(
        'VALIDATION_FAILED[trainedOn.0]: trainedOn.0: M-1 is a model, not a dataset; name it in derivedFrom',
      );
    });
  });

  describe('lineage', () => {
    beforeEach(async () => {
      await registerDataset('raw');
      await registerDataset('other-raw');
      await registerDataset('clean', derived(['raw', 'other-raw'], 'deduplicate and join'));
      await registerDataset('labelled', derived(['clean'], 'label'));
      await call(
        client,
        'registerModel',
        model('model', ['labelled'], { licence: { kind: 'spdx', expression: 'Apache-2.0' } }),
      );
    });

    it('reads three generations of ancestors as a graph of parent-to-child edges', async () => {
      const graph = await lineage('labelled', 'ancestors');
      expect(graph.nodes.map((node) => [node.recordId, node.distance])).toEqual([
        ['labelled', 0],
        ['clean', 1],
        ['raw', 2],
        ['other-raw', 2],
      ]);
      // Each node names its controller, as its record does (so a read of the graph is logged for their organisations).
      for (const node of graph.nodes) {
        const record = await call<{ controller: unknown }>(auditor, 'getRecord', { recordId: node.recordId });
        expect([node.recordId, node.controller]).toEqual([node.recordId, record.controller]);
      }
      expect(graph.edges).toEqual([
        {
          from: 'clean',
          to: 'labelled',
          relation: 'derivedFrom',
          transformation: { description: 'label', codeSha256: sha('code of label') },
        },
        expect.objectContaining({ from: 'raw', to: 'clean', relation: 'derivedFrom' }),
        expect.objectContaining({ from: 'other-raw', to: 'clean', relation: 'derivedFrom' }),
      ]);
      expect(graph.truncated).toBe(false);
    });

    it('reads descendants through the child index, models included', async () => {
      const graph = await lineage('raw', 'descendants');
      expect(graph.nodes.map((node) => node.recordId)).toEqual(['raw', 'clean', 'labelled', 'model']);
      expect(graph.edges.map((edge) => `${edge.from}>${edge.to}:${edge.relation}`)).toEqual([
        'raw>clean:derivedFrom',
        'clean>labelled:derivedFrom',
        'labelled>model:trainedOn',
      ]);
    });

    it('stops at the depth asked for and says that more lies beyond', async () => {
      const graph = await lineage('raw', 'descendants', 1);
      expect(graph.nodes.map((node) => node.recordId)).toEqual(['raw', 'clean']);
      expect(graph.truncated).toBe(true);
      expect((await lineage('model', 'ancestors', 4)).truncated).toBe(false);
    });

    it('refuses a depth outside 1 to the cap, and an unknown record', async () => {
      await expect(lineage('raw', 'descendants', maxLineageDepth + 1)).rejects.toThrow(
        `VALIDATION_FAILED[depth]: depth: must be at most ${maxLineageDepth}`,
      );
      await expect(lineage('raw', 'descendants', 0)).rejects.toThrow(/^VALIDATION_FAILED\[depth\]/);
      await expect(lineage('nowhere', 'ancestors')).rejects.toThrow(
        'NOT_FOUND[recordId]: provenance record nowhere does not exist',
      );
    });

    it('writes one child key per edge and no shared key', () => {
      const registration = driver.ledger.transactions.at(2)!;
      const childPrefix = compositeKey('provenanceChild').slice(0, -1);
      expect(registration.writes.filter((key) => key.startsWith(childPrefix)).sort()).toEqual(
        [compositeKey('provenanceChild', 'other-raw', 'clean'), compositeKey('provenanceChild', 'raw', 'clean')].sort(),
      );
      // The request, the record, the hash index and the two edges: nothing shared with other records.
      expect(registration.writes).toHaveLength(5);
    });
  });

  describe('access grants', () => {
    const expiresAt = '2026-01-06T09:00:00.000Z';
    const grant = (overrides: Record<string, unknown> = {}, as = freelancer) =>
      call<AccessGrantRecord>(as, 'grantAccess', {
        requestId: requestId(),
        grantId: 'G-1',
        datasetId: 'DS-1',
        grantee: granteeParty,
        purpose: 'Evaluate the defect classifier',
        scope: ['read', 'evaluate'],
        expiresAt,
        ...overrides,
      });
    const use = (as = grantee, scope = 'read', grantId = 'G-1') =>
      call<AccessLogEntry>(as, 'recordAccess', { requestId: requestId(), grantId, scope });

    beforeEach(async () => {
      await registerDataset('DS-1');
    });

    it("fills a grantee's page of its own grants past other grantees' grants", async () => {
      await grant({ grantId: 'G-1' });
      for (const grantId of ['G-2', 'G-3', 'G-4']) {
        await grant({ grantId, grantee: { mspId: 'ClientOrgMSP', userId: 'dave' } });
      }
      await grant({ grantId: 'G-5' });
      const ids = (page: { items: AccessGrantRecord[] }) => page.items.map((record) => record.grantId);
      const own = await call<{ items: AccessGrantRecord[]; bookmark: string }>(grantee, 'listAccessGrants', {
        datasetId: 'DS-1',
        pageSize: 2,
      });
      expect(ids(own)).toEqual(['G-1', 'G-5']);
      expect(own.bookmark).toBe('');
      // The controller reads every grant, page by page.
      const all = await call<{ items: AccessGrantRecord[]; bookmark: string }>(freelancer, 'listAccessGrants', {
        datasetId: 'DS-1',
        pageSize: 2,
      });
      expect(ids(all)).toEqual(['G-1', 'G-2']);
      expect(all.bookmark).not.toBe('');
    });

    it('logs every use of a grant under its own key, for the controller and auditors only', async () => {
      expect(await grant()).toMatchObject({ status: 'active', controller: freelancerParty, grantee: granteeParty });
      const first = await use();
      const second = await use(grantee, 'evaluate');
      expect(first.accessId).not.toBe(second.accessId);
      const writes = driver.ledger.transactions.at(-1)!.writes;
      // The request id's record and the access itself: no counter, no shared key.
      expect(writes).toHaveLength(2);
      expect(writes).toContain(compositeKey('datasetAccess', 'DS-1', 'G-1', second.accessId));
      const log = [first, second];
      expect(await call(freelancer, 'listAccessLog', { datasetId: 'DS-1' })).toEqual({ items: log, bookmark: '' });
      // The dataset's controller is of TalentOrg: its admin opens it to auditors.
      await driver.grantAudit(['provenance'], talentAdmin);
      expect(await call(auditor, 'listAccessLog', { datasetId: 'DS-1', grantId: 'G-1' })).toEqual({
        items: log,
        bookmark: '',
      });
      for (const outsider of [grantee, admin]) {
        await expect(call(outsider, 'listAccessLog', { datasetId: 'DS-1' })).rejects.toThrow(
          /^FORBIDDEN: only the controller of dataset DS-1 or an auditor may read its access log/,
        );
      }
      await expect(call(freelancer, 'listAccessLog', { datasetId: 'DS-1', grantId: 'G-9' })).rejects.toThrow(
        'NOT_FOUND[grantId]: dataset DS-1 has no access grant G-9',
      );
      expect((await call<{ items: unknown[] }>(grantee, 'listAccessGrants', { datasetId: 'DS-1' })).items).toHaveLength(
        1,
      );
      expect(await call(otherClient, 'listAccessGrants', { datasetId: 'DS-1' })).toEqual({ items: [], bookmark: '' });
      await expect(call(otherClient, 'getAccessGrant', { grantId: 'G-1' })).rejects.toThrow(
        'NOT_FOUND[grantId]: access grant G-1 does not exist',
      );
    });

    it("refuses an auditor without an audit grant the dataset's grant list, as its access log, and each grant as a missing one", async () => {
      await grant();
      const refusal =
        /^NO_AUDIT_GRANT: no live audit grant lets AuditOrgMSP user audrey with role auditor read provenance records of TalentOrgMSP/;
      const asMissing = 'NOT_FOUND[grantId]: access grant G-1 does not exist';
      await expect(call(auditor, 'listAccessGrants', { datasetId: 'DS-1' })).rejects.toThrow(refusal);
      await expect(call(auditor, 'listAccessLog', { datasetId: 'DS-1' })).rejects.toThrow(refusal);
      await expect(call(auditor, 'getAccessGrant', { grantId: 'G-1' })).rejects.toThrow(asMissing);
      // A grant from an organisation the dataset does not concern opens nothing either.
      await driver.grantAudit(['provenance'], admin);
      await expect(call(auditor, 'listAccessGrants', { datasetId: 'DS-1' })).rejects.toThrow(refusal);
      await driver.grantAudit(['provenance'], talentAdmin);
      expect(await call(auditor, 'listAccessGrants', { datasetId: 'DS-1' })).toEqual({
        items: [expect.objectContaining({ grantId: 'G-1' })],
        bookmark: '',
      });
    });

    it('refuses a use by anyone but the grantee, or outside its scope', async () => {
      await grant();
      // Someone who may not read the grant learns nothing of it, not even that it exists;
      // its controller, who may, is told whose it is.
      await expect(use(otherClient)).rejects.toThrow('NOT_FOUND[grantId]: access grant G-1 does not exist');
      await expect(use(otherClient, 'read', 'G-404')).rejects.toThrow(
        'NOT_FOUND[grantId]: access grant G-404 does not exist',
      );
      await expect(use(freelancer)).rejects.toThrow(
        /^ACCESS_NOT_GRANTED\[grantId\]: access grant G-1 is for ClientOrgMSP\/gina, not for TalentOrgMSP user /,
      );
      await expect(use(grantee, 'train')).rejects.toThrow(
        'ACCESS_NOT_GRANTED[scope]: access grant G-1 covers read, evaluate, not train',
      );
    });

    it('answers someone who may not read a grant exactly as for a grant that does not exist', async () => {
      await grant();
      const before = driver.ledger.transactions.length;
      const refusalOf = (answer: Promise<unknown>) =>
        answer.then(
          () => 'answered',
          (error: unknown) => (error as Error).message,
        );
      const asks: ((grantId: string) => Promise<unknown>)[] = [
        (grantId) => use(otherClient, 'read', grantId),
        (grantId) => call(otherClient, 'revokeAccess', { grantId, reason: 'probe' }),
        (grantId) => call(otherClient, 'getAccessGrant', { grantId }),
        (grantId) => call(auditor, 'getAccessGrant', { grantId }),
      ];
      for (const ask of asks) {
        expect(await refusalOf(ask('G-404'))).toBe('NOT_FOUND[grantId]: access grant G-404 does not exist');
        expect(await refusalOf(ask('G-1'))).toBe('NOT_FOUND[grantId]: access grant G-1 does not exist');
      }
      // The grantee may read it, so is told why it may not revoke it.
      await expect(call(grantee, 'revokeAccess', { grantId: 'G-1', reason: 'probe' })).rejects.toThrow(
        /^NOT_CONTROLLER/,
      );
      expect(driver.ledger.transactions.length).toBe(before);
    });

    it('refuses uses after revocation and after expiry', async () => {
      await grant();
      await grant({ grantId: 'G-2' });
      await use();
      const revoked = await call<AccessGrantRecord>(freelancer, 'revokeAccess', {
        grantId: 'G-1',
        reason: 'Project ended',
      });
      expect(revoked).toMatchObject({ status: 'revoked', revocation: { reason: 'Project ended' } });
      await expect(use()).rejects.toThrow(/^ACCESS_GRANT_REVOKED\[grantId\]: access grant G-1 was revoked at/);
      await expect(call(freelancer, 'revokeAccess', { grantId: 'G-1', reason: 'again' })).rejects.toThrow(
        /^ACCESS_GRANT_REVOKED/,
      );
      driver.ledger.advanceSeconds(24 * hour);
      await expect(use(grantee, 'read', 'G-2')).rejects.toThrow(
        `ACCESS_GRANT_EXPIRED[grantId]: access grant G-2 expired at ${expiresAt}`,
      );
    });

    it('lets only the controller grant and revoke', async () => {
      await expect(grant({}, client)).rejects.toThrow(
        /^NOT_CONTROLLER: only the controller of dataset DS-1 \(TalentOrgMSP\/tara\) may grant access to it/,
      );
      await grant();
      await expect(call(grantee, 'revokeAccess', { grantId: 'G-1', reason: 'mine' })).rejects.toThrow(
        /^NOT_CONTROLLER/,
      );
      await expect(grant({ expiresAt: '2026-01-05T09:00:00.000Z', grantId: 'G-3' })).rejects.toThrow(
        'VALIDATION_FAILED[expiresAt]: expiresAt: must be after the transaction time',
      );
      await expect(grant({ grantId: 'G-4', grantee: freelancerParty })).rejects.toThrow(
        /^VALIDATION_FAILED\[grantee\]/,
      );
      await expect(grant({ grantId: 'G-1' })).rejects.toThrow(/^ALREADY_EXISTS\[grantId\]/);
    });
  });

  describe('erasure', () => {
    /** An erasure asked by `as`; agreement terms name the asking party as the data subject, datasets Gina. */
    const erase = (
      target: Record<string, unknown>,
      as: TestIdentity = freelancer,
      receiptId = 'ER-1',
      dataSubject = target.kind === 'agreementTerms'
        ? { mspId: as.mspId, userId: String(as.attributes?.userId) }
        : granteeParty,
    ) =>
      call<ErasureReceipt>(as, 'requestErasure', {
        requestId: requestId(),
        receiptId,
        target,
        dataSubject,
        ground: 'a',
        reason: 'Consent withdrawn',
      });

    it("purges a dataset's subject data, keeps its hash and leaves a receipt that verifies", async () => {
      const hash = datasetSubjectDataSha256(subjectData);
      await registerDataset('DS-1', {}, freelancer, subjectData);
      const receipt = await erase({ kind: 'datasetSubjectData', datasetId: 'DS-1' });
      expect(receipt).toMatchObject({
        receiptId: 'ER-1',
        legalBasis: 'GDPR Art. 17(1)(a)',
        requestedBy: { mspId: 'TalentOrgMSP', userId: 'tara', role: 'freelancer' },
        dataSubject: granteeParty,
        purged: { collection: 'datasetSubjectData', objectType: 'subjectData', keyAttributes: ['DS-1'], sha256: hash },
      });
      const purge = driver.ledger.transactions.at(-1)!;
      expect(purge.purges).toEqual([{ collection: 'datasetSubjectData', key: compositeKey('subjectData', 'DS-1') }]);
      expect(receipt.txId).toBe(purge.txId);
      // The record names the erasure as its last write, where its proof is found.
      expect(await call(freelancer, 'getRecord', { recordId: 'DS-1' })).toMatchObject({
        txId: expect.not.stringMatching(purge.txId) as string,
        updatedTxId: purge.txId,
        updatedAt: receipt.at,
        subjectData: { status: 'erased', receiptId: 'ER-1' },
      });
      expect(driver.ledger.readPrivate('datasetSubjectData', compositeKey('subjectData', 'DS-1'))).toBeUndefined();
      expect(await call(freelancer, 'getSubjectData', { datasetId: 'DS-1' })).toEqual({
        status: 'erased',
        datasetId: 'DS-1',
        sha256: hash,
        receiptId: 'ER-1',
        erasedAt: receipt.at,
      });
      await driver.grantAudit(['provenance']);
      for (const verifier of [grantee, auditor, freelancer]) {
        expect(await call<ErasureVerification>(verifier, 'verifyErasure', { receiptId: 'ER-1' })).toEqual({
          receipt,
          ledgerSha256: hash,
          hashMatches: true,
          recordedAsErased: true,
          privateDataAbsent: true,
          privateDataOnPeer: 'absent',
          verified: true,
        });
      }
      await expect(call(otherClient, 'verifyErasure', { receiptId: 'ER-1' })).rejects.toThrow(
        'NOT_FOUND[receiptId]: erasure receipt ER-1 does not exist',
      );
      await expect(erase({ kind: 'datasetSubjectData', datasetId: 'DS-1' }, freelancer, 'ER-2')).rejects.toThrow(
        `PERSONAL_DATA_ERASED[target.datasetId]: the subject data of dataset DS-1 were already erased at ${receipt.at} (receipt ER-1)`,
      );
    });

    it("tells an admin which organisations a receipt and a dataset's grant concern, whoever may read them", async () => {
      await registerDataset('DS-1', {}, freelancer, subjectData);
      await erase({ kind: 'datasetSubjectData', datasetId: 'DS-1' });
      await call(freelancer, 'grantAccess', {
        requestId: requestId(),
        grantId: 'G-1',
        datasetId: 'DS-1',
        grantee: granteeParty,
        purpose: 'model training',
        scope: ['read'],
        expiresAt: new Date((driver.ledger.nowSeconds + 30 * 24 * hour) * 1000).toISOString(),
      });
      const organisationsOf = (as: TestIdentity, kind: string, id: string) =>
        driver.ledger.invoke(as, (ctx) => driver.audit.recordOrganisations(ctx, JSON.stringify({ kind, id })));
      // The admin of an organisation the records do not name cannot read them, yet learns whom they concern.
      await expect(call(talentAdmin, 'getErasureReceipt', { receiptId: 'ER-1' })).rejects.toThrow(/^NOT_FOUND/);
      expect(await organisationsOf(admin, 'erasureReceipt', 'ER-1')).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
      expect(await organisationsOf(admin, 'datasetAccessGrant', 'G-1')).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
      expect(await organisationsOf(admin, 'erasureReceipt', 'ER-9')).toEqual([]);
      expect(await organisationsOf(talentAdmin, 'dataset', 'DS-1')).toEqual([freelancer.mspId]);
      expect(await organisationsOf(talentAdmin, 'dataset', 'DS-9')).toEqual([]);
      for (const as of [freelancer, auditor, grantee]) {
        await expect(organisationsOf(as, 'erasureReceipt', 'ER-1')).rejects.toThrow(
          /^FORBIDDEN: only admin may ask which organisations a record concerns/,
        );
      }
    });

    it('does not verify a receipt while the private data is still there', async () => {
      await registerDataset('DS-1', {}, freelancer, subjectData);
      await erase({ kind: 'datasetSubjectData', datasetId: 'DS-1' });
      await driver.ledger.invoke(admin, (ctx) =>
        ctx.stub.putPrivateData('datasetSubjectData', compositeKey('subjectData', 'DS-1'), new Uint8Array([1])),
      );
      await driver.grantAudit(['provenance']);
      expect(await call(auditor, 'verifyErasure', { receiptId: 'ER-1' })).toMatchObject({
        privateDataAbsent: false,
        privateDataOnPeer: 'present',
        verified: false,
      });
    });

    it("refuses anyone but the dataset's controller, and a dataset without subject data", async () => {
      await registerDataset('DS-1', {}, freelancer, subjectData);
      await registerDataset('DS-2');
      await expect(erase({ kind: 'datasetSubjectData', datasetId: 'DS-1' }, client)).rejects.toThrow(
        /^NOT_CONTROLLER: only the controller of dataset DS-1/,
      );
      await expect(erase({ kind: 'datasetSubjectData', datasetId: 'DS-2' })).rejects.toThrow(
        'NOT_FOUND[target.datasetId]: dataset DS-2 holds no subject data',
      );
      await expect(erase({ kind: 'datasetSubjectData', datasetId: 'DS-1' }, auditor)).rejects.toThrow(/^FORBIDDEN/);
      await expect(
        call(freelancer, 'requestErasure', {
          requestId: requestId(),
          receiptId: 'ER-1',
          target: { kind: 'datasetSubjectData', datasetId: 'DS-1' },
          dataSubject: granteeParty,
          ground: 'g',
        }),
      ).rejects.toThrow(/^VALIDATION_FAILED\[ground\]/);
    });

    it("purges an agreement's terms on either party's request once it is no longer in force, and terms reads say they were erased", async () => {
      await driver.active();
      await expect(erase({ kind: 'agreementTerms', agreementId }, otherClient)).rejects.toThrow(
        `NOT_FOUND[target.agreementId]: agreement ${agreementId} does not exist`,
      );
      await expect(erase({ kind: 'agreementTerms', agreementId: 'A-none' })).rejects.toThrow(
        'NOT_FOUND[target.agreementId]: agreement A-none does not exist',
      );
      // Accepted, with milestones still to perform: the terms stay.
      for (const party of [freelancer, client]) {
        await expect(erase({ kind: 'agreementTerms', agreementId }, party)).rejects.toThrow(
          `INVALID_STATE[target.agreementId]: agreement ${agreementId} is in force (milestones m1 unfunded, m2 unfunded): ` +
            'its terms are kept while it is performed and may be disputed',
        );
      }
      expect(driver.ledger.readPrivate('agreementTerms', compositeKey('terms', agreementId))).toBeDefined();
      await driver.cancel(client);
      // The terms hold the parties' personal data: a receipt naming anyone else would be shown to them.
      await expect(erase({ kind: 'agreementTerms', agreementId }, freelancer, 'ER-0', granteeParty)).rejects.toThrow(
        `VALIDATION_FAILED[dataSubject]: dataSubject: must be the client or the freelancer of agreement ${agreementId}, whose personal data its terms hold`,
      );
      const receipt = await erase({ kind: 'agreementTerms', agreementId }, freelancer);
      expect(receipt.purged).toEqual({
        collection: 'agreementTerms',
        objectType: 'terms',
        keyAttributes: [agreementId],
        sha256: termsSha256,
      });
      expect(driver.ledger.readPrivate('agreementTerms', compositeKey('terms', agreementId))).toBeUndefined();
      expect(await driver.call(client, (c, ctx) => c.getTerms(ctx, JSON.stringify({ agreementId })))).toEqual({
        status: 'erased',
        agreementId,
        termsSha256,
        receiptId: 'ER-1',
        erasedAt: receipt.at,
      });
      // The freelancer asked; the client, the agreement's other controller, verifies too.
      await driver.grantAudit(['provenance']);
      for (const verifier of [auditor, client]) {
        expect(await call(verifier, 'verifyErasure', { receiptId: 'ER-1' })).toMatchObject({
          ledgerSha256: termsSha256,
          verified: true,
        });
      }
      await expect(erase({ kind: 'agreementTerms', agreementId }, client, 'ER-2')).rejects.toThrow(
        /^PERSONAL_DATA_ERASED\[target\.agreementId\]: the terms of agreement A-17 were already erased/,
      );
    });

    it('refuses to accept an offer whose terms a party had erased, since nobody can read what would be agreed', async () => {
      await driver.setParameters();
      await driver.draft();
      const receipt = await erase({ kind: 'agreementTerms', agreementId }, client);
      await expect(driver.accept()).rejects.toThrow(
        `PERSONAL_DATA_ERASED[agreementId]: the terms of agreement ${agreementId} were erased at ${receipt.at} (receipt ER-1), ` +
          'so no terms are left to accept; the client may draft the work again',
      );
      expect(
        (await driver.call(client, (c, ctx) => c.getAgreement(ctx, JSON.stringify({ agreementId })))).agreement,
      ).toMatchObject({
        status: 'offered',
      });
    });
  });

  it('refuses every command to every role its table leaves out', async () => {
    const requestsByCommand: Record<keyof typeof provenanceCommandRoles, unknown> = {
      registerDataset: dataset('DS-1'),
      registerModel: model('M-1', ['DS-0']),
      grantAccess: {
        requestId: requestId(),
        grantId: 'G-1',
        datasetId: 'DS-0',
        grantee: granteeParty,
        purpose: 'p',
        scope: ['read'],
        expiresAt: '2027-01-01T00:00:00.000Z',
      },
      revokeAccess: { grantId: 'G-1', reason: 'r' },
      recordAccess: { requestId: requestId(), grantId: 'G-1', scope: 'read' },
      requestErasure: {
        requestId: requestId(),
        receiptId: 'ER-1',
        target: { kind: 'datasetSubjectData', datasetId: 'DS-0' },
        dataSubject: granteeParty,
        ground: 'a',
      },
    };
    for (const [command, allowed] of Object.entries(provenanceCommandRoles)) {
      for (const role of roles.filter((candidate) => !(allowed as readonly string[]).includes(candidate))) {
        await expect(
          call(
            testIdentity('ClientOrgMSP', `as-${role}`, role),
            command as keyof ProvenanceContract,
            requestsByCommand[command as keyof typeof provenanceCommandRoles],
          ),
        ).rejects.toThrow(/^FORBIDDEN: only /);
      }
    }
  });
});
