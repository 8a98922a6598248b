import {
  accessScopeSchema,
  agreementStatusSchema,
  credentialStatusSchema,
  credentialTypeSchema,
  currencySchema,
  governanceActionTypes,
  grantStatusSchema,
  instructionKindSchema,
  instructionStatusSchema,
  legalBasisSchema,
  milestoneStatusSchema,
  mspIdSchema,
  offerStatusSchema,
  ownershipChangeStatusSchema,
  partySchema,
  piiClassSchema,
  proposalStatusSchema,
  royaltyPeriodStatuses,
  sha256HexSchema,
  shareAmountSchema,
  workKindSchema,
} from '@gigledger/chaincode/model';
import type { AuditScope } from '@gigledger/chaincode/model';
import { createHash } from 'node:crypto';
import { validationCodeNames } from '@gigledger/gateway';
import { sql, SqliteAdapter, type RawBuilder, type SqlBool } from 'kysely';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { ApiError } from '../errors/api-error.js';
import { auditIndexCheckpointName, indexedHeight } from './block-indexer.js';
import { concernedOrganisations } from './index-nodes.js';
import { wholeNumber } from '../http/whole-number.js';
import { indexVisibility, type IndexedKind, type VisibilityOptions } from './index-visibility.js';

/*
 * Listings of the audit index: filters, a sort, keyset (cursor) pagination and a total,
 * each answer stamped with the indexed height it reflects. The visible rows come from
 * `indexVisibility`, the one place that rule lives.
 */

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });
/** A block number: a JSON number, or decimal digits in a path or query string (never `1e3` or `0x10`). */
export const blockNumberSchema = wholeNumber(z.number().min(0).max(Number.MAX_SAFE_INTEGER));
const blockNumber = blockNumberSchema;

/** Page size and position; `after` is the `endCursor` of the previous page. */
export const pageSchema = z.strictObject({
  first: wholeNumber(z.number().min(1, 'must be 1 to 100').max(100, 'must be 1 to 100')).default(20),
  after: z.string().max(512).optional(),
  direction: z.enum(['ASC', 'DESC']).default('ASC'),
});
export type Page = z.output<typeof pageSchema>;

const timeRange = { from: instant.optional(), to: instant.optional() };
const amountRange = {
  /** Minor units, inclusive. */
  minAmount: shareAmountSchema.optional(),
  maxAmount: shareAmountSchema.optional(),
};

/** An organisation named in a filter: an MSP id, so a filter naming none is refused, not answered empty. */
const organisation = mspIdSchema;

export const agreementFilterSchema = z.strictObject({
  /** Agreements naming this person as client, freelancer or evaluator. */
  party: partySchema.optional(),
  /** Agreements with either side in this organisation (MSP id). */
  org: organisation.optional(),
  status: agreementStatusSchema.optional(),
  /** Agreements with a milestone in this currency. */
  currency: currencySchema.optional(),
  /** Creation time range. */
  ...timeRange,
  sort: z.enum(['CREATED_AT', 'UPDATED_AT', 'AGREEMENT_ID']).default('CREATED_AT'),
});
export const milestoneFilterSchema = z.strictObject({
  party: partySchema.optional(),
  org: organisation.optional(),
  agreementId: z.string().min(1).max(64).optional(),
  status: milestoneStatusSchema.optional(),
  currency: currencySchema.optional(),
  ...amountRange,
  /** Due date range. */
  ...timeRange,
  sort: z.enum(['DUE_DATE', 'AMOUNT', 'UPDATED_AT']).default('DUE_DATE'),
});
export const payoutFilterSchema = z.strictObject({
  /** Payouts of agreements naming this person, or paid to them. */
  party: partySchema.optional(),
  org: organisation.optional(),
  /** Payouts the settlement service of this organisation (MSP id) sends. */
  settlingOrganisation: organisation.optional(),
  agreementId: z.string().min(1).max(64).optional(),
  kind: instructionKindSchema.optional(),
  status: instructionStatusSchema.optional(),
  currency: currencySchema.optional(),
  ...amountRange,
  /** Request time range. */
  ...timeRange,
  sort: z.enum(['REQUESTED_AT', 'AMOUNT']).default('REQUESTED_AT'),
});
export const credentialFilterSchema = z.strictObject({
  subject: partySchema.optional(),
  issuer: partySchema.optional(),
  /** Credentials whose issuer or subject is in this organisation. */
  org: organisation.optional(),
  type: credentialTypeSchema.optional(),
  status: credentialStatusSchema.optional(),
  /** Issuance (transaction) time range. */
  ...timeRange,
  sort: z.enum(['ISSUED_AT', 'UPDATED_AT']).default('ISSUED_AT'),
});
export const reputationFilterSchema = z.strictObject({
  subject: partySchema.optional(),
  kind: z.enum(['completion', 'attestation']).optional(),
  agreementId: z.string().min(1).max(64).optional(),
  ...timeRange,
  sort: z.enum(['RECORDED_AT']).default('RECORDED_AT'),
});
export const transactionFilterSchema = z.strictObject({
  transactionId: z.string().min(1).max(128).optional(),
  /** Creator organisation (MSP id). */
  org: organisation.optional(),
  /** `VALID`, `INVALID` (any other code) or one code's name, e.g. `MVCC_READ_CONFLICT`. */
  validation: z
    .string()
    .refine(
      (value) => value === 'INVALID' || validationCodeNames.includes(value),
      'must be VALID, INVALID or a Fabric validation code name such as MVCC_READ_CONFLICT',
    )
    .optional(),
  /** The invoked function, e.g. `agreement:draftAgreement`. */
  function: z.string().min(1).max(128).optional(),
  fromBlock: blockNumber.optional(),
  toBlock: blockNumber.optional(),
  ...timeRange,
  sort: z.enum(['BLOCK']).default('BLOCK'),
});
const recordId = z.string().min(1).max(128);

