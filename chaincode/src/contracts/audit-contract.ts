import { Info } from 'fabric-contract-api';
import { auditContractName, auditEvents, auditTransactions as spec } from '../model/audit';
import { contractClass, transaction } from '../ledger/contract-class';
import { announcing } from '../ledger/events';
import { anchor, listAnchors } from './audit/anchors';
import { getGrant, grantAccess, listGrants, revokeAccess, scopeOfCaller } from './audit/grants';
import { organisationsOfRecord } from './audit/subjects';

/**
 * Auditors' access to an organisation's records, and the anchors of the organisations'
 * read logs. An organisation's admin grants an auditor read access to that
 * organisation's records of named kinds and times until an expiry, and may revoke it;
 * every read check that lets an auditor in also asks for such a grant
 * (`audit/scope.ts`). The API server anchors the head of its hash-chained log of
 * auditors' reads here, so a row edited or deleted later no longer matches the ledger.
 */
@Info({ title: 'Audit', description: 'Auditor access grants and read-log anchors' })
export class AuditContract extends contractClass(auditContractName, {
  grantAuditAccess: transaction(
    spec.grantAuditAccess,
    announcing(auditEvents.accessGranted, grantAccess, (grant) => ({ grant })),
  ),
  revokeAuditAccess: transaction(
    spec.revokeAuditAccess,
    announcing(auditEvents.accessRevoked, revokeAccess, (grant) => ({ grant })),
  ),
  /** One grant, for an admin of the granting organisation or an auditor it names. */
  getAuditGrant: transaction(spec.getAuditGrant, (tx, request) => getGrant(tx, request.grantId)),
  /** An admin's grants given, or an auditor's grants received. */
  listAuditGrants: transaction(spec.listAuditGrants, listGrants),
  /** The calling auditor's live grants and what they open together. */
  getAuditScope: transaction(spec.getAuditScope, scopeOfCaller),
  anchorReadLog: transaction(
    spec.anchorReadLog,
    announcing(auditEvents.readLogAnchored, anchor, (anchored) => ({ anchor: anchored })),
  ),
  /** An organisation's read-log anchors, in sequence order. */
  listReadLogAnchors: transaction(spec.listReadLogAnchors, (tx, request) =>
    listAnchors(tx, request.mspId, request.logId, request),
  ),
  /** The organisations a dataset access grant, erasure receipt or audit grant concerns, for the API server's read log. */
  recordOrganisations: transaction(spec.recordOrganisations, organisationsOfRecord),
}) {}
