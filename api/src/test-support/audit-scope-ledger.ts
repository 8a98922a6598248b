import type { AuditScope } from '@gigledger/chaincode/model';
import type { LedgerAccess } from '../ledger/ledger-access.js';

/**
 * Ledger access whose every client answers `audit:getAuditScope` with `scope`, calling
 * `lookedUp` each time, for tests of what is kept of an auditor's scope.
 */
export function scopeAnsweringLedger(scope: AuditScope, lookedUp: () => void): LedgerAccess {
  return {
    clientFor: () =>
      Promise.resolve({
        audit: {
          getAuditScope: () => {
            lookedUp();
            return Promise.resolve(scope);
          },
        },
      }),
  } as unknown as LedgerAccess;
}