export const proposalFilterSchema = z.strictObject({
  /** Stored status: open, vetoed or executed. */
  status: proposalStatusSchema.optional(),
  /** The proposer's organisation (MSP id). */
  org: organisation.optional(),
  /** Proposals holding an action of this type, e.g. `registerIssuer`. */
  actionType: z.enum(governanceActionTypes as [string, ...string[]]).optional(),
  /** Proposal time range. */
  ...timeRange,
  sort: z.enum(['PROPOSED_AT', 'UPDATED_AT', 'PROPOSAL_ID']).default('PROPOSED_AT'),
});
export const workFilterSchema = z.strictObject({
  /** Works this person owns a share of now. */
  owner: partySchema.optional(),
  /** Works with an owner in this organisation now. */
  org: organisation.optional(),
  kind: workKindSchema.optional(),
  contentHash: sha256HexSchema.optional(),
  /** Registration (priority) time range. */
  ...timeRange,
  sort: z.enum(['REGISTERED_AT', 'UPDATED_AT', 'WORK_ID']).default('REGISTERED_AT'),
});
export const ownershipChangeFilterSchema = z.strictObject({
  workId: recordId.optional(),
  /** Changes proposed to, or proposing, an owner in this organisation. */
  org: organisation.optional(),
  status: ownershipChangeStatusSchema.optional(),
  /** Proposal time range. */
  ...timeRange,
  sort: z.enum(['PROPOSED_AT']).default('PROPOSED_AT'),
});
export const licenceOfferFilterSchema = z.strictObject({
  workId: recordId.optional(),
  /** Offers of works with an owner (as the offer recorded them) in this organisation. */
  licensorOrg: organisation.optional(),
  /** Offers naming a licensee in this organisation. */
  licenseeOrg: organisation.optional(),
  status: offerStatusSchema.optional(),
  currency: currencySchema.optional(),
  /** The one-off fee, minor units, inclusive. */
  ...amountRange,
  /** Offer time range. */
  ...timeRange,
  sort: z.enum(['OFFERED_AT', 'FEE']).default('OFFERED_AT'),
});
export const licenceFilterSchema = z.strictObject({
  workId: recordId.optional(),
  licensee: partySchema.optional(),
  /** Licences of works with an owner in this organisation now. */
  licensorOrg: organisation.optional(),
  licenseeOrg: organisation.optional(),
  status: grantStatusSchema.optional(),
  currency: currencySchema.optional(),
  /** The one-off fee, minor units, inclusive. */
  ...amountRange,
  /** Acceptance time range. */
  ...timeRange,
  sort: z.enum(['ACCEPTED_AT', 'FEE']).default('ACCEPTED_AT'),
});
export const royaltyPeriodFilterSchema = z.strictObject({
  /** The licence (grant id). */
  grantId: recordId.optional(),
  workId: recordId.optional(),
  licensorOrg: organisation.optional(),
  licenseeOrg: organisation.optional(),
  status: z.enum(royaltyPeriodStatuses).optional(),
  currency: currencySchema.optional(),
  /** The royalty (or fee) owed, minor units, inclusive. */
  ...amountRange,
  /** Closing time range. */
  ...timeRange,
  sort: z.enum(['CLOSED_AT', 'AMOUNT']).default('CLOSED_AT'),
});
export const provenanceRecordFilterSchema = z.strictObject({
  kind: z.enum(['dataset', 'model']).optional(),
  controller: partySchema.optional(),
  /** The controller's organisation. */
  org: organisation.optional(),
  piiClass: piiClassSchema.optional(),
  legalBasis: legalBasisSchema.optional(),
  contentSha256: sha256HexSchema.optional(),
  /** Registration time range. */
  ...timeRange,
  sort: z.enum(['REGISTERED_AT', 'RECORD_ID']).default('REGISTERED_AT'),
});
export const lineageFilterSchema = z.strictObject({
  parentId: recordId.optional(),
  childId: recordId.optional(),
  relation: z.enum(['derivedFrom', 'trainedOn']).optional(),
  sort: z.enum(['PARENT']).default('PARENT'),
});
export const datasetAccessGrantFilterSchema = z.strictObject({
  datasetId: recordId.optional(),
  grantee: partySchema.optional(),
  /** Grants whose dataset's controller or grantee is in this organisation. */
  org: organisation.optional(),
  status: z.enum(['active', 'revoked']).optional(),
  /** Grant time range. */
  ...timeRange,
  sort: z.enum(['GRANTED_AT']).default('GRANTED_AT'),
});
export const datasetAccessLogFilterSchema = z.strictObject({
  datasetId: recordId.optional(),
  grantId: recordId.optional(),
  accessor: partySchema.optional(),
  /** Uses whose dataset's controller or accessor is in this organisation. */
  org: organisation.optional(),
  scope: accessScopeSchema.optional(),
  /** Access time range. */
  ...timeRange,
  sort: z.enum(['AT']).default('AT'),
});
export const erasureReceiptFilterSchema = z.strictObject({
  targetKind: z.enum(['agreementTerms', 'datasetSubjectData']).optional(),
  /** The agreement's or dataset's id. */
  targetId: recordId.optional(),
  /** Receipts concerning this organisation: requester, data subject or controller. */
  org: organisation.optional(),
  /** Erasure time range. */
  ...timeRange,
  sort: z.enum(['AT']).default('AT'),
});

export const blockFilterSchema = z.strictObject({
  fromBlock: blockNumber.optional(),
  toBlock: blockNumber.optional(),
  sort: z.enum(['NUMBER']).default('NUMBER'),
});

/**
 * Refuses a range given the wrong way round (`to` before `from`, `maxAmount` below
 * `minAmount`, `toBlock` below `fromBlock`), naming the upper bound: such a filter can
 * only be a mistake, and an empty answer would hide it.
 */
export function orderedRanges(parsed: unknown, ctx: z.RefinementCtx): void {
  if (typeof parsed !== 'object' || parsed === null) return;
  const filter = parsed as Record<string, unknown>;
  const reversed = (low: string, high: string, isReversed: (a: unknown, b: unknown) => boolean) => {
    const a = filter[low];
    const b = filter[high];
    if (a === undefined || b === undefined || a === null || b === null) return;
    if (isReversed(a, b)) {
      ctx.addIssue({ code: 'custom', message: `must not be below ${low}`, path: [high] });
    }
  };
  // Runs even when a bound failed its own check; such a bound has its issue already.
  const wholeNumber = /^[0-9]+$/;
  reversed('from', 'to', (a: unknown, b: unknown) => Date.parse(String(b)) < Date.parse(String(a)));
  reversed(
    'minAmount',
    'maxAmount',
    (a: unknown, b: unknown) =>
      wholeNumber.test(String(a)) && wholeNumber.test(String(b)) && BigInt(String(b)) < BigInt(String(a)),
  );
  reversed('fromBlock', 'toBlock', (a: unknown, b: unknown) => Number(b) < Number(a));
}

