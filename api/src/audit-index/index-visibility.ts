import {
  agreementReaderRoles,
  credentialReaderRoles,
  type AuditGrantRecord,
  type AuditRecordKind,
  type AuditScope,
  type Role,
} from '@gigledger/chaincode/model';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Principal, Scope } from '../auth/principal.js';
import { forbidden, unauthenticated } from '../errors/api-error.js';

/** What the index answers about, each read under its own rule. */
export type IndexedKind =
  | 'agreements'
  | 'milestones'
  | 'payouts'
  | 'credentials'
  | 'reputation'
  /** Blocks and heights. */
  | 'ledger'
  | 'transactions'
  | 'transactionKeys';

/**
 * Roles that may browse the block explorer (blocks, transactions, their keys and
 * validation codes). Transactions name every key they touch, agreement ids included, so
 * the explorer is for those who may read every agreement and whose job is the ledger
 * itself: auditors, and administrators of a member organisation.
 */
export const ledgerExplorerRoles: readonly Role[] = ['auditor', 'admin'];

const scopeOf: Record<IndexedKind, Scope> = {
  agreements: 'agreements:read',
  milestones: 'agreements:read',
  payouts: 'agreements:read',
  credentials: 'credentials:read',
  reputation: 'reputation:read',
  ledger: 'ledger:read',
  transactions: 'ledger:read',
  transactionKeys: 'ledger:read',
};

const everything = sql<SqlBool>`1 = 1`;
const nothing = sql<SqlBool>`1 = 0`;

