import { recordOrganisationsRoles } from '../../model/access-roles';
import type { SubjectRecordKind } from '../../model/audit';
import { requireRole } from '../../ledger/caller';
import type { Tx } from '../../ledger/tx';
import { auditedReceipt, receiptControllers } from '../provenance/erasure';
import { accessGrants, erasureReceipts } from '../provenance/store';
import { readGrant as readAuditGrant } from './store';

/**
 * The organisations a record concerns, sorted, as the read checks judge them: the ones
 * whose audit grant lets an auditor read it, and the other parties it names (a dataset
 * grant's grantee, an audit grant's auditor). The read log names them for every read of
 * the record, refused or not. An unknown id concerns nobody: the answer is empty.
 *
 * @throws RefusalError FORBIDDEN unless the caller's role is in `recordOrganisationsRoles`.
 */
export async function organisationsOfRecord(
  tx: Tx,
  request: { kind: SubjectRecordKind; id: string },
): Promise<string[]> {
  requireRole(tx.caller, recordOrganisationsRoles, 'ask which organisations a record concerns');
  const found: string[] = [];
  switch (request.kind) {
    case 'datasetAccessGrant': {
      // The grant keeps its dataset's controller: the organisation the audit check asks a grant of.
      const grant = await accessGrants.read(tx.ctx, request.id);
      if (grant !== undefined) found.push(grant.controller.mspId, grant.grantee.mspId);
      break;
    }
    case 'erasureReceipt': {
      const receipt = await erasureReceipts.read(tx.ctx, request.id);
      if (receipt === undefined) break;
      found.push(...auditedReceipt(receipt, await receiptControllers(tx.ctx, receipt)).organisations);
      break;
    }
    case 'auditGrant': {
      const grant = await readAuditGrant(tx.ctx, request.id);
      if (grant !== undefined) found.push(grant.organisation, grant.auditor.mspId);
      break;
    }
  }
  return [...new Set(found)].sort();
}