export type AgreementFilter = z.output<typeof agreementFilterSchema>;
export type MilestoneFilter = z.output<typeof milestoneFilterSchema>;
export type PayoutFilter = z.output<typeof payoutFilterSchema>;
export type CredentialFilter = z.output<typeof credentialFilterSchema>;
export type ReputationFilter = z.output<typeof reputationFilterSchema>;
export type TransactionFilter = z.output<typeof transactionFilterSchema>;
export type BlockFilter = z.output<typeof blockFilterSchema>;
export type ProposalFilter = z.output<typeof proposalFilterSchema>;
export type WorkFilter = z.output<typeof workFilterSchema>;
export type OwnershipChangeFilter = z.output<typeof ownershipChangeFilterSchema>;
export type LicenceOfferFilter = z.output<typeof licenceOfferFilterSchema>;
export type LicenceFilter = z.output<typeof licenceFilterSchema>;
export type RoyaltyPeriodFilter = z.output<typeof royaltyPeriodFilterSchema>;
export type ProvenanceRecordFilter = z.output<typeof provenanceRecordFilterSchema>;
export type LineageFilter = z.output<typeof lineageFilterSchema>;
export type DatasetAccessGrantFilter = z.output<typeof datasetAccessGrantFilterSchema>;
export type DatasetAccessLogFilter = z.output<typeof datasetAccessLogFilterSchema>;
export type ErasureReceiptFilter = z.output<typeof erasureReceiptFilterSchema>;

