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
import { parseArgument } from '../ledger/refusal';
import { runRequestOnce } from '../ledger/requests';
import { parseTransient } from '../ledger/transient';
import { actorOf, txOf, type Tx } from '../ledger/tx';
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
  async offerLicence(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    const request = parseArgument(spec.offerLicence.request, requestJson);
    const terms: LicenceTerms = parseTransient(ctx, licenceTermsTransientKey, licenceTermsSchema);
    const termsSha256 = licenceTermsSha256(terms);
    const tx = txOf(ctx);
    // The terms hash joins the fingerprint so that a retry with other terms is refused.
    return runRequestOnce(
      ctx,
      spec.offerLicence,
      request,
      async () => {
        const offer = await offerLicence(tx, request, terms, termsSha256);
        emitEvent(ctx, licensingEvents.licenceOffered, { ...eventBase(tx), offer });
        return offer;
      },
      { request, termsSha256 },
    );
  }

  @Transaction()
  async consentToOffer(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    const request = parseArgument(spec.consentToOffer.request, requestJson);
    const tx = txOf(ctx);
    const offer = await consentToOffer(tx, request.offerId);
    emitEvent(ctx, licensingEvents.offerConsented, { ...eventBase(tx), offer });
    return offer;
  }

  @Transaction()
  async withdrawOffer(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    const request = parseArgument(spec.withdrawOffer.request, requestJson);
    const tx = txOf(ctx);
    const offer = await withdrawOffer(tx, request.offerId, request.reason);
    emitEvent(ctx, licensingEvents.offerWithdrawn, { ...eventBase(tx), offer });
    return offer;
  }

  @Transaction()
  async acceptOffer(ctx: Context, requestJson: string): Promise<LicenceGrantRecord> {
    const request = parseArgument(spec.acceptOffer.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.acceptOffer, request, async () => {
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
  async revokeGrant(ctx: Context, requestJson: string): Promise<LicenceGrantRecord> {
    const request = parseArgument(spec.revokeGrant.request, requestJson);
    const tx = txOf(ctx);
    const grant = await revokeGrant(tx, request.grantId, request.reason);
    emitEvent(ctx, licensingEvents.grantRevoked, { ...eventBase(tx), grant });
    return grant;
  }

  @Transaction()
  async reportUsage(ctx: Context, requestJson: string): Promise<UsageReportRecord> {
    const request = parseArgument(spec.reportUsage.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.reportUsage, request, async () => {
      const report = await reportUsage(tx, request);
      emitEvent(ctx, licensingEvents.usageReported, { ...eventBase(tx), report });
      return report;
    });
  }

  /** Closing twice is refused as INVALID_STATE, so it needs no request id. */
  @Transaction()
  async closeRoyaltyPeriod(ctx: Context, requestJson: string): Promise<RoyaltyPeriodRecord> {
    const request = parseArgument(spec.closeRoyaltyPeriod.request, requestJson);
    const tx = txOf(ctx);
    const period = await closeRoyaltyPeriod(tx, request.grantId, request.periodId);
    emitEvent(ctx, licensingEvents.royaltyPeriodClosed, {
      ...eventBase(tx),
      settlementRequests: period.instructions,
      period,
    });
    return period;
  }

  /** The settlement service records a provider's answer to a royalty or fee instruction (period `fee`). */
  @Transaction()
  async confirmRoyaltyPayout(ctx: Context, requestJson: string): Promise<RoyaltyPeriodRecord> {
    const request = parseArgument(spec.confirmRoyaltyPayout.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.confirmRoyaltyPayout, request, async () => {
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
  async reissueRoyaltyPayout(ctx: Context, requestJson: string): Promise<RoyaltyPeriodRecord> {
    const request = parseArgument(spec.reissueRoyaltyPayout.request, requestJson);
    const tx = txOf(ctx);
    const { period, instruction, replaces } = await reissueRoyaltyPayout(tx, request);
    emitEvent(ctx, licensingEvents.royaltyPayoutReissued, {
      ...eventBase(tx),
      settlementRequests: [instruction],
      period,
      instruction,
      replaces,
    });
    return period;
  }

  @Transaction(false)
  async getOffer(ctx: Context, requestJson: string): Promise<LicenceOfferRecord> {
    const request = parseArgument(spec.getOffer.request, requestJson);
    return getOffer(txOf(ctx), request.offerId);
  }

  @Transaction(false)
  async getGrant(ctx: Context, requestJson: string): Promise<LicenceGrantRecord> {
    const request = parseArgument(spec.getGrant.request, requestJson);
    return getGrant(txOf(ctx), request.grantId);
  }

  @Transaction(false)
  async getRoyaltyPeriod(ctx: Context, requestJson: string): Promise<RoyaltyPeriodView> {
    const request = parseArgument(spec.getRoyaltyPeriod.request, requestJson);
    return getRoyaltyPeriod(txOf(ctx), request.grantId, request.periodId);
  }

  @Transaction(false)
  async listWorkLicences(ctx: Context, requestJson: string): Promise<WorkLicences> {
    const request = parseArgument(spec.listWorkLicences.request, requestJson);
    return listWorkLicences(txOf(ctx), request.workId);
  }

  @Transaction(false)
  async getLicenceTerms(
    ctx: Context,
    requestJson: string,
  ): Promise<{ offerId: string; termsSha256: string; terms: LicenceTerms }> {
    const request = parseArgument(spec.getLicenceTerms.request, requestJson);
    return getLicenceTerms(txOf(ctx), request.offerId);
  }
}
