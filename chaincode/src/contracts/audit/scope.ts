import type { Context } from 'fabric-contract-api';
import { grantCovers, scopeOf, type AuditedRecord, type AuditScope } from '../../model/audit';
import { auditGrantedRoles } from '../../model/access-roles';
import type { Caller } from '../../model/identity';
import type { Party } from '../../model/party';
import { readGrantsToAuditorOrganisation } from './store';
import { describeCaller, isParty } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { transactionInstant } from '../../ledger/time';

// A listing checks many records against the same grants: read them once per transaction.
const scopes = new WeakMap<Context, Promise<AuditScope>>();

/**
 * The caller's live audit grants at the transaction's time, and their union.
 *
 * @throws Error only when the ledger cannot be read.
 */
export function auditScopeOf(ctx: Context, caller: Caller): Promise<AuditScope> {
  let scope = scopes.get(ctx);
  if (scope === undefined) {
    const at = transactionInstant(ctx);
    scope = readGrantsToAuditorOrganisation(ctx, caller.mspId).then((grants) => scopeOf(caller, at, grants));
    scopes.set(ctx, scope);
  }
  return scope;
}

/**
 * Whether the caller's role lets them read the record only through an audit grant: an
 * auditor reading a record in which they are not named themselves.
 */
export function readsThroughAuditGrants(caller: Caller, parties: readonly Party[]): boolean {
  return (
    caller.role !== undefined &&
    auditGrantedRoles.includes(caller.role) &&
    !parties.some((party) => isParty(caller, party))
  );
}

/**
 * Whether the caller may read the record as far as audit grants go: true for every role
 * but auditor; for an auditor, true when one live grant covers the record's
 * organisation, kind and time. Lists drop what this refuses.
 */
export async function auditGrantAllows(
  ctx: Context,
  caller: Caller,
  record: AuditedRecord,
  parties: readonly Party[] = [],
): Promise<boolean> {
  if (!readsThroughAuditGrants(caller, parties)) return true;
  const scope = await auditScopeOf(ctx, caller);
  return scope.grants.some((grant) => grantCovers(grant, record));
}

/**
 * Refuses a read by id of a record that does not exist, after reading the caller's audit
 * grants when its role reads through them, as the check of a present record does
 * (`requireAuditGrant`): a refusal that came sooner for a made-up id than for another
 * organisation's record would tell an auditor which ids exist.
 *
 * @param refuseAsMissing the refusal of an id naming no record.
 * @throws RefusalError from `refuseAsMissing`, always.
 */
export async function refuseMissingRecord(ctx: Context, caller: Caller, refuseAsMissing: () => never): Promise<never> {
  if (readsThroughAuditGrants(caller, [])) await auditScopeOf(ctx, caller);
  return refuseAsMissing();
}

/**
 * The audit-grant half of a read check, called after the role check let the caller in:
 * auditors read a record only under a live grant from one of the organisations it
 * concerns, naming its kind and a time range holding the record's time.
 *
 * A record read by its id is refused as if the id named nothing (`refuseAsMissing`): a
 * refusal naming the record's organisations and time would tell an auditor without any
 * grant which ids exist, whose they are and when they were made. Only a record whose
 * existence every member sees anyway (a dataset) is refused with NO_AUDIT_GRANT naming
 * what is missing.
 *
 * @param refuseAsMissing refuses exactly as for an id naming no record; without it, NO_AUDIT_GRANT.
 * @throws RefusalError NOT_FOUND from `refuseAsMissing`, or NO_AUDIT_GRANT without it, when
 *   the caller is an auditor and no live grant covers the record.
 */
export async function requireAuditGrant(
  ctx: Context,
  caller: Caller,
  record: AuditedRecord,
  parties: readonly Party[] = [],
  refuseAsMissing?: () => never,
): Promise<void> {
  if (await auditGrantAllows(ctx, caller, record, parties)) return;
  refuseAsMissing?.();
  refuse(
    'NO_AUDIT_GRANT',
    `no live audit grant lets ${describeCaller(caller)} read ${record.kind} records of ` +
      `${record.organisations.join(' or ')} dated ${record.at}; an admin of one of those organisations grants it`,
  );
}