/** A Relay connection as both GraphQL and REST answer it. */
export interface Connection<Node> {
  readonly indexedHeight: string;
  readonly edges: readonly { readonly node: Node; readonly cursor: string }[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
  /** Counted only when asked for (GraphQL calls it when the field is selected). */
  readonly totalCount: () => Promise<number>;
}

type Row = Record<string, unknown>;

interface Listing {
  readonly table:
    | 'ix_agreements'
    | 'ix_milestones'
    | 'ix_payouts'
    | 'ix_credentials'
    | 'ix_reputation'
    | 'ix_transactions'
    | 'ix_blocks'
    | 'ix_proposals'
    | 'ix_works'
    | 'ix_ownership_changes'
    | 'ix_licence_offers'
    | 'ix_licences'
    | 'ix_royalty_periods'
    | 'ix_provenance_records'
    | 'ix_lineage_edges'
    | 'ix_dataset_access_grants'
    | 'ix_dataset_access_log'
    | 'ix_erasure_receipts';
  readonly kind: IndexedKind;
  /** Sort name → column, and whether the column is an integer. */
  readonly sorts: Record<string, { column: string; integer: boolean }>;
  /** Unique columns after the sort column, so every row has one position. */
  readonly tiebreak: readonly string[];
  /**
   * Organisations the rows concern beyond their columns and record, which the visibility
   * rule credits: the owners now of the work a row names, the creators of a block's
   * transactions, or the controllers of the records a lineage edge joins. Set on each
   * answered row as `concernedOrganisations` for the read log.
   */
  readonly concerns?: keyof typeof concernSources;
}

const listings = {
  agreements: {
    table: 'ix_agreements',
    kind: 'agreements',
    sorts: {
      CREATED_AT: { column: 'created_at', integer: false },
      UPDATED_AT: { column: 'updated_at', integer: false },
      AGREEMENT_ID: { column: 'agreement_id', integer: false },
    },
    tiebreak: ['agreement_id'],
  },
  milestones: {
    table: 'ix_milestones',
    kind: 'milestones',
    sorts: {
      DUE_DATE: { column: 'due_date', integer: false },
      AMOUNT: { column: 'amount_minor', integer: true },
      UPDATED_AT: { column: 'updated_at', integer: false },
    },
    tiebreak: ['agreement_id', 'milestone_id'],
  },
  payouts: {
    table: 'ix_payouts',
    kind: 'payouts',
    sorts: {
      REQUESTED_AT: { column: 'requested_at', integer: false },
      AMOUNT: { column: 'amount_minor', integer: true },
    },
    tiebreak: ['instruction_id'],
  },
  credentials: {
    table: 'ix_credentials',
    kind: 'credentials',
    sorts: {
      ISSUED_AT: { column: 'issued_at', integer: false },
      UPDATED_AT: { column: 'updated_at', integer: false },
    },
    tiebreak: ['credential_id'],
  },
  reputation: {
    table: 'ix_reputation',
    kind: 'reputation',
    sorts: { RECORDED_AT: { column: 'recorded_at', integer: false } },
    tiebreak: ['record_key'],
  },
  transactions: {
    table: 'ix_transactions',
    kind: 'transactions',
    sorts: { BLOCK: { column: 'block_number', integer: true } },
    tiebreak: ['position'],
  },
  blocks: {
    table: 'ix_blocks',
    kind: 'ledger',
    sorts: { NUMBER: { column: 'block_number', integer: true } },
    tiebreak: [],
    concerns: 'blockCreators',
  },
  proposals: {
    table: 'ix_proposals',
    kind: 'proposals',
    sorts: {
      PROPOSED_AT: { column: 'proposed_at', integer: false },
      UPDATED_AT: { column: 'updated_at', integer: false },
      PROPOSAL_ID: { column: 'proposal_id', integer: false },
    },
    tiebreak: ['proposal_id'],
  },
  works: {
    table: 'ix_works',
    kind: 'works',
    sorts: {
      REGISTERED_AT: { column: 'registered_at', integer: false },
      UPDATED_AT: { column: 'updated_at', integer: false },
      WORK_ID: { column: 'work_id', integer: false },
    },
    tiebreak: ['work_id'],
  },
  ownershipChanges: {
    table: 'ix_ownership_changes',
    kind: 'ownershipChanges',
    sorts: { PROPOSED_AT: { column: 'proposed_at', integer: false } },
    tiebreak: ['work_id', 'change_id'],
    concerns: 'workOwners',
  },
  licenceOffers: {
    table: 'ix_licence_offers',
    kind: 'licenceOffers',
    sorts: {
      OFFERED_AT: { column: 'offered_at', integer: false },
      FEE: { column: 'fee_minor', integer: true },
    },
    tiebreak: ['offer_id'],
  },
  licences: {
    table: 'ix_licences',
    kind: 'licences',
    sorts: {
      ACCEPTED_AT: { column: 'accepted_at', integer: false },
      FEE: { column: 'fee_minor', integer: true },
    },
    tiebreak: ['grant_id'],
    concerns: 'workOwners',
  },
  royaltyPeriods: {
    table: 'ix_royalty_periods',
    kind: 'royaltyPeriods',
    sorts: {
      CLOSED_AT: { column: 'closed_at', integer: false },
      AMOUNT: { column: 'royalty_minor', integer: true },
    },
    tiebreak: ['grant_id', 'period_id'],
    concerns: 'workOwners',
  },
  provenanceRecords: {
    table: 'ix_provenance_records',
    kind: 'provenanceRecords',
    sorts: {
      REGISTERED_AT: { column: 'registered_at', integer: false },
      RECORD_ID: { column: 'record_id', integer: false },
    },
    tiebreak: ['record_id'],
  },
  lineage: {
    table: 'ix_lineage_edges',
    kind: 'lineage',
    sorts: { PARENT: { column: 'parent_id', integer: false } },
    tiebreak: ['child_id'],
    concerns: 'recordControllers',
  },
  datasetAccessGrants: {
    table: 'ix_dataset_access_grants',
    kind: 'datasetAccessGrants',
    sorts: { GRANTED_AT: { column: 'granted_at', integer: false } },
    tiebreak: ['grant_id'],
  },
  datasetAccessLog: {
    table: 'ix_dataset_access_log',
    kind: 'datasetAccessLog',
    sorts: { AT: { column: 'at', integer: false } },
    tiebreak: ['dataset_id', 'grant_id', 'access_id'],
  },
  erasureReceipts: {
    table: 'ix_erasure_receipts',
    kind: 'erasureReceipts',
    sorts: { AT: { column: 'at', integer: false } },
    tiebreak: ['receipt_id'],
  },
} as const satisfies Record<string, Listing>;

const ref = (column: string) => sql.ref(column);
const all = (conditions: readonly RawBuilder<SqlBool>[]): RawBuilder<SqlBool> =>
  conditions.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`${sql.join(conditions, sql` and `)}`;
const eq = (column: string, value: unknown) => sql<SqlBool>`${ref(column)} = ${value}`;

function partyIs(party: { mspId: string; userId: string }, msp: string, user: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${ref(msp)} = ${party.mspId} and ${ref(user)} = ${party.userId})`;
}

/** The most key columns of any listing: its sort column and its tiebreaks. */
const mostKeyColumns = Math.max(...Object.values(listings).map((listing) => 1 + listing.tiebreak.length));

// The listing's tag, then its key values.
const cursorSchema = z
  .array(z.union([z.string().max(256), z.number()]))
  .min(1)
  .max(1 + mostKeyColumns);

/**
 * A cursor names its listing, sort, direction and filter before the row's key values, so
 * a cursor of another listing, order or filter is refused rather than silently paging
 * from nowhere (a cursor read backwards, or past the last row of a narrower filter,
 * would answer an empty page as if the listing ended).
 */
function encodeCursor(listing: string, values: readonly unknown[]): string {
  return Buffer.from(
    JSON.stringify([listing, ...values.map((value) => (typeof value === 'bigint' ? value.toString() : value))]),
  ).toString('base64url');
}

/** @throws ApiError 422 naming the `after` field when the cursor is not one this index gave. */
function decodeCursor(cursor: string, field: string): unknown[] {
  const refused = () => new ApiError(422, 'VALIDATION_FAILED', `${field}: is not a cursor this index gave`, field);
  const bytes = Buffer.from(cursor, 'base64url');
  // Node's decoder skips characters outside the alphabet; only the exact encoding this index writes is one of its cursors.
  if (bytes.toString('base64url') !== cursor) throw refused();
  try {
    return cursorSchema.parse(JSON.parse(bytes.toString('utf8')));
  } catch {
    throw refused();
  }
}

/** What a key column holds: text, an ISO 8601 instant, or an integer of 64 or 32 bits. */
type KeyType = 'text' | 'instant' | 'int64' | 'int32';

/**
 * Key columns, other than integer sorts (64 bits), that hold integers or instants (every
 * one written from a transaction's timestamp or a record's validated ISO 8601 instant,
 * none nullable); every other key column holds text.
 */
const typedKeyColumns: ReadonlyMap<string, KeyType> = new Map([
  ['position', 'int32'],
  ...[
    'created_at',
    'updated_at',
    'due_date',
    'requested_at',
    'issued_at',
    'recorded_at',
    'proposed_at',
    'registered_at',
    'offered_at',
    'accepted_at',
    'closed_at',
    'granted_at',
    'at',
  ].map((column) => [column, 'instant'] as const),
]);

/** As the chaincode validates instants (`isoInstantSchema`): a real date and time, UTC. */
const instantKey = z.iso.datetime({ offset: false });

// Every integer key column counts up from 0: amounts and fees in minor units, block
// numbers, positions in a block.
const integerRanges = {
  int64: { min: 0n, max: 2n ** 63n - 1n },
  int32: { min: 0n, max: 2n ** 31n - 1n },
} as const;

/**
 * A cursor's key value as the column compares it, or undefined when it is not of the
 * column's type: SQL compares a number with text without complaint (SQLite orders every
 * number before every text), so a number where a text sort value belongs would seek from
 * the first row and page the listing again from its start; an integer beyond the
 * column's range would fail the query on PostgreSQL.
 */
function keyValue(value: unknown, type: KeyType): unknown {
  if (type === 'text') return typeof value === 'string' ? value : undefined;
  // An impossible date (month 13, hour 99) sorts among real ones as text and would seek
  // from a place no row holds, answering a page as if the listing went on from there.
  if (type === 'instant') return instantKey.safeParse(value).success ? value : undefined;
  let integer: bigint;
  if (typeof value === 'number' && Number.isSafeInteger(value)) integer = BigInt(value);
  // Only the decimal form the index writes (no sign, no leading zeros): another spelling of
  // the same number is no cursor it gave.
  else if (typeof value === 'string' && /^(?:0|[1-9]\d{0,18})$/.test(value)) integer = BigInt(value);
  else return undefined;
  const range = integerRanges[type];
  return integer >= range.min && integer <= range.max ? integer : undefined;
}

/**
 * A short digest of a listing's filter conditions (SQL and values, without the caller's
 * visibility, which may change between pages as grants do), carried in its cursors.
 */
function filterDigest(db: Db, conditions: readonly RawBuilder<SqlBool>[]): string {
  const compiled = all(conditions).compile(db);
  return createHash('sha256').update(statementKey(compiled.sql, compiled.parameters)).digest('base64url').slice(0, 16);
}

/** Totals kept, the least recently asked for dropped first. */
export const keptTotals = 2_000;

/** A total as counted, with the indexed height it was counted at. */
interface CountedTotal {
  readonly height: bigint;
  readonly total: number;
}

/**
 * Totals by their count statement (SQL text and parameters, which hold the filter and the
 * caller's whole visibility: parties and grants). The index changes only by whole blocks,
 * each committed with its new height, so a total counted at a height stays exact for that
 * height; an entry counted at another height is counted again. Counting thousands of
 * visible rows of a range was the heaviest part of a listing (see bench/README.md).
 */
export type TotalsCache = LRUCache<string, CountedTotal>;

/** A cache of totals for one database; see {@link TotalsCache}. */
export function totalsCache(capacity = keptTotals): TotalsCache {
  return new LRUCache<string, CountedTotal>({ max: capacity });
}

const statementKey = (text: string, parameters: readonly unknown[]): string =>
  `${text}\u0000${JSON.stringify(parameters, (_key, value: unknown) => (typeof value === 'bigint' ? ['bigint', value.toString()] : value))}`;

/**
 * One page of a listing: the visible rows matching `conditions`, in the chosen order,
 * after the cursor. `pageField` is where the caller sent the page's bounds, for naming
 * a refused cursor: `query` over REST, '' for GraphQL's top-level arguments.
 */
async function pageOf(
  db: Db,
  totals: TotalsCache,
  visibility: (kind: IndexedKind) => Promise<RawBuilder<SqlBool>>,
  listing: Listing,
  conditions: readonly RawBuilder<SqlBool>[],
  sort: string,
  page: Page,
  pageField: string,
): Promise<Connection<Row>> {
  const visible = await visibility(listing.kind);
  const order = listing.sorts[sort];
  if (order === undefined) throw new Error(`no sort ${sort} on ${listing.table}`);
  const keyColumns = [order.column, ...listing.tiebreak];
  const where = all([visible, ...conditions]);
  const direction = page.direction === 'ASC' ? sql`asc` : sql`desc`;
  let seek: RawBuilder<SqlBool> = sql<SqlBool>`1 = 1`;
  const cursorListing = `${listing.table}/${sort}/${page.direction}/${filterDigest(db, conditions)}`;
  if (page.after !== undefined) {
    // REST sends the cursor in the query string (`query.after`); GraphQL as an argument of its own (`after`).
    const afterField = pageField === '' ? 'after' : `${pageField}.after`;
    const [tag, ...values] = decodeCursor(page.after, afterField);
    if (
      typeof tag === 'string' &&
      tag !== cursorListing &&
      tag.startsWith(`${listing.table}/${sort}/${page.direction}/`)
    ) {
      throw new ApiError(
        422,
        'VALIDATION_FAILED',
        `${afterField}: was given for other filter values; send the filter the cursor's page was asked with, or start again without ${afterField}`,
        afterField,
      );
    }
    const typed = values.map((value, index) =>
      keyValue(
        value,
        index === 0 && order.integer ? 'int64' : (typedKeyColumns.get(keyColumns[index] ?? '') ?? 'text'),
      ),
    );
    if (tag !== cursorListing || values.length !== keyColumns.length || typed.includes(undefined)) {
      throw new ApiError(
        422,
        'VALIDATION_FAILED',
        `${afterField}: is not a cursor of this listing, sort and direction`,
        afterField,
      );
    }
    const comparison = page.direction === 'ASC' ? sql`>` : sql`<`;
    seek = sql<SqlBool>`(${sql.join(keyColumns.map(ref))}) ${comparison} (${sql.join(typed)})`;
  }
  const height = await indexedHeight(db);
  const rows = (await db
    .selectFrom(listing.table)
    .selectAll()
    .where(all([where, seek]))
    .orderBy(sql`${sql.join(keyColumns.map((column) => sql`${ref(column)} ${direction}`))}`)
    .limit(page.first + 1)
    .execute()) as Row[];
  const more = rows.length > page.first;
  const shown = more ? rows.slice(0, page.first) : rows;
  if (listing.concerns !== undefined) await markConcerned(db, listing.concerns, shown);
  const edges = shown.map((row) => ({
    node: row,
    cursor: encodeCursor(
      cursorListing,
      keyColumns.map((column) => row[column]),
    ),
  }));
  return {
    indexedHeight: height.toString(),
    edges,
    pageInfo: {
      hasNextPage: more,
      hasPreviousPage: page.after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: async () => {
      // The height is read by the counting statement itself, so the pair is one snapshot.
      const counting = db
        .selectFrom(listing.table)
        .select([
          sql<number | string>`count(*)`.as('total'),
          sql<
            number | string | null
          >`(select block_number from checkpoints where name = ${auditIndexCheckpointName})`.as('height'),
        ])
        .where(where)
        .compile();
      const key = statementKey(counting.sql, counting.parameters);
      const kept = totals.get(key);
      if (kept !== undefined && kept.height === height) return kept.total;
      const [counted] = (await db.executeQuery(counting)).rows;
      const total = Number(counted?.total ?? 0);
      totals.set(key, { height: counted?.height == null ? 0n : BigInt(counted.height), total });
      return total;
    },
  };
}

