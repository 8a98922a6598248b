import {
  licenceFeePeriodId,
  licenceFeeView,
  licenceTermsSchema,
  royaltyPeriodBounds,
  type LicenceGrantRecord,
  type LicenceOfferRecord,
  type LicenceTerms,
  type RoyaltyPeriodView,
  type WorkLicencesPage,
} from '../../model/licensing';
import { licensingOrganisationReaderRoles, licensingReaderRoles } from '../../model/access-roles';
import { governedRoles } from '../../model/identity';
import { describeCaller, isParty } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { decodeRecord } from '../../ledger/state';
import type { Tx } from '../../ledger/tx';
import type { PageRequest } from '../../model/page';
import {
  licenceGrants,
  licenceOffers,
  refuseGrantAsMissing,
  refuseOfferAsMissing,
  readTermsBytes,
  readWorkLicencesPage,
  royaltyPeriods,
  usageReports,
} from './store';
import { isOwner, ownersOfWork } from './works';
import type { AuditedRecord } from '../../model/audit';
import type { OwnerShare } from '../../model/ip';
import type { Party } from '../../model/party';
import { auditGrantAllows, refuseMissingRecord, requireAuditGrant } from '../audit/scope';

/**
 * An offer is seen by the owners it names, its named licensee, the reader roles, and,
 * while it is open to anyone, by everyone (that is how a licensee finds it).
 */
/** The people an offer is made between: its owners and its licensee, or anyone for an open offer still open. */
function isPartyToOffer(tx: Tx, offer: LicenceOfferRecord): boolean {
  return (
    isOwner(tx.caller, offer.owners) ||
    (offer.licensee !== undefined && isParty(tx.caller, offer.licensee)) ||
    (offer.licensee === undefined && offer.status === 'open')
  );
}

/**
 * Whether the caller reads the record by its role: a licensing reader role (the
 * settlement role only with the governance decision behind it, `Caller.governed`, as for
 * agreements, since any organisation's admin can give that role to anyone), or an
 * organisation reader role when the record names a person of the caller's organisation.
 */
function holdsReaderRole(tx: Tx, parties: readonly Party[]): boolean {
  const role = tx.caller.role;
  if (role === undefined) return false;
  if (licensingOrganisationReaderRoles.includes(role)) {
    return parties.some((party) => party.mspId === tx.caller.mspId);
  }
  if (!licensingReaderRoles.includes(role)) return false;
  return !(governedRoles as readonly string[]).includes(role) || tx.caller.governed === true;
}

function canReadOffer(tx: Tx, offer: LicenceOfferRecord): boolean {
  return isPartyToOffer(tx, offer) || holdsReaderRole(tx, offerParties(offer));
}

/**
 * For what only someone who may see the offer may do: anyone else is answered as for a
 * missing offer, so that no other refusal tells them it exists or whom it names.
 *
 * @throws RefusalError NOT_FOUND unless the caller may see the offer.
 */
export function requireVisibleOffer(tx: Tx, offer: LicenceOfferRecord): void {
  if (!canReadOffer(tx, offer)) refuseOfferAsMissing(offer.offerId);
}

/**
 * For what only someone who may see the grant may do, as {@link requireVisibleOffer}.
 *
 * @throws RefusalError NOT_FOUND unless the caller may see the grant.
 */
export function requireVisibleGrant(tx: Tx, grant: LicenceGrantRecord, owners: readonly OwnerShare[]): void {
  if (!canReadGrant(tx, grant, owners)) refuseGrantAsMissing(grant.grantId);
}

function offerParties(offer: LicenceOfferRecord): Party[] {
  return [...offer.owners.map((owner) => owner.party), ...(offer.licensee === undefined ? [] : [offer.licensee])];
}

/** An offer as an audit grant sees it: it concerns its owners' and licensee's organisations and dates from the offer. */
function auditedOffer(offer: LicenceOfferRecord): AuditedRecord {
  const organisations = [...new Set(offerParties(offer).map((party) => party.mspId))].sort();
  return { kind: 'licensing', organisations, at: offer.offeredAt };
}

/**
 * A grant (with its fee and royalty periods) as an audit grant sees it: it concerns the
 * work's owners' and the licensee's organisations and dates from its acceptance.
 */
