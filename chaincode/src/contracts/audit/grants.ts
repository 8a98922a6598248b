import { auditCommandRoles } from '../../model/access-roles';
import {
  grantNames,
  scopeOf,
  type AuditGrantRecord,
  type AuditScope,
  type GrantAuditAccessRequest,
} from '../../model/audit';
import { requireRole } from '../../ledger/caller';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { actorOf, reached, touched, type Tx } from '../../ledger/tx';
import { requireMemberOrganisations } from '../governance/member-organisations';
import { readParameter } from '../parameter/store';
import { readGrant, readGrantsPage, readGrantsToAuditorOrganisation, writeGrant } from './store';
import type { Page, PageRequest } from '../../model/page';

/**
 * Refuses an expiry that is not after the transaction time, or later than the consortium
 * lets a grant run (`auditGrantMaxSeconds` from the transaction time).
 *
 * @throws RefusalError VALIDATION_FAILED (field expiresAt) naming the bound;
 *   PARAMETER_INVALID when the consortium has not set `auditGrantMaxSeconds`.
 */
async function requireExpiryInRange(tx: Tx, expiresAt: string): Promise<void> {
  if (reached(tx, expiresAt)) {
    refuse('VALIDATION_FAILED', `expiresAt: must be after the transaction time ${tx.at}`, 'expiresAt');
  }
  const maxSeconds = (await readParameter(tx.ctx, 'auditGrantMaxSeconds')).value;
  const latest = new Date(Date.parse(tx.at) + maxSeconds * 1000).toISOString();
  if (Date.parse(expiresAt) > Date.parse(latest)) {
    refuse(
      'VALIDATION_FAILED',
      `expiresAt: must be at most ${String(maxSeconds)} seconds (auditGrantMaxSeconds) after the transaction time, ` +
        `no later than ${latest}`,
      'expiresAt',
    );
  }
}

/**
 * An organisation's admin lets an auditor (or every auditor of an organisation) read the
 * organisation's records of the named kinds, dated within `[from, to)`, until `expiresAt`.
 *
 * The auditor's organisation must be a member of the consortium as governance records it
 * (rights in force), so a mistyped MSP id never holds a grant that a later organisation of
 * that name would inherit. The grantee's role is a certificate attribute the ledger never
 * sees: it is checked at each read instead, where only an `auditor` reads through grants.
 *
 * @throws RefusalError FORBIDDEN unless the caller is an admin; VALIDATION_FAILED (field
 *   expiresAt) when the expiry is not after the transaction time or later than
 *   `auditGrantMaxSeconds` after it, (field auditor.mspId) when the auditor's organisation
 *   is no member; ALREADY_EXISTS when the grant id is taken.
 */
export async function grantAccess(tx: Tx, request: GrantAuditAccessRequest): Promise<AuditGrantRecord> {
  requireRole(tx.caller, auditCommandRoles.grantAuditAccess, 'grant audit access');
  await requireExpiryInRange(tx, request.expiresAt);
  await requireMemberOrganisations(tx, [{ field: 'auditor', party: request.auditor }]);
  if ((await readGrant(tx.ctx, request.grantId)) !== undefined)
    refuseIdTaken('audit grant', request.grantId, 'grantId');
  const grant: AuditGrantRecord = {
    grantId: request.grantId,
    organisation: tx.caller.mspId,
    auditor: request.auditor,
    kinds: request.kinds,
    ...(request.from === undefined ? {} : { from: request.from }),
    ...(request.to === undefined ? {} : { to: request.to }),
    expiresAt: request.expiresAt,
    purpose: request.purpose,
    grantedBy: actorOf(tx.caller),
    grantedAt: tx.at,
    txId: tx.txId,
    status: 'active',
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await writeGrant(tx.ctx, grant, true);
  return grant;
}

/**
 * An admin of the granting organisation ends a grant before its expiry; reads under it
 * stop with the transaction that commits the revocation.
 *
 * @throws RefusalError FORBIDDEN unless the caller is an admin of the granting
 *   organisation; NOT_FOUND for an unknown id (or another organisation's grant: one
 *   answer for both); INVALID_STATE when already revoked.
 */
export async function revokeAccess(tx: Tx, request: { grantId: string; reason: string }): Promise<AuditGrantRecord> {
  requireRole(tx.caller, auditCommandRoles.revokeAuditAccess, 'revoke audit access');
  const grant = await readGrant(tx.ctx, request.grantId);
  if (grant === undefined || grant.organisation !== tx.caller.mspId) {
    refuse('NOT_FOUND', `audit grant ${request.grantId} does not exist`, 'grantId');
  }
  if (grant.status === 'revoked') {
    refuse(
      'INVALID_STATE',
      `audit grant ${grant.grantId} was already revoked at ${grant.revocation?.at ?? 'an earlier time'}`,
      'grantId',
    );
  }
  const revoked = touched(tx, {
    ...grant,
    status: 'revoked' as const,
    revocation: { by: actorOf(tx.caller), reason: request.reason, at: tx.at, txId: tx.txId },
  });
  await writeGrant(tx.ctx, revoked, false);
  return revoked;
}

/** Whether the caller may see the grant: an admin of the granting organisation, or an auditor it names. */
function maySee(tx: Tx, grant: AuditGrantRecord): boolean {
  if (tx.caller.role === 'admin' && tx.caller.mspId === grant.organisation) return true;
  return tx.caller.role === 'auditor' && grantNames(grant, tx.caller);
}

/**
 * @throws RefusalError NOT_FOUND when the grant does not exist or the caller may not see it (one answer for both).
 */
export async function getGrant(tx: Tx, grantId: string): Promise<AuditGrantRecord> {
  const grant = await readGrant(tx.ctx, grantId);
  if (grant === undefined || !maySee(tx, grant))
    refuse('NOT_FOUND', `audit grant ${grantId} does not exist`, 'grantId');
  return grant;
}

/**
 * An admin's list: every grant their organisation gave. An auditor's: every grant naming
 * them. Live, expired and revoked alike, in grant id order.
 *
 * @throws RefusalError FORBIDDEN for any other role.
 */
export async function listGrants(tx: Tx, page: PageRequest): Promise<Page<AuditGrantRecord>> {
  const role = requireRole(tx.caller, ['admin', 'auditor'], 'list audit grants');
  const grants = await readGrantsPage(tx.ctx, role === 'admin' ? 'organisation' : 'auditor', tx.caller.mspId, page);
  return { items: grants.items.filter((grant) => maySee(tx, grant)), bookmark: grants.bookmark };
}

/**
 * The calling auditor's live grants and their union, at the transaction time.
 *
 * @throws RefusalError FORBIDDEN unless the caller is an auditor.
 */
export async function scopeOfCaller(tx: Tx): Promise<AuditScope> {
  requireRole(tx.caller, ['auditor'], 'read an audit scope');
  return scopeOf(tx.caller, tx.at, await readGrantsToAuditorOrganisation(tx.ctx, tx.caller.mspId));
}