function namedAs(principal: Principal, msp: string, user: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(msp)} = ${principal.mspId} and ${sql.ref(user)} = ${principal.userId})`;
}

function anyOf(conditions: readonly RawBuilder<SqlBool>[]): RawBuilder<SqlBool> {
  if (conditions.length === 0) return nothing;
  return sql<SqlBool>`(${sql.join(conditions, sql` or `)})`;
}

// Record times are stored as the transaction's ISO 8601 instant (milliseconds, `Z`);
// grant bounds are brought to the same form so that text order is time order.
const instant = (value: string): string => new Date(value).toISOString();

/**
 * The rows some live grant covers, as `grantCovers` in the chaincode decides: one grant
 * naming the kind, from one of the organisations the record concerns (`orgColumns`), with
 * the record's time (`timeColumn`) in its `[from, to)`.
 */
function coveredByGrant(
  grants: readonly AuditGrantRecord[],
  kind: AuditRecordKind,
  orgColumns: readonly string[],
  timeColumn: string,
): RawBuilder<SqlBool> {
  return anyOf(
    grants
      .filter((grant) => grant.kinds.includes(kind))
      .map((grant) => {
        const parts = [anyOf(orgColumns.map((column) => sql<SqlBool>`${sql.ref(column)} = ${grant.organisation}`))];
        if (grant.from !== undefined) parts.push(sql<SqlBool>`${sql.ref(timeColumn)} >= ${instant(grant.from)}`);
        if (grant.to !== undefined) parts.push(sql<SqlBool>`${sql.ref(timeColumn)} < ${instant(grant.to)}`);
        return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
      }),
  );
}

/**
 * THE rule of what the audit index may answer a caller: the rows of `kind` the
 * principal could read through the chaincode, as an SQL condition over that kind's
 * table. Every index query (GraphQL and REST) filters with it and with nothing else.
 *
 * - agreements, their milestones and payouts: every row for the roles the chaincode lets
 *   read any agreement (`agreementReaderRoles`); otherwise only rows of agreements that
 *   name the caller (its MSP id and userId) as client, freelancer or evaluator, as
 *   `canReadAgreement` in `contracts/agreement/access.ts` decides;
 * - credentials: every row for `credentialReaderRoles`; otherwise those whose subject
 *   or issuer is the caller (`canReadCredential`);
 * - reputation records: every row; the chaincode answers any signed-in reader;
 * - blocks and transactions: every row for {@link ledgerExplorerRoles}, none otherwise.
 *
 * An auditor (`auditScope`, from `AuditScopes`) reads as the chaincode lets them: an agreement
 * (with its milestones and payouts) or a credential it is not a party to only when one
 * live grant covers it (`requireAuditGrant`: the kind, one of the organisations it
 * concerns, its creation or issue time within the grant's range); the block explorer
 * only with a live grant naming `transaction`, and of the transactions (with their keys)
 * those created by a granting organisation's members at a time in the grant's range.
 *
 * The API scope that guards the same chaincode reads is required first.
 *
 * @throws ApiError 401 without a principal; 403 when the principal lacks the scope.
 */
export function indexVisibility(
  principal: Principal | undefined,
  kind: IndexedKind,
  auditScope?: AuditScope,
): RawBuilder<SqlBool> {
  if (principal === undefined) throw unauthenticated();
  const needed = scopeOf[kind];
  if (!principal.scopes.includes(needed)) {
    throw forbidden(`this operation needs scope ${needed}; the caller (role ${principal.role}) does not have it`);
  }
  switch (kind) {
    case 'agreements':
    case 'milestones':
    case 'payouts': {
      const party = anyOf([
        namedAs(principal, 'client_msp', 'client_user'),
        namedAs(principal, 'freelancer_msp', 'freelancer_user'),
        namedAs(principal, 'evaluator_msp', 'evaluator_user'),
      ]);
      // Without a grant naming agreements the grant arm matches nothing; leaving it out
      // lets SQLite answer from the party indexes instead of scanning the filter's range.
      if (auditScope !== undefined && !auditScope.grants.some((grant) => grant.kinds.includes('agreement'))) {
        return party;
      }
      if (auditScope !== undefined) {
        if (kind === 'agreements') {
          return anyOf([
            party,
            coveredByGrant(auditScope.grants, 'agreement', ['client_msp', 'freelancer_msp'], 'created_at'),
          ]);
        }
        // Milestones and payouts date from their agreement, as the chaincode judges them:
        // one primary-key look-up of the row's own agreement. (An `in (select …)` over
        // ix_agreements would build the list of every granted agreement for each
        // statement, three quarters of the index for a broadly engaged auditor.)
        const granted = coveredByGrant(
          auditScope.grants,
          'agreement',
          ['granted.client_msp', 'granted.freelancer_msp'],
          'granted.created_at',
        );
        return anyOf([
          party,
          sql<SqlBool>`exists (select 1 from ix_agreements as granted where granted.agreement_id = ${sql.ref(`${kind === 'milestones' ? 'ix_milestones' : 'ix_payouts'}.agreement_id`)} and ${granted})`,
        ]);
      }
      if (agreementReaderRoles.includes(principal.role)) return everything;
      return party;
    }
    case 'credentials': {
      const party = anyOf([
        namedAs(principal, 'subject_msp', 'subject_user'),
        namedAs(principal, 'issuer_msp', 'issuer_user'),
      ]);
      if (auditScope !== undefined && !auditScope.grants.some((grant) => grant.kinds.includes('credential'))) {
        return party;
      }
      if (auditScope !== undefined) {
        return anyOf([
          party,
          coveredByGrant(auditScope.grants, 'credential', ['subject_msp', 'issuer_msp'], 'issued_at'),
        ]);
      }
      if (credentialReaderRoles.includes(principal.role)) return everything;
      return party;
    }
    case 'reputation':
      return everything;
    case 'ledger':
      if (!ledgerExplorerRoles.includes(principal.role)) return nothing;
      if (auditScope !== undefined && !auditScope.kinds.includes('transaction')) return nothing;
      return everything;
    case 'transactions':
      if (!ledgerExplorerRoles.includes(principal.role)) return nothing;
      if (auditScope === undefined) return everything;
      return coveredByGrant(auditScope.grants, 'transaction', ['creator_msp'], 'timestamp');
    case 'transactionKeys': {
      if (!ledgerExplorerRoles.includes(principal.role)) return nothing;
      if (auditScope === undefined) return everything;
      const granted = coveredByGrant(auditScope.grants, 'transaction', ['creator_msp'], 'timestamp');
      return sql<SqlBool>`exists (select 1 from ix_transactions where ix_transactions.block_number = ix_tx_keys.block_number and ix_transactions.position = ix_tx_keys.position and ${granted})`;
    }
  }
}
