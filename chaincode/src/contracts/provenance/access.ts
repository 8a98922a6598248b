import { provenanceAuditorRoles, provenanceCommandRoles } from '../../model/access-roles';
import type { Caller } from '../../model/identity';
import type { AccessGrantRecord, AccessLogEntry, AccessScope, DatasetRecord } from '../../model/provenance';
import type { Party } from '../../model/party';
import type { Page, PageRequest } from '../../model/page';
import { describeCaller, isParty, requireRole, requireUserId } from '../../ledger/caller';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { actorOf, reached, type Tx } from '../../ledger/tx';
import type { Context } from 'fabric-contract-api';
import type { AuditedRecord } from '../../model/audit';
import { auditGrantAllows, refuseMissingRecord, requireAuditGrant } from '../audit/scope';
import {
  accessGrants,
  accessLog,
  indexGrant,
  readAccessLogPage,
  readDatasetGrantsPage,
  requireProvenanceRecord,
} from './store';
import { requireMemberOrganisations } from '../governance/member-organisations';
import { readFilledPage } from '../../ledger/state';

function describeParty(party: Party): string {
  return `${party.mspId}/${party.userId}`;
}

/** @throws RefusalError NOT_FOUND when the record is missing; VALIDATION_FAILED naming `field` when it is a model. */
export async function requireDataset(ctx: Context, datasetId: string, field = 'datasetId'): Promise<DatasetRecord> {
  const record = await requireProvenanceRecord(ctx, datasetId, field);
  if (record.kind !== 'dataset') {
    refuse('VALIDATION_FAILED', `${field}: ${datasetId} is a model, not a dataset`, field);
  }
  return record;
}

/** @throws RefusalError NOT_CONTROLLER unless the caller is the dataset's controller. */
export function requireController(caller: Caller, dataset: DatasetRecord, action: string): void {
  if (!isParty(caller, dataset.controller)) {
    refuse(
      'NOT_CONTROLLER',
      `only the controller of dataset ${dataset.recordId} (${describeParty(dataset.controller)}) may ${action}; ` +
        `the caller is ${describeCaller(caller)}`,
    );
  }
}

/**
 * A dataset's access grants and access log as an audit grant sees them: they concern the
 * controller's organisation and date from the dataset's registration.
 */
export function auditedDataset(dataset: DatasetRecord): AuditedRecord {
  return { kind: 'provenance', organisations: [dataset.controller.mspId], at: dataset.registeredAt };
}

/**
 * Controllers and auditors read every grant and use of a dataset; a grantee reads its own
 * grant. An auditor needs a live audit grant from the controller's organisation naming
 * `provenance` and a range holding the dataset's registration.
 */
async function mayOversee(ctx: Context, caller: Caller, dataset: DatasetRecord): Promise<boolean> {
  if (isParty(caller, dataset.controller)) return true;
  if (caller.role === undefined || !provenanceAuditorRoles.includes(caller.role)) return false;
  return auditGrantAllows(ctx, caller, auditedDataset(dataset), [dataset.controller]);
}

/**
 * Refuses exactly as for a grant id naming no grant: a grant's id, unlike its dataset,
 * is not for every member to learn.
 *
 * @throws RefusalError NOT_FOUND, always.
 */
function refuseAccessGrantAsMissing(grantId: string): never {
  refuse('NOT_FOUND', `access grant ${grantId} does not exist`, 'grantId');
}

/** @throws RefusalError NOT_FOUND when no grant has that id. */
async function requireGrant(ctx: Context, grantId: string): Promise<AccessGrantRecord> {
  const grant = await accessGrants.read(ctx, grantId);
  if (grant === undefined) refuseAccessGrantAsMissing(grantId);
  return grant;
}

/** Whether the caller may read the grant: its grantee, the dataset's controller, an auditor under an audit grant. */
async function mayReadAccessGrant(
  ctx: Context,
  caller: Caller,
  grant: AccessGrantRecord,
  dataset: DatasetRecord,
): Promise<boolean> {
  return isParty(caller, grant.grantee) || mayOversee(ctx, caller, dataset);
}

/**
 * The dataset's controller grants a party access for a purpose, scopes and until an expiry.
 *
 * @throws RefusalError FORBIDDEN for other roles; NOT_FOUND / VALIDATION_FAILED for a
 *   missing dataset or a model; NOT_CONTROLLER; ALREADY_EXISTS for a taken grant id;
 *   VALIDATION_FAILED when the expiry is not in the future or the grantee is the controller.
 *   VALIDATION_FAILED (`grantee.mspId`) for a party of an organisation outside the consortium.
 */
