import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import {
  EvaluationError,
  proofCreatorMspId,
  RefusedError,
  type LedgerClient,
  type ProofBundle,
} from '@gigledger/gateway';
import { openDatabase, type Db } from '../db/database.js';
import { bundleTransaction } from '../proofs/bundle-transaction.js';
import {
  organisationsOfTransaction,
  ReadSubjectResolver,
  subjectsOfRead,
  type ReadTargetKind,
} from './read-subjects.js';

describe('subjectsOfRead', () => {
  it('takes record ids from REST paths, decoded, and organisations from party paths', () => {
    expect(subjectsOfRead({ path: '/v1/agreements/A%2017/milestones/m1/history' })).toEqual({
      organisations: [],
      targets: [{ kind: 'agreement', id: 'A 17' }],
    });
    expect(subjectsOfRead({ path: '/v1/licensing/grants/G-1/periods/2026-01' }).targets).toEqual([
      { kind: 'licenceGrant', id: 'G-1' },
    ]);
    expect(subjectsOfRead({ path: '/v1/provenance/datasets/DS-1/access-log' }).targets).toEqual([
      { kind: 'dataset', id: 'DS-1' },
    ]);
    expect(subjectsOfRead({ path: '/v1/reputation/TalentOrgMSP/tara' })).toEqual({
      organisations: ['TalentOrgMSP'],
      targets: [],
    });
    // Verification is no credential id.
    expect(subjectsOfRead({ path: '/v1/credentials/verify' })).toEqual({ organisations: [], targets: [] });
    // A settlement instruction names its agreement, or for a royalty or fee its licence grant.
    expect(
      [
        '/v1/settlement/instructions/A-1%2Fm1%2Frelease-1',
        '/v1/settlement/instructions/G-1%2F2026-01%2Froyalty-2',
        '/v1/settlement/instructions/G-1%2Ffee%2Ffee-1',
      ].map((path) => subjectsOfRead({ path }).targets),
    ).toEqual([
      [{ kind: 'agreement', id: 'A-1' }],
      [{ kind: 'licenceGrant', id: 'G-1' }],
      [{ kind: 'licenceGrant', id: 'G-1' }],
    ]);
  });

  it('takes record ids and organisations from arguments at any depth, without repeats', () => {
    expect(
      subjectsOfRead({
        arguments: [
          {
            agreementId: 'A-1',
            filter: { clientMsp: 'ClientOrgMSP', party: { mspId: 'TalentOrgMSP', userId: 'tara' } },
          },
          { agreementId: 'A-1', organisations: ['AuditOrgMSP'] },
          { workId: 'W-1', first: 10, status: 'active' },
        ],
      }),
    ).toEqual({
      organisations: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'],
      targets: [
        { kind: 'agreement', id: 'A-1' },
        { kind: 'work', id: 'W-1' },
      ],
    });
  });

  it('takes the records only the chaincode can name the organisations of, transactions and blocks from paths', () => {
    const txId = 'a'.repeat(64);
    expect(
      [
        '/v1/erasure-receipts/ER-1',
        '/v1/erasure-receipts/ER-1/verification',
        '/v1/provenance/grants/DG-1',
        '/v1/audit/grants/AG-1',
        `/v1/proofs/${txId}`,
        `/v1/index/transactions/${txId}`,
        '/v1/index/blocks/42',
        `/v1/ip/content-hashes/${'c'.repeat(64)}`,
      ].map((path) => subjectsOfRead({ path }).targets),
    ).toEqual([
      [{ kind: 'erasureReceipt', id: 'ER-1' }],
      [{ kind: 'erasureReceipt', id: 'ER-1' }],
      [{ kind: 'datasetAccessGrant', id: 'DG-1' }],
      [{ kind: 'auditGrant', id: 'AG-1' }],
      [{ kind: 'transaction', id: txId }],
      [{ kind: 'transaction', id: txId }],
      [{ kind: 'block', id: '42' }],
      [{ kind: 'workByContentHash', id: 'c'.repeat(64) }],
    ]);
    // The proof of an agreement's last write names the agreement, not a transaction.
    expect(subjectsOfRead({ path: '/v1/proofs/records/agreement/A-1' }).targets).toEqual([
      { kind: 'agreement', id: 'A-1' },
    ]);
    // A milestone's and a payout's proofs name their agreement, whether the slash was encoded or not.
    for (const path of [
      '/v1/proofs/records/milestone/A-1%2Fm1',
      '/v1/proofs/records/payout/A-1%2fm1%2Frelease-1',
      '/v1/proofs/records/payout/A-1/m1/release-1',
    ]) {
      expect([path, subjectsOfRead({ path }).targets]).toEqual([path, [{ kind: 'agreement', id: 'A-1' }]]);
    }
    expect(subjectsOfRead({ path: '/v1/proofs/records/audit-grant/AG-1' }).targets).toEqual([
      { kind: 'auditGrant', id: 'AG-1' },
    ]);
    expect(
      subjectsOfRead({ arguments: [{ receiptId: 'ER-2', datasetGrantId: 'DG-2', filter: { org: 'ClientOrgMSP' } }] }),
    ).toEqual({
      organisations: ['ClientOrgMSP'],
      targets: [
        { kind: 'erasureReceipt', id: 'ER-2' },
        { kind: 'datasetAccessGrant', id: 'DG-2' },
      ],
    });
  });

  it("names a transaction's creator and the organisations in the values it wrote", () => {
    const bundle = JSON.parse(
      readFileSync(new URL('../../../gateway/test-fixtures/proof-bundle.json', import.meta.url), 'utf8'),
    ) as ProofBundle;
    const organisations = organisationsOfTransaction(bundleTransaction(bundle));
    expect(organisations).toContain(proofCreatorMspId(bundle));
    expect(organisations).toEqual([...organisations].sort());
    expect(organisations.every((mspId) => /MSP$/.test(mspId))).toBe(true);
  });

  it('finds nothing in a read that names no record and no organisation', () => {
    expect(subjectsOfRead({ path: '/v1/index/agreements', arguments: { first: '20', status: 'active' } })).toEqual({
      organisations: [],
      targets: [],
    });
    // The reads by POST at fixed paths: no word of the path is taken for an organisation or an id.
    for (const path of [
      '/v1/reputation/statements',
      '/v1/reputation/statements/verification',
      '/v1/credentials/verify',
      '/v1/credentials/vc/verify',
    ]) {
      expect([path, subjectsOfRead({ path })]).toEqual([path, { organisations: [], targets: [] }]);
    }
    expect(subjectsOfRead({ path: '/v1/reputation/TalentOrgMSP/tara' }).organisations).toEqual(['TalentOrgMSP']);
  });
});

