import { roles, scopeOf, type AuditGrantRecord, type AuditRecordKind } from '@gigledger/chaincode/model';
import { reachesTransaction, transactionReach } from './transaction-reach.js';

const grant = (
  grantId: string,
  organisation: string,
  kinds: AuditRecordKind[],
  range: { from?: string; to?: string } = {},
): AuditGrantRecord => ({
  grantId,
  organisation,
  auditor: { mspId: 'AuditOrgMSP' },
  kinds,
  ...range,
  expiresAt: '2027-01-01T00:00:00.000Z',
  purpose: 'test',
  grantedBy: { mspId: organisation, userId: 'ops', role: 'admin' },
  grantedAt: '2026-01-01T00:00:00.000Z',
  txId: `tx-${grantId}`,
  status: 'active',
  updatedAt: '2026-01-01T00:00:00.000Z',
  updatedTxId: `tx-${grantId}`,
});
const auditor = { role: 'auditor' as const, mspId: 'AuditOrgMSP' };
const clientTx = { creatorMspId: 'ClientOrgMSP', timestamp: '2026-06-01T00:00:00.000Z' };
const talentTx = { creatorMspId: 'TalentOrgMSP', timestamp: '2026-06-01T00:00:00.000Z' };

describe('transactionReach: one rule for proofs and the explorer', () => {
  it("lets an admin see its own organisation's transactions and no other", () => {
    const reach = transactionReach({ role: 'admin', mspId: 'ClientOrgMSP' }, undefined);
    expect(reach).toEqual({ kind: 'own', mspId: 'ClientOrgMSP' });
    expect([reachesTransaction(reach, clientTx), reachesTransaction(reach, talentTx)]).toEqual([true, false]);
  });

  it("lets an auditor see a granting organisation's transactions dated within a grant naming transaction", () => {
    const asOf = '2026-06-02T00:00:00.000Z';
    const scope = scopeOf(auditor, asOf, [
      grant('G-1', 'ClientOrgMSP', ['transaction'], {
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-07-01T00:00:00.000Z',
      }),
      grant('G-2', 'TalentOrgMSP', ['agreement']),
    ]);
    const reach = transactionReach(auditor, scope);
    expect([reachesTransaction(reach, clientTx), reachesTransaction(reach, talentTx)]).toEqual([true, false]);
    expect(reachesTransaction(reach, { ...clientTx, timestamp: '2026-07-01T00:00:00.000Z' })).toBe(false);
    expect(reachesTransaction(reach, { ...clientTx, timestamp: undefined })).toBe(false);
    expect(reachesTransaction(transactionReach(auditor, undefined), clientTx)).toBe(false);
  });

  it('gives every other role nothing', () => {
    for (const role of roles.filter((candidate) => candidate !== 'admin' && candidate !== 'auditor')) {
      expect([role, transactionReach({ role, mspId: 'ClientOrgMSP' }, undefined)]).toEqual([role, { kind: 'none' }]);
    }
  });
});
