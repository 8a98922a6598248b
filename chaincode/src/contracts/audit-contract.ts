import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  auditContractName,
  auditEvents,
  auditTransactions as spec,
  type AuditGrantRecord,
  type AuditScope,
  type ReadLogAnchor,
} from '../model/audit';
import { emitEvent } from '../ledger/events';
import { runTransaction } from '../ledger/transaction';
import { actorOf, txOf, type Tx } from '../ledger/tx';
import { anchor, listAnchors } from './audit/anchors';
import { getGrant, grantAccess, listGrants, revokeAccess, scopeOfCaller } from './audit/grants';
import { organisationsOfRecord } from './audit/subjects';

function eventBase(tx: Tx) {
  return { at: tx.at, txId: tx.txId, actor: actorOf(tx.caller) };
}

/**
 * Auditors' access to an organisation's records, and the anchors of the organisations'
 * read logs. An organisation's admin grants an auditor read access to that
 * organisation's records of named kinds and times until an expiry, and may revoke it;
 * every read check that lets an auditor in also asks for such a grant
 * (`audit/scope.ts`). The API server anchors the head of its hash-chained log of
 * auditors' reads here, so a row edited or deleted later no longer matches the ledger.
 */
@Info({ title: 'Audit', description: 'Auditor access grants and read-log anchors' })
export class AuditContract extends Contract {
  constructor() {
    super(auditContractName);
  }

  @Transaction()
  grantAuditAccess(ctx: Context, requestJson: string): Promise<AuditGrantRecord> {
    return runTransaction(ctx, spec.grantAuditAccess, requestJson, async (tx, request) => {
      const grant = await grantAccess(tx, request);
      emitEvent(ctx, auditEvents.accessGranted, { ...eventBase(tx), grant });
      return grant;
    });
  }

  @Transaction()
  revokeAuditAccess(ctx: Context, requestJson: string): Promise<AuditGrantRecord> {
    return runTransaction(ctx, spec.revokeAuditAccess, requestJson, async (tx, request) => {
      const grant = await revokeAccess(tx, request);
      emitEvent(ctx, auditEvents.accessRevoked, { ...eventBase(tx), grant });
      return grant;
    });
  }

  /** One grant, for an admin of the granting organisation or an auditor it names. */
  @Transaction(false)
  getAuditGrant(ctx: Context, requestJson: string): Promise<AuditGrantRecord> {
    return runTransaction(ctx, spec.getAuditGrant, requestJson, (tx, request) => getGrant(tx, request.grantId));
  }

  /** An admin's grants given, or an auditor's grants received. */
  @Transaction(false)
  async listAuditGrants(ctx: Context): Promise<AuditGrantRecord[]> {
    return listGrants(txOf(ctx));
  }

  /** The calling auditor's live grants and what they open together. */
  @Transaction(false)
  async getAuditScope(ctx: Context): Promise<AuditScope> {
    return scopeOfCaller(txOf(ctx));
  }

  @Transaction()
  anchorReadLog(ctx: Context, requestJson: string): Promise<ReadLogAnchor> {
    return runTransaction(ctx, spec.anchorReadLog, requestJson, async (tx, request) => {
      const anchored = await anchor(tx, request);
      emitEvent(ctx, auditEvents.readLogAnchored, { ...eventBase(tx), anchor: anchored });
      return anchored;
    });
  }

  /** An organisation's read-log anchors, in sequence order. */
  @Transaction(false)
  listReadLogAnchors(ctx: Context, requestJson: string): Promise<ReadLogAnchor[]> {
    return runTransaction(ctx, spec.listReadLogAnchors, requestJson, (tx, request) => listAnchors(tx, request.mspId));
  }

  /** The organisations a dataset access grant, erasure receipt or audit grant concerns, for the API server's read log. */
  @Transaction(false)
  recordOrganisations(ctx: Context, requestJson: string): Promise<string[]> {
    return runTransaction(ctx, spec.recordOrganisations, requestJson, organisationsOfRecord);
  }
}
