import { ipCommandRoles, ipOrganisationReaderRoles, ipReaderRoles } from '../../model/access-roles';
import type { Role } from '../../model/identity';
import {
  fullOwnershipBps,
  samePerson,
  type OwnerShare,
  type OwnershipChangeRecord,
  type OwnershipChangeView,
  type ProposeOwnershipChangeRequest,
  type RegisterWorkRequest,
  type WorkRecord,
} from '../../model/ip';
import type { Party } from '../../model/party';
import type { AuditedRecord } from '../../model/audit';
import { auditGrantAllows } from '../audit/scope';
import { describeCaller, isParty, requireRole, requireUserId } from '../../ledger/caller';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { actorOf, touched, type Tx } from '../../ledger/tx';
import {
  findOwnershipChange,
  findWork,
  findWorkByHash,
  readOwnershipChange,
  readWork,
  refuseChangeAsMissing,
  writeOwnershipChange,
  writeWork,
} from './store';
import { listedParties, requireMemberOrganisations } from '../governance/member-organisations';

export function describeOwners(owners: readonly OwnerShare[]): string {
  return owners.map((owner) => `${owner.party.mspId}/${owner.party.userId} (${owner.shareBps} bps)`).join(', ');
}

/** The caller as a party, once their role allows the command. */
function callerParty(tx: Tx, roles: readonly Role[], action: string): Party {
  requireRole(tx.caller, roles, action);
  return { mspId: tx.caller.mspId, userId: requireUserId(tx.caller, action) };
}

/**
 * Registers a work under the transaction's timestamp, its priority date. The registrant
 * owns it alone or with the co-owners named, and must be one of them: nobody is made
 * an owner of a work they did not register or accept by consent.
 *
 * @throws RefusalError FORBIDDEN for a role other than client or freelancer;
 *   VALIDATION_FAILED (`owners`) when the registrant is not among the owners;
 *   ALREADY_EXISTS when the work id is taken; ALREADY_REGISTERED when the content hash
 *   is already registered, naming the earlier work, its owners, transaction and time.
 *   VALIDATION_FAILED (`owners.N.party.mspId`, `creators.N.mspId`) for a party of an organisation outside the consortium.
 */