export async function grantAccess(
  tx: Tx,
  request: {
    grantId: string;
    datasetId: string;
    grantee: Party;
    purpose: string;
    scope: AccessScope[];
    expiresAt: string;
  },
): Promise<AccessGrantRecord> {
  requireRole(tx.caller, provenanceCommandRoles.grantAccess, 'grant access to a dataset');
  const dataset = await requireDataset(tx.ctx, request.datasetId);
  requireController(tx.caller, dataset, 'grant access to it');
  if (reached(tx, request.expiresAt)) {
    refuse('VALIDATION_FAILED', 'expiresAt: must be after the transaction time', 'expiresAt');
  }
  if (isParty(tx.caller, request.grantee)) {
    refuse('VALIDATION_FAILED', 'grantee: the controller needs no grant to its own dataset', 'grantee');
  }
  await requireMemberOrganisations(tx, [{ field: 'grantee', party: request.grantee }]);
  if ((await accessGrants.read(tx.ctx, request.grantId)) !== undefined)
    refuseIdTaken('access grant', request.grantId, 'grantId');
  const grant: AccessGrantRecord = {
    grantId: request.grantId,
    datasetId: dataset.recordId,
    controller: dataset.controller,
    grantee: request.grantee,
    purpose: request.purpose,
    scope: request.scope,
    expiresAt: request.expiresAt,
    status: 'active',
    grantedAt: tx.at,
    txId: tx.txId,
  };
  await accessGrants.write(tx.ctx, grant);
  await indexGrant(tx.ctx, grant);
  return grant;
}

/**
 * The dataset's controller revokes a grant; later uses are refused.
 *
 * @throws RefusalError FORBIDDEN for other roles; NOT_FOUND, for a missing grant and for
 *   a caller who may not read it alike; NOT_CONTROLLER for its grantee;
 *   ACCESS_GRANT_REVOKED when already revoked.
 */
export async function revokeAccess(tx: Tx, request: { grantId: string; reason: string }): Promise<AccessGrantRecord> {
  requireRole(tx.caller, provenanceCommandRoles.revokeAccess, 'revoke access to a dataset');
  const grant = await requireGrant(tx.ctx, request.grantId);
  const dataset = await requireDataset(tx.ctx, grant.datasetId);
  if (!(await mayReadAccessGrant(tx.ctx, tx.caller, grant, dataset))) refuseAccessGrantAsMissing(grant.grantId);
  requireController(tx.caller, dataset, 'revoke its access grants');
  if (grant.status === 'revoked') {
    refuse(
      'ACCESS_GRANT_REVOKED',
      `access grant ${grant.grantId} was already revoked at ${grant.revocation?.at}`,
      'grantId',
    );
  }
  const revoked: AccessGrantRecord = {
    ...grant,
    status: 'revoked',
    revocation: { at: tx.at, txId: tx.txId, by: actorOf(tx.caller), reason: request.reason },
  };
  await accessGrants.write(tx.ctx, revoked);
  return revoked;
}

/**
 * The grantee records one use of its grant, under its own key (the transaction id), so
 * uses never contend for a shared key.
 *
 * @throws RefusalError FORBIDDEN for other roles; NOT_FOUND, for a missing grant and for
 *   a caller who may not read it alike; ACCESS_NOT_GRANTED for the dataset's controller
 *   (who may read it but is not its grantee) or a scope the grant lacks; ACCESS_GRANT_REVOKED;
 *   ACCESS_GRANT_EXPIRED at or after the expiry (transaction time).
 */
export async function recordAccess(
  tx: Tx,
  request: { grantId: string; scope: AccessScope; note?: string | undefined },
): Promise<AccessLogEntry> {
  requireRole(tx.caller, provenanceCommandRoles.recordAccess, 'use a dataset access grant');
  const userId = requireUserId(tx.caller, 'using a dataset access grant');
  const grant = await requireGrant(tx.ctx, request.grantId);
  if (!isParty(tx.caller, grant.grantee)) {
    // Only someone who may read the grant learns that it exists, and whose it is.
    const dataset = await requireDataset(tx.ctx, grant.datasetId);
    if (!(await mayOversee(tx.ctx, tx.caller, dataset))) refuseAccessGrantAsMissing(grant.grantId);
    refuse(
      'ACCESS_NOT_GRANTED',
      `access grant ${grant.grantId} is for ${describeParty(grant.grantee)}, not for ${describeCaller(tx.caller)}`,
      'grantId',
    );
  }
  if (grant.status === 'revoked') {
    refuse('ACCESS_GRANT_REVOKED', `access grant ${grant.grantId} was revoked at ${grant.revocation?.at}`, 'grantId');
  }
  if (reached(tx, grant.expiresAt)) {
    refuse('ACCESS_GRANT_EXPIRED', `access grant ${grant.grantId} expired at ${grant.expiresAt}`, 'grantId');
  }
  if (!grant.scope.includes(request.scope)) {
    refuse(
      'ACCESS_NOT_GRANTED',
      `access grant ${grant.grantId} covers ${grant.scope.join(', ')}, not ${request.scope}`,
      'scope',
    );
  }
  const entry: AccessLogEntry = {
    accessId: tx.txId,
    grantId: grant.grantId,
    datasetId: grant.datasetId,
    accessor: { mspId: tx.caller.mspId, userId },
    scope: request.scope,
    ...(request.note === undefined ? {} : { note: request.note }),
    at: tx.at,
  };
  await accessLog.write(tx.ctx, entry);
  return entry;
}

