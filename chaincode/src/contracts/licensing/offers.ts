import {
  licencesOverlap,
  type LicenceCoverage,
  type LicenceGrantRecord,
  type LicenceOfferRecord,
  type LicenceTerms,
  type OfferLicenceRequest,
} from '../../model/licensing';
import { licensingCommandRoles } from '../../model/access-roles';
import { samePerson } from '../../model/ip';
import { describeCaller, isParty, requireRole, requireUserId } from '../../ledger/caller';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { actorOf, reached, touched, type Tx } from '../../ledger/tx';
import { indexWorkLicence, licenceOffers, readWorkLicences, requireOffer, writeTerms } from './store';
import { isOwner, licensableOwners } from './works';
import { requireVisibleOffer } from './queries';
import { requireMemberOrganisations } from '../governance/member-organisations';

/** An offer still binds its owners: not withdrawn, not yet taken up by its one grant, and its term not over. */
export function offerIsLive(tx: Tx, offer: LicenceOfferRecord): boolean {
  return (offer.status === 'awaiting-consent' || offer.status === 'open') && !reached(tx, offer.termEnd);
}

/** A grant is in force until it expires or is revoked. */
export function grantIsLive(tx: Tx, grant: LicenceGrantRecord): boolean {
  return grant.status === 'active' && !reached(tx, grant.expiresAt);
}

/**
 * Refuses a licence that would share a use with another live licence of the same work
 * when either of the two is exclusive: an exclusive licence must be the only one, and
 * once one exists nothing else may be offered for what it covers. An offer still awaiting
 * its owners' consent counts: otherwise two clashing offers could both open. Any owner
 * named on it may withdraw it, so no co-owner holds a scope against the others.
 *
 * @throws RefusalError LICENCE_CONFLICT naming the first conflicting offer or grant.
 */
export async function requireNoConflict(
  tx: Tx,
  workId: string,
  licence: LicenceCoverage & { readonly exclusive: boolean },
): Promise<void> {
  const { offers, grants } = await readWorkLicences(tx.ctx, workId);
  const live = [
    ...offers
      .filter((offer) => offerIsLive(tx, offer))
      .map((offer) => ({
        what: `offer ${offer.offerId}`,
        remedy:
          offer.status === 'awaiting-consent'
            ? `; it awaits its owners' consent, and any owner named on it may withdraw it`
            : '',
        ...offer,
      })),
    ...grants
      .filter((grant) => grantIsLive(tx, grant))
      .map((grant) => ({ what: `grant ${grant.grantId}`, remedy: '', ...grant, termEnd: grant.expiresAt })),
  ];
  for (const other of live) {
    if (!licence.exclusive && !other.exclusive) continue;
    if (!licencesOverlap(licence, other)) continue;
    refuse(
      'LICENCE_CONFLICT',
      `${licence.exclusive ? 'an exclusive licence' : 'this licence'} of work ${workId} would overlap ${other.exclusive ? 'exclusive ' : ''}${other.what} (${other.scope}, fields ${other.fieldsOfUse.join(', ')}, territories ${other.territories.join(', ')}, ${other.termStart} to ${other.termEnd})${other.remedy}`,
      'exclusive',
    );
  }
}

/**
 * An owner of a work offers a licence of it. The offer records the work's owners as
 * they are now; it opens for acceptance once every one of them has consented (the
 * offering owner consents by offering, so a work with one owner opens at once). The
 * terms document goes to the private collection; only its SHA-256 is on the ledger.
 *
 * @throws RefusalError FORBIDDEN unless an owner calls; NOT_FOUND for an unknown work;
 *   ALREADY_EXISTS when the offer id is taken; VALIDATION_FAILED (termEnd) when the term
 *   is already over; LICENCE_CONFLICT when it overlaps an exclusive live licence or is
 *   exclusive and overlaps any.
 *   VALIDATION_FAILED (`licensee.mspId`) for a party of an organisation outside the consortium.
 */
