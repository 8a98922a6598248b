import { Info } from 'fabric-contract-api';
import { ipContractName, ipEvents, ipTransactions as spec, type OwnershipChangeView } from '../model/ip';
import { policyOrganisations } from '../ledger/endorsement';
import { announcing } from '../ledger/events';
import { refuse } from '../ledger/refusal';
import { refuseMissingRecord } from './audit/scope';
import { contractClass, transaction } from '../ledger/contract-class';
import {
  findWorkByHash,
  findOwnershipChange,
  readOwnershipChangesPage,
  refuseChangeAsMissing,
  readWork,
  readWorksByOwnerPage,
  workKey,
} from './ip/store';
import {
  approveOwnershipChange,
  declineOwnershipChange,
  mayReadChange,
  proposeOwnershipChange,
  registerWork,
  viewChange,
  withdrawOwnershipChange,
} from './ip/works';

/** What an ownership change's event says: the work, and the change as it now stands. */
function changeFields(change: OwnershipChangeView, request: { workId: string }) {
  return { workId: request.workId, change };
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
export class IpContract extends contractClass(ipContractName, {
  registerWork: transaction(
    spec.registerWork,
    announcing(ipEvents.workRegistered, registerWork, (work) => ({ workId: work.workId, work })),
  ),

  proposeOwnershipChange: transaction(
    spec.proposeOwnershipChange,
    announcing(ipEvents.ownershipChangeProposed, proposeOwnershipChange, changeFields),
  ),

  approveOwnershipChange: transaction(
    spec.approveOwnershipChange,
    announcing(ipEvents.ownershipChangeApproved, approveOwnershipChange, changeFields),
  ),

  declineOwnershipChange: transaction(
    spec.declineOwnershipChange,
    announcing(ipEvents.ownershipChangeDeclined, declineOwnershipChange, changeFields),
  ),

  withdrawOwnershipChange: transaction(
    spec.withdrawOwnershipChange,
    announcing(ipEvents.ownershipChangeWithdrawn, withdrawOwnershipChange, changeFields),
  ),

  /** Any member of the channel reads a work: the registry exists so that priority can be checked. */
  getWork: transaction(spec.getWork, (tx, request) => readWork(tx, request.workId)),

  /** Which organisations must endorse a change of the work: the key-level policy as the peer holds it. */
  getWorkEndorsement: transaction(spec.getWorkEndorsement, async (tx, request) => {
    const work = await readWork(tx, request.workId);
    const policy = await tx.ctx.stub.getStateValidationParameter(workKey(tx.ctx, work.workId));
    return { workId: work.workId, organisations: policy.length === 0 ? [] : policyOrganisations(policy) };
  }),

  /** The work registered first with a content hash. */
  findWorkByContentHash: transaction(spec.findWorkByContentHash, async (tx, request) => {
    const work = await findWorkByHash(tx.ctx, request.contentHash);
    if (work === undefined) {
      refuse('NOT_FOUND', `no work is registered with content hash ${request.contentHash}`, 'contentHash');
    }
    return work;
  }),

  /** One page of the works the person owns a share of now, in work id order. */
  listWorksByOwner: transaction(spec.listWorksByOwner, (tx, request) =>
    readWorksByOwnerPage(tx.ctx, request.owner, request),
  ),

  /**
   * An ownership change, to the owners it concerns, an admin of one of their
   * organisations and an auditor under a live audit grant naming `ip`; NOT_FOUND to anyone
   * else, as for a missing change and after the same reads of an auditor's grants.
   */
  getOwnershipChange: transaction(spec.getOwnershipChange, async (tx, request) => {
    const work = await readWork(tx, request.workId);
    const refuseAsMissing = (): never => refuseChangeAsMissing(request.workId, request.changeId);
    const change = await findOwnershipChange(tx.ctx, request.workId, request.changeId);
    if (change === undefined) return refuseMissingRecord(tx.ctx, tx.caller, refuseAsMissing);
    // An auditor no grant covers gets the answer of a missing change, like anyone else who may not read it.
    if (!(await mayReadChange(tx, change, work))) refuseAsMissing();
    return viewChange(change, work);
  }),

  /**
   * One page of the work's ownership changes the caller may read, in change id order: a
   * page may hold fewer than asked, even none, with more to follow.
   */
  listOwnershipChanges: transaction(spec.listOwnershipChanges, async (tx, request) => {
    const work = await readWork(tx, request.workId);
    const { items: changes, bookmark } = await readOwnershipChangesPage(tx.ctx, request.workId, request);
    const readable = await Promise.all(changes.map((change) => mayReadChange(tx, change, work)));
    return {
      items: changes.filter((_, position) => readable[position]).map((change) => viewChange(change, work)),
      bookmark,
    };
  }),
}) {}