function auditedGrant(grant: LicenceGrantRecord, owners: readonly OwnerShare[]): AuditedRecord {
  const organisations = [...new Set([grant.licensee.mspId, ...owners.map((owner) => owner.party.mspId)])].sort();
  return { kind: 'licensing', organisations, at: grant.acceptedAt };
}

function grantParties(grant: LicenceGrantRecord, owners: readonly OwnerShare[]): Party[] {
  return [grant.licensee, ...owners.map((owner) => owner.party)];
}

/** Whether an auditor's audit grants let them read the offer (true for every other reader and for open offers). */
function auditGrantCoversOffer(tx: Tx, offer: LicenceOfferRecord): Promise<boolean> {
  if (isPartyToOffer(tx, offer)) return Promise.resolve(true);
  return auditGrantAllows(tx.ctx, tx.caller, auditedOffer(offer), offerParties(offer));
}

/**
 * An offer, for its owners, its licensee, everyone while it is open to anyone, and the
 * reader roles (an auditor under a live audit grant naming `licensing` from an owner's or
 * the licensee's organisation).
 *
 * @throws RefusalError NOT_FOUND when there is no such offer or the caller may not see it,
 *   an auditor's audit grants included (one answer for all).
 */
export async function getOffer(tx: Tx, offerId: string): Promise<LicenceOfferRecord> {
  const offer = await licenceOffers.read(tx.ctx, offerId);
  const refuseAsMissing = (): never => refuseOfferAsMissing(offerId);
  if (offer === undefined) return refuseMissingRecord(tx.ctx, tx.caller, refuseAsMissing);
  if (!canReadOffer(tx, offer)) refuseAsMissing();
  if (!isPartyToOffer(tx, offer)) {
    await requireAuditGrant(tx.ctx, tx.caller, auditedOffer(offer), offerParties(offer), refuseAsMissing);
  }
  return offer;
}

/**
 * Whether the caller may see a grant and its periods: its licensee, an owner of the
 * work now, or by role ({@link holdsReaderRole}; an auditor also needs an audit grant, see
 * {@link requireReadableGrant}).
 */
export function canReadGrant(tx: Tx, grant: LicenceGrantRecord, owners: readonly OwnerShare[]): boolean {
  return (
    isParty(tx.caller, grant.licensee) || isOwner(tx.caller, owners) || holdsReaderRole(tx, grantParties(grant, owners))
  );
}

/**
 * The grant and the owners of its work now, for a caller who may see it: {@link canReadGrant},
 * and an auditor under a live audit grant naming `licensing` from an owner's or the
 * licensee's organisation, with the acceptance in its range.
 *
 * @throws RefusalError NOT_FOUND when there is no such grant or the caller may not see it,
 *   an auditor's audit grants included (one answer for all, after the same reads).
 */
export async function requireReadableGrant(
  tx: Tx,
  grantId: string,
): Promise<{ grant: LicenceGrantRecord; owners: OwnerShare[] }> {
  const grant = await licenceGrants.read(tx.ctx, grantId);
  const refuseAsMissing = (): never => refuseGrantAsMissing(grantId);
  if (grant === undefined) return refuseMissingRecord(tx.ctx, tx.caller, refuseAsMissing);
  const owners = await ownersOfWork(tx, grant.workId);
  if (!canReadGrant(tx, grant, owners)) refuseAsMissing();
  await requireAuditGrant(tx.ctx, tx.caller, auditedGrant(grant, owners), grantParties(grant, owners), refuseAsMissing);
  return { grant, owners };
}

/**
 * A grant as read; one with a fee adds the fee's `status` and each owner's payout
 * (pending, paid or failed) from the fee's payout record.
 *
 * @throws RefusalError NOT_FOUND as {@link requireReadableGrant}.
 */
export async function getGrant(tx: Tx, grantId: string): Promise<LicenceGrantRecord> {
  const { grant } = await requireReadableGrant(tx, grantId);
  return withFeeStatus(tx, grant);
}

