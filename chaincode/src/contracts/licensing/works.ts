import type { Caller } from '../../model/identity';
import type { OwnerShare } from '../../model/ip';
import { isParty } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { readWork } from '../ip/store';

/**
 * The current owners of a work and their shares, in the order the IP record keeps them
 * (the order that breaks a tie in a royalty split).
 *
 * @throws RefusalError NOT_FOUND when no work has that id.
 */
export async function ownersOfWork(tx: Tx, workId: string): Promise<OwnerShare[]> {
  const work = await readWork(tx, workId);
  return work.owners.map((owner) => ({ party: owner.party, shareBps: owner.shareBps }));
}

/**
 * The owners of a work that may be licensed now. A work delivered under a work-for-hire
 * milestone is promised to the client: licensing it meanwhile would hand the client an
 * encumbered work, so offers and acceptances wait until the milestone ends.
 *
 * @throws RefusalError NOT_FOUND for an unknown work; INVALID_STATE while it is pledged.
 */
export async function licensableOwners(tx: Tx, workId: string, action: string): Promise<OwnerShare[]> {
  const work = await readWork(tx, workId);
  if (work.pledge !== undefined) {
    refuse(
      'INVALID_STATE',
      `work ${workId} is delivered for hire under milestone ${work.pledge.milestoneId} of agreement ${work.pledge.agreementId}; it cannot ${action} until that milestone ends`,
      'workId',
    );
  }
  return work.owners.map((owner) => ({ party: owner.party, shareBps: owner.shareBps }));
}

export function isOwner(caller: Caller, owners: readonly OwnerShare[]): boolean {
  return owners.some((owner) => isParty(caller, owner.party));
}

/** Whether two owner lists name the same people with the same shares, in any order. */
export function sameOwnership(a: readonly OwnerShare[], b: readonly OwnerShare[]): boolean {
  const describe = (owners: readonly OwnerShare[]) =>
    owners.map((owner) => `${owner.party.mspId}/${owner.party.userId}/${owner.shareBps}`).sort();
  return JSON.stringify(describe(a)) === JSON.stringify(describe(b));
}
