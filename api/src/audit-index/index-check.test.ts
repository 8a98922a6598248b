import { EvaluationError, RefusedError, type LedgerClient } from '@gigledger/gateway';
import { openDatabase, type Db } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { BlockIndexer } from './block-indexer.js';
import { checkIndex } from './index-check.js';
import { agreementWrites, compositeKey, syntheticBlock, syntheticTransaction, workRecord } from './synthetic-blocks.js';

/*
 * The consistency check against a ledger that fails in the ways a real one does. The
 * end-to-end suites run the check against the real network when every read succeeds;
 * here a read fails, and the check must tell a record the ledger lacks from a ledger it
 * could not ask.
 */

const backends = storageBackends('gl-ixcheck');
const alice = { mspId: 'ClientOrgMSP', userId: 'alice' };
const bob = { mspId: 'TalentOrgMSP', userId: 'bob' };

type Read = () => Promise<unknown>;

/** A ledger whose `getAgreement` and `getWork` do what the test says; every listing is empty. */
function ledgerWhere(reads: { getAgreement: Read; getWork: Read }): LedgerClient {
  const emptyPage = () => Promise.resolve({ items: [], bookmark: '' });
  return {
    agreements: { getAgreement: reads.getAgreement, listAgreementsByParty: emptyPage },
    credentials: { listCredentialsBySubject: emptyPage },
    reputation: { listCompletions: emptyPage, listAttestations: emptyPage },
    governance: { listProposals: emptyPage },
    ip: { getWork: reads.getWork, listWorksByOwner: emptyPage, listOwnershipChanges: emptyPage },
    licensing: { listWorkLicences: () => Promise.resolve({ offers: [], grants: [] }) },
    provenance: {},
  } as unknown as LedgerClient;
}

const notFound = () => Promise.reject(new RefusedError({ code: 'NOT_FOUND', message: 'no such record' }));
const unreachable = () =>
  Promise.reject(new EvaluationError('evaluation failed: 14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7051'));

describe.each(backends)('the index check on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
    const at = '2026-01-05T10:00:00.000Z';
    await new BlockIndexer(db, { chaincode: 'gigledger' }).index(
      syntheticBlock(0n, [
        syntheticTransaction(
          0,
          'tx-draft',
          agreementWrites({ agreementId: 'A-1', client: alice, freelancer: bob, at, txId: 'tx-draft' }),
        ),
        syntheticTransaction(1, 'tx-work', [
          [
            compositeKey('ipWork', ['W-1']),
            workRecord({ workId: 'W-1', owners: [{ party: bob, shareBps: 10_000 }], at, txId: 'tx-work' }),
          ],
        ]),
      ]),
    );
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('reports a record the chaincode answers NOT_FOUND as missing on the ledger', async () => {
    const report = await checkIndex(db, ledgerWhere({ getAgreement: notFound, getWork: notFound }), 1n);
    expect(report.differences).toEqual([
      {
        kind: 'agreement',
        id: 'A-1',
        problem: 'missing-on-ledger',
        detail: 'the chaincode answers NOT_FOUND',
      },
      expect.objectContaining({ kind: 'work', id: 'W-1', problem: 'missing-on-ledger' }),
    ]);
  });

  it('fails with the ledger’s error when an agreement cannot be read, rather than call it missing', async () => {
    await expect(checkIndex(db, ledgerWhere({ getAgreement: unreachable, getWork: notFound }), 1n)).rejects.toThrow(
      "the check could not read agreement A-1 through ClientOrgMSP's checker: evaluation failed: 14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7051",
    );
  });

  it('fails with the ledger’s error when a work cannot be read, rather than call it missing', async () => {
    const failure = await checkIndex(db, ledgerWhere({ getAgreement: notFound, getWork: unreachable }), 1n).catch(
      (error: unknown) => error as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^the check could not read work W-1: evaluation failed/);
    expect((failure as Error).cause).toBeInstanceOf(EvaluationError);
  });

  it('fails on a refusal other than NOT_FOUND from a single reader, which names a misconfigured checker', async () => {
    const forbidden = () => Promise.reject(new RefusedError({ code: 'FORBIDDEN', message: 'role client may not' }));
    await expect(checkIndex(db, ledgerWhere({ getAgreement: forbidden, getWork: notFound }), 1n)).rejects.toThrow(
      /FORBIDDEN: role client may not/,
    );
  });
});
