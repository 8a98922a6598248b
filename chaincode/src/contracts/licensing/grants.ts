import {
  licenceFeePeriodId,
  type LicenceGrantRecord,
  type LicenceOfferRecord,
  type RoyaltyInstruction,
  type RoyaltyPeriodRecord,
} from '../../model/licensing';
import { minorUnits } from '../../model/money';
import { openCollection } from './collection';
import { licensingCommandRoles } from '../../model/access-roles';
import { describeCaller, isParty, requireRole, requireUserId } from '../../ledger/caller';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { actorOf, reached, touched, type Tx } from '../../ledger/tx';
import { instructionIssue } from '../parameter/settlement-organisations';
import {
  indexGrant,
  licenceGrants,
  licenceOffers,
  readGrantOfLicensee,
  requireGrant,
  requireOffer,
  royaltyPeriods,
} from './store';
import { isOwner, licensableOwners, ownersOfWork, sameOwnership } from './works';
import { requireVisibleGrant, requireVisibleOffer } from './queries';

/**
 * The licensee accepts an open offer, binding themselves to the terms they read (by
 * hash). An offer naming a licensee is accepted by that person only; an open offer by
 * any person who does not own the work, once each. The grant takes the offer's terms
 * and expires when the offer's term ends. An offer naming a licensee, or an exclusive
 * one, is then `accepted` and takes no other grant.
 *
 * An offer with a fee: the same transaction splits the fee among the owners recorded on
 * the offer by their shares (`splitRoyalty`: the parts sum to the fee) and records, in a
 * record of the grant under period `fee`, a pending `collection` of the whole fee from
 * the licensee. Once the settlement service confirms it collected, each non-zero part is
 * paid to its owner as a `licence-fee` instruction, as royalties are.
 *
 * @returns the grant and the fee's collection instruction (none without a fee).
 * @throws RefusalError NOT_FOUND, as for a missing offer, for anyone who may not see it
 *   (an offer made to someone else, or not open); FORBIDDEN for an owner of the work;
 *   INVALID_STATE unless the offer is open, its term not over and the
 *   work still owned as offered; TERMS_MISMATCH for other terms than the recorded ones;
 *   ALREADY_EXISTS when the grant id is taken or the caller already holds a grant of
 *   the offer.
 */
