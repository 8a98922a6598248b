import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import {
  licenceGrantRecordSchema,
  licenceOfferRecordSchema,
  licenceTermsCollection,
  licenceTermsBytes,
  royaltyPeriodRecordSchema,
  usageReportRecordSchema,
  type LicenceGrantRecord,
  type LicenceOfferRecord,
  type LicenceTerms,
} from '../../model/licensing';
import type { Party } from '../../model/party';
import { refuse } from '../../ledger/refusal';
import { readByPartialKey, readPageByPartialKey, readRecord, recordStore, writeRecord } from '../../ledger/state';
import type { PageRequest } from '../../model/page';
import { requireCollectionMember } from '../../ledger/collections';
import { recordObjectTypes } from '../../model/record-keys';

/*
 * Key layout. Every key belongs to one offer, one grant or one (grant, period); the
 * indexes are written once, when the offer or grant is made, and never updated, so
 * reports and closings of different grants and periods never touch the same key.
 *
 *   licenceOffer        [offerId]                      the offer
 *   licenceGrant        [grantId]                      the grant
 *   licenceGrantByOffer [offerId, mspId, userId]       index: one grant per licensee and offer
 *   workLicence         [workId, 'offer'|'grant', id]  index: every offer and grant of a work
 *   usageReport         [grantId, periodId]            one report per grant and period
 *   royaltyPeriod       [grantId, periodId]            a closed period and its payouts
 *   royaltyPeriod       [grantId, 'fee']               the grant's fee payouts, written with the grant
 *   licenceTerms        [offerId]                      the terms document, in the licenceTerms collection
 */
const keys = {
  offer: recordObjectTypes.licenceOffer,
  grant: recordObjectTypes.licenceGrant,
  grantByOffer: 'licenceGrantByOffer',
  workLicence: 'workLicence',
  report: 'usageReport',
  period: 'royaltyPeriod',
  terms: 'licenceTerms',
} as const;

const grantIndexSchema = z.object({ grantId: z.string() });
const workLicenceSchema = z.object({ kind: z.enum(['offer', 'grant']), id: z.string() });

/** Licence offers, by id. */
export const licenceOffers = recordStore(keys.offer, licenceOfferRecordSchema, (offer) => [offer.offerId]);

/** Licence grants, by id. */
export const licenceGrants = recordStore(keys.grant, licenceGrantRecordSchema, (grant) => [grant.grantId]);

/** Usage reports, by grant and period. */
export const usageReports = recordStore(keys.report, usageReportRecordSchema, (report) => [
  report.grantId,
  report.periodId,
]);

/** Closed royalty periods and fee payouts, by grant and period. */
export const royaltyPeriods = recordStore(keys.period, royaltyPeriodRecordSchema, (period) => [
  period.grantId,
  period.periodId,
]);

/** @throws RefusalError NOT_FOUND when there is no such offer. */
export async function requireOffer(ctx: Context, offerId: string): Promise<LicenceOfferRecord> {
  const offer = await licenceOffers.read(ctx, offerId);
  if (offer === undefined) refuseOfferAsMissing(offerId);
  return offer;
}

/**
 * Refuses exactly as for an offer id naming no offer.
 *
 * @throws RefusalError NOT_FOUND, always.
 */
export function refuseOfferAsMissing(offerId: string): never {
  refuse('NOT_FOUND', `licence offer ${offerId} does not exist`, 'offerId');
}

/**
 * Refuses exactly as for a grant id naming no grant.
 *
 * @throws RefusalError NOT_FOUND, always.
 */
export function refuseGrantAsMissing(grantId: string): never {
  refuse('NOT_FOUND', `licence grant ${grantId} does not exist`, 'grantId');
}

/** @throws RefusalError NOT_FOUND when there is no such grant. */
export async function requireGrant(ctx: Context, grantId: string): Promise<LicenceGrantRecord> {
  const grant = await licenceGrants.read(ctx, grantId);
  if (grant === undefined) refuseGrantAsMissing(grantId);
  return grant;
}

export async function readGrantOfLicensee(ctx: Context, offerId: string, licensee: Party): Promise<string | undefined> {
  const key = ctx.stub.createCompositeKey(keys.grantByOffer, [offerId, licensee.mspId, licensee.userId]);
  return (await readRecord(ctx, grantIndexSchema, key))?.grantId;
}

export async function indexGrant(ctx: Context, grant: LicenceGrantRecord): Promise<void> {
  const key = ctx.stub.createCompositeKey(keys.grantByOffer, [
    grant.offerId,
    grant.licensee.mspId,
    grant.licensee.userId,
  ]);
  await writeRecord(ctx, key, { grantId: grant.grantId });
  await indexWorkLicence(ctx, grant.workId, 'grant', grant.grantId);
}

export async function indexWorkLicence(
  ctx: Context,
  workId: string,
  kind: 'offer' | 'grant',
  id: string,
): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.workLicence, [workId, kind, id]), { kind, id });
}

/** Every offer and grant ever made for a work, in key order (grants, then offers, each by id). */
export async function readWorkLicences(
  ctx: Context,
  workId: string,
): Promise<{ offers: LicenceOfferRecord[]; grants: LicenceGrantRecord[] }> {
  return recordsOf(ctx, await readByPartialKey(ctx, workLicenceSchema, keys.workLicence, [workId]));
}

/**
 * One page of the offers and grants made for a work, in key order (grants, then offers,
 * by id), and the bookmark of the next.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export async function readWorkLicencesPage(
  ctx: Context,
  workId: string,
  page: PageRequest,
): Promise<{ offers: LicenceOfferRecord[]; grants: LicenceGrantRecord[]; bookmark: string }> {
  const read = await readPageByPartialKey(ctx, workLicenceSchema, keys.workLicence, [workId], page);
  return { ...(await recordsOf(ctx, read.records)), bookmark: read.bookmark };
}

async function recordsOf(
  ctx: Context,
  entries: readonly { value: z.output<typeof workLicenceSchema> }[],
): Promise<{ offers: LicenceOfferRecord[]; grants: LicenceGrantRecord[] }> {
  const offers: LicenceOfferRecord[] = [];
  const grants: LicenceGrantRecord[] = [];
  for (const { value } of entries) {
    if (value.kind === 'offer') {
      const offer = await licenceOffers.read(ctx, value.id);
      if (offer !== undefined) offers.push(offer);
    } else {
      const grant = await licenceGrants.read(ctx, value.id);
      if (grant !== undefined) grants.push(grant);
    }
  }
  return { offers, grants };
}

export async function writeTerms(ctx: Context, offerId: string, terms: LicenceTerms): Promise<void> {
  requireCollectionMember(ctx, licenceTermsCollection, `keep the terms of licence offer ${offerId}`);
  await ctx.stub.putPrivateData(
    licenceTermsCollection,
    ctx.stub.createCompositeKey(keys.terms, [offerId]),
    licenceTermsBytes(terms),
  );
}

export function readTermsBytes(ctx: Context, offerId: string): Promise<Uint8Array> {
  requireCollectionMember(ctx, licenceTermsCollection, `read the terms of licence offer ${offerId}`);
  return ctx.stub.getPrivateData(licenceTermsCollection, ctx.stub.createCompositeKey(keys.terms, [offerId]));
}
