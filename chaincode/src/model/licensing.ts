import { createHash } from 'node:crypto';
import { z } from 'zod';
import { nonBlankText } from './text-controls';
import {
  settlementConfirmationSchema,
  settlementOutcomeSchema,
  providerReferenceSchema,
  payoutAccountIdSchema,
} from './agreement-records';
import { canonicalInput, canonicalJson } from './canonical-json';
import { documentSaltSchema, isoInstantSchema, requestIdSchema, sha256HexSchema } from './common';
import { currencySchema } from './currency';
import { amountSchema, basisPointsSchema, shareAmountSchema } from './money';
import { actorSchema, partySchema, reasonSchema } from './party';
import { contractSpecs, eventSpec } from './spec';
import { pageRequestShape } from './page';

export const licensingContractName = 'licensing';

/**
 * Private data collection holding licence terms documents. Its members are the
 * organisations of the people who own works and license them (TalentOrg) and of the
 * people who take licences (ClientOrg); AuditOrg's peers hold only the hash.
 */
export const licenceTermsCollection = 'licenceTerms';
/** Transient-map key under which `offerLicence` receives the terms document. */
export const licenceTermsTransientKey = 'terms';

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const idMessage = 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Caller-chosen licence offer id, unique on the channel, e.g. `L-2026-001`. */
export const offerIdSchema = z.string().regex(idPattern, idMessage);
/** Caller-chosen grant id, unique on the channel, e.g. `G-2026-001`. */
export const grantIdSchema = z.string().regex(idPattern, idMessage);
/** The id of an IP work record (see the `ip` contract). */
export const licensedWorkIdSchema = z.string().min(1).max(128);

/** What the licensee may do with the work. */
export const licenceScopes = ['commercial', 'research', 'evaluation'] as const;
export const licenceScopeSchema = z.enum(licenceScopes);
export type LicenceScope = z.infer<typeof licenceScopeSchema>;

/** A field of use covering every other, e.g. for a licence without restriction. */
export const anyFieldOfUse = 'any';
/** A territory covering every country. */
export const worldwide = 'WORLD';

const uniqueList = <Item extends z.ZodType>(item: Item, max: number) =>
  z
    .array(item)
    .min(1, 'must name at least one')
    .max(max, `must name at most ${max}`)
    .refine((items) => new Set(items).size === items.length, 'must not repeat an entry')
    .meta({ uniqueItems: true });

/** Fields of use as lowercase tokens (`medical-imaging`, `fraud-detection`), or `any`. */
export const fieldsOfUseSchema = uniqueList(
  z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a lowercase token of letters, digits and "-"'),
  20,
);
/** Territories as ISO 3166-1 alpha-2 country codes, or `WORLD`. */
export const territoriesSchema = uniqueList(
  z.string().regex(/^([A-Z]{2}|WORLD)$/, 'must be an ISO 3166-1 alpha-2 country code or WORLD'),
  250,
);

/**
 * The licence terms document: kept in the {@link licenceTermsCollection} private data
 * collection, never on the channel ledger, which holds only its SHA-256 (as agreement
 * terms are). Nothing is trimmed or defaulted, so the hash is over exactly the document
 * the parties hold.
 */
const licenceTermsFields = {
  text: nonBlankText(50_000),
  governingLaw: z.string().max(200, 'must be at most 200 characters').optional(),
  /** The document's salt ({@link documentSaltSchema}); required of new offers, absent from older ones. */
  salt: documentSaltSchema.optional(),
};
export const licenceTermsSchema = canonicalInput(z.strictObject(licenceTermsFields));
export type LicenceTerms = z.output<typeof licenceTermsSchema>;

/** Terms as a new offer must carry them: with a salt, so that their hash cannot be confirmed by guessing. */
export const offeredLicenceTermsSchema = canonicalInput(
  z.strictObject({ ...licenceTermsFields, salt: documentSaltSchema }),
);

/** SHA-256 of the terms document's canonical JSON, as recorded on the offer and its grants. */
export function licenceTermsSha256(terms: LicenceTerms): string {
  return createHash('sha256').update(licenceTermsBytes(terms)).digest('hex');
}

