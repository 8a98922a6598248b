import {
  licenceGrantRecordSchema,
  licenceOfferRecordSchema,
  royaltyPeriodRecordSchema,
} from '@gigledger/chaincode/model';
import { ownerRows } from './ip-indexer.js';
import { written, type BlockRows, type DomainIndexer, type IndexedWrite } from './domain-indexer.js';

/** Money terms both an offer and a grant carry. */
function terms(record: {
  workId: string;
  scope: string;
  exclusive: boolean;
  termStart: string;
  royaltyBps?: number | undefined;
  perUnitAmount?: string | undefined;
  fee?: { amount: string } | undefined;
  currency: string;
}) {
  return {
    work_id: record.workId,
    scope: record.scope,
    exclusive: record.exclusive ? 1 : 0,
    term_start: record.termStart,
    royalty_bps: record.royaltyBps ?? null,
    per_unit_amount: record.perUnitAmount ?? null,
    fee_amount: record.fee?.amount ?? null,
    fee_minor: record.fee === undefined ? null : BigInt(record.fee.amount),
    currency: record.currency,
  };
}

function indexOffer(write: IndexedWrite, rows: BlockRows): void {
  const offer = licenceOfferRecordSchema.parse(write.value);
  rows.upsert('ix_licence_offers', ['offer_id'], {
    ...terms(offer),
    offer_id: offer.offerId,
    licensee_msp: offer.licensee?.mspId ?? null,
    licensee_user: offer.licensee?.userId ?? null,
    term_end: offer.termEnd,
    status: offer.status,
    offered_at: offer.offeredAt,
    tx_id: offer.txId,
    updated_at: offer.updatedAt,
    updated_tx_id: offer.updatedTxId,
    ...written(write, offer),
  });
  rows.replace(
    'ix_licence_offer_owners',
    { offer_id: offer.offerId },
    ownerRows(offer.owners).map((owner) => ({ offer_id: offer.offerId, ...owner })),
  );
}

function indexGrant(write: IndexedWrite, rows: BlockRows): void {
  const grant = licenceGrantRecordSchema.parse(write.value);
  rows.upsert('ix_licences', ['grant_id'], {
    ...terms(grant),
    grant_id: grant.grantId,
    offer_id: grant.offerId,
    licensee_msp: grant.licensee.mspId,
    licensee_user: grant.licensee.userId,
    expires_at: grant.expiresAt,
    status: grant.status,
    accepted_at: grant.acceptedAt,
    tx_id: grant.txId,
    updated_at: grant.updatedAt,
    updated_tx_id: grant.updatedTxId,
    ...written(write, grant),
  });
}

async function indexPeriod(write: IndexedWrite, rows: BlockRows): Promise<void> {
  const period = royaltyPeriodRecordSchema.parse(write.value);
  const licence = await rows.find('ix_licences', { grant_id: period.grantId }, [
    'licensee_msp',
    'licensee_user',
    'accepted_at',
  ]);
  // The fee's record is written with its grant, which the indexer applies first.
  if (licence === undefined) {
    throw new Error(`royalty period ${period.periodId} of ${period.grantId} written before its licence`);
  }
  rows.upsert('ix_royalty_periods', ['grant_id', 'period_id'], {
    grant_id: period.grantId,
    period_id: period.periodId,
    work_id: period.workId,
    licensee_msp: licence.licensee_msp,
    licensee_user: licence.licensee_user,
    licence_accepted_at: licence.accepted_at,
    royalty: period.royalty,
    royalty_minor: BigInt(period.royalty),
    currency: period.currency,
    reported: period.reported ? 1 : 0,
    status: period.status,
    closed_at: period.closedAt,
    tx_id: period.txId,
    updated_at: period.updatedAt,
    updated_tx_id: period.updatedTxId,
    ...written(write, period),
  });
}

/**
 * Licence offers (with the owners each must consent), licences granted, and closed
 * royalty periods with their payout instructions (the fee's payouts under period `fee`),
 * from the licensing contract's keys (see `contracts/licensing/store.ts`). The terms
 * document lives in a private collection: only its hash is on the records.
 */
export const licensingIndexer: DomainIndexer = {
  domain: 'licensing',
  records: [
    ['licenceOffer', indexOffer],
    ['licenceGrant', indexGrant],
    ['royaltyPeriod', indexPeriod],
  ],
};
