import {
  licenceGrantRecordSchema,
  licenceOfferRecordSchema,
  royaltyPeriodRecordSchema,
} from '@gigledger/chaincode/model';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/database.js';
import type { DomainIndexer, IndexedWrite } from './domain-indexer.js';

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

async function indexOffer(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const offer = licenceOfferRecordSchema.parse(write.value);
  const row = {
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
    updated_block: write.blockNumber,
    record: JSON.stringify(offer),
  };
  await db
    .insertInto('ix_licence_offers')
    .values(row)
    .onConflict((conflict) => conflict.column('offer_id').doUpdateSet(row))
    .execute();
  await db.deleteFrom('ix_licence_offer_owners').where('offer_id', '=', offer.offerId).execute();
  if (offer.owners.length === 0) return;
  await db
    .insertInto('ix_licence_offer_owners')
    .values(
      offer.owners.map((owner) => ({
        offer_id: offer.offerId,
        owner_msp: owner.party.mspId,
        owner_user: owner.party.userId,
        share_bps: owner.shareBps,
      })),
    )
    .execute();
}

async function indexGrant(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const grant = licenceGrantRecordSchema.parse(write.value);
  const row = {
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
    updated_block: write.blockNumber,
    record: JSON.stringify(grant),
  };
  await db
    .insertInto('ix_licences')
    .values(row)
    .onConflict((conflict) => conflict.column('grant_id').doUpdateSet(row))
    .execute();
}

async function indexPeriod(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const period = royaltyPeriodRecordSchema.parse(write.value);
  const licence = await db
    .selectFrom('ix_licences')
    .select(['licensee_msp', 'licensee_user', 'accepted_at'])
    .where('grant_id', '=', period.grantId)
    .executeTakeFirst();
  // The fee's record is written with its grant, which the indexer applies first.
  if (licence === undefined) {
    throw new Error(`royalty period ${period.periodId} of ${period.grantId} written before its licence`);
  }
  const row = {
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
    updated_block: write.blockNumber,
    record: JSON.stringify(period),
  };
  await db
    .insertInto('ix_royalty_periods')
    .values(row)
    .onConflict((conflict) => conflict.columns(['grant_id', 'period_id']).doUpdateSet(row))
    .execute();
}

/**
 * Licence offers (with the owners each must consent), licences granted, and closed
 * royalty periods with their payout instructions (the fee's payouts under period `fee`),
 * from the licensing contract's keys (see `contracts/licensing/store.ts`). The terms
 * document lives in a private collection: only its hash is on the records.
 */
export const licensingIndexer: DomainIndexer = {
  domain: 'licensing',
  objectTypes: ['licenceOffer', 'licenceGrant', 'royaltyPeriod'],
  apply(db, write) {
    if (write.value === undefined) return Promise.resolve();
    if (write.objectType === 'licenceOffer') return indexOffer(db, write);
    if (write.objectType === 'licenceGrant') return indexGrant(db, write);
    return indexPeriod(db, write);
  },
};
