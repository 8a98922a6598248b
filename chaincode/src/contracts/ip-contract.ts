import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  ipContractName,
  ipEvents,
  ipTransactions as spec,
  type OwnershipChangeView,
  type WorkEndorsement,
  type WorkRecord,
} from '../model/ip';
import { auditGrantedRoles } from '../model/access-roles';
import { policyOrganisations } from '../ledger/endorsement';
import { requireAuditGrant } from './audit/scope';
import { emitEvent } from '../ledger/events';
import { refuse } from '../ledger/refusal';
import { runTransaction } from '../ledger/transaction';
import { actorOf, type Tx } from '../ledger/tx';
import {
  findWorkByHash,
  readOwnershipChange,
  readOwnershipChanges,
  readWork,
  readWorksByOwner,
  workKey,
} from './ip/store';
import {
  approveOwnershipChange,
  declineOwnershipChange,
  auditedChange,
  mayReadChange,
  proposeOwnershipChange,
  registerWork,
  viewChange,
  withdrawOwnershipChange,
} from './ip/works';

function eventBase(tx: Tx, workId: string) {
  return { at: tx.at, txId: tx.txId, actor: actorOf(tx.caller), workId };
}

/**
 * IP records. A work (model, weights, code, dataset…) is registered by the SHA-256 of
 * its content with the transaction's timestamp as its priority date; one registration
 * per hash. Owners hold shares in basis points summing to 10 000; a change of owners
 * needs every current owner's approval, each in their own transaction, and the work's
 * key carries an endorsement policy of every owner's organisation.
 */
@Info({
  title: 'IP records',
  description: 'Registration by content hash, co-ownership and consented ownership changes',
})
export class IpContract extends Contract {
  constructor() {
    super(ipContractName);
  }

  @Transaction()
  registerWork(ctx: Context, requestJson: string): Promise<WorkRecord> {
    return runTransaction(ctx, spec.registerWork, requestJson, async (tx, request) => {
      const work = await registerWork(tx, request);
      emitEvent(ctx, ipEvents.workRegistered, { ...eventBase(tx, work.workId), work });
      return work;
    });
  }

  @Transaction()
  proposeOwnershipChange(ctx: Context, requestJson: string): Promise<OwnershipChangeView> {
    return runTransaction(ctx, spec.proposeOwnershipChange, requestJson, async (tx, request) => {
      const change = await proposeOwnershipChange(tx, request);
      emitEvent(ctx, ipEvents.ownershipChangeProposed, { ...eventBase(tx, request.workId), change });
      return change;
    });
  }

  @Transaction()
  approveOwnershipChange(ctx: Context, requestJson: string): Promise<OwnershipChangeView> {
    return runTransaction(ctx, spec.approveOwnershipChange, requestJson, async (tx, request) => {
      const change = await approveOwnershipChange(tx, request);
      emitEvent(ctx, ipEvents.ownershipChangeApproved, { ...eventBase(tx, request.workId), change });
      return change;
    });
  }

  @Transaction()
  declineOwnershipChange(ctx: Context, requestJson: string): Promise<OwnershipChangeView> {
    return runTransaction(ctx, spec.declineOwnershipChange, requestJson, async (tx, request) => {
      const change = await declineOwnershipChange(tx, request);
      emitEvent(ctx, ipEvents.ownershipChangeDeclined, { ...eventBase(tx, request.workId), change });
      return change;
    });
  }

  @Transaction()
  withdrawOwnershipChange(ctx: Context, requestJson: string): Promise<OwnershipChangeView> {
    return runTransaction(ctx, spec.withdrawOwnershipChange, requestJson, async (tx, request) => {
      const change = await withdrawOwnershipChange(tx, request);
      emitEvent(ctx, ipEvents.ownershipChangeWithdrawn, { ...eventBase(tx, request.workId), change });
      return change;
    });
  }

  /** Any member of the channel reads a work: the registry exists so that priority can be checked. */
  @Transaction(false)
  getWork(ctx: Context, requestJson: string): Promise<WorkRecord> {
    return runTransaction(ctx, spec.getWork, requestJson, (tx, request) => readWork(tx, request.workId));
  }

  /** Which organisations must endorse a change of the work: the key-level policy as the peer holds it. */
  @Transaction(false)
  getWorkEndorsement(ctx: Context, requestJson: string): Promise<WorkEndorsement> {
    return runTransaction(ctx, spec.getWorkEndorsement, requestJson, async (tx, request) => {
      const work = await readWork(tx, request.workId);
      const policy = await ctx.stub.getStateValidationParameter(workKey(ctx, work.workId));
      return { workId: work.workId, organisations: policy.length === 0 ? [] : policyOrganisations(policy) };
    });
  }

  /** The work registered first with a content hash. */
  @Transaction(false)
  findWorkByContentHash(ctx: Context, requestJson: string): Promise<WorkRecord> {
    return runTransaction(ctx, spec.findWorkByContentHash, requestJson, async (tx, request) => {
      const work = await findWorkByHash(ctx, request.contentHash);
      if (work === undefined) {
        refuse('NOT_FOUND', `no work is registered with content hash ${request.contentHash}`, 'contentHash');
      }
      return work;
    });
  }

  /** Works the person owns a share of now, in work id order. */
  @Transaction(false)
  listWorksByOwner(ctx: Context, requestJson: string): Promise<WorkRecord[]> {
    return runTransaction(ctx, spec.listWorksByOwner, requestJson, (tx, request) =>
      readWorksByOwner(tx.ctx, request.owner),
    );
  }

  /**
   * An ownership change, to the owners it concerns and the consortium's readers (an
   * auditor under a live audit grant naming `ip`); NOT_FOUND to anyone else.
   */
  @Transaction(false)
  getOwnershipChange(ctx: Context, requestJson: string): Promise<OwnershipChangeView> {
    return runTransaction(ctx, spec.getOwnershipChange, requestJson, async (tx, request) => {
      const work = await readWork(tx, request.workId);
      const change = await readOwnershipChange(tx, request.workId, request.changeId);
      if (!(await mayReadChange(tx, change, work))) {
        if (tx.caller.role !== undefined && auditGrantedRoles.includes(tx.caller.role)) {
          await requireAuditGrant(ctx, tx.caller, auditedChange(change, work));
        }
        refuse('NOT_FOUND', `work ${request.workId} has no ownership change ${request.changeId}`, 'changeId');
      }
      return viewChange(change, work);
    });
  }

  /** The work's ownership changes the caller may read, in change id order. */
  @Transaction(false)
  listOwnershipChanges(ctx: Context, requestJson: string): Promise<OwnershipChangeView[]> {
    return runTransaction(ctx, spec.listOwnershipChanges, requestJson, async (tx, request) => {
      const work = await readWork(tx, request.workId);
      const changes = await readOwnershipChanges(ctx, request.workId);
      const readable = await Promise.all(changes.map((change) => mayReadChange(tx, change, work)));
      return changes.filter((_, position) => readable[position]).map((change) => viewChange(change, work));
    });
  }
}