describe('ReadSubjectResolver', () => {
  let dir: string;
  let db: Db;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-rs-'));
    db = await openDatabase({ kind: 'sqlite', file: path.join(dir, 'rs.sqlite') });
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks the chaincode once per record whether it exists or not, the same call for every kind', async () => {
    const calls: { kind: string; id: string }[] = [];
    // As the chaincode answers an admin: the parties of a record whoever may read it, nobody for an unknown id.
    const known: Record<string, string[]> = {
      'agreement:A-HID': ['TalentOrgMSP'],
      'licenceGrant:L-1': ['ClientOrgMSP', 'TalentOrgMSP'],
    };
    const ledger = {
      audit: {
        recordOrganisations: (request: { kind: string; id: string }) => {
          calls.push(request);
          return Promise.resolve(known[`${request.kind}:${request.id}`] ?? []);
        },
      },
    } as unknown as LedgerClient;
    const resolver = new ReadSubjectResolver(ledger, { db });
    const silent = pino({ level: 'silent' });
    const organisationsOf = (kind: ReadTargetKind, id: string) =>
      resolver.organisationsOf({ organisations: [], targets: [{ kind, id }] }, silent);

    expect(await organisationsOf('agreement', 'A-HID')).toEqual(['TalentOrgMSP']);
    expect(await organisationsOf('licenceGrant', 'L-1')).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
    expect(await organisationsOf('licenceGrant', 'L-none')).toEqual([]);
    expect(await organisationsOf('credential', 'urn:none')).toEqual([]);
    expect(calls).toEqual([
      { kind: 'agreement', id: 'A-HID' },
      { kind: 'licenceGrant', id: 'L-1' },
      { kind: 'licenceGrant', id: 'L-none' },
      { kind: 'credential', id: 'urn:none' },
    ]);
  });

  it('reads ids written as whole numbers, and an id beside padding, however large', () => {
    expect(subjectsOfRead({ arguments: [{ agreementId: 12345 }] }).targets).toEqual([
      { kind: 'agreement', id: '12345' },
    ]);
    const padding = { revealedClaims: Array.from({ length: 20_000 }, (_, index) => ({ claim: `c${String(index)}` })) };
    // Another root field's padding, and the same field's nested padding written first.
    expect(subjectsOfRead({ arguments: [padding, { agreementId: 'A-1' }] }).targets).toEqual([
      { kind: 'agreement', id: 'A-1' },
    ]);
    expect(subjectsOfRead({ arguments: [{ presentation: padding, credentialId: 'C-1' }] }).targets).toEqual([
      { kind: 'credential', id: 'C-1' },
    ]);
  });

  it("reads an erasure receipts filter's target as the record its kind names, either without a kind", () => {
    const targetsOf = (filter: Record<string, unknown>) => subjectsOfRead({ arguments: [{ filter }] }).targets;
    expect(targetsOf({ targetKind: 'agreementTerms', targetId: 'A-1' })).toEqual([{ kind: 'agreement', id: 'A-1' }]);
    expect(targetsOf({ targetKind: 'datasetSubjectData', targetId: 'D-1' })).toEqual([{ kind: 'dataset', id: 'D-1' }]);
    expect(targetsOf({ targetId: 'X-1' })).toEqual([
      { kind: 'agreement', id: 'X-1' },
      { kind: 'dataset', id: 'X-1' },
    ]);
    expect(targetsOf({ targetKind: 'somethingElse', targetId: 77 })).toEqual([
      { kind: 'agreement', id: '77' },
      { kind: 'dataset', id: '77' },
    ]);
  });

  it('names nobody for a record the ledger refuses to name, and fails when the ledger cannot be asked', async () => {
    let failure: Error = new RefusedError({ code: 'VALIDATION_FAILED', message: 'id: is malformed', field: 'id' });
    const ledger = {
      audit: { recordOrganisations: () => Promise.reject(failure) },
    } as unknown as LedgerClient;
    const resolver = new ReadSubjectResolver(ledger, { db });
    const silent = pino({ level: 'silent' });
    const subjects = { organisations: ['AuditOrgMSP'], targets: [{ kind: 'agreement' as const, id: 'A-1' }] };
    expect(await resolver.organisationsOf(subjects, silent)).toEqual(['AuditOrgMSP']);
    // Its peer down: the read cannot be logged for the organisations it concerned, and is not logged for fewer.
    failure = new EvaluationError('evaluate failed: peer0.clientorg unavailable');
    await expect(resolver.organisationsOf(subjects, silent)).rejects.toBe(failure);
  });
});