/** Bytes the chaincode stores for the terms: their canonical JSON. */
export function licenceTermsBytes(terms: LicenceTerms): Uint8Array {
  return new TextEncoder().encode(canonicalJson(terms));
}

/**
 * A one-off licence fee: integer minor units of the offer's currency, above zero. The
 * licensee owes it when accepting the offer; the grant's transaction issues it to the
 * work's owners as recorded on the offer, split by their shares (see `splitRoyalty`).
 */
export const licenceFeeSchema = z.strictObject({ amount: amountSchema });
export type LicenceFee = z.output<typeof licenceFeeSchema>;

/**
 * What a licence allows and charges. A licence charges a one-off fee on acceptance, a
 * royalty in basis points of the revenue a usage report declares, an amount per
 * reported unit, or any combination; at least one of them (a royalty of 0 basis points
 * charges nothing).
 */
const licenceFields = {
  workId: licensedWorkIdSchema,
  /** The one person who may accept; absent for an open offer any eligible party may accept. */
  licensee: partySchema.optional(),
  scope: licenceScopeSchema,
  fieldsOfUse: fieldsOfUseSchema,
  territories: territoriesSchema,
  exclusive: z.boolean(),
  /** The licence term, `[termStart, termEnd)`; grants expire at `termEnd`. */
  termStart: isoInstantSchema,
  termEnd: isoInstantSchema,
  royaltyBps: basisPointsSchema.optional(),
  /** Integer minor units of `currency` owed per reported unit. */
  perUnitAmount: amountSchema.optional(),
  /** Owed once, when the offer is accepted; in `currency`. */
  fee: licenceFeeSchema.optional(),
  currency: currencySchema,
};

export const offerLicenceRequestSchema = z
  .strictObject({ requestId: requestIdSchema, offerId: offerIdSchema, ...licenceFields })
  .refine((offer) => Date.parse(offer.termEnd) > Date.parse(offer.termStart), {
    message: 'must be after termStart',
    path: ['termEnd'],
  })
  // A royalty of 0 basis points charges nothing: alone it would make a free licence, and
  // an exclusive one would shut paying licensees out of its scope for its whole term.
  .refine((offer) => (offer.royaltyBps ?? 0) > 0 || offer.perUnitAmount !== undefined || offer.fee !== undefined, {
    message:
      'a licence charges something: a fee, a royalty of more than 0 basis points of revenue, an amount per unit, or a combination',
    path: ['royaltyBps'],
  });
export type OfferLicenceRequest = z.output<typeof offerLicenceRequestSchema>;

export const offerRefSchema = z.strictObject({ offerId: offerIdSchema });
export const withdrawOfferRequestSchema = z.strictObject({ offerId: offerIdSchema, reason: reasonSchema });
export const acceptOfferRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  offerId: offerIdSchema,
  grantId: grantIdSchema,
  /** Hash of the terms document the licensee read; acceptance binds them to exactly these terms. */
  termsSha256: sha256HexSchema,
});
export const grantRefSchema = z.strictObject({ grantId: grantIdSchema });
export const revokeGrantRequestSchema = z.strictObject({ grantId: grantIdSchema, reason: reasonSchema });

/**
 * A royalty period: a calendar month in UTC, written `YYYY-MM`. It starts at 00:00 UTC
 * on its first day and ends where the next month starts.
 */
/**
 * Days after a month ends during which its licensee may still report it. Until then a
 * month without a report cannot be closed (it would close with nothing due); licence
 * agreements commonly give 30 days for royalty statements.
 */
export const royaltyReportingWindowDays = 30;

export const royaltyPeriodIdSchema = z
  .string()
  .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, 'must be a calendar month written YYYY-MM');

/** First instant of a period (inclusive) and first instant after it, as ISO instants. */
export function royaltyPeriodBounds(periodId: string): { start: string; end: string } {
  const [year, month] = periodId.split('-').map(Number);
  if (year === undefined || month === undefined) throw new Error(`not a royalty period: ${periodId}`);
  return {
    start: new Date(Date.UTC(year, month - 1, 1)).toISOString(),
    end: new Date(Date.UTC(year, month, 1)).toISOString(),
  };
}

