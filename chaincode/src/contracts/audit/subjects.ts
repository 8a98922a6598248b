import { recordOrganisationsRoles } from '../../model/access-roles';
import type { SubjectRecordKind } from '../../model/audit';
import { requireRole } from '../../ledger/caller';
import type { Tx } from '../../ledger/tx';
import { auditedReceipt, receiptControllers } from '../provenance/erasure';
import { accessGrants, erasureReceipts, provenanceRecords } from '../provenance/store';
import { agreementRecordSchema } from '../../model/agreement-records';
import type { WorkRecord } from '../../model/ip';
import { readRecord } from '../../ledger/state';
import { agreementKey, partiesOf } from '../agreement/store';
import { readCredential } from '../credential/store';
import { findWork, findWorkByHash } from '../ip/store';
import { licenceGrants, licenceOffers } from '../licensing/store';
import { readGrant as readAuditGrant } from './store';

/**
 * The organisations a record concerns, sorted, as the read checks judge them: the ones
 * whose audit grant lets an auditor read it, and the other parties it names (an
 * agreement's two parties, a credential's subject and issuer, a work's owners, a
 * provenance record's controller, a licence's licensee and its work's owners, an offer's
 * owners and licensee, a dataset grant's grantee, an audit grant's auditor). The read
 * log names them for every read of the record, refused or not. An unknown id concerns
 * nobody: the answer is empty.
 *
 * @throws RefusalError FORBIDDEN unless the caller's role is in `recordOrganisationsRoles`.
 */
export async function organisationsOfRecord(
  tx: Tx,
  request: { kind: SubjectRecordKind; id: string },
): Promise<string[]> {
  requireRole(tx.caller, recordOrganisationsRoles, 'ask which organisations a record concerns');
  const found: string[] = [];
  const ownersOf = (work: WorkRecord | undefined) => work?.owners.map((owner) => owner.party.mspId) ?? [];
  switch (request.kind) {
    case 'agreement': {
      const agreement = await readRecord(tx.ctx, agreementRecordSchema, agreementKey(tx.ctx, request.id));
      if (agreement !== undefined) found.push(...partiesOf(agreement));
      break;
    }
    case 'credential': {
      const credential = await readCredential(tx.ctx, request.id);
      if (credential !== undefined) found.push(credential.subject.mspId, credential.issuer.mspId);
      break;
    }
    case 'work':
      found.push(...ownersOf(await findWork(tx.ctx, request.id)));
      break;
    case 'workByContentHash':
      found.push(...ownersOf(await findWorkByHash(tx.ctx, request.id)));
      break;
    case 'dataset': {
      const record = await provenanceRecords.read(tx.ctx, request.id);
      if (record !== undefined) found.push(record.controller.mspId);
      break;
    }
    case 'licenceGrant': {
      const grant = await licenceGrants.read(tx.ctx, request.id);
      if (grant !== undefined) found.push(grant.licensee.mspId, ...ownersOf(await findWork(tx.ctx, grant.workId)));
      break;
    }
    case 'licenceOffer': {
      const offer = await licenceOffers.read(tx.ctx, request.id);
      if (offer !== undefined) {
        found.push(...offer.owners.map((owner) => owner.party.mspId));
        if (offer.licensee !== undefined) found.push(offer.licensee.mspId);
      }
      break;
    }
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
