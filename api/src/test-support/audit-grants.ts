import { pino } from 'pino';
import { auditRecordKinds } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import { testOperator, type Person, type TestServer } from './test-server.js';

const silent = pino({ level: 'silent' });

/**
 * Lets `auditor` read every kind of record of every test organisation for a year of
 * ledger time (the longest `auditGrantMaxSeconds` lets a grant run), as each organisation's admin: suites about other domains read as an
 * auditor without caring about grants, which the audit suites test. The admins act on
 * the ledger directly, without accounts, to keep set-up cheap.
 */
export async function grantAuditEverywhere(server: TestServer, auditor: Person): Promise<void> {
  const expiresAt = new Date((server.ledger.ledger.nowSeconds + 365 * 86_400) * 1000).toISOString();
  for (const [org, mspId] of [
    ['ClientOrg', 'ClientOrgMSP'],
    ['TalentOrg', 'TalentOrgMSP'],
    ['AuditOrg', 'AuditOrgMSP'],
  ] as const) {
    const admin: Principal = {
      ...testOperator,
      id: `audit-ops-${org}`,
      userId: `audit-ops-${org.toLowerCase()}`,
      org,
      mspId,
      identityLabel: `service:audit-ops-${org}`,
    };
    const ledger = await server.ledger.clientFor(admin, silent);
    await ledger.audit.grantAuditAccess({
      grantId: `AG-${org}-${auditor.party.userId}`,
      auditor: auditor.party,
      kinds: [...auditRecordKinds],
      expiresAt,
      purpose: 'test suite',
    });
  }
}