/** Whole units as a decimal string, zero or more (at most 18 digits). */
const unitsSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,17})$/, 'must be a whole number of units written as a decimal string of at most 18 digits');

export const reportUsageRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  grantId: grantIdSchema,
  periodId: royaltyPeriodIdSchema,
  units: unitsSchema,
  /** Revenue earned with the work in the period, integer minor units; must be in the licence currency. */
  revenue: shareAmountSchema,
  currency: currencySchema,
});
export type ReportUsageRequest = z.output<typeof reportUsageRequestSchema>;

export const periodRefSchema = z.strictObject({ grantId: grantIdSchema, periodId: royaltyPeriodIdSchema });

/**
 * The payout record of a grant's one-off fee sits beside its royalty periods under this
 * period id (never a `YYYY-MM` month), so the fee is confirmed and reissued as royalties are.
 */
export const licenceFeePeriodId = 'fee';

/** A royalty period, or {@link licenceFeePeriodId} for the fee: what a payout belongs to. */
export const payoutPeriodIdSchema = z
  .string()
  .regex(
    new RegExp(`^(?:[0-9]{4}-(?:0[1-9]|1[0-2])|${licenceFeePeriodId})$`),
    `must be a calendar month written YYYY-MM, or ${licenceFeePeriodId} for the one-off fee`,
  );

/** A month of a grant, or its fee (period {@link licenceFeePeriodId}), to read. */
export const payoutPeriodRefSchema = z.strictObject({ grantId: grantIdSchema, periodId: payoutPeriodIdSchema });

export const confirmRoyaltyPayoutRequestSchema = z
  .strictObject({
    requestId: requestIdSchema,
    grantId: grantIdSchema,
    periodId: payoutPeriodIdSchema,
    instructionId: z.string().min(1).max(200),
    outcome: settlementOutcomeSchema,
    providerReference: providerReferenceSchema,
    payoutAccountId: payoutAccountIdSchema.optional(),
    reason: reasonSchema.optional(),
  })
  .refine((request) => request.outcome === 'paid' || request.reason !== undefined, {
    message: 'must say why the payment failed',
    path: ['reason'],
  });
export type ConfirmRoyaltyPayoutRequest = z.output<typeof confirmRoyaltyPayoutRequestSchema>;

/** Names one royalty instruction of a closed period (issuing a failed payout again). */
export const royaltyInstructionRefSchema = z.strictObject({
  grantId: grantIdSchema,
  periodId: payoutPeriodIdSchema,
  instructionId: z.string().min(1).max(200),
});

const consentSchema = z.object({ party: partySchema, at: z.string(), txId: z.string() });

/**
 * `awaiting-consent` until every owner of the work (as recorded when it was offered)
 * consented; then `open` for acceptance until its term ends. An offer naming a
 * licensee, or an exclusive one, is `accepted` once a grant is made from it.
 */
export const offerStatuses = ['awaiting-consent', 'open', 'accepted', 'withdrawn'] as const;
export const offerStatusSchema = z.enum(offerStatuses);
export type OfferStatus = z.infer<typeof offerStatusSchema>;

const ownerShareSchema = z.object({ party: partySchema, shareBps: z.number().int() });