/** Where a listing's rows find the organisations they concern: a table keyed by the values of the rows' `rowKeys` columns. */
const concernSources = {
  workOwners: { table: 'ix_work_owners', key: 'work_id', rowKeys: ['work_id'], organisation: 'owner_msp' },
  blockCreators: {
    table: 'ix_transactions',
    key: 'block_number',
    rowKeys: ['block_number'],
    organisation: 'creator_msp',
  },
  // A lineage edge joins two provenance records; each one's controller is concerned.
  recordControllers: {
    table: 'ix_provenance_records',
    key: 'record_id',
    rowKeys: ['parent_id', 'child_id'],
    organisation: 'controller_msp',
  },
} as const;

/**
 * Sets `concernedOrganisations` on each row: the owners now of the work it names, the
 * creators of its block's transactions, or the controllers of the records a lineage edge
 * joins, read for the whole page in one statement.
 */
async function markConcerned(db: Db, concerns: keyof typeof concernSources, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const source = concernSources[concerns];
  const keys = [...new Set(rows.flatMap((row) => source.rowKeys.map((column) => row[column])))];
  const { rows: pairs } = await sql<{ key: unknown; organisation: string }>`select ${ref(source.key)} as key, ${ref(
    source.organisation,
  )} as organisation from ${sql.table(source.table)} where ${ref(source.key)} in (${sql.join(keys)})`.execute(db);
  const byKey = new Map<string, Set<string>>();
  for (const { key, organisation } of pairs) {
    const organisations = byKey.get(String(key)) ?? new Set<string>();
    organisations.add(organisation);
    byKey.set(String(key), organisations);
  }
  for (const row of rows) {
    (row as { [concernedOrganisations]?: readonly string[] })[concernedOrganisations] = [
      ...new Set(source.rowKeys.flatMap((column) => [...(byKey.get(String(row[column])) ?? [])])),
    ];
  }
}

function timeBetween(column: string, filter: { from?: string | undefined; to?: string | undefined }) {
  // Ledger times are UTC ISO strings of one length, so they compare as text.
  const iso = (value: string) => new Date(value).toISOString();
  return [
    ...(filter.from === undefined ? [] : [sql<SqlBool>`${ref(column)} >= ${iso(filter.from)}`]),
    ...(filter.to === undefined ? [] : [sql<SqlBool>`${ref(column)} < ${iso(filter.to)}`]),
  ];
}

function amountBetween(filter: { minAmount?: string | undefined; maxAmount?: string | undefined }) {
  return [
    ...(filter.minAmount === undefined ? [] : [sql<SqlBool>`${ref('amount_minor')} >= ${BigInt(filter.minAmount)}`]),
    ...(filter.maxAmount === undefined ? [] : [sql<SqlBool>`${ref('amount_minor')} <= ${BigInt(filter.maxAmount)}`]),
  ];
}

