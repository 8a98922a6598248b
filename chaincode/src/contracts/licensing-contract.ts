import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  licenceTermsSchema,
  licenceTermsSha256,
  licenceTermsTransientKey,
  licensingContractName,
  licensingEvents,
  licensingTransactions as spec,
  type LicenceGrantRecord,
  type LicenceOfferRecord,
  type LicenceTerms,
  type RoyaltyPeriodRecord,
  type RoyaltyPeriodView,
  type UsageReportRecord,
  type WorkLicences,
} from '../model/licensing';
import { emitEvent } from '../ledger/events';
import { runTransaction } from '../ledger/transaction';
import { parseTransient } from '../ledger/transient';
import { actorOf, type Tx } from '../ledger/tx';
import { acceptOffer, revokeGrant } from './licensing/grants';
import { consentToOffer, offerLicence, withdrawOffer } from './licensing/offers';
import { getGrant, getLicenceTerms, getOffer, getRoyaltyPeriod, listWorkLicences } from './licensing/queries';
import { closeRoyaltyPeriod, confirmRoyaltyPayout, reissueRoyaltyPayout, reportUsage } from './licensing/royalties';

function eventBase(tx: Tx) {
  return { at: tx.at, txId: tx.txId, actor: actorOf(tx.caller), settlementRequests: [] };
}

/**
 * Licences of registered works and the royalties they earn. The owners of a work offer
 * a licence (every owner consents); a licensee accepts it as a grant with its own id
 * and expiry; the licensee reports usage once per calendar month; a closed month's
 * royalty is split among the owners and paid through the settlement service like a
 * milestone, whose confirmation this contract records.
 *
 * Every clock is the transaction timestamp. Reports and closed periods are one key per
 * (grant, month).
 */
@Info({ title: 'Licensing', description: 'Licence offers and grants of IP works, usage reports and royalty payouts' })
export class LicensingContract extends Contract {
  constructor() {
    super(licensingContractName);
  }

  /**
   * An owner offers a licence of a work. The terms document comes in the transient map
   * under `terms`; only its SHA-256 is on the channel.
   */
  @Transaction()
  offerLicence(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    return runTransaction(ctx, spec.offerLicence, requestJson, {
      prepare: () => {
        const terms: LicenceTerms = parseTransient(ctx, licenceTermsTransientKey, licenceTermsSchema);
        return { terms, termsSha256: licenceTermsSha256(terms) };
      },
      // The terms hash joins the fingerprint so that a retry with other terms is refused.
      fingerprint: (request, { termsSha256 }) => ({ request, termsSha256 }),
      run: async (tx, request, { terms, termsSha256 }) => {
        const offer = await offerLicence(tx, request, terms, termsSha256);
        emitEvent(ctx, licensingEvents.licenceOffered, { ...eventBase(tx), offer });
        return offer;
      },
    });
  }

  @Transaction()
  consentToOffer(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    return runTransaction(ctx, spec.consentToOffer, requestJson, async (tx, request) => {
      const offer = await consentToOffer(tx, request.offerId);
      emitEvent(ctx, licensingEvents.offerConsented, { ...eventBase(tx), offer });
      return offer;
    });
  }

  @Transaction()
  withdrawOffer(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    return runTransaction(ctx, spec.withdrawOffer, requestJson, async (tx, request) => {
      const offer = await withdrawOffer(tx, request.offerId, request.reason);
      emitEvent(ctx, licensingEvents.offerWithdrawn, { ...eventBase(tx), offer });
      return offer;
    });
  }

  @Transaction()
  acceptOffer(ctx: Context, requestJson: string): Promise<LicenceGrantRecord> {
    return runTransaction(ctx, spec.acceptOffer, requestJson, async (tx, request) => {
      const { grant, feeInstructions } = await acceptOffer(tx, request);
      emitEvent(ctx, licensingEvents.licenceGranted, {
        ...eventBase(tx),
        settlementRequests: feeInstructions,
        grant,
      });
      return grant;
    });
  }

