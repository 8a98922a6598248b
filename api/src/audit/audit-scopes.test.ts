import { pino } from 'pino';
import type { AuditGrantRecord } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import { AuditScopes } from './audit-scopes.js';
import { scopeAnsweringLedger } from '../test-support/audit-scope-ledger.js';

describe('AuditScopes', () => {
  const expiresAt = '2026-12-03T10:00:12.000Z';
  const grant: AuditGrantRecord = {
    grantId: 'AG-short',
    organisation: 'ClientOrgMSP',
    auditor: { mspId: 'AuditOrgMSP', userId: 'aude' },
    kinds: ['agreement'],
    expiresAt,
    purpose: 'Spot check',
    grantedBy: { mspId: 'ClientOrgMSP', userId: 'admin-1' },
    grantedAt: '2026-12-03T10:00:00.000Z',
    txId: 'tx-AG-short',
    status: 'active',
    updatedAt: '2026-12-03T10:00:00.000Z',
    updatedTxId: 'tx-AG-short',
  };
  const auditor: Principal = {
    kind: 'person',
    id: 'aude',
    userId: 'aude',
    org: 'AuditOrg',
    mspId: 'AuditOrgMSP',
    role: 'auditor',
    scopes: [],
    identityLabel: 'person:aude',
  };

  it('narrows a kept scope to the grants still live, so an expiry applies at once without a look-up', async () => {
    let lookups = 0;
    const ledger = scopeAnsweringLedger(
      {
        auditor: { mspId: 'AuditOrgMSP', userId: 'aude' },
        asOf: '2026-12-03T10:00:05.000Z',
        grants: [grant],
        organisations: ['ClientOrgMSP'],
        kinds: ['agreement'],
      },
      () => {
        lookups += 1;
      },
    );
    const scopes = new AuditScopes(ledger, 10_000);
    const silent = pino({ level: 'silent' });
    const at = (instant: string) => scopes.scopeFor(auditor, silent, { now: Date.parse(instant) });

    expect(await at('2026-12-03T10:00:05.000Z')).toMatchObject({
      organisations: ['ClientOrgMSP'],
      kinds: ['agreement'],
    });
    expect(await at('2026-12-03T10:00:11.000Z')).toMatchObject({
      grants: [expect.objectContaining({ grantId: 'AG-short' })],
    });
    // Past the grant's expiry, still within the kept answer's 10 s.
    expect(await at('2026-12-03T10:00:12.500Z')).toMatchObject({ grants: [], organisations: [], kinds: [] });
    expect(lookups).toBe(1);
  });
});
