import { agreementReaderRoles, credentialReaderRoles, type Role } from '@gigledger/chaincode/model';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Principal, Scope } from '../auth/principal.js';
import { forbidden, unauthenticated } from '../errors/api-error.js';

/** What the index answers about, each read under its own rule. */
export type IndexedKind = 'agreements' | 'milestones' | 'payouts' | 'credentials' | 'reputation' | 'ledger';

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
};

const everything = sql<SqlBool>`1 = 1`;
const nothing = sql<SqlBool>`1 = 0`;

function namedAs(principal: Principal, msp: string, user: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(msp)} = ${principal.mspId} and ${sql.ref(user)} = ${principal.userId})`;
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
 * The API scope that guards the same chaincode reads is required first.
 *
 * @throws ApiError 401 without a principal; 403 when the principal lacks the scope.
 */
export function indexVisibility(principal: Principal | undefined, kind: IndexedKind): RawBuilder<SqlBool> {
  if (principal === undefined) throw unauthenticated();
  const scope = scopeOf[kind];
  if (!principal.scopes.includes(scope)) {
    throw forbidden(`this operation needs scope ${scope}; the caller (role ${principal.role}) does not have it`);
  }
  switch (kind) {
    case 'agreements':
    case 'milestones':
    case 'payouts':
      if (agreementReaderRoles.includes(principal.role)) return everything;
      return sql<SqlBool>`(${namedAs(principal, 'client_msp', 'client_user')} or ${namedAs(
        principal,
        'freelancer_msp',
        'freelancer_user',
      )} or ${namedAs(principal, 'evaluator_msp', 'evaluator_user')})`;
    case 'credentials':
      if (credentialReaderRoles.includes(principal.role)) return everything;
      return sql<SqlBool>`(${namedAs(principal, 'subject_msp', 'subject_user')} or ${namedAs(
        principal,
        'issuer_msp',
        'issuer_user',
      )})`;
    case 'reputation':
      return everything;
    case 'ledger':
      return ledgerExplorerRoles.includes(principal.role) ? everything : nothing;
  }
}
