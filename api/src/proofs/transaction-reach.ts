import {
  grantCovers,
  proofReaderRoles,
  type AuditGrantRecord,
  type AuditScope,
  type Role,
} from '@gigledger/chaincode/model';

/**
 * Roles that may see transactions themselves: their proof bundles (`GET /v1/proofs`) and
 * the block explorer (blocks, transactions, their keys and validation codes). The same
 * roles as `proofReaderRoles`: both show what a transaction did, the bundle with its
 * arguments in clear.
 */
export const transactionReaderRoles: readonly Role[] = proofReaderRoles;

/**
 * Which transactions a caller may see, one rule for the proof export and the block
 * explorer:
 *
 * - `own`: an organisation's admin sees the transactions its own members created, and
 *   no other. A transaction names the keys it touched and (in a proof) its arguments,
 *   among them records the chaincode shows only to the organisations they concern (audit
 *   grants, dataset access grants, erasure requests); an admin administers its own
 *   organisation, and reading across the consortium is an auditor's job, under grants.
 * - `granted`: an auditor sees the transactions created by members of an organisation
 *   whose live grant names `transaction`, at a time within that grant's `[from, to)`
 *   (`grantCovers`, as the chaincode judges any record).
 * - `none`: every other role.
 */
export type TransactionReach =
  | { readonly kind: 'none' }
  | { readonly kind: 'own'; readonly mspId: string }
  | { readonly kind: 'granted'; readonly grants: readonly AuditGrantRecord[] };

/**
 * The caller's reach over transactions.
 *
 * @param scope the auditor's live grants (`AuditScopes`); an auditor without it sees none.
 */
export function transactionReach(
  principal: { readonly role: Role; readonly mspId: string },
  scope: AuditScope | undefined,
): TransactionReach {
  if (!transactionReaderRoles.includes(principal.role)) return { kind: 'none' };
  if (principal.role === 'auditor') {
    const grants = (scope?.grants ?? []).filter((grant) => grant.kinds.includes('transaction'));
    return { kind: 'granted', grants };
  }
  return { kind: 'own', mspId: principal.mspId };
}

/** One transaction as the rule needs it: who created it, and when (the channel header's ISO 8601 time). */
export interface TransactionFacts {
  readonly creatorMspId: string;
  readonly timestamp: string | undefined;
}

/** Whether the reach takes in the transaction. A granted reach needs the transaction's time. */
export function reachesTransaction(reach: TransactionReach, transaction: TransactionFacts): boolean {
  switch (reach.kind) {
    case 'none':
      return false;
    case 'own':
      return transaction.creatorMspId === reach.mspId;
    case 'granted': {
      const at = transaction.timestamp;
      if (at === undefined) return false;
      const record = { kind: 'transaction' as const, organisations: [transaction.creatorMspId], at };
      return reach.grants.some((grant) => grantCovers(grant, record));
    }
  }
}