export const licenceOfferRecordSchema = z.object({
  offerId: z.string(),
  workId: z.string(),
  licensee: partySchema.optional(),
  scope: licenceScopeSchema,
  fieldsOfUse: z.array(z.string()),
  territories: z.array(z.string()),
  exclusive: z.boolean(),
  termStart: z.string(),
  termEnd: z.string(),
  royaltyBps: z.number().int().optional(),
  perUnitAmount: z.string().optional(),
  fee: z.object({ amount: z.string() }).optional(),
  currency: currencySchema,
  termsSha256: z.string(),
  /** The work's owners when the offer was made: each must consent before it opens. */
  owners: z.array(ownerShareSchema),
  consents: z.array(consentSchema),
  status: offerStatusSchema,
  offeredBy: actorSchema,
  offeredAt: z.string(),
  txId: z.string(),
  withdrawal: z.object({ by: actorSchema, reason: z.string(), at: z.string(), txId: z.string() }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type LicenceOfferRecord = z.output<typeof licenceOfferRecordSchema>;

export const grantStatuses = ['active', 'revoked'] as const;

/** One owner's part of a grant's fee and how its payment stands (failed parts issued again show their replacement). */
export const feePayoutSchema = z.object({
  instructionId: z.string(),
  payee: partySchema,
  shareBps: z.number().int(),
  amount: z.string(),
  /** `awaiting-collection` until the licensee's payment of the fee is confirmed; the id is then the one the payout will carry. */
  status: z.enum(['awaiting-collection', 'pending', 'paid', 'failed']),
  reissuedAs: z.string().optional(),
});

/** One collection of a grant's fee from the licensee and how it stands. */
export const feeCollectionSchema = z.object({
  instructionId: z.string(),
  amount: z.string(),
  status: z.enum(['pending', 'paid', 'failed']),
  reissuedAs: z.string().optional(),
});

/**
 * A grant's fee. The ledger stores `amount` only; reads add `status` (`collecting` until
 * the licensee's payment of the fee is confirmed, `settling` until every outstanding
 * owner's part is paid, then `paid`) and `payouts` (the owners' parts, issued once the
 * fee is collected), taken from the fee's record (period {@link licenceFeePeriodId}).
 */
export const grantFeeSchema = z.object({
  amount: z.string(),
  status: z.enum(['collecting', 'settling', 'paid']).optional(),
  /** The fee's collections from the licensee: the first, and any issued again after a failure. */
  collections: z.array(feeCollectionSchema).optional(),
  payouts: z.array(feePayoutSchema).optional(),
});
export const grantStatusSchema = z.enum(grantStatuses);

/** A licence a licensee holds: the offer's terms, fixed at acceptance, with its own id and expiry. */
export const licenceGrantRecordSchema = z.object({
  grantId: z.string(),
  offerId: z.string(),
  workId: z.string(),
  licensee: partySchema,
  scope: licenceScopeSchema,
  fieldsOfUse: z.array(z.string()),
  territories: z.array(z.string()),
  exclusive: z.boolean(),
  termStart: z.string(),
  /** The offer's `termEnd`: no usage is reported from this instant on. */
  expiresAt: z.string(),
  royaltyBps: z.number().int().optional(),
  perUnitAmount: z.string().optional(),
  fee: grantFeeSchema.optional(),
  currency: currencySchema,
  termsSha256: z.string(),
  status: grantStatusSchema,
  acceptedAt: z.string(),
  txId: z.string(),
  revocation: z.object({ by: actorSchema, reason: z.string(), at: z.string(), txId: z.string() }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type LicenceGrantRecord = z.output<typeof licenceGrantRecordSchema>;

/** One usage report: one key per (grant, period), written once. */
export const usageReportRecordSchema = z.object({
  grantId: z.string(),
  periodId: z.string(),
  units: z.string(),
  revenue: z.string(),
  currency: z.string(),
  /** What the report owes, minor units: see `royaltyDue` for the rounding rule. */
  royalty: z.string(),
  reportedBy: actorSchema,
  at: z.string(),
  txId: z.string(),
});
export type UsageReportRecord = z.output<typeof usageReportRecordSchema>;

/**
 * What a royalty or fee instruction moves: `collection` debits the licensee for the whole
 * royalty (or fee) into the platform's settlement account; `royalty` and `licence-fee`
 * pay one owner's part of what was collected.
 */
export const royaltyInstructionKinds = ['collection', 'royalty', 'licence-fee'] as const;

/**
 * A payment the settlement provider is asked to make for one grant and period: the
 * licensee's payment of what the period owes (a `collection`), or one co-owner's part of
 * it once collected (a payout).
 */
export const royaltyInstructionSchema = z.object({
  /**
   * `<grantId>/<periodId>/collect-<n>` for a collection; `<grantId>/<periodId>/royalty-<n>`
   * (`<grantId>/fee/fee-<n>` for the fee) for a payout, n counting owners from 1 in owner
   * order. An instruction issued again takes the next number after every instruction
   * the period holds. Unique and stable.
   */
  instructionId: z.string(),
  /** See {@link royaltyInstructionKinds}. */
  kind: z.enum(royaltyInstructionKinds),
  grantId: z.string(),
  periodId: z.string(),
  /** The licensee. */
  payer: partySchema,
  /** The owner paid; absent on a collection, which pays the platform's settlement account. */
  payee: partySchema.optional(),
  /** The payee's share of the work when the period was closed, in basis points; 10000 on a collection. */
  shareBps: z.number().int(),
  amount: amountSchema,
  /** Always zero: royalties carry no platform fee. Kept so every instruction has the same money fields. */
  platformFee: shareAmountSchema,
  currency: currencySchema,
  status: z.enum(['pending', 'paid', 'failed']),
  requestedAt: z.string(),
  requestTxId: z.string(),
  /**
   * The organisation whose settlement service sends this instruction to its provider: the
   * first of the governed `settlementOrganisations` when it was issued. Every listed
   * organisation may run a settlement service, and each follows every instruction; one
   * named sender keeps two of them from paying the same instruction. Absent on
   * instructions issued before it was recorded.
   */
  settlingOrganisation: z.string().optional(),
  confirmation: settlementConfirmationSchema.optional(),
  /** On a failed payout that was issued again: the id of the instruction that replaces it. */
  reissuedAs: z.string().optional(),
  /** On a reissued payout: the failed instruction it replaces. */
  reissueOf: z.string().optional(),
});
export type RoyaltyInstruction = z.output<typeof royaltyInstructionSchema>;

/**
 * `collecting` until the licensee's payment of the royalty (or fee) is confirmed;
 * `settling` until every owner's payout (other than failed ones issued again) is
 * confirmed paid; `paid` then; `nothing-due` when the period owed nothing. Periods closed
 * before collections existed went straight to `settling`.
 */
export const royaltyPeriodStatuses = ['collecting', 'settling', 'paid', 'nothing-due'] as const;

/** One owner's part of what a period owes, fixed when it closes and paid once collected. */
export const royaltyShareSchema = z.object({
  party: partySchema,
  shareBps: z.number().int(),
  amount: amountSchema,
});
export type RoyaltyShare = z.output<typeof royaltyShareSchema>;

/**
 * A closed royalty period of one grant: the royalty owed and the instructions that pay
 * it. The grant's fee has a record of the same shape under period `fee`, written when
 * the grant is made: `royalty` is then the fee, `reported` false, `closedAt` the acceptance.
 */
export const royaltyPeriodRecordSchema = z.object({
  grantId: z.string(),
  periodId: z.string(),
  workId: z.string(),
  royalty: z.string(),
  currency: z.string(),
  /** Whether a usage report was filed; a period closed without one owes nothing. */
  reported: z.boolean(),
  /** The owners' parts of `royalty` (by their shares at closing), paid once the collection is confirmed. */
  shares: z.array(royaltyShareSchema).optional(),
  /** The collection from the licensee (and any issued again), then the owners' payouts. */
  instructions: z.array(royaltyInstructionSchema),
  status: z.enum(royaltyPeriodStatuses),
  closedBy: actorSchema,
  closedAt: z.string(),
  txId: z.string(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type RoyaltyPeriodRecord = z.output<typeof royaltyPeriodRecordSchema>;

/** The prefix of an instruction id within its period: `collect`, `royalty` or `fee`. */
function instructionIdPrefix(kind: RoyaltyInstruction['kind']): string {
  if (kind === 'collection') return 'collect';
  return kind === 'licence-fee' ? 'fee' : 'royalty';
}

/** `<grantId>/<periodId>/<collect|royalty|fee>-<n>`: see `royaltyInstructionSchema`. */
export function royaltyInstructionId(
  grantId: string,
  periodId: string,
  kind: RoyaltyInstruction['kind'],
  n: number,
): string {
  return `${grantId}/${periodId}/${instructionIdPrefix(kind)}-${String(n)}`;
}

/**
 * How a grant's fee stands, from its record (period {@link licenceFeePeriodId}): the
 * owners' payouts once the fee is collected, and before that each owner's part as
 * `awaiting-collection` under the id its payout will carry.
 */
export function licenceFeeView(record: RoyaltyPeriodRecord): {
  status: 'collecting' | 'settling' | 'paid';
  collections: z.output<typeof feeCollectionSchema>[];
  payouts: z.output<typeof feePayoutSchema>[];
} {
  const status = record.status === 'paid' || record.status === 'collecting' ? record.status : 'settling';
  const collections = record.instructions
    .filter((instruction) => instruction.kind === 'collection')
    .map((instruction) => ({
      instructionId: instruction.instructionId,
      amount: instruction.amount,
      status: instruction.status,
      ...(instruction.reissuedAs === undefined ? {} : { reissuedAs: instruction.reissuedAs }),
    }));
  const payouts = record.instructions.flatMap(({ payee, ...instruction }) =>
    payee === undefined
      ? []
      : [
          {
            instructionId: instruction.instructionId,
            payee,
            shareBps: instruction.shareBps,
            amount: instruction.amount,
            status: instruction.status,
            ...(instruction.reissuedAs === undefined ? {} : { reissuedAs: instruction.reissuedAs }),
          },
        ],
  );
  if (payouts.length > 0 || status !== 'collecting') return { status, collections, payouts };
  return {
    status,
    collections,
    payouts: (record.shares ?? []).map((share, index) => ({
      instructionId: royaltyInstructionId(record.grantId, record.periodId, 'licence-fee', index + 1),
      payee: share.party,
      shareBps: share.shareBps,
      amount: share.amount,
      status: 'awaiting-collection' as const,
    })),
  };
}

/**
 * A period as read: the report (if any) and, once closed, the royalty's instructions.
 * The fee (period `fee`) is due at the grant's acceptance, its start and end both; it has
 * no report, and its record (`closed`) holds the fee's collections and payouts.
 */
export const royaltyPeriodViewSchema = z.object({
  grantId: z.string(),
  periodId: z.string(),
  start: z.string(),
  end: z.string(),
  report: usageReportRecordSchema.optional(),
  closed: royaltyPeriodRecordSchema.optional(),
});
export type RoyaltyPeriodView = z.output<typeof royaltyPeriodViewSchema>;

export const licenceTermsResultSchema = z.object({
  offerId: z.string(),
  termsSha256: z.string(),
  terms: licenceTermsSchema,
});

export const workLicencesSchema = z.object({
  workId: z.string(),
  offers: z.array(licenceOfferRecordSchema),
  grants: z.array(licenceGrantRecordSchema),
});
export type WorkLicences = z.output<typeof workLicencesSchema>;
/** One page of a work's offers and grants, with the bookmark of the next (empty on the last). */
export const workLicencesPageSchema = workLicencesSchema.extend({
  bookmark: z.string().describe('Where the next page starts; empty when this is the last page'),
});
export type WorkLicencesPage = z.output<typeof workLicencesPageSchema>;

const { submit, evaluate } = contractSpecs(licensingContractName);

/**
 * Every transaction of the `licensing` contract. `offerLicence` also takes the terms
 * document in the transient map under {@link licenceTermsTransientKey}.
 */
export const licensingTransactions = {
  offerLicence: {
    ...submit('offerLicence', offerLicenceRequestSchema, licenceOfferRecordSchema),
    privateCollection: licenceTermsCollection,
  },
  consentToOffer: submit('consentToOffer', offerRefSchema, licenceOfferRecordSchema),
  withdrawOffer: submit('withdrawOffer', withdrawOfferRequestSchema, licenceOfferRecordSchema),
  acceptOffer: submit('acceptOffer', acceptOfferRequestSchema, licenceGrantRecordSchema),
  revokeGrant: submit('revokeGrant', revokeGrantRequestSchema, licenceGrantRecordSchema),
  reportUsage: submit('reportUsage', reportUsageRequestSchema, usageReportRecordSchema),
  closeRoyaltyPeriod: submit('closeRoyaltyPeriod', periodRefSchema, royaltyPeriodRecordSchema),
  confirmRoyaltyPayout: submit('confirmRoyaltyPayout', confirmRoyaltyPayoutRequestSchema, royaltyPeriodRecordSchema),
  reissueRoyaltyPayout: submit('reissueRoyaltyPayout', royaltyInstructionRefSchema, royaltyPeriodRecordSchema),
  getOffer: evaluate('getOffer', offerRefSchema, licenceOfferRecordSchema),
  getGrant: evaluate('getGrant', grantRefSchema, licenceGrantRecordSchema),
  getRoyaltyPeriod: evaluate('getRoyaltyPeriod', payoutPeriodRefSchema, royaltyPeriodViewSchema),
  listWorkLicences: evaluate(
    'listWorkLicences',
    z.strictObject({ workId: licensedWorkIdSchema, ...pageRequestShape }),
    workLicencesPageSchema,
  ),
  getLicenceTerms: evaluate('getLicenceTerms', offerRefSchema, licenceTermsResultSchema),
} as const;

/**
 * Fields every `licensing.*` event carries. The settlement service parses any licensing
 * event with this schema and sends each of its `settlementRequests` (empty when the
 * transition moves no money), as it does for agreement events.
 */
export const licensingEventBaseSchema = z.object({
  at: isoInstantSchema,
  txId: z.string(),
  actor: actorSchema,
  settlementRequests: z.array(royaltyInstructionSchema).default([]),
});

const licensingEvent = <Shape extends z.ZodRawShape>(name: string, shape: Shape) =>
  eventSpec({ name: `${licensingContractName}.${name}`, payload: licensingEventBaseSchema.extend(shape) });

/** Every event of the `licensing` contract; a transaction emits exactly one. */
export const licensingEvents = {
  licenceOffered: licensingEvent('LicenceOffered', { offer: licenceOfferRecordSchema }),
  offerConsented: licensingEvent('OfferConsented', { offer: licenceOfferRecordSchema }),
  offerWithdrawn: licensingEvent('OfferWithdrawn', { offer: licenceOfferRecordSchema }),
  /** A grant with a fee carries the fee's collection from the licensee in `settlementRequests`. */
  licenceGranted: licensingEvent('LicenceGranted', { grant: licenceGrantRecordSchema }),
  grantRevoked: licensingEvent('GrantRevoked', { grant: licenceGrantRecordSchema }),
  usageReported: licensingEvent('UsageReported', { report: usageReportRecordSchema }),
  royaltyPeriodClosed: licensingEvent('RoyaltyPeriodClosed', { period: royaltyPeriodRecordSchema }),
  /** Carries the replacement in `settlementRequests`. */
  royaltyPayoutReissued: licensingEvent('RoyaltyPayoutReissued', {
    period: royaltyPeriodRecordSchema,
    instruction: royaltyInstructionSchema,
    replaces: z.string(),
  }),
  /** A collection confirmed paid carries the owners' payouts it issues in `settlementRequests`. */
  royaltyPayoutConfirmed: licensingEvent('RoyaltyPayoutConfirmed', {
    period: royaltyPeriodRecordSchema,
    instruction: royaltyInstructionSchema,
  }),
} as const;

/** The parts of a licence that decide whether two licences of a work cover the same use. */
export interface LicenceCoverage {
  readonly scope: LicenceScope;
  readonly fieldsOfUse: readonly string[];
  readonly territories: readonly string[];
  readonly termStart: string;
  readonly termEnd: string;
}

const intersects = (a: readonly string[], b: readonly string[], everything: string) =>
  a.includes(everything) || b.includes(everything) || a.some((item) => b.includes(item));

/**
 * Whether two licences of one work cover some use in common: the same scope, a field
 * of use in common (`any` covers every field), a territory in common (`WORLD` covers
 * every country) and terms that overlap (half-open `[start, end)`, so one term may
 * begin where the other ends).
 */
export function licencesOverlap(a: LicenceCoverage, b: LicenceCoverage): boolean {
  return (
    a.scope === b.scope &&
    intersects(a.fieldsOfUse, b.fieldsOfUse, anyFieldOfUse) &&
    intersects(a.territories, b.territories, worldwide) &&
    Date.parse(a.termStart) < Date.parse(b.termEnd) &&
    Date.parse(b.termStart) < Date.parse(a.termEnd)
  );
}