/**
 * A grant, for the dataset's controller, its grantee and auditors (under an audit grant).
 *
 * @throws RefusalError NOT_FOUND when missing or when the caller may not read it, an
 *   auditor's audit grants included (one answer for all: a grant's id, unlike its
 *   dataset, is not for every member to learn).
 */
export async function getAccessGrant(ctx: Context, caller: Caller, grantId: string): Promise<AccessGrantRecord> {
  const grant = await accessGrants.read(ctx, grantId);
  if (grant === undefined) return refuseMissingRecord(ctx, caller, () => refuseAccessGrantAsMissing(grantId));
  const dataset = await requireDataset(ctx, grant.datasetId);
  if (await mayReadAccessGrant(ctx, caller, grant, dataset)) return grant;
  return refuseAccessGrantAsMissing(grantId);
}

/**
 * One page of the grants of a dataset, in grant id order, for its controller and
 * auditors under an audit grant; a grantee sees only its own, on pages filled past the
 * others (see {@link readFilledPage}; one may still hold fewer than asked, even none,
 * with more to follow, past many others in a row). Every grant of one dataset concerns the same organisation
 * (its controller's), so an auditor no audit grant covers is refused as for the dataset's
 * access log and any one of its grants, rather than answered an empty list that reads as
 * "no grants".
 *
 * @throws RefusalError NOT_FOUND for a missing dataset; NO_AUDIT_GRANT when the caller
 *   is an auditor whom no live audit grant lets read the dataset and no grant on the
 *   page names; VALIDATION_FAILED `bookmark` for a bookmark this list did not answer with.
 */
export async function listAccessGrants(
  ctx: Context,
  caller: Caller,
  request: { datasetId: string } & PageRequest,
): Promise<Page<AccessGrantRecord>> {
  const dataset = await requireDataset(ctx, request.datasetId);
  if (await mayOversee(ctx, caller, dataset)) return readDatasetGrantsPage(ctx, request.datasetId, request);
  const own = await readFilledPage(request, async (page) => {
    const grants = await readDatasetGrantsPage(ctx, request.datasetId, page);
    return { items: grants.items.filter((grant) => isParty(caller, grant.grantee)), bookmark: grants.bookmark };
  });
  if (own.items.length === 0 && caller.role !== undefined && provenanceAuditorRoles.includes(caller.role)) {
    await requireAuditGrant(ctx, caller, auditedDataset(dataset), [dataset.controller]);
  }
  return own;
}

/**
 * One page of the uses of a dataset's grants (of one grant when named), for its
 * controller and auditors only, in key order: by grant id, then access id (the using
 * transaction's id). Each entry carries its time; the audit index answers the log in
 * time order across pages.
 *
 * @throws RefusalError NOT_FOUND for a missing dataset or grant of another dataset;
 *   NO_AUDIT_GRANT when an auditor's audit grants do not cover the dataset; FORBIDDEN
 *   for anyone else, naming who may read the log; VALIDATION_FAILED `bookmark` for a
 *   bookmark this list did not answer with.
 */
export async function listAccessLog(
  ctx: Context,
  caller: Caller,
  request: { datasetId: string; grantId?: string | undefined } & PageRequest,
): Promise<Page<AccessLogEntry>> {
  const dataset = await requireDataset(ctx, request.datasetId);
  if (!(await mayOversee(ctx, caller, dataset))) {
    if (caller.role !== undefined && provenanceAuditorRoles.includes(caller.role)) {
      await requireAuditGrant(ctx, caller, auditedDataset(dataset), [dataset.controller]);
    }
    refuse(
      'FORBIDDEN',
      `only the controller of dataset ${dataset.recordId} or an ${provenanceAuditorRoles.join(' or ')} may read its access log; ` +
        `the caller is ${describeCaller(caller)}`,
    );
  }
  if (request.grantId !== undefined) {
    const grant = await accessGrants.read(ctx, request.grantId);
    if (grant?.datasetId !== dataset.recordId) {
      refuse('NOT_FOUND', `dataset ${dataset.recordId} has no access grant ${request.grantId}`, 'grantId');
    }
  }
  return readAccessLogPage(ctx, dataset.recordId, request.grantId, request);
}
