import type { MilestoneRecord } from '../../model/agreement-records';
import { fullOwnershipBps, samePerson, type WorkRecord } from '../../model/ip';
import type { Party } from '../../model/party';
import { refuse } from '../../ledger/refusal';
import { touched, type Tx } from '../../ledger/tx';
import { readWork, writeWork } from './store';
import { describeOwners } from './works';

/*
 * Work for hire: a milestone drafted with `ipAssignment: 'client'`
 * is delivered as a registered work the freelancer owns in full; the work is pledged to
 * the milestone (its owners cannot change meanwhile) and the transaction that records
 * the milestone's payment moves it to the client. Until then the freelancer owns it.
 */

function ownsInFull(work: WorkRecord, party: Party): boolean {
  return (
    work.owners.length === 1 && work.owners[0]?.shareBps === fullOwnershipBps && samePerson(work.owners[0].party, party)
  );
}

/**
 * Checks a delivery's work link and pledges the work to the milestone; a work an earlier
 * delivery of the same milestone named is released. Runs inside `submitDeliverable`,
 * whose milestone key already needs the freelancer's organisation to endorse, as the
 * work key does.
 *
 * @throws RefusalError VALIDATION_FAILED (`workId`) when a work-for-hire milestone's
 *   delivery names no work, or another milestone's names one; NOT_FOUND for an unknown
 *   work; FORBIDDEN unless the freelancer owns the work in full (10 000 bps);
 *   INVALID_STATE when the work is pledged to another milestone.
 */
export async function pledgeDeliveredWork(
  tx: Tx,
  milestone: MilestoneRecord,
  freelancer: Party,
  workId: string | undefined,
): Promise<void> {
  const label = `milestone ${milestone.milestoneId} of agreement ${milestone.agreementId}`;
  if (milestone.ipAssignment !== 'client') {
    if (workId === undefined) return;
    refuse(
      'VALIDATION_FAILED',
      `workId: ${label} does not assign its deliverable's IP; a work is linked only to a work-for-hire milestone`,
      'workId',
    );
  }
  if (workId === undefined) {
    refuse(
      'VALIDATION_FAILED',
      `workId: ${label} assigns its deliverable's IP to the client; name the registered work being delivered`,
      'workId',
    );
  }
  const work = await readWork(tx, workId);
  if (!ownsInFull(work, freelancer)) {
    refuse(
      'FORBIDDEN',
      `work ${work.workId} is owned by ${describeOwners(work.owners)}; only a work the freelancer ${freelancer.mspId}/${freelancer.userId} owns in full (10000 bps) can be delivered for hire`,
    );
  }
  const pledged = work.pledge;
  if (
    pledged !== undefined &&
    (pledged.agreementId !== milestone.agreementId || pledged.milestoneId !== milestone.milestoneId)
  ) {
    refuse(
      'INVALID_STATE',
      `work ${work.workId} is already delivered under milestone ${pledged.milestoneId} of agreement ${pledged.agreementId}`,
      'workId',
    );
  }
  const earlierWorkId = milestone.submissions.at(-1)?.workId;
  if (earlierWorkId !== undefined && earlierWorkId !== work.workId) {
    const earlier = await readWork(tx, earlierWorkId);
    const { pledge: heldFor, ...rest } = earlier;
    if (heldFor?.agreementId === milestone.agreementId && heldFor.milestoneId === milestone.milestoneId) {
      await writeWork(tx, touched(tx, rest));
    }
  }
  if (pledged === undefined) {
    await writeWork(
      tx,
      touched(tx, {
        ...work,
        pledge: { agreementId: milestone.agreementId, milestoneId: milestone.milestoneId, txId: tx.txId },
      }),
    );
  }
}

/**
 * Settles a work-for-hire milestone's pledge once the milestone reaches a final status,
 * in the transaction that records the provider's last confirmation. `paid` moves the
 * work to the client, with a link to the agreement; `settled` (a dispute split) and
 * `refunded` release the pledge and leave the work with the freelancer, since the
 * client did not pay for the delivery as agreed. The work key's policy then names the
 * new owners' organisations; this transaction is judged by the freelancer's.
 */
export async function settleWorkPledge(tx: Tx, milestone: MilestoneRecord, client: Party): Promise<void> {
  if (milestone.ipAssignment !== 'client' || !['paid', 'settled', 'refunded'].includes(milestone.status)) return;
  const workId = milestone.submissions.at(-1)?.workId;
  if (workId === undefined) return;
  const work = await readWork(tx, workId);
  if (work.pledge?.agreementId !== milestone.agreementId || work.pledge.milestoneId !== milestone.milestoneId) return;
  const { pledge: _settled, ...rest } = work;
  if (milestone.status !== 'paid') {
    await writeWork(tx, touched(tx, rest));
    return;
  }
  await writeWork(
    tx,
    touched(tx, {
      ...rest,
      owners: [{ party: client, shareBps: fullOwnershipBps }],
      ownershipVersion: work.ownershipVersion + 1,
      assignment: {
        agreementId: milestone.agreementId,
        milestoneId: milestone.milestoneId,
        txId: tx.txId,
        at: tx.at,
        from: work.owners,
      },
    }),
  );
}