export async function offerLicence(
  tx: Tx,
  request: OfferLicenceRequest,
  terms: LicenceTerms,
  termsSha256: string,
): Promise<LicenceOfferRecord> {
  requireRole(tx.caller, licensingCommandRoles.offerLicence, 'offer a licence');
  const userId = requireUserId(tx.caller, 'offering a licence');
  const owners = await licensableOwners(tx, request.workId, 'be licensed');
  if (!isOwner(tx.caller, owners)) {
    refuse(
      'FORBIDDEN',
      `only an owner of work ${request.workId} may offer a licence of it; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  if ((await licenceOffers.read(tx.ctx, request.offerId)) !== undefined)
    refuseIdTaken('licence offer', request.offerId, 'offerId');
  if (reached(tx, request.termEnd))
    refuse('VALIDATION_FAILED', `termEnd: ${request.termEnd} has already passed`, 'termEnd');
  if (
    request.licensee !== undefined &&
    owners.some((owner) => request.licensee !== undefined && samePerson(request.licensee, owner.party))
  ) {
    refuse('VALIDATION_FAILED', 'licensee: an owner of the work needs no licence of it', 'licensee');
  }
  if (request.licensee !== undefined) {
    await requireMemberOrganisations(tx, [{ field: 'licensee', party: request.licensee }]);
  }
  await requireNoConflict(tx, request.workId, request);
  const consent = { party: { mspId: tx.caller.mspId, userId }, at: tx.at, txId: tx.txId };
  const { requestId: _requestId, ...fields } = request;
  const offer: LicenceOfferRecord = {
    ...fields,
    termsSha256,
    owners,
    consents: [consent],
    status: owners.length === 1 ? 'open' : 'awaiting-consent',
    offeredBy: actorOf(tx.caller),
    offeredAt: tx.at,
    txId: tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await licenceOffers.write(tx.ctx, offer);
  await indexWorkLicence(tx.ctx, offer.workId, 'offer', offer.offerId);
  await writeTerms(tx.ctx, offer.offerId, terms);
  return offer;
}

/**
 * Another owner named on the offer consents to it; the offer opens when the last does.
 *
 * @throws RefusalError NOT_FOUND, as for a missing offer, for anyone who may not see it;
 *   FORBIDDEN for one who may but is not an owner named on it; INVALID_STATE unless the
 *   offer awaits consent; ALREADY_EXISTS when this owner already consented.
 */
export async function consentToOffer(tx: Tx, offerId: string): Promise<LicenceOfferRecord> {
  requireRole(tx.caller, licensingCommandRoles.consentToOffer, 'consent to a licence offer');
  const offer = await requireOffer(tx.ctx, offerId);
  requireVisibleOffer(tx, offer);
  const owner = offer.owners.find((candidate) => isParty(tx.caller, candidate.party));
  if (owner === undefined) {
    refuse(
      'FORBIDDEN',
      `only the owners of work ${offer.workId} named on offer ${offerId} may consent to it; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  if (offer.status !== 'awaiting-consent') {
    refuse('INVALID_STATE', `licence offer ${offerId} is ${offer.status}, not awaiting consent`, 'offerId');
  }
  if (offer.consents.some((consent) => isParty(tx.caller, consent.party))) {
    refuse(
      'ALREADY_EXISTS',
      `${owner.party.userId} of ${owner.party.mspId} already consented to licence offer ${offerId}`,
      'offerId',
    );
  }
  const consents = [...offer.consents, { party: owner.party, at: tx.at, txId: tx.txId }];
  const everyone = offer.owners.every((candidate) =>
    consents.some((consent) => samePerson(consent.party, candidate.party)),
  );
  const updated = touched(tx, { ...offer, consents, status: everyone ? ('open' as const) : offer.status });
  await licenceOffers.write(tx.ctx, updated);
  return updated;
}

/**
 * An owner withdraws an offer nobody has taken up; grants already made from an open
 * offer stay in force.
 *
 * @throws RefusalError NOT_FOUND, as for a missing offer, for anyone who may not see it;
 *   FORBIDDEN for one who may but is not an owner named on it; INVALID_STATE unless it
 *   awaits consent or is open.
 */
export async function withdrawOffer(tx: Tx, offerId: string, reason: string): Promise<LicenceOfferRecord> {
  requireRole(tx.caller, licensingCommandRoles.withdrawOffer, 'withdraw a licence offer');
  const offer = await requireOffer(tx.ctx, offerId);
  requireVisibleOffer(tx, offer);
  if (!isOwner(tx.caller, offer.owners)) {
    refuse(
      'FORBIDDEN',
      `only the owners of work ${offer.workId} named on offer ${offerId} may withdraw it; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  if (offer.status !== 'awaiting-consent' && offer.status !== 'open') {
    refuse('INVALID_STATE', `licence offer ${offerId} is ${offer.status}, so it cannot be withdrawn`, 'offerId');
  }
  const updated = touched(tx, {
    ...offer,
    status: 'withdrawn' as const,
    withdrawal: { by: actorOf(tx.caller), reason, at: tx.at, txId: tx.txId },
  });
  await licenceOffers.write(tx.ctx, updated);
  return updated;
}