export async function acceptOffer(
  tx: Tx,
  request: { offerId: string; grantId: string; termsSha256: string },
): Promise<{ grant: LicenceGrantRecord; feeInstructions: RoyaltyInstruction[] }> {
  requireRole(tx.caller, licensingCommandRoles.acceptOffer, 'accept a licence offer');
  const userId = requireUserId(tx.caller, 'accepting a licence offer');
  const licensee = { mspId: tx.caller.mspId, userId };
  const offer = await requireOffer(tx.ctx, request.offerId);
  requireVisibleOffer(tx, offer);
  if (offer.licensee !== undefined && !isParty(tx.caller, offer.licensee)) {
    refuse(
      'FORBIDDEN',
      `licence offer ${offer.offerId} is made to ${offer.licensee.userId} of ${offer.licensee.mspId}, not to ${describeCaller(tx.caller)}`,
    );
  }
  if (isOwner(tx.caller, offer.owners)) {
    refuse('FORBIDDEN', `${userId} of ${tx.caller.mspId} owns work ${offer.workId} and needs no licence of it`);
  }
  if (offer.status !== 'open')
    refuse('INVALID_STATE', `licence offer ${offer.offerId} is ${offer.status}, not open`, 'offerId');
  if (reached(tx, offer.termEnd))
    refuse('INVALID_STATE', `the term of licence offer ${offer.offerId} ended at ${offer.termEnd}`, 'offerId');
  if (request.termsSha256 !== offer.termsSha256) {
    refuse(
      'TERMS_MISMATCH',
      `the terms accepted (${request.termsSha256}) are not the terms of licence offer ${offer.offerId} (${offer.termsSha256})`,
      'termsSha256',
    );
  }
  if (!sameOwnership(offer.owners, await licensableOwners(tx, offer.workId, 'be licensed'))) {
    refuse(
      'INVALID_STATE',
      `the owners of work ${offer.workId} changed since licence offer ${offer.offerId} was made; the owners must offer it again`,
      'offerId',
    );
  }
  if ((await licenceGrants.read(tx.ctx, request.grantId)) !== undefined)
    refuseIdTaken('licence grant', request.grantId, 'grantId');
  const held = await readGrantOfLicensee(tx.ctx, offer.offerId, licensee);
  if (held !== undefined) {
    refuse(
      'ALREADY_EXISTS',
      `${userId} of ${tx.caller.mspId} already holds grant ${held} of licence offer ${offer.offerId}`,
      'offerId',
    );
  }
  const grant: LicenceGrantRecord = {
    grantId: request.grantId,
    offerId: offer.offerId,
    workId: offer.workId,
    licensee,
    scope: offer.scope,
    fieldsOfUse: offer.fieldsOfUse,
    territories: offer.territories,
    exclusive: offer.exclusive,
    termStart: offer.termStart,
    expiresAt: offer.termEnd,
    ...(offer.royaltyBps === undefined ? {} : { royaltyBps: offer.royaltyBps }),
    ...(offer.perUnitAmount === undefined ? {} : { perUnitAmount: offer.perUnitAmount }),
    ...(offer.fee === undefined ? {} : { fee: { amount: offer.fee.amount } }),
    currency: offer.currency,
    termsSha256: offer.termsSha256,
    status: 'active',
    acceptedAt: tx.at,
    txId: tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await licenceGrants.write(tx.ctx, grant);
  await indexGrant(tx.ctx, grant);
  if (offer.licensee !== undefined || offer.exclusive) {
    await licenceOffers.write(tx.ctx, touched(tx, { ...offer, status: 'accepted' as const }));
  }
  const feeInstructions = offer.fee === undefined ? [] : await issueFee(tx, offer, grant, offer.fee.amount);
  return { grant, feeInstructions };
}

/**
 * Writes the fee's record (period `fee`): the owners' parts as recorded on the offer, and
 * the pending collection of the whole fee from the licensee, which it returns.
 */
async function issueFee(
  tx: Tx,
  offer: LicenceOfferRecord,
  grant: LicenceGrantRecord,
  fee: string,
): Promise<RoyaltyInstruction[]> {
  const { shares, collection } = openCollection(
    await instructionIssue(tx),
    grant,
    licenceFeePeriodId,
    minorUnits(fee),
    offer.owners,
  );
  const record: RoyaltyPeriodRecord = {
    grantId: grant.grantId,
    periodId: licenceFeePeriodId,
    workId: grant.workId,
    royalty: fee,
    currency: grant.currency,
    reported: false,
    shares,
    instructions: [collection],
    status: 'collecting',
    closedBy: actorOf(tx.caller),
    closedAt: tx.at,
    txId: tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await royaltyPeriods.write(tx.ctx, record);
  return [collection];
}

/**
 * An owner of the work revokes a grant for cause, giving the reason. No usage may be
 * reported on it afterwards; periods already ended can still be closed and paid.
 *
 * @throws RefusalError NOT_FOUND, as for a missing grant, for anyone who may not see it;
 *   FORBIDDEN for one who may but is not a current owner of the work; INVALID_STATE
 *   when the grant is already revoked or has expired.
 */
export async function revokeGrant(tx: Tx, grantId: string, reason: string): Promise<LicenceGrantRecord> {
  requireRole(tx.caller, licensingCommandRoles.revokeGrant, 'revoke a licence grant');
  const grant = await requireGrant(tx.ctx, grantId);
  const owners = await ownersOfWork(tx, grant.workId);
  requireVisibleGrant(tx, grant, owners);
  if (!isOwner(tx.caller, owners)) {
    refuse(
      'FORBIDDEN',
      `only an owner of work ${grant.workId} may revoke grant ${grantId}; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  if (grant.status !== 'active')
    refuse('INVALID_STATE', `licence grant ${grantId} is already ${grant.status}`, 'grantId');
  if (reached(tx, grant.expiresAt))
    refuse('INVALID_STATE', `licence grant ${grantId} expired at ${grant.expiresAt}`, 'grantId');
  const revoked = touched(tx, {
    ...grant,
    status: 'revoked' as const,
    revocation: { by: actorOf(tx.caller), reason, at: tx.at, txId: tx.txId },
  });
  await licenceGrants.write(tx.ctx, revoked);
  return revoked;
}