  @Transaction()
  revokeGrant(ctx: Context, requestJson: string): Promise<LicenceGrantRecord> {
    return runTransaction(ctx, spec.revokeGrant, requestJson, async (tx, request) => {
      const grant = await revokeGrant(tx, request.grantId, request.reason);
      emitEvent(ctx, licensingEvents.grantRevoked, { ...eventBase(tx), grant });
      return grant;
    });
  }

  @Transaction()
  reportUsage(ctx: Context, requestJson: string): Promise<UsageReportRecord> {
    return runTransaction(ctx, spec.reportUsage, requestJson, async (tx, request) => {
      const report = await reportUsage(tx, request);
      emitEvent(ctx, licensingEvents.usageReported, { ...eventBase(tx), report });
      return report;
    });
  }

  /** Closing twice is refused as INVALID_STATE, so it needs no request id. */
  @Transaction()
  closeRoyaltyPeriod(ctx: Context, requestJson: string): Promise<RoyaltyPeriodRecord> {
    return runTransaction(ctx, spec.closeRoyaltyPeriod, requestJson, async (tx, request) => {
      const period = await closeRoyaltyPeriod(tx, request.grantId, request.periodId);
      emitEvent(ctx, licensingEvents.royaltyPeriodClosed, {
        ...eventBase(tx),
        settlementRequests: period.instructions,
        period,
      });
      return period;
    });
  }

  /** The settlement service records a provider's answer to a royalty or fee instruction (period `fee`). */
  @Transaction()
  confirmRoyaltyPayout(ctx: Context, requestJson: string): Promise<RoyaltyPeriodRecord> {
    return runTransaction(ctx, spec.confirmRoyaltyPayout, requestJson, async (tx, request) => {
      const { period, instruction } = await confirmRoyaltyPayout(tx, request);
      emitEvent(ctx, licensingEvents.royaltyPayoutConfirmed, { ...eventBase(tx), period, instruction });
      return period;
    });
  }

  /**
   * Issues a failed royalty payout again as a new instruction. Repeating it is refused
   * as INVALID_STATE, so it needs no request id.
   */
  @Transaction()
  reissueRoyaltyPayout(ctx: Context, requestJson: string): Promise<RoyaltyPeriodRecord> {
    return runTransaction(ctx, spec.reissueRoyaltyPayout, requestJson, async (tx, request) => {
      const { period, instruction, replaces } = await reissueRoyaltyPayout(tx, request);
      emitEvent(ctx, licensingEvents.royaltyPayoutReissued, {
        ...eventBase(tx),
        settlementRequests: [instruction],
        period,
        instruction,
        replaces,
      });
      return period;
    });
  }

  @Transaction(false)
  getOffer(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    return runTransaction(ctx, spec.getOffer, requestJson, (tx, request) => getOffer(tx, request.offerId));
  }

  @Transaction(false)
  getGrant(ctx: Context, requestJson: string): Promise<LicenceGrantRecord> {
    return runTransaction(ctx, spec.getGrant, requestJson, (tx, request) => getGrant(tx, request.grantId));
  }

  @Transaction(false)
  getRoyaltyPeriod(ctx: Context, requestJson: string): Promise<RoyaltyPeriodView> {
    return runTransaction(ctx, spec.getRoyaltyPeriod, requestJson, (tx, request) =>
      getRoyaltyPeriod(tx, request.grantId, request.periodId),
    );
  }

  @Transaction(false)
  listWorkLicences(ctx: Context, requestJson: string): Promise<WorkLicences> {
    return runTransaction(ctx, spec.listWorkLicences, requestJson, (tx, request) =>
      listWorkLicences(tx, request.workId),
    );
  }

  @Transaction(false)
  getLicenceTerms(
    ctx: Context,
    requestJson: string,
  ): Promise<{ offerId: string; termsSha256: string; terms: LicenceTerms }> {
    return runTransaction(ctx, spec.getLicenceTerms, requestJson, (tx, request) =>
      getLicenceTerms(tx, request.offerId),
    );
  }
}