async function withFeeStatus(tx: Tx, grant: LicenceGrantRecord): Promise<LicenceGrantRecord> {
  if (grant.fee === undefined) return grant;
  const record = await royaltyPeriods.read(tx.ctx, grant.grantId, licenceFeePeriodId);
  if (record === undefined) return grant;
  return { ...grant, fee: { amount: grant.fee.amount, ...licenceFeeView(record) } };
}

/**
 * A period of a grant: its bounds, the usage report and, once closed, the royalty and
 * the state of each payout; or its fee (period `fee`): the fee's record with its
 * collections and payouts, each failed one with its reason and any reissue.
 *
 * @throws RefusalError NOT_FOUND when the grant does not exist or the caller may not see it,
 *   an auditor's audit grants included (as `getGrant`); NOT_FOUND `periodId` for the fee of
 *   a grant that charges none.
 */
export async function getRoyaltyPeriod(tx: Tx, grantId: string, periodId: string): Promise<RoyaltyPeriodView> {
  const grant = await getGrant(tx, grantId);
  if (periodId === licenceFeePeriodId && grant.fee === undefined) {
    refuse('NOT_FOUND', `licence grant ${grantId} charges no one-off fee`, 'periodId');
  }
  const report = await usageReports.read(tx.ctx, grantId, periodId);
  const closed = await royaltyPeriods.read(tx.ctx, grantId, periodId);
  return {
    grantId,
    periodId,
    ...(periodId === licenceFeePeriodId
      ? { start: grant.acceptedAt, end: grant.acceptedAt }
      : royaltyPeriodBounds(periodId)),
    ...(report === undefined ? {} : { report }),
    ...(closed === undefined ? {} : { closed }),
  };
}

/**
 * One page of the offers and grants of a work the caller may see (grants, then offers,
 * by id); an auditor's list leaves out what no live audit grant covers, so a page may
 * hold fewer than asked, even none, with more to follow.
 *
 * @throws RefusalError NOT_FOUND for an unknown work; VALIDATION_FAILED `bookmark` for a
 *   bookmark this list did not answer with.
 */
export async function listWorkLicences(tx: Tx, request: { workId: string } & PageRequest): Promise<WorkLicencesPage> {
  const { workId } = request;
  const owners = await ownersOfWork(tx, workId);
  const { offers, grants, bookmark } = await readWorkLicencesPage(tx.ctx, workId, request);
  const offersCovered = await Promise.all(offers.map((offer) => auditGrantCoversOffer(tx, offer)));
  const grantsCovered = await Promise.all(
    grants.map((grant) =>
      auditGrantAllows(tx.ctx, tx.caller, auditedGrant(grant, owners), grantParties(grant, owners)),
    ),
  );
  return {
    workId,
    offers: offers.filter((offer, position) => canReadOffer(tx, offer) && offersCovered[position] === true),
    grants: await Promise.all(
      grants
        .filter((grant, position) => canReadGrant(tx, grant, owners) && grantsCovered[position] === true)
        .map((grant) => withFeeStatus(tx, grant)),
    ),
    bookmark,
  };
}

/**
 * The terms document of an offer, for its owners and licensee (anyone, for an open
 * offer), from a peer of an organisation in the licenceTerms collection.
 *
 * @throws RefusalError NOT_FOUND when the offer is unknown or hidden, or this peer holds
 *   no terms; FORBIDDEN for reader roles that are not parties to it.
 */
export async function getLicenceTerms(
  tx: Tx,
  offerId: string,
): Promise<{ offerId: string; termsSha256: string; terms: LicenceTerms }> {
  const offer = await getOffer(tx, offerId);
  // The terms are the parties' private bargain: reader roles see that an offer exists, not its terms.
  if (!isPartyToOffer(tx, offer)) {
    refuse(
      'FORBIDDEN',
      `only the owners and the licensee of licence offer ${offerId} may read its terms; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  const bytes = await readTermsBytes(tx.ctx, offerId);
  if (bytes.length === 0) {
    refuse(
      'NOT_FOUND',
      `this peer holds no terms of licence offer ${offerId}; ask a peer of a member of the licenceTerms collection`,
      'offerId',
    );
  }
  return { offerId, termsSha256: offer.termsSha256, terms: decodeRecord(licenceTermsSchema, bytes) };
}
