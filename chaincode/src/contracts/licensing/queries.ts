import {
  licenceFeePeriodId,
  licenceTermsSchema,
  royaltyPeriodBounds,
  type LicenceGrantRecord,
  type LicenceOfferRecord,
  type LicenceTerms,
  type RoyaltyPeriodView,
  type WorkLicences,
} from '../../model/licensing';
import { licensingReaderRoles } from '../../model/access-roles';
import { describeCaller, isParty } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { decodeRecord } from '../../ledger/state';
import type { Tx } from '../../ledger/tx';
import { canReadGrant } from './royalties';
import { readGrant, readOffer, readPeriod, readReport, readTermsBytes, readWorkLicences } from './store';
import { isOwner, ownersOfWork } from './works';

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

function canReadOffer(tx: Tx, offer: LicenceOfferRecord): boolean {
  return isPartyToOffer(tx, offer) || (tx.caller.role !== undefined && licensingReaderRoles.includes(tx.caller.role));
}

/** @throws RefusalError NOT_FOUND when there is no such offer or the caller may not see it (one answer for both). */
export async function getOffer(tx: Tx, offerId: string): Promise<LicenceOfferRecord> {
  const offer = await readOffer(tx.ctx, offerId);
  if (offer === undefined || !canReadOffer(tx, offer))
    refuse('NOT_FOUND', `licence offer ${offerId} does not exist`, 'offerId');
  return offer;
}

/**
 * A grant as read; one with a fee adds the fee's `status` and each owner's payout
 * (pending, paid or failed) from the fee's payout record.
 *
 * @throws RefusalError NOT_FOUND when there is no such grant or the caller may not see it (one answer for both).
 */
export async function getGrant(tx: Tx, grantId: string): Promise<LicenceGrantRecord> {
  const grant = await readGrant(tx.ctx, grantId);
  if (grant === undefined || !canReadGrant(tx, grant, await ownersOfWork(tx, grant.workId))) {
    refuse('NOT_FOUND', `licence grant ${grantId} does not exist`, 'grantId');
  }
  return withFeeStatus(tx, grant);
}

async function withFeeStatus(tx: Tx, grant: LicenceGrantRecord): Promise<LicenceGrantRecord> {
  if (grant.fee === undefined) return grant;
  const record = await readPeriod(tx.ctx, grant.grantId, licenceFeePeriodId);
  if (record === undefined) return grant;
  return {
    ...grant,
    fee: {
      amount: grant.fee.amount,
      status: record.status === 'paid' ? 'paid' : 'settling',
      payouts: record.instructions.map((instruction) => ({
        instructionId: instruction.instructionId,
        payee: instruction.payee,
        shareBps: instruction.shareBps,
        amount: instruction.amount,
        status: instruction.status,
        ...(instruction.reissuedAs === undefined ? {} : { reissuedAs: instruction.reissuedAs }),
      })),
    },
  };
}

/**
 * A period of a grant: its bounds, the usage report and, once closed, the royalty and
 * the state of each payout.
 *
 * @throws RefusalError NOT_FOUND when the grant does not exist or the caller may not see it.
 */
export async function getRoyaltyPeriod(tx: Tx, grantId: string, periodId: string): Promise<RoyaltyPeriodView> {
  await getGrant(tx, grantId);
  const report = await readReport(tx.ctx, grantId, periodId);
  const closed = await readPeriod(tx.ctx, grantId, periodId);
  return {
    grantId,
    periodId,
    ...royaltyPeriodBounds(periodId),
    ...(report === undefined ? {} : { report }),
    ...(closed === undefined ? {} : { closed }),
  };
}

/** The offers and grants of a work the caller may see. @throws RefusalError NOT_FOUND for an unknown work. */
export async function listWorkLicences(tx: Tx, workId: string): Promise<WorkLicences> {
  const owners = await ownersOfWork(tx, workId);
  const { offers, grants } = await readWorkLicences(tx.ctx, workId);
  return {
    workId,
    offers: offers.filter((offer) => canReadOffer(tx, offer)),
    grants: await Promise.all(
      grants.filter((grant) => canReadGrant(tx, grant, owners)).map((grant) => withFeeStatus(tx, grant)),
    ),
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
    );
  }
  return { offerId, termsSha256: offer.termsSha256, terms: decodeRecord(licenceTermsSchema, bytes) };
}