/** Like `amountBetween`, over another integer column of minor units. */
function minorBetween(column: string, filter: { minAmount?: string | undefined; maxAmount?: string | undefined }) {
  return [
    ...(filter.minAmount === undefined ? [] : [sql<SqlBool>`${ref(column)} >= ${BigInt(filter.minAmount)}`]),
    ...(filter.maxAmount === undefined ? [] : [sql<SqlBool>`${ref(column)} <= ${BigInt(filter.maxAmount)}`]),
  ];
}

/** Sorted by fee, a listing holds the licences that charge one: a row without a fee has no place in that order. */
const feeSorted = (sort: string) => (sort === 'FEE' ? [sql<SqlBool>`${ref('fee_minor')} is not null`] : []);

/** Rows of `table` naming a work whose owners now include an organisation. */
const ownedByOrg = (table: string, org: string) =>
  sql<SqlBool>`exists (select 1 from ix_work_owners o where o.work_id = ${sql.ref(`${table}.work_id`)} and o.owner_msp = ${org})`;

const when = <Value>(value: Value | undefined, condition: (value: Value) => RawBuilder<SqlBool>) =>
  value === undefined ? [] : [condition(value)];

function agreementParty(party: { mspId: string; userId: string }) {
  return sql<SqlBool>`(${partyIs(party, 'client_msp', 'client_user')} or ${partyIs(
    party,
    'freelancer_msp',
    'freelancer_user',
  )} or ${partyIs(party, 'evaluator_msp', 'evaluator_user')})`;
}

const eitherOrg = (org: string) => sql<SqlBool>`(${eq('client_msp', org)} or ${eq('freelancer_msp', org)})`;

/** The live audit grants of an auditor, `undefined` for roles no grant limits (see `AuditScopes`). */
export type AuditScopeLookup = (principal: Principal) => Promise<AuditScope | undefined>;

/** Reads of the audit index, each filtered by the caller's visibility. */
export class IndexQueries {
  #visibilityOptions: VisibilityOptions | undefined;

  /**
   * @param scopeOf the auditor's grants, from the ledger; without it (tools that read
   *   the index as an operator) auditors see what their role alone allows.
   */
  constructor(
    private readonly db: Db,
    private readonly scopeOf?: AuditScopeLookup,
    private readonly totals: TotalsCache = totalsCache(),
  ) {}

  /**
   * The caller's visibility of `kind`, with an auditor's grants.
   *
   * @throws as `indexVisibility`; Error when the ledger cannot say what an auditor's grants are.
   */
  async visibility(principal: Principal | undefined, kind: IndexedKind): Promise<RawBuilder<SqlBool>> {
    const scope = principal === undefined || this.scopeOf === undefined ? undefined : await this.scopeOf(principal);
    // Asked on first use: the schema is also built without a database, to print it.
    this.#visibilityOptions ??= { sqlite: this.db.getExecutor().adapter instanceof SqliteAdapter };
    return indexVisibility(principal, kind, scope, this.#visibilityOptions);
  }

  height(): Promise<bigint> {
    return indexedHeight(this.db);
  }

  agreements(principal: Principal | undefined, filter: AgreementFilter, page: Page, field = '') {
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listings.agreements,
      [
        ...(filter.party === undefined ? [] : [agreementParty(filter.party)]),
        ...(filter.org === undefined ? [] : [eitherOrg(filter.org)]),
        ...(filter.status === undefined ? [] : [eq('status', filter.status)]),
        ...(filter.currency === undefined
          ? []
          : [
              sql<SqlBool>`exists (select 1 from ix_milestones m where m.agreement_id = ix_agreements.agreement_id and m.currency = ${filter.currency})`,
            ]),
        ...timeBetween('created_at', filter),
      ],
      filter.sort,
      page,
      field,
    );
  }