export async function registerWork(tx: Tx, request: RegisterWorkRequest): Promise<WorkRecord> {
  const registrant = callerParty(tx, ipCommandRoles.registerWork, 'register a work');
  const owners = request.owners ?? [{ party: registrant, shareBps: fullOwnershipBps }];
  if (!owners.some((owner) => samePerson(owner.party, registrant))) {
    refuse(
      'VALIDATION_FAILED',
      `owners: must include the registrant ${registrant.mspId}/${registrant.userId}; others become owners only with their consent`,
      'owners',
    );
  }
  if ((await findWork(tx.ctx, request.workId)) !== undefined) refuseIdTaken('work', request.workId, 'workId');
  await requireMemberOrganisations(tx, [
    ...listedParties('owners', request.owners, (owner) => owner.party, '.party'),
    ...listedParties('creators', request.creators, (creator) => creator),
  ]);
  const earlier = await findWorkByHash(tx.ctx, request.contentHash);
  if (earlier !== undefined) {
    refuse(
      'ALREADY_REGISTERED',
      `content hash ${request.contentHash} is already registered as work ${earlier.workId}, owned by ${describeOwners(earlier.owners)}, in transaction ${earlier.registrationTxId} at ${earlier.registeredAt}; the first registrant keeps priority`,
      'contentHash',
    );
  }
  const work: WorkRecord = {
    workId: request.workId,
    kind: request.kind,
    contentHash: request.contentHash,
    ...(request.manifestHash === undefined ? {} : { manifestHash: request.manifestHash }),
    title: request.title,
    uri: request.uri,
    creators: request.creators,
    owners,
    registrant: actorOf(tx.caller),
    registeredAt: tx.at,
    registrationTxId: tx.txId,
    ownershipVersion: 1,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await writeWork(tx, work);
  return work;
}

function isOwner(owners: readonly OwnerShare[], party: Party): boolean {
  return owners.some((owner) => samePerson(owner.party, party));
}

function sameOwners(a: readonly OwnerShare[], b: readonly OwnerShare[]): boolean {
  return (
    a.length === b.length &&
    a.every((owner) => b.some((other) => samePerson(other.party, owner.party) && other.shareBps === owner.shareBps))
  );
}

/** The change as its readers see it, judged against the work as it stands. */
export function viewChange(change: OwnershipChangeRecord, work: WorkRecord): OwnershipChangeView {
  const open = change.status === 'open';
  return {
    change,
    awaiting: open
      ? change.currentOwners
          .filter((owner) => !change.approvals.some((approval) => samePerson(approval.owner, owner.party)))
          .map((owner) => owner.party)
      : [],
    stale: open && work.ownershipVersion !== change.baseVersion,
    work,
  };
}

/** @throws RefusalError INVALID_STATE while the work is delivered under an unpaid work-for-hire milestone. */
function refusePledged(work: WorkRecord): void {
  if (work.pledge === undefined) return;
  refuse(
    'INVALID_STATE',
    `work ${work.workId} is delivered under milestone ${work.pledge.milestoneId} of agreement ${work.pledge.agreementId}, whose payment assigns it to the client; its owners cannot change before then`,
    'workId',
  );
}

/**
 * Applies the change when every owner it was proposed to has approved: the work takes
 * the proposed owners, its ownership version grows (so other open changes become stale)
 * and its key's endorsement policy names the new owners' organisations.
 */
async function applyIfApproved(tx: Tx, change: OwnershipChangeRecord, work: WorkRecord): Promise<OwnershipChangeView> {
  const approved = change.currentOwners.every((owner) =>
    change.approvals.some((approval) => samePerson(approval.owner, owner.party)),
  );
  if (!approved) {
    await writeOwnershipChange(tx, change);
    return viewChange(change, work);
  }
  const applied = touched(tx, { ...change, status: 'applied' as const });
  const changed = touched(tx, {
    ...work,
    owners: change.proposedOwners,
    ownershipVersion: work.ownershipVersion + 1,
  });
  await writeWork(tx, changed);
  await writeOwnershipChange(tx, applied);
  return viewChange(applied, changed);
}

/**
 * A current owner proposes new owners and shares (a transfer, a sale of a share, a new
 * split); the proposal counts as the proposer's approval, so a sole owner's change applies at once.
 *
 * @throws RefusalError FORBIDDEN unless the caller (client or freelancer) owns a share;
 *   NOT_FOUND for an unknown work; ALREADY_EXISTS when the change id is taken;
 *   VALIDATION_FAILED (`owners`) when the owners would not change; INVALID_STATE while
 *   the work is pledged to a work-for-hire milestone.
 *   VALIDATION_FAILED (`owners.N.party.mspId`) for a party of an organisation outside the consortium.
 */
export async function proposeOwnershipChange(
  tx: Tx,
  request: ProposeOwnershipChangeRequest,
): Promise<OwnershipChangeView> {
  const proposer = callerParty(tx, ipCommandRoles.proposeOwnershipChange, 'propose an ownership change');
  const work = await readWork(tx, request.workId);
  requireOwner(tx, work, proposer, 'propose a change of its owners');
  refusePledged(work);
  if ((await findOwnershipChange(tx.ctx, request.workId, request.changeId)) !== undefined) {
    refuseIdTaken('ownership change', request.changeId, 'changeId');
  }
  if (sameOwners(work.owners, request.owners)) {
    refuse('VALIDATION_FAILED', 'owners: are the work’s current owners and shares; nothing would change', 'owners');
  }
  await requireMemberOrganisations(
    tx,
    listedParties('owners', request.owners, (owner) => owner.party, '.party'),
  );
  const change: OwnershipChangeRecord = {
    workId: work.workId,
    changeId: request.changeId,
    proposer,
    currentOwners: work.owners,
    baseVersion: work.ownershipVersion,
    proposedOwners: request.owners,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    status: 'open',
    approvals: [{ owner: proposer, at: tx.at, txId: tx.txId }],
    proposedAt: tx.at,
    txId: tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  return applyIfApproved(tx, change, work);
}

/** @throws RefusalError FORBIDDEN unless the party owns a share of the work now. */
function requireOwner(tx: Tx, work: WorkRecord, party: Party, action: string): void {
  if (isOwner(work.owners, party)) return;
  refuse(
    'FORBIDDEN',
    `only an owner of work ${work.workId} may ${action}; its owners are ${describeOwners(work.owners)} and the caller is ${describeCaller(tx.caller)}`,
  );
}

/**
 * For what only someone who may read the change may do: anyone else is answered as for
 * a missing change, so that no other refusal tells them it exists or whom it names.
 *
 * @throws RefusalError NOT_FOUND unless the caller may read the change.
 */
async function requireVisibleChange(tx: Tx, change: OwnershipChangeRecord, work: WorkRecord): Promise<void> {
  if (!(await mayReadChange(tx, change, work))) refuseChangeAsMissing(work.workId, change.changeId);
}

/** The open change, with its work, that an owner acts on. */
async function openChange(
  tx: Tx,
  request: { workId: string; changeId: string },
  party: Party,
  action: string,
): Promise<{ change: OwnershipChangeRecord; work: WorkRecord }> {
  const work = await readWork(tx, request.workId);
  const change = await readOwnershipChange(tx, request.workId, request.changeId);
  await requireVisibleChange(tx, change, work);
  if (!isOwner(change.currentOwners, party) && !isOwner(work.owners, party)) {
    refuse(
      'FORBIDDEN',
      `only an owner of work ${work.workId} may ${action}; the change was proposed to ${describeOwners(change.currentOwners)} and the caller is ${describeCaller(tx.caller)}`,
    );
  }
  if (change.status !== 'open') {
    refuse(
      'INVALID_STATE',
      `ownership change ${change.changeId} of work ${work.workId} is ${change.status}, not open`,
      'changeId',
    );
  }
  return { change, work };
}

/**
 * One current owner approves, in their own transaction; the change applies in the
 * transaction of the last approval.
 *
 * @throws RefusalError NOT_FOUND, as for a missing change, for anyone who may not read
 *   it; FORBIDDEN for one who may but is not among the owners it was proposed to;
 *   INVALID_STATE unless it is open; OWNERSHIP_CHANGE_STALE when the
 *   work's owners changed since; ALREADY_APPROVED for a second approval by the same
 *   owner; INVALID_STATE while the work is pledged to a work-for-hire milestone.
 */
export async function approveOwnershipChange(
  tx: Tx,
  request: { workId: string; changeId: string },
): Promise<OwnershipChangeView> {
  const owner = callerParty(tx, ipCommandRoles.approveOwnershipChange, 'approve an ownership change');
  const { change, work } = await openChange(tx, request, owner, 'approve a change of its owners');
  if (work.ownershipVersion !== change.baseVersion) {
    refuse(
      'OWNERSHIP_CHANGE_STALE',
      `ownership change ${change.changeId} was proposed when work ${work.workId} was owned by ${describeOwners(change.currentOwners)}; its owners have changed since (now ${describeOwners(work.owners)}), so it can only be withdrawn or declined`,
      'changeId',
    );
  }
  const earlier = change.approvals.find((approval) => samePerson(approval.owner, owner));
  if (earlier !== undefined) {
    refuse(
      'ALREADY_APPROVED',
      `${owner.mspId}/${owner.userId} already approved ownership change ${change.changeId} in transaction ${earlier.txId} at ${earlier.at}`,
      'changeId',
    );
  }
  refusePledged(work);
  const approved = touched(tx, {
    ...change,
    approvals: [...change.approvals, { owner, at: tx.at, txId: tx.txId }],
  });
  return applyIfApproved(tx, approved, work);
}

/**
 * An owner other than the proposer refuses the change, which closes it.
 *
 * @throws RefusalError NOT_FOUND, as for a missing change, for anyone who may not read
 *   it; FORBIDDEN for one who may but is not an owner other than the proposer (who
 *   withdraws instead); INVALID_STATE unless the change is open.
 */
export async function declineOwnershipChange(
  tx: Tx,
  request: { workId: string; changeId: string; reason: string },
): Promise<OwnershipChangeView> {
  const owner = callerParty(tx, ipCommandRoles.declineOwnershipChange, 'decline an ownership change');
  const { change, work } = await openChange(tx, request, owner, 'decline a change of its owners');
  if (samePerson(change.proposer, owner)) {
    refuse('FORBIDDEN', `the proposer of ownership change ${change.changeId} withdraws it rather than declining it`);
  }
  const declined = touched(tx, {
    ...change,
    status: 'declined' as const,
    decision: { by: owner, reason: request.reason, at: tx.at, txId: tx.txId },
  });
  await writeOwnershipChange(tx, declined);
  return viewChange(declined, work);
}

/**
 * The proposer takes the change back before it applies.
 *
 * @throws RefusalError NOT_FOUND, as for a missing change, for anyone who may not read
 *   it; FORBIDDEN for one who may but did not propose it; INVALID_STATE unless it is open.
 */
export async function withdrawOwnershipChange(
  tx: Tx,
  request: { workId: string; changeId: string },
): Promise<OwnershipChangeView> {
  const party = callerParty(tx, ipCommandRoles.withdrawOwnershipChange, 'withdraw an ownership change');
  const work = await readWork(tx, request.workId);
  const change = await readOwnershipChange(tx, request.workId, request.changeId);
  await requireVisibleChange(tx, change, work);
  if (!samePerson(change.proposer, party)) {
    refuse(
      'FORBIDDEN',
      `only the proposer ${change.proposer.mspId}/${change.proposer.userId} may withdraw ownership change ${change.changeId}; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  if (change.status !== 'open') {
    refuse('INVALID_STATE', `ownership change ${change.changeId} is ${change.status}, not open`, 'changeId');
  }
  const withdrawn = touched(tx, {
    ...change,
    status: 'withdrawn' as const,
    decision: { by: party, at: tx.at, txId: tx.txId },
  });
  await writeOwnershipChange(tx, withdrawn);
  return viewChange(withdrawn, work);
}

/**
 * An ownership change as an audit grant sees it: it concerns the organisations of the
 * owners it was proposed to, of the owners it proposes and of the work's owners now, and
 * dates from its proposal.
 */
export function auditedChange(change: OwnershipChangeRecord, work: WorkRecord): AuditedRecord {
  const organisations = changeParties(change, work).map((party) => party.mspId);
  return { kind: 'ip', organisations: [...new Set(organisations)].sort(), at: change.proposedAt };
}

function changeParties(change: OwnershipChangeRecord, work: WorkRecord): Party[] {
  return [...change.currentOwners, ...change.proposedOwners, ...work.owners].map((owner) => owner.party);
}

/**
 * Who may read an ownership change: the owners it was proposed to, the owners it
 * proposes, the work's owners now, an admin of one of their organisations, and an
 * auditor only under a live audit grant naming `ip` from one of those owners'
 * organisations (`auditGrantAllows`). Work records themselves are public on the
 * channel: anyone checks priority.
 */
export async function mayReadChange(tx: Tx, change: OwnershipChangeRecord, work: WorkRecord): Promise<boolean> {
  const parties = changeParties(change, work);
  if (parties.some((party) => isParty(tx.caller, party))) return true;
  if (tx.caller.role === undefined) return false;
  if (ipOrganisationReaderRoles.includes(tx.caller.role)) {
    return parties.some((party) => party.mspId === tx.caller.mspId);
  }
  if (!ipReaderRoles.includes(tx.caller.role)) return false;
  return auditGrantAllows(tx.ctx, tx.caller, auditedChange(change, work), parties);
}
