import { Info } from 'fabric-contract-api';
import {
  offeredLicenceTermsSchema,
  licenceTermsSha256,
  licenceTermsTransientKey,
  licensingContractName,
  licensingEvents,
  licensingTransactions as spec,
  type LicenceTerms,
} from '../model/licensing';
import { emitEvent, eventBase as ledgerEventBase } from '../ledger/events';
import { contractClass, transaction } from '../ledger/contract-class';
import { parseTransient } from '../ledger/transient';
import type { Tx } from '../ledger/tx';
import { acceptOffer, revokeGrant } from './licensing/grants';
import { consentToOffer, offerLicence, withdrawOffer } from './licensing/offers';
import { getGrant, getLicenceTerms, getOffer, getRoyaltyPeriod, listWorkLicences } from './licensing/queries';
import { closeRoyaltyPeriod, confirmRoyaltyPayout, reissueRoyaltyPayout, reportUsage } from './licensing/royalties';

/** Licensing events list the settlement requests a transaction makes; most make none. */
function eventBase(tx: Tx) {
  return { ...ledgerEventBase(tx), settlementRequests: [] };
}

/**
 * Licences of registered works and the royalties they earn. The owners of a work offer
 * a licence (every owner consents); a licensee accepts it as a grant with its own id
 * and expiry; the licensee reports usage once per calendar month; a closed month's
 * royalty (and a grant's fee) is collected from the licensee and then split among the
 * owners and paid through the settlement service, as a milestone's escrow is collected
 * before it is released; this contract records every confirmation.
 *
 * Every clock is the transaction timestamp. Reports and closed periods are one key per
 * (grant, month).
 */
@Info({ title: 'Licensing', description: 'Licence offers and grants of IP works, usage reports and royalty payouts' })
export class LicensingContract extends contractClass(licensingContractName, {
  /**
   * An owner offers a licence of a work. The terms document comes in the transient map
   * under `terms`; only its SHA-256 is on the channel.
   */
  offerLicence: transaction(spec.offerLicence, {
    prepare: (tx) => {
      const terms: LicenceTerms = parseTransient(tx.ctx, licenceTermsTransientKey, offeredLicenceTermsSchema);
      return { terms, termsSha256: licenceTermsSha256(terms) };
    },
    // The terms hash joins the fingerprint so that a retry with other terms is refused.
    fingerprint: (request, { termsSha256 }) => ({ request, termsSha256 }),
    run: async (tx, request, { terms, termsSha256 }) => {
      const offer = await offerLicence(tx, request, terms, termsSha256);
      emitEvent(tx.ctx, licensingEvents.licenceOffered, { ...eventBase(tx), offer });
      return offer;
    },
  }),

  consentToOffer: transaction(spec.consentToOffer, async (tx, request) => {
    const offer = await consentToOffer(tx, request.offerId);
    emitEvent(tx.ctx, licensingEvents.offerConsented, { ...eventBase(tx), offer });
    return offer;
  }),

  withdrawOffer: transaction(spec.withdrawOffer, async (tx, request) => {
    const offer = await withdrawOffer(tx, request.offerId, request.reason);
    emitEvent(tx.ctx, licensingEvents.offerWithdrawn, { ...eventBase(tx), offer });
    return offer;
  }),

  acceptOffer: transaction(spec.acceptOffer, async (tx, request) => {
    const { grant, feeInstructions } = await acceptOffer(tx, request);
    emitEvent(tx.ctx, licensingEvents.licenceGranted, {
      ...eventBase(tx),
      settlementRequests: feeInstructions,
      grant,
    });
    return grant;
  }),

  revokeGrant: transaction(spec.revokeGrant, async (tx, request) => {
    const grant = await revokeGrant(tx, request.grantId, request.reason);
    emitEvent(tx.ctx, licensingEvents.grantRevoked, { ...eventBase(tx), grant });
    return grant;
  }),

  reportUsage: transaction(spec.reportUsage, async (tx, request) => {
    const report = await reportUsage(tx, request);
    emitEvent(tx.ctx, licensingEvents.usageReported, { ...eventBase(tx), report });
    return report;
  }),

  /** Closing twice is refused as INVALID_STATE, so it needs no request id. */
  closeRoyaltyPeriod: transaction(spec.closeRoyaltyPeriod, async (tx, request) => {
    const period = await closeRoyaltyPeriod(tx, request.grantId, request.periodId);
    emitEvent(tx.ctx, licensingEvents.royaltyPeriodClosed, {
      ...eventBase(tx),
      settlementRequests: period.instructions,
      period,
    });
    return period;
  }),

  /**
   * The settlement service records a provider's answer to a royalty or fee instruction
   * (period `fee`); a collection confirmed paid issues the owners' payouts.
   */
  confirmRoyaltyPayout: transaction(spec.confirmRoyaltyPayout, async (tx, request) => {
    const { period, instruction, issued } = await confirmRoyaltyPayout(tx, request);
    emitEvent(tx.ctx, licensingEvents.royaltyPayoutConfirmed, {
      ...eventBase(tx),
      settlementRequests: issued,
      period,
      instruction,
    });
    return period;
  }),

  /**
   * Issues a failed royalty payout again as a new instruction. Repeating it is refused
   * as INVALID_STATE, so it needs no request id.
   */
  reissueRoyaltyPayout: transaction(spec.reissueRoyaltyPayout, async (tx, request) => {
    const { period, periodAsSeen, instruction, replaces } = await reissueRoyaltyPayout(tx, request);
    emitEvent(tx.ctx, licensingEvents.royaltyPayoutReissued, {
      ...eventBase(tx),
      settlementRequests: [instruction],
      period,
      instruction,
      replaces,
    });
    return periodAsSeen;
  }),

  getOffer: transaction(spec.getOffer, (tx, request) => getOffer(tx, request.offerId)),

  getGrant: transaction(spec.getGrant, (tx, request) => getGrant(tx, request.grantId)),

  getRoyaltyPeriod: transaction(spec.getRoyaltyPeriod, (tx, request) =>
    getRoyaltyPeriod(tx, request.grantId, request.periodId),
  ),

  listWorkLicences: transaction(spec.listWorkLicences, (tx, request) => listWorkLicences(tx, request)),

  getLicenceTerms: transaction(spec.getLicenceTerms, (tx, request) => getLicenceTerms(tx, request.offerId)),
}) {}