  milestones(principal: Principal | undefined, filter: MilestoneFilter, page: Page, field = '') {
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listings.milestones,
      [
        ...(filter.party === undefined ? [] : [agreementParty(filter.party)]),
        ...(filter.org === undefined ? [] : [eitherOrg(filter.org)]),
        ...(filter.agreementId === undefined ? [] : [eq('agreement_id', filter.agreementId)]),
        ...(filter.status === undefined ? [] : [eq('status', filter.status)]),
        ...(filter.currency === undefined ? [] : [eq('currency', filter.currency)]),
        ...amountBetween(filter),
        ...timeBetween('due_date', filter),
      ],
      filter.sort,
      page,
      field,
    );
  }

  payouts(principal: Principal | undefined, filter: PayoutFilter, page: Page, field = '') {
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listings.payouts,
      [
        ...(filter.party === undefined
          ? []
          : [sql<SqlBool>`(${agreementParty(filter.party)} or ${partyIs(filter.party, 'payee_msp', 'payee_user')})`]),
        ...(filter.org === undefined ? [] : [eitherOrg(filter.org)]),
        ...(filter.settlingOrganisation === undefined
          ? []
          : [eq('settling_organisation', filter.settlingOrganisation)]),
        ...(filter.agreementId === undefined ? [] : [eq('agreement_id', filter.agreementId)]),
        ...(filter.kind === undefined ? [] : [eq('kind', filter.kind)]),
        ...(filter.status === undefined ? [] : [eq('status', filter.status)]),
        ...(filter.currency === undefined ? [] : [eq('currency', filter.currency)]),
        ...amountBetween(filter),
        ...timeBetween('requested_at', filter),
      ],
      filter.sort,
      page,
      field,
    );
  }

  credentials(principal: Principal | undefined, filter: CredentialFilter, page: Page, field = '') {
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listings.credentials,
      [
        ...(filter.subject === undefined ? [] : [partyIs(filter.subject, 'subject_msp', 'subject_user')]),
        ...(filter.issuer === undefined ? [] : [partyIs(filter.issuer, 'issuer_msp', 'issuer_user')]),
        ...(filter.org === undefined
          ? []
          : [sql<SqlBool>`(${eq('issuer_msp', filter.org)} or ${eq('subject_msp', filter.org)})`]),
        ...(filter.type === undefined ? [] : [eq('type', filter.type)]),
        ...(filter.status === undefined ? [] : [eq('status', filter.status)]),
        ...timeBetween('issued_at', filter),
      ],
      filter.sort,
      page,
      field,
    );
  }

  reputation(principal: Principal | undefined, filter: ReputationFilter, page: Page, field = '') {
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listings.reputation,
      [
        ...(filter.subject === undefined ? [] : [partyIs(filter.subject, 'subject_msp', 'subject_user')]),
        ...(filter.kind === undefined ? [] : [eq('kind', filter.kind)]),
        ...(filter.agreementId === undefined ? [] : [eq('agreement_id', filter.agreementId)]),
        ...timeBetween('recorded_at', filter),
      ],
      filter.sort,
      page,
      field,
    );
  }

  transactions(principal: Principal | undefined, filter: TransactionFilter, page: Page, field = '') {
    const validation =
      filter.validation === undefined
        ? []
        : filter.validation === 'INVALID'
          ? [sql<SqlBool>`${ref('validation_code')} <> 0`]
          : [eq('validation_name', filter.validation)];
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listings.transactions,
      [
        ...(filter.transactionId === undefined ? [] : [eq('tx_id', filter.transactionId)]),
        ...(filter.org === undefined ? [] : [eq('creator_msp', filter.org)]),
        ...validation,
        ...(filter.function === undefined ? [] : [eq('function_name', filter.function)]),
        ...(filter.fromBlock === undefined ? [] : [sql<SqlBool>`${ref('block_number')} >= ${filter.fromBlock}`]),
        ...(filter.toBlock === undefined ? [] : [sql<SqlBool>`${ref('block_number')} <= ${filter.toBlock}`]),
        ...timeBetween('timestamp', filter),
      ],
      filter.sort,
      page,
      field,
    );
  }

  blocks(principal: Principal | undefined, filter: BlockFilter, page: Page, field = '') {
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listings.blocks,
      [
        ...(filter.fromBlock === undefined ? [] : [sql<SqlBool>`${ref('block_number')} >= ${filter.fromBlock}`]),
        ...(filter.toBlock === undefined ? [] : [sql<SqlBool>`${ref('block_number')} <= ${filter.toBlock}`]),
      ],
      filter.sort,
      page,
      field,
    );
  }

  proposals(principal: Principal | undefined, filter: ProposalFilter, page: Page, field = '') {
    return this.#list(principal, listings.proposals, filter.sort, page, field, [
      ...when(filter.status, (status) => eq('status', status)),
      ...when(filter.org, (org) => eq('proposer_msp', org)),
      ...when(filter.actionType, (type) => sql<SqlBool>`(' ' || ${ref('action_types')} || ' ') like ${`% ${type} %`}`),
      ...timeBetween('proposed_at', filter),
    ]);
  }

  /** The votes on one proposal, by organisation; readable by every member, as the proposal. */
  proposalVotes(principal: Principal | undefined, proposalId: string): Promise<Row[]> {
    return this.votesOfProposals(principal, [proposalId]);
  }

  /**
   * The votes on several proposals in one statement, by proposal and organisation.
   *
   * @param limit the most rows to read (a request's records left, plus one to tell that more exist).
   */
  async votesOfProposals(principal: Principal | undefined, proposalIds: readonly string[], limit?: number) {
    await this.visibility(principal, 'proposals');
    if (proposalIds.length === 0) return [];
    let statement = this.db
      .selectFrom('ix_proposal_votes')
      .selectAll()
      .where('proposal_id', 'in', proposalIds)
      .orderBy('proposal_id')
      .orderBy('msp_id');
    if (limit !== undefined) statement = statement.limit(limit);
    return statement.execute();
  }

  works(principal: Principal | undefined, filter: WorkFilter, page: Page, field = '') {
    return this.#list(principal, listings.works, filter.sort, page, field, [
      ...when(
        filter.owner,
        (owner) =>
          sql<SqlBool>`exists (select 1 from ix_work_owners o where o.work_id = ix_works.work_id and o.owner_msp = ${owner.mspId} and o.owner_user = ${owner.userId})`,
      ),
      ...when(filter.org, (org) => ownedByOrg('ix_works', org)),
      ...when(filter.kind, (kind) => eq('kind', kind)),
      ...when(filter.contentHash, (hash) => eq('content_hash', hash)),
      ...timeBetween('registered_at', filter),
    ]);
  }

  ownershipChanges(principal: Principal | undefined, filter: OwnershipChangeFilter, page: Page, field = '') {
    return this.#list(principal, listings.ownershipChanges, filter.sort, page, field, [
      ...when(filter.workId, (workId) => eq('work_id', workId)),
      ...when(
        filter.org,
        (org) =>
          sql<SqlBool>`exists (select 1 from ix_ownership_change_parties p where p.work_id = ix_ownership_changes.work_id and p.change_id = ix_ownership_changes.change_id and p.party_msp = ${org})`,
      ),
      ...when(filter.status, (status) => eq('status', status)),
      ...timeBetween('proposed_at', filter),
    ]);
  }

  licenceOffers(principal: Principal | undefined, filter: LicenceOfferFilter, page: Page, field = '') {
    return this.#list(principal, listings.licenceOffers, filter.sort, page, field, [
      ...when(filter.workId, (workId) => eq('work_id', workId)),
      ...when(
        filter.licensorOrg,
        (org) =>
          sql<SqlBool>`exists (select 1 from ix_licence_offer_owners o where o.offer_id = ix_licence_offers.offer_id and o.owner_msp = ${org})`,
      ),
      ...when(filter.licenseeOrg, (org) => eq('licensee_msp', org)),
      ...when(filter.status, (status) => eq('status', status)),
      ...when(filter.currency, (currency) => eq('currency', currency)),
      ...minorBetween('fee_minor', filter),
      ...feeSorted(filter.sort),
      ...timeBetween('offered_at', filter),
    ]);
  }

  licences(principal: Principal | undefined, filter: LicenceFilter, page: Page, field = '') {
    return this.#list(principal, listings.licences, filter.sort, page, field, [
      ...when(filter.workId, (workId) => eq('work_id', workId)),
      ...when(filter.licensee, (licensee) => partyIs(licensee, 'licensee_msp', 'licensee_user')),
      ...when(filter.licensorOrg, (org) => ownedByOrg('ix_licences', org)),
      ...when(filter.licenseeOrg, (org) => eq('licensee_msp', org)),
      ...when(filter.status, (status) => eq('status', status)),
      ...when(filter.currency, (currency) => eq('currency', currency)),
      ...minorBetween('fee_minor', filter),
      ...feeSorted(filter.sort),
      ...timeBetween('accepted_at', filter),
    ]);
  }

  royaltyPeriods(principal: Principal | undefined, filter: RoyaltyPeriodFilter, page: Page, field = '') {
    return this.#list(principal, listings.royaltyPeriods, filter.sort, page, field, [
      ...when(filter.grantId, (grantId) => eq('grant_id', grantId)),
      ...when(filter.workId, (workId) => eq('work_id', workId)),
      ...when(filter.licensorOrg, (org) => ownedByOrg('ix_royalty_periods', org)),
      ...when(filter.licenseeOrg, (org) => eq('licensee_msp', org)),
      ...when(filter.status, (status) => eq('status', status)),
      ...when(filter.currency, (currency) => eq('currency', currency)),
      ...minorBetween('royalty_minor', filter),
      ...timeBetween('closed_at', filter),
    ]);
  }

  provenanceRecords(principal: Principal | undefined, filter: ProvenanceRecordFilter, page: Page, field = '') {
    return this.#list(principal, listings.provenanceRecords, filter.sort, page, field, [
      ...when(filter.kind, (kind) => eq('kind', kind)),
      ...when(filter.controller, (controller) => partyIs(controller, 'controller_msp', 'controller_user')),
      ...when(filter.org, (org) => eq('controller_msp', org)),
      ...when(filter.piiClass, (piiClass) => eq('pii_class', piiClass)),
      ...when(filter.legalBasis, (legalBasis) => eq('legal_basis', legalBasis)),
      ...when(filter.contentSha256, (hash) => eq('content_sha256', hash)),
      ...timeBetween('registered_at', filter),
    ]);
  }

  lineage(principal: Principal | undefined, filter: LineageFilter, page: Page, field = '') {
    return this.#list(principal, listings.lineage, filter.sort, page, field, [
      ...when(filter.parentId, (parentId) => eq('parent_id', parentId)),
      ...when(filter.childId, (childId) => eq('child_id', childId)),
      ...when(filter.relation, (relation) => eq('relation', relation)),
    ]);
  }

  datasetAccessGrants(principal: Principal | undefined, filter: DatasetAccessGrantFilter, page: Page, field = '') {
    return this.#list(principal, listings.datasetAccessGrants, filter.sort, page, field, [
      ...when(filter.datasetId, (datasetId) => eq('dataset_id', datasetId)),
      ...when(filter.grantee, (grantee) => partyIs(grantee, 'grantee_msp', 'grantee_user')),
      ...when(filter.org, (org) => sql<SqlBool>`(${eq('controller_msp', org)} or ${eq('grantee_msp', org)})`),
      ...when(filter.status, (status) => eq('status', status)),
      ...timeBetween('granted_at', filter),
    ]);
  }

  datasetAccessLog(principal: Principal | undefined, filter: DatasetAccessLogFilter, page: Page, field = '') {
    return this.#list(principal, listings.datasetAccessLog, filter.sort, page, field, [
      ...when(filter.datasetId, (datasetId) => eq('dataset_id', datasetId)),
      ...when(filter.grantId, (grantId) => eq('grant_id', grantId)),
      ...when(filter.accessor, (accessor) => partyIs(accessor, 'accessor_msp', 'accessor_user')),
      ...when(filter.org, (org) => sql<SqlBool>`(${eq('controller_msp', org)} or ${eq('accessor_msp', org)})`),
      ...when(filter.scope, (scope) => eq('scope', scope)),
      ...timeBetween('at', filter),
    ]);
  }

  erasureReceipts(principal: Principal | undefined, filter: ErasureReceiptFilter, page: Page, field = '') {
    return this.#list(principal, listings.erasureReceipts, filter.sort, page, field, [
      ...when(filter.targetKind, (kind) => eq('target_kind', kind)),
      ...when(filter.targetId, (targetId) => eq('target_id', targetId)),
      ...when(
        filter.org,
        (org) =>
          sql<SqlBool>`(${eq('requester_msp', org)} or ${eq('subject_msp', org)} or ${eq('controller_msp', org)} or ${eq('controller2_msp', org)})`,
      ),
      ...timeBetween('at', filter),
    ]);
  }

  #list(
    principal: Principal | undefined,
    listing: Listing,
    sort: string,
    page: Page,
    field: string,
    conditions: readonly RawBuilder<SqlBool>[],
  ) {
    return pageOf(
      this.db,
      this.totals,
      (kind) => this.visibility(principal, kind),
      listing,
      conditions,
      sort,
      page,
      field,
    );
  }

  /** The keys one transaction read and wrote (private ones as hashes), in the order the block lists them. */
  transactionKeys(principal: Principal | undefined, blockNumberOfTx: number, position: number): Promise<Row[]> {
    return this.keysOfTransactions(principal, [{ blockNumber: blockNumberOfTx, position }]);
  }

  /**
   * The keys of several transactions in one statement, by transaction and then in the
   * order the block lists them: what the explorer's nested lists read for a whole page.
   *
   * @param limit the most rows to read (a request's records left, plus one to tell that more exist).
   */
  async keysOfTransactions(
    principal: Principal | undefined,
    transactions: readonly { readonly blockNumber: number; readonly position: number }[],
    limit?: number,
  ): Promise<Row[]> {
    const visible = await this.visibility(principal, 'transactionKeys');
    if (transactions.length === 0) return [];
    const pairs = sql.join(transactions.map(({ blockNumber, position }) => sql`(${blockNumber}, ${position})`));
    const chosen = sql<SqlBool>`(${ref('block_number')}, ${ref('position')}) in (${pairs})`;
    let statement = this.db
      .selectFrom('ix_tx_keys')
      .selectAll()
      .where(all([visible, chosen]))
      .orderBy('block_number')
      .orderBy('position')
      .orderBy('seq');
    if (limit !== undefined) statement = statement.limit(limit);
    return statement.execute();
  }

  /** One transaction by id: the valid one when the id was submitted more than once, else the first. */
  async transaction(principal: Principal | undefined, transactionId: string): Promise<Row | undefined> {
    const visible = await this.visibility(principal, 'transactions');
    return this.db
      .selectFrom('ix_transactions')
      .selectAll()
      .where(all([visible, eq('tx_id', transactionId)]))
      .orderBy(sql`case when ${ref('validation_code')} = 0 then 0 else 1 end`)
      .orderBy('block_number')
      .executeTakeFirst();
  }

  /** Every transaction of one block, in block order. */
  blockTransactions(principal: Principal | undefined, number: number): Promise<Row[]> {
    return this.transactionsOfBlocks(principal, [number]);
  }

  /**
   * The transactions of several blocks in one statement, in chain order.
   *
   * @param limit the most rows to read (a request's records left, plus one to tell that more exist).
   */
  async transactionsOfBlocks(
    principal: Principal | undefined,
    blockNumbers: readonly number[],
    limit?: number,
  ): Promise<Row[]> {
    const visible = await this.visibility(principal, 'transactions');
    if (blockNumbers.length === 0) return [];
    let statement = this.db
      .selectFrom('ix_transactions')
      .selectAll()
      .where(all([visible, sql<SqlBool>`${ref('block_number')} in (${sql.join(blockNumbers)})`]))
      .orderBy('block_number')
      .orderBy('position');
    if (limit !== undefined) statement = statement.limit(limit);
    return statement.execute();
  }
}
