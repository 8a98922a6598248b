import { sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';

/*
 * The audit index's tables. Every row is derived from committed blocks: the indexer
 * writes a block's rows and its checkpoint in one database transaction, and a rebuild
 * empties these tables and reads the chain again from block 0. Amounts are kept twice:
 * as the ledger's decimal string (what is answered) and as an integer column for range
 * filters and sorting (amounts stay below 10^18, inside a signed 64-bit integer).
 */

export interface IxBlocksTable {
  /** A bigint column: PostgreSQL answers it as text. */
  block_number: number | string;
  hash: string;
  previous_hash: string;
  data_hash: string;
  tx_count: number;
}

export interface IxTransactionsTable {
  block_number: number;
  position: number;
  tx_id: string;
  header_type: string;
  creator_msp: string;
  validation_code: number;
  validation_name: string;
  timestamp: string | null;
  chaincode: string | null;
  function_name: string | null;
}

/** Keys a transaction touched: public keys in clear, private keys only as the block's hashes. */
export interface IxTxKeysTable {
  block_number: number;
  position: number;
  seq: number;
  namespace: string;
  collection: string | null;
  key: string | null;
  key_hash: string | null;
  value_hash: string | null;
  access: string;
}

/** Party columns every agreement-derived row carries, so visibility needs no join. */
export interface AgreementParties {
  client_msp: string;
  client_user: string;
  freelancer_msp: string;
  freelancer_user: string;
  evaluator_msp: string | null;
  evaluator_user: string | null;
}

/** The columns of {@link AgreementParties}, as the first audit-index migration created them. */
export const agreementPartyColumns = [
  'client_msp',
  'client_user',
  'freelancer_msp',
  'freelancer_user',
  'evaluator_msp',
  'evaluator_user',
] as const satisfies readonly (keyof AgreementParties)[];

export interface IxAgreementsTable extends AgreementParties {
  agreement_id: string;
  title: string;
  status: string;
  milestone_count: number;
  created_at: string;
  created_tx_id: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

export interface IxMilestonesTable extends AgreementParties {
  agreement_id: string;
  /** The agreement's creation time, by which a grant dates the milestone (as the chaincode does). */
  agreement_created_at: string;
  milestone_id: string;
  position: number;
  kind: string;
  title: string;
  status: string;
  amount: string;
  amount_minor: bigint | number | string;
  currency: string;
  due_date: string;
  created_at: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

export interface IxPayoutsTable extends AgreementParties {
  instruction_id: string;
  agreement_id: string;
  /** The agreement's creation time, by which a grant dates the payout (as the chaincode does). */
  agreement_created_at: string;
  milestone_id: string;
  kind: string;
  cause: string;
  status: string;
  amount: string;
  amount_minor: bigint | number | string;
  platform_fee: string;
  currency: string;
  payee_msp: string;
  payee_user: string;
  requested_at: string;
  request_tx_id: string;
  compliance_outcome: string | null;
  compliance_credential_id: string | null;
  /** MSP id of the organisation whose settlement service sends it; null on instructions from before the ledger named one. */
  settling_organisation: string | null;
  record: string;
}

export interface IxCredentialsTable {
  credential_id: string;
  type: string;
  issuer_msp: string;
  issuer_user: string;
  subject_msp: string;
  subject_user: string;
  status: string;
  issuance_date: string;
  expiration_date: string | null;
  issued_at: string;
  issued_tx_id: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** Completions and attestations, one row per ledger key. */
export interface IxReputationTable {
  record_key: string;
  kind: string;
  subject_msp: string;
  subject_user: string;
  /** The completion's client or the attestation's attester. */
  by_msp: string;
  by_user: string;
  agreement_id: string;
  milestone_id: string | null;
  rating: number | null;
  skill: string | null;
  level: number | null;
  recorded_at: string;
  tx_id: string;
  record: string;
}

/*
 * Governance, IP, licensing and provenance records (migration 2026-12-01-020). Each row
 * carries the columns its visibility rule reads, copied from the record it depends on
 * (a dataset's controller on its access grants), so that rule needs no join where the
 * dependency never changes; where it does change (a work's owners), the rule reads
 * `ix_work_owners`.
 */

/** A governance proposal; its votes are `ix_proposal_votes`. */
export interface IxProposalsTable {
  proposal_id: string;
  title: string;
  /** Stored status: open, vetoed or executed (the phase follows from time and votes). */
  status: string;
  proposer_msp: string;
  proposer_user: string | null;
  /** The action types, space-separated, e.g. `setParameter registerIssuer`. */
  action_types: string;
  proposed_at: string;
  voting_ends_at: string;
  executable_at: string;
  expires_at: string;
  tx_id: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

export interface IxProposalVotesTable {
  proposal_id: string;
  msp_id: string;
  choice: string;
  voter_user: string | null;
  at: string;
  tx_id: string;
  updated_block: number;
  record: string;
}

export interface IxWorksTable {
  work_id: string;
  kind: string;
  content_hash: string;
  title: string;
  registrant_msp: string;
  registrant_user: string | null;
  registered_at: string;
  registration_tx_id: string;
  ownership_version: number;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** A work's current owners, replaced whenever the work is written. */
export interface IxWorkOwnersTable {
  work_id: string;
  owner_msp: string;
  owner_user: string;
  share_bps: number;
}

export interface IxOwnershipChangesTable {
  work_id: string;
  change_id: string;
  proposer_msp: string;
  proposer_user: string;
  status: string;
  proposed_at: string;
  tx_id: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** The owners a change was proposed to and the owners it proposes, once each. */
export interface IxOwnershipChangePartiesTable {
  work_id: string;
  change_id: string;
  party_msp: string;
  party_user: string;
}

export interface IxLicenceOffersTable {
  offer_id: string;
  work_id: string;
  /** Null for an open offer any eligible party may accept. */
  licensee_msp: string | null;
  licensee_user: string | null;
  scope: string;
  exclusive: number;
  term_start: string;
  term_end: string;
  royalty_bps: number | null;
  per_unit_amount: string | null;
  fee_amount: string | null;
  fee_minor: bigint | number | string | null;
  currency: string;
  status: string;
  offered_at: string;
  tx_id: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** The work's owners as the offer recorded them (each must consent). */
export interface IxLicenceOfferOwnersTable {
  offer_id: string;
  owner_msp: string;
  owner_user: string;
  share_bps: number;
}

/** A licence granted (the ledger's `licenceGrant`). */
export interface IxLicencesTable {
  grant_id: string;
  offer_id: string;
  work_id: string;
  licensee_msp: string;
  licensee_user: string;
  scope: string;
  exclusive: number;
  term_start: string;
  expires_at: string;
  royalty_bps: number | null;
  per_unit_amount: string | null;
  fee_amount: string | null;
  fee_minor: bigint | number | string | null;
  currency: string;
  status: string;
  accepted_at: string;
  tx_id: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** A closed royalty period of a licence, or its fee's payout record (period `fee`). */
export interface IxRoyaltyPeriodsTable {
  grant_id: string;
  period_id: string;
  work_id: string;
  licensee_msp: string;
  licensee_user: string;
  /** The licence's acceptance: the time an audit grant judges its periods by. */
  licence_accepted_at: string;
  royalty: string;
  royalty_minor: bigint | number | string;
  currency: string;
  reported: number;
  status: string;
  closed_at: string;
  tx_id: string;
  updated_at: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** A dataset or model record. */
export interface IxProvenanceRecordsTable {
  record_id: string;
  kind: string;
  title: string;
  content_sha256: string;
  controller_msp: string;
  controller_user: string;
  /** Datasets only. */
  legal_basis: string | null;
  pii_class: string | null;
  /** `held` or `erased` for a dataset registered with subject data, else null. */
  subject_data_status: string | null;
  registered_at: string;
  tx_id: string;
  /** The transaction that last wrote the record (an erasure rewrites it). */
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** One lineage edge, parent to child, as the ledger's child index keeps it. */
export interface IxLineageEdgesTable {
  parent_id: string;
  child_id: string;
  relation: string;
  tx_id: string;
  updated_block: number;
  record: string;
}

export interface IxDatasetAccessGrantsTable {
  grant_id: string;
  dataset_id: string;
  controller_msp: string;
  controller_user: string;
  /** The dataset's registration: the time an audit grant judges its access records by. */
  dataset_registered_at: string;
  grantee_msp: string;
  grantee_user: string;
  purpose: string;
  /** Scopes, space-separated. */
  scopes: string;
  expires_at: string;
  status: string;
  granted_at: string;
  tx_id: string;
  updated_tx_id: string;
  updated_block: number;
  record: string;
}

/** One use of a dataset access grant. */
export interface IxDatasetAccessLogTable {
  access_id: string;
  grant_id: string;
  dataset_id: string;
  controller_msp: string;
  controller_user: string;
  dataset_registered_at: string;
  accessor_msp: string;
  accessor_user: string;
  scope: string;
  at: string;
  updated_block: number;
  record: string;
}

export interface IxErasureReceiptsTable {
  receipt_id: string;
  /** `agreementTerms` or `datasetSubjectData`. */
  target_kind: string;
  /** The agreement's or the dataset's id. */
  target_id: string;
  requester_msp: string;
  requester_user: string | null;
  subject_msp: string;
  subject_user: string;
  /** The data's controllers: a dataset's controller, or an agreement's client and freelancer. */
  controller_msp: string;
  controller_user: string;
  controller2_msp: string | null;
  controller2_user: string | null;
  at: string;
  tx_id: string;
  updated_block: number;
  record: string;
}

/**
 * A public key whose metadata (a key-level endorsement policy) a transaction wrote, valid
 * or not: where a proof looks for the policy of a key written without being read.
 */
export interface IxKeyMetadataWritesTable {
  /** A bigint column: PostgreSQL answers it as text. */
  block_number: number | string;
  position: number;
  seq: number;
  namespace: string;
  /** As `ix_tx_keys.key` stores it (see `storedKey`). */
  key: string;
}

/**
 * The name of the `checkpoints` row holding the first block whose metadata writes the
 * index holds: blocks indexed before `ix_key_metadata_writes` existed have none. No row:
 * every block's (an index begun, or rebuilt, since).
 */
export const keyMetadataWritesFromName = 'audit-index-key-metadata-writes';

export interface AuditIndexTables {
  ix_blocks: IxBlocksTable;
  ix_key_metadata_writes: IxKeyMetadataWritesTable;
  ix_transactions: IxTransactionsTable;
  ix_tx_keys: IxTxKeysTable;
  ix_agreements: IxAgreementsTable;
  ix_milestones: IxMilestonesTable;
  ix_payouts: IxPayoutsTable;
  ix_credentials: IxCredentialsTable;
  ix_reputation: IxReputationTable;
  ix_proposals: IxProposalsTable;
  ix_proposal_votes: IxProposalVotesTable;
  ix_works: IxWorksTable;
  ix_work_owners: IxWorkOwnersTable;
  ix_ownership_changes: IxOwnershipChangesTable;
  ix_ownership_change_parties: IxOwnershipChangePartiesTable;
  ix_licence_offers: IxLicenceOffersTable;
  ix_licence_offer_owners: IxLicenceOfferOwnersTable;
  ix_licences: IxLicencesTable;
  ix_royalty_periods: IxRoyaltyPeriodsTable;
  ix_provenance_records: IxProvenanceRecordsTable;
  ix_lineage_edges: IxLineageEdgesTable;
  ix_dataset_access_grants: IxDatasetAccessGrantsTable;
  ix_dataset_access_log: IxDatasetAccessLogTable;
  ix_erasure_receipts: IxErasureReceiptsTable;
}

/** Every table a rebuild empties, children first. */
export const auditIndexTables: readonly (keyof AuditIndexTables)[] = [
  'ix_key_metadata_writes',
  'ix_tx_keys',
  'ix_transactions',
  'ix_blocks',
  'ix_payouts',
  'ix_milestones',
  'ix_agreements',
  'ix_credentials',
  'ix_reputation',
  'ix_proposal_votes',
  'ix_proposals',
  'ix_ownership_change_parties',
  'ix_ownership_changes',
  'ix_work_owners',
  'ix_works',
  'ix_royalty_periods',
  'ix_licences',
  'ix_licence_offer_owners',
  'ix_licence_offers',
  'ix_erasure_receipts',
  'ix_dataset_access_log',
  'ix_dataset_access_grants',
  'ix_lineage_edges',
  'ix_provenance_records',
];

/**
 * Names the client as the payee of every indexed refund. A settlement instruction's
 * record always names the agreement's client as `payer` and its freelancer as `payee`
 * (its `kind` says which way the money moves), so rows indexed before the index named
 * the party a refund pays gave the freelancer.
 */
export async function refundPayeesToClients(db: Kysely<unknown>): Promise<void> {
  await sql`update ix_payouts set payee_msp = client_msp, payee_user = client_user where kind = 'refund'`.execute(db);
}

/**
 * Copies each indexed payout's settling organisation out of its ledger record into its
 * own column, for rows indexed before the column existed. Read in JavaScript rather than
 * with a JSON function, which SQLite and PostgreSQL spell differently; only records that
 * name one are read.
 */
export async function backfillSettlingOrganisations(db: Kysely<unknown>): Promise<void> {
  const payouts = db as unknown as Kysely<Pick<AuditIndexTables, 'ix_payouts'>>;
  const rows = await payouts
    .selectFrom('ix_payouts')
    .select(['instruction_id', 'record'])
    .where('record', 'like', '%"settlingOrganisation"%')
    .execute();
  for (const row of rows) {
    const named = (JSON.parse(row.record) as { settlingOrganisation?: unknown }).settlingOrganisation;
    if (typeof named !== 'string') continue;
    await payouts
      .updateTable('ix_payouts')
      .set({ settling_organisation: named })
      .where('instruction_id', '=', row.instruction_id)
      .execute();
  }
}

/**
 * Gives every milestone and payout row its agreement's creation time
 * (`agreement_created_at`), for rows indexed before the column existed.
 */
export async function backfillAgreementDates(db: Kysely<unknown>): Promise<void> {
  for (const table of ['ix_milestones', 'ix_payouts']) {
    const own = sql.ref(`${table}.agreement_id`);
    await sql`update ${sql.table(table)} set agreement_created_at = (select a.created_at from ix_agreements a where a.agreement_id = ${own}) where exists (select 1 from ix_agreements a where a.agreement_id = ${own})`.execute(
      db,
    );
  }
}

export const auditIndexMigrations: Record<string, Migration> = {
  '2026-12-01-001-audit-index': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('ix_blocks')
        .addColumn('block_number', 'bigint', (column) => column.primaryKey())
        .addColumn('hash', 'varchar(64)', (column) => column.notNull())
        .addColumn('previous_hash', 'varchar(64)', (column) => column.notNull())
        .addColumn('data_hash', 'varchar(64)', (column) => column.notNull())
        .addColumn('tx_count', 'integer', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('ix_transactions')
        .addColumn('block_number', 'bigint', (column) => column.notNull())
        .addColumn('position', 'integer', (column) => column.notNull())
        .addColumn('tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('header_type', 'varchar(32)', (column) => column.notNull())
        .addColumn('creator_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('validation_code', 'integer', (column) => column.notNull())
        .addColumn('validation_name', 'varchar(64)', (column) => column.notNull())
        .addColumn('timestamp', 'varchar(32)')
        .addColumn('chaincode', 'varchar(64)')
        .addColumn('function_name', 'varchar(128)')
        .addPrimaryKeyConstraint('ix_transactions_pk', ['block_number', 'position'])
        .execute();
      await db.schema
        .createTable('ix_tx_keys')
        .addColumn('block_number', 'bigint', (column) => column.notNull())
        .addColumn('position', 'integer', (column) => column.notNull())
        .addColumn('seq', 'integer', (column) => column.notNull())
        .addColumn('namespace', 'varchar(64)', (column) => column.notNull())
        .addColumn('collection', 'varchar(64)')
        .addColumn('key', 'text')
        .addColumn('key_hash', 'varchar(64)')
        .addColumn('value_hash', 'varchar(64)')
        .addColumn('access', 'varchar(8)', (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_tx_keys_pk', ['block_number', 'position', 'seq'])
        .execute();
      const parties = (table: string) =>
        db.schema
          .createTable(table)
          .addColumn('client_msp', 'varchar(64)', (column) => column.notNull())
          .addColumn('client_user', 'varchar(128)', (column) => column.notNull())
          .addColumn('freelancer_msp', 'varchar(64)', (column) => column.notNull())
          .addColumn('freelancer_user', 'varchar(128)', (column) => column.notNull())
          .addColumn('evaluator_msp', 'varchar(64)')
          .addColumn('evaluator_user', 'varchar(128)');
      await parties('ix_agreements')
        .addColumn('agreement_id', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('title', 'text', (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('milestone_count', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('created_tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('updated_tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', 'text', (column) => column.notNull())
        .execute();
      await parties('ix_milestones')
        .addColumn('agreement_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('milestone_id', 'varchar(32)', (column) => column.notNull())
        .addColumn('position', 'integer', (column) => column.notNull())
        .addColumn('kind', 'varchar(16)', (column) => column.notNull())
        .addColumn('title', 'text', (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('amount', 'varchar(20)', (column) => column.notNull())
        .addColumn('amount_minor', 'bigint', (column) => column.notNull())
        .addColumn('currency', 'varchar(3)', (column) => column.notNull())
        .addColumn('due_date', 'varchar(32)', (column) => column.notNull())
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('updated_tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_milestones_pk', ['agreement_id', 'milestone_id'])
        .execute();
      await parties('ix_payouts')
        .addColumn('instruction_id', 'varchar(160)', (column) => column.primaryKey())
        .addColumn('agreement_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('milestone_id', 'varchar(32)', (column) => column.notNull())
        .addColumn('kind', 'varchar(16)', (column) => column.notNull())
        .addColumn('cause', 'varchar(16)', (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('amount', 'varchar(20)', (column) => column.notNull())
        .addColumn('amount_minor', 'bigint', (column) => column.notNull())
        .addColumn('platform_fee', 'varchar(20)', (column) => column.notNull())
        .addColumn('currency', 'varchar(3)', (column) => column.notNull())
        .addColumn('payee_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('payee_user', 'varchar(128)', (column) => column.notNull())
        .addColumn('requested_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('request_tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('compliance_outcome', 'varchar(16)')
        .addColumn('compliance_credential_id', 'varchar(128)')
        .addColumn('record', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('ix_credentials')
        .addColumn('credential_id', 'varchar(128)', (column) => column.primaryKey())
        .addColumn('type', 'varchar(32)', (column) => column.notNull())
        .addColumn('issuer_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('issuer_user', 'varchar(128)', (column) => column.notNull())
        .addColumn('subject_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('subject_user', 'varchar(128)', (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('issuance_date', 'varchar(32)', (column) => column.notNull())
        .addColumn('expiration_date', 'varchar(32)')
        .addColumn('issued_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('issued_tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('updated_tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('ix_reputation')
        .addColumn('record_key', 'varchar(512)', (column) => column.primaryKey())
        .addColumn('kind', 'varchar(16)', (column) => column.notNull())
        .addColumn('subject_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('subject_user', 'varchar(128)', (column) => column.notNull())
        .addColumn('by_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('by_user', 'varchar(128)', (column) => column.notNull())
        .addColumn('agreement_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('milestone_id', 'varchar(32)')
        .addColumn('rating', 'integer')
        .addColumn('skill', 'varchar(64)')
        .addColumn('level', 'integer')
        .addColumn('recorded_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('record', 'text', (column) => column.notNull())
        .execute();

      // The filters auditors and HR systems use most, each with the sort key the
      // queries page by, so a filtered page is an index range rather than a scan.
      const indexes: [string, string, string[]][] = [
        ['ix_transactions_tx_id', 'ix_transactions', ['tx_id']],
        ['ix_transactions_invalid', 'ix_transactions', ['validation_code', 'block_number']],
        ['ix_transactions_creator', 'ix_transactions', ['creator_msp', 'block_number']],
        ['ix_tx_keys_key', 'ix_tx_keys', ['key']],
        ['ix_agreements_client', 'ix_agreements', ['client_msp', 'client_user', 'created_at']],
        ['ix_agreements_freelancer', 'ix_agreements', ['freelancer_msp', 'freelancer_user', 'created_at']],
        // A party filter is "client or freelancer or evaluator": each arm needs its index for the OR to use them.
        ['ix_agreements_evaluator', 'ix_agreements', ['evaluator_msp', 'evaluator_user']],
        ['ix_agreements_status', 'ix_agreements', ['status', 'created_at']],
        ['ix_agreements_created', 'ix_agreements', ['created_at', 'agreement_id']],
        ['ix_agreements_client_org', 'ix_agreements', ['client_msp', 'created_at']],
        ['ix_agreements_freelancer_org', 'ix_agreements', ['freelancer_msp', 'created_at']],
        ['ix_milestones_status', 'ix_milestones', ['status', 'currency', 'amount_minor']],
        ['ix_milestones_currency', 'ix_milestones', ['currency', 'amount_minor']],
        ['ix_milestones_client', 'ix_milestones', ['client_msp', 'client_user']],
        ['ix_milestones_freelancer', 'ix_milestones', ['freelancer_msp', 'freelancer_user']],
        ['ix_milestones_evaluator', 'ix_milestones', ['evaluator_msp', 'evaluator_user']],
        ['ix_payouts_currency', 'ix_payouts', ['currency', 'amount_minor']],
        ['ix_payouts_status', 'ix_payouts', ['status', 'requested_at']],
        ['ix_payouts_requested', 'ix_payouts', ['requested_at', 'instruction_id']],
        ['ix_payouts_payee', 'ix_payouts', ['payee_msp', 'payee_user', 'requested_at']],
        ['ix_payouts_client', 'ix_payouts', ['client_msp', 'client_user']],
        ['ix_payouts_freelancer', 'ix_payouts', ['freelancer_msp', 'freelancer_user']],
        ['ix_payouts_evaluator', 'ix_payouts', ['evaluator_msp', 'evaluator_user']],
        ['ix_payouts_agreement', 'ix_payouts', ['agreement_id', 'milestone_id']],
        ['ix_credentials_issuer', 'ix_credentials', ['issuer_msp', 'issuer_user', 'issued_at']],
        ['ix_credentials_subject', 'ix_credentials', ['subject_msp', 'subject_user', 'issued_at']],
        ['ix_credentials_type', 'ix_credentials', ['type', 'status', 'issued_at']],
        ['ix_credentials_issued', 'ix_credentials', ['issued_at', 'credential_id']],
        ['ix_reputation_subject', 'ix_reputation', ['subject_msp', 'subject_user', 'recorded_at']],
        ['ix_reputation_recorded', 'ix_reputation', ['recorded_at', 'record_key']],
      ];
      for (const [name, table, columns] of indexes) {
        await db.schema.createIndex(name).on(table).columns(columns).execute();
      }
    },
  },
  '2026-12-01-020-audit-index-domains': {
    async up(db: Kysely<unknown>): Promise<void> {
      const table = (name: string) => db.schema.createTable(name);
      const text = 'text';
      const id = 'varchar(128)';
      const msp = 'varchar(64)';
      const user = 'varchar(128)';
      const instant = 'varchar(32)';
      const money = 'varchar(20)';
      await table('ix_proposals')
        .addColumn('proposal_id', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('title', text, (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('proposer_msp', msp, (column) => column.notNull())
        .addColumn('proposer_user', user)
        .addColumn('action_types', 'varchar(400)', (column) => column.notNull())
        .addColumn('proposed_at', instant, (column) => column.notNull())
        .addColumn('voting_ends_at', instant, (column) => column.notNull())
        .addColumn('executable_at', instant, (column) => column.notNull())
        .addColumn('expires_at', instant, (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_at', instant, (column) => column.notNull())
        .addColumn('updated_tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .execute();
      await table('ix_proposal_votes')
        .addColumn('proposal_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('msp_id', msp, (column) => column.notNull())
        .addColumn('choice', 'varchar(16)', (column) => column.notNull())
        .addColumn('voter_user', user)
        .addColumn('at', instant, (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_proposal_votes_pk', ['proposal_id', 'msp_id'])
        .execute();
      await table('ix_works')
        .addColumn('work_id', id, (column) => column.primaryKey())
        .addColumn('kind', 'varchar(16)', (column) => column.notNull())
        .addColumn('content_hash', 'varchar(64)', (column) => column.notNull())
        .addColumn('title', text, (column) => column.notNull())
        .addColumn('registrant_msp', msp, (column) => column.notNull())
        .addColumn('registrant_user', user)
        .addColumn('registered_at', instant, (column) => column.notNull())
        .addColumn('registration_tx_id', id, (column) => column.notNull())
        .addColumn('ownership_version', 'integer', (column) => column.notNull())
        .addColumn('updated_at', instant, (column) => column.notNull())
        .addColumn('updated_tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .execute();
      await table('ix_work_owners')
        .addColumn('work_id', id, (column) => column.notNull())
        .addColumn('owner_msp', msp, (column) => column.notNull())
        .addColumn('owner_user', user, (column) => column.notNull())
        .addColumn('share_bps', 'integer', (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_work_owners_pk', ['work_id', 'owner_msp', 'owner_user'])
        .execute();
      await table('ix_ownership_changes')
        .addColumn('work_id', id, (column) => column.notNull())
        .addColumn('change_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('proposer_msp', msp, (column) => column.notNull())
        .addColumn('proposer_user', user, (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('proposed_at', instant, (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_at', instant, (column) => column.notNull())
        .addColumn('updated_tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_ownership_changes_pk', ['work_id', 'change_id'])
        .execute();
      await table('ix_ownership_change_parties')
        .addColumn('work_id', id, (column) => column.notNull())
        .addColumn('change_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('party_msp', msp, (column) => column.notNull())
        .addColumn('party_user', user, (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_ownership_change_parties_pk', ['work_id', 'change_id', 'party_msp', 'party_user'])
        .execute();
      const licenceTerms = (builder: CreateTableBuilder<string, string>) =>
        builder
          .addColumn('work_id', id, (column) => column.notNull())
          .addColumn('scope', 'varchar(16)', (column) => column.notNull())
          .addColumn('exclusive', 'integer', (column) => column.notNull())
          .addColumn('term_start', instant, (column) => column.notNull())
          .addColumn('royalty_bps', 'integer')
          .addColumn('per_unit_amount', money)
          .addColumn('fee_amount', money)
          .addColumn('fee_minor', 'bigint')
          .addColumn('currency', 'varchar(3)', (column) => column.notNull())
          .addColumn('status', 'varchar(16)', (column) => column.notNull())
          .addColumn('tx_id', id, (column) => column.notNull())
          .addColumn('updated_at', instant, (column) => column.notNull())
          .addColumn('updated_tx_id', id, (column) => column.notNull())
          .addColumn('updated_block', 'bigint', (column) => column.notNull())
          .addColumn('record', text, (column) => column.notNull());
      await licenceTerms(
        table('ix_licence_offers').addColumn('offer_id', 'varchar(64)', (column) => column.primaryKey()),
      )
        .addColumn('licensee_msp', msp)
        .addColumn('licensee_user', user)
        .addColumn('term_end', instant, (column) => column.notNull())
        .addColumn('offered_at', instant, (column) => column.notNull())
        .execute();
      await table('ix_licence_offer_owners')
        .addColumn('offer_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('owner_msp', msp, (column) => column.notNull())
        .addColumn('owner_user', user, (column) => column.notNull())
        .addColumn('share_bps', 'integer', (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_licence_offer_owners_pk', ['offer_id', 'owner_msp', 'owner_user'])
        .execute();
      await licenceTerms(table('ix_licences').addColumn('grant_id', 'varchar(64)', (column) => column.primaryKey()))
        .addColumn('offer_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('licensee_msp', msp, (column) => column.notNull())
        .addColumn('licensee_user', user, (column) => column.notNull())
        .addColumn('expires_at', instant, (column) => column.notNull())
        .addColumn('accepted_at', instant, (column) => column.notNull())
        .execute();
      await table('ix_royalty_periods')
        .addColumn('grant_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('period_id', 'varchar(8)', (column) => column.notNull())
        .addColumn('work_id', id, (column) => column.notNull())
        .addColumn('licensee_msp', msp, (column) => column.notNull())
        .addColumn('licensee_user', user, (column) => column.notNull())
        .addColumn('licence_accepted_at', instant, (column) => column.notNull())
        .addColumn('royalty', money, (column) => column.notNull())
        .addColumn('royalty_minor', 'bigint', (column) => column.notNull())
        .addColumn('currency', 'varchar(3)', (column) => column.notNull())
        .addColumn('reported', 'integer', (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('closed_at', instant, (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_at', instant, (column) => column.notNull())
        .addColumn('updated_tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_royalty_periods_pk', ['grant_id', 'period_id'])
        .execute();
      await table('ix_provenance_records')
        .addColumn('record_id', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('kind', 'varchar(16)', (column) => column.notNull())
        .addColumn('title', text, (column) => column.notNull())
        .addColumn('content_sha256', 'varchar(64)', (column) => column.notNull())
        .addColumn('controller_msp', msp, (column) => column.notNull())
        .addColumn('controller_user', user, (column) => column.notNull())
        .addColumn('legal_basis', 'varchar(32)')
        .addColumn('pii_class', 'varchar(32)')
        .addColumn('subject_data_status', 'varchar(16)')
        .addColumn('registered_at', instant, (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .execute();
      await table('ix_lineage_edges')
        .addColumn('parent_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('child_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('relation', 'varchar(16)', (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_lineage_edges_pk', ['parent_id', 'child_id'])
        .execute();
      const datasetAccess = (name: string) =>
        table(name)
          .addColumn('grant_id', 'varchar(64)', (column) => column.notNull())
          .addColumn('dataset_id', 'varchar(64)', (column) => column.notNull())
          .addColumn('controller_msp', msp, (column) => column.notNull())
          .addColumn('controller_user', user, (column) => column.notNull())
          .addColumn('dataset_registered_at', instant, (column) => column.notNull())
          .addColumn('updated_block', 'bigint', (column) => column.notNull())
          .addColumn('record', text, (column) => column.notNull());
      await datasetAccess('ix_dataset_access_grants')
        .addColumn('grantee_msp', msp, (column) => column.notNull())
        .addColumn('grantee_user', user, (column) => column.notNull())
        .addColumn('purpose', text, (column) => column.notNull())
        .addColumn('scopes', 'varchar(64)', (column) => column.notNull())
        .addColumn('expires_at', instant, (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('granted_at', instant, (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_tx_id', id, (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_dataset_access_grants_pk', ['grant_id'])
        .execute();
      await datasetAccess('ix_dataset_access_log')
        .addColumn('access_id', id, (column) => column.notNull())
        .addColumn('accessor_msp', msp, (column) => column.notNull())
        .addColumn('accessor_user', user, (column) => column.notNull())
        .addColumn('scope', 'varchar(16)', (column) => column.notNull())
        .addColumn('at', instant, (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_dataset_access_log_pk', ['dataset_id', 'grant_id', 'access_id'])
        .execute();
      await table('ix_erasure_receipts')
        .addColumn('receipt_id', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('target_kind', 'varchar(32)', (column) => column.notNull())
        .addColumn('target_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('requester_msp', msp, (column) => column.notNull())
        .addColumn('requester_user', user)
        .addColumn('subject_msp', msp, (column) => column.notNull())
        .addColumn('subject_user', user, (column) => column.notNull())
        .addColumn('controller_msp', msp, (column) => column.notNull())
        .addColumn('controller_user', user, (column) => column.notNull())
        .addColumn('controller2_msp', msp)
        .addColumn('controller2_user', user)
        .addColumn('at', instant, (column) => column.notNull())
        .addColumn('tx_id', id, (column) => column.notNull())
        .addColumn('updated_block', 'bigint', (column) => column.notNull())
        .addColumn('record', text, (column) => column.notNull())
        .execute();

      // Each listing's filters with the sort key it pages by, and the look-ups the
      // visibility rules make (a work's owners, an offer's owners, a change's parties).
      const indexes: [string, string, string[]][] = [
        ['ix_proposals_proposed', 'ix_proposals', ['proposed_at', 'proposal_id']],
        ['ix_proposals_status', 'ix_proposals', ['status', 'proposed_at']],
        ['ix_proposals_proposer', 'ix_proposals', ['proposer_msp', 'proposed_at']],
        ['ix_works_registered', 'ix_works', ['registered_at', 'work_id']],
        ['ix_works_kind', 'ix_works', ['kind', 'registered_at']],
        ['ix_works_hash', 'ix_works', ['content_hash']],
        ['ix_work_owners_owner', 'ix_work_owners', ['owner_msp', 'owner_user', 'work_id']],
        ['ix_ownership_changes_proposed', 'ix_ownership_changes', ['proposed_at', 'work_id', 'change_id']],
        ['ix_ownership_changes_status', 'ix_ownership_changes', ['status', 'proposed_at']],
        ['ix_ownership_change_parties_party', 'ix_ownership_change_parties', ['party_msp', 'party_user']],
        ['ix_licence_offers_offered', 'ix_licence_offers', ['offered_at', 'offer_id']],
        ['ix_licence_offers_work', 'ix_licence_offers', ['work_id', 'offered_at']],
        ['ix_licence_offers_licensee', 'ix_licence_offers', ['licensee_msp', 'licensee_user']],
        ['ix_licence_offer_owners_owner', 'ix_licence_offer_owners', ['owner_msp', 'owner_user']],
        ['ix_licences_accepted', 'ix_licences', ['accepted_at', 'grant_id']],
        ['ix_licences_work', 'ix_licences', ['work_id', 'accepted_at']],
        ['ix_licences_licensee', 'ix_licences', ['licensee_msp', 'licensee_user', 'accepted_at']],
        ['ix_licences_currency', 'ix_licences', ['currency', 'fee_minor']],
        ['ix_royalty_periods_closed', 'ix_royalty_periods', ['closed_at', 'grant_id', 'period_id']],
        ['ix_royalty_periods_work', 'ix_royalty_periods', ['work_id', 'closed_at']],
        ['ix_royalty_periods_licensee', 'ix_royalty_periods', ['licensee_msp', 'licensee_user']],
        ['ix_royalty_periods_currency', 'ix_royalty_periods', ['currency', 'royalty_minor']],
        ['ix_provenance_records_registered', 'ix_provenance_records', ['registered_at', 'record_id']],
        ['ix_provenance_records_kind', 'ix_provenance_records', ['kind', 'registered_at']],
        ['ix_provenance_records_controller', 'ix_provenance_records', ['controller_msp', 'controller_user']],
        ['ix_provenance_records_hash', 'ix_provenance_records', ['content_sha256']],
        ['ix_lineage_edges_child', 'ix_lineage_edges', ['child_id', 'parent_id']],
        ['ix_dataset_access_grants_dataset', 'ix_dataset_access_grants', ['dataset_id', 'granted_at']],
        ['ix_dataset_access_grants_granted', 'ix_dataset_access_grants', ['granted_at', 'grant_id']],
        ['ix_dataset_access_grants_grantee', 'ix_dataset_access_grants', ['grantee_msp', 'grantee_user']],
        ['ix_dataset_access_grants_controller', 'ix_dataset_access_grants', ['controller_msp', 'controller_user']],
        ['ix_dataset_access_log_at', 'ix_dataset_access_log', ['at', 'dataset_id', 'grant_id', 'access_id']],
        ['ix_dataset_access_log_controller', 'ix_dataset_access_log', ['controller_msp', 'controller_user']],
        ['ix_erasure_receipts_at', 'ix_erasure_receipts', ['at', 'receipt_id']],
        ['ix_erasure_receipts_target', 'ix_erasure_receipts', ['target_kind', 'target_id']],
      ];
      for (const [name, on, columns] of indexes) {
        await db.schema.createIndex(name).on(on).columns(columns).execute();
      }
    },
  },
  '2026-12-01-030-audit-index-visible-counts': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A milestone or payout is dated by its agreement's creation; kept on the row, an
      // auditor's grant is judged without looking the agreement up row by row. Existing
      // rows take it from their agreement; the default only satisfies NOT NULL on SQLite,
      // which cannot add such a column without one.
      for (const table of ['ix_milestones', 'ix_payouts']) {
        await db.schema
          .alterTable(table)
          .addColumn('agreement_created_at', 'varchar(32)', (column) => column.notNull().defaultTo(''))
          .execute();
      }
      await backfillAgreementDates(db);
      // The common range filters, each followed by its sort key and then every column
      // the visibility rule reads (the parties, and the date a grant judges by): an
      // auditor's count and page over a range then read the index alone, never the
      // table's rows with their JSON. Each replaces the narrower index it extends.
      const visibility = [...agreementPartyColumns];
      const replaced: [old: string, name: string, table: string, columns: string[]][] = [
        [
          'ix_agreements_status',
          'ix_agreements_visible_by_status',
          'ix_agreements',
          ['status', 'created_at', 'agreement_id', ...visibility],
        ],
        [
          'ix_agreements_created',
          'ix_agreements_visible_by_created',
          'ix_agreements',
          ['created_at', 'agreement_id', ...visibility],
        ],
        [
          'ix_milestones_currency',
          'ix_milestones_visible_by_currency',
          'ix_milestones',
          ['currency', 'amount_minor', 'agreement_id', 'milestone_id', ...visibility, 'agreement_created_at'],
        ],
        [
          'ix_milestones_status',
          'ix_milestones_visible_by_status',
          'ix_milestones',
          ['status', 'currency', 'amount_minor', 'agreement_id', 'milestone_id', ...visibility, 'agreement_created_at'],
        ],
        [
          'ix_payouts_currency',
          'ix_payouts_visible_by_currency',
          'ix_payouts',
          ['currency', 'amount_minor', 'instruction_id', ...visibility, 'agreement_created_at'],
        ],
        [
          'ix_payouts_status',
          'ix_payouts_visible_by_status',
          'ix_payouts',
          ['status', 'requested_at', 'instruction_id', ...visibility, 'agreement_created_at'],
        ],
        [
          'ix_payouts_requested',
          'ix_payouts_visible_by_requested',
          'ix_payouts',
          ['requested_at', 'instruction_id', ...visibility, 'agreement_created_at'],
        ],
      ];
      for (const [old, name, table, columns] of replaced) {
        await db.schema.dropIndex(old).execute();
        await db.schema.createIndex(name).on(table).columns(columns).execute();
      }
    },
  },
  '2026-12-01-040-audit-index-party-visibility': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A party filter ("client or freelancer or evaluator", and the payee for payouts) is
      // answered arm by arm from the party indexes. Each now also holds the sort keys and
      // every column the visibility rule reads, so a party's count, and the keys of its
      // page, are read from the indexes alone; only the page's own rows are then fetched.
      const others = (own: string): string[] =>
        ['client', 'freelancer', 'evaluator']
          .filter((party) => party !== own)
          .flatMap((party) => [`${party}_msp`, `${party}_user`]);
      const replaced: [old: string, name: string, table: string, columns: string[]][] = [];
      for (const party of ['client', 'freelancer', 'evaluator']) {
        const named = [`${party}_msp`, `${party}_user`];
        replaced.push(
          [
            `ix_agreements_${party}`,
            `ix_agreements_visible_by_${party}`,
            'ix_agreements',
            [...named, 'created_at', 'agreement_id', ...others(party)],
          ],
          [
            `ix_milestones_${party}`,
            `ix_milestones_visible_by_${party}`,
            'ix_milestones',
            [
              ...named,
              'due_date',
              'amount_minor',
              'agreement_id',
              'milestone_id',
              ...others(party),
              'agreement_created_at',
            ],
          ],
          [
            `ix_payouts_${party}`,
            `ix_payouts_visible_by_${party}`,
            'ix_payouts',
            // The payee too: SQLite's OR plan reads every column of the filter's arms from each index.
            [
              ...named,
              'requested_at',
              'amount_minor',
              'instruction_id',
              ...others(party),
              'payee_msp',
              'payee_user',
              'agreement_created_at',
            ],
          ],
        );
      }
      replaced.push([
        'ix_payouts_payee',
        'ix_payouts_visible_by_payee',
        'ix_payouts',
        [
          'payee_msp',
          'payee_user',
          'requested_at',
          'amount_minor',
          'instruction_id',
          ...agreementPartyColumns,
          'agreement_created_at',
        ],
      ]);
      for (const [old, name, table, columns] of replaced) {
        await db.schema.dropIndex(old).execute();
        await db.schema.createIndex(name).on(table).columns(columns).execute();
      }
    },
  },
  '2026-12-02-002-audit-index-refund-payee': {
    up: refundPayeesToClients,
  },
  '2026-12-05-001-audit-index-payout-settling-organisation': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('ix_payouts').addColumn('settling_organisation', 'varchar(64)').execute();
      await backfillSettlingOrganisations(db);
      await db.schema
        .createIndex('ix_payouts_settling')
        .on('ix_payouts')
        .columns(['settling_organisation', 'requested_at', 'instruction_id'])
        .execute();
    },
  },
  '2026-12-07-002-audit-index-key-metadata-writes': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('ix_key_metadata_writes')
        .addColumn('block_number', 'bigint', (column) => column.notNull())
        .addColumn('position', 'integer', (column) => column.notNull())
        .addColumn('seq', 'integer', (column) => column.notNull())
        .addColumn('namespace', 'varchar(64)', (column) => column.notNull())
        .addColumn('key', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('ix_key_metadata_writes_pk', ['block_number', 'position', 'seq'])
        .execute();
      await db.schema
        .createIndex('ix_key_metadata_writes_key')
        .on('ix_key_metadata_writes')
        .columns(['key', 'namespace', 'block_number'])
        .execute();
      // The blocks already indexed were read without their metadata writes.
      await sql`insert into checkpoints (name, block_number, transaction_id, updated_at)
        select ${keyMetadataWritesFromName}, cast(known.top + 1 as varchar(32)), null, ${new Date().toISOString()}
        from (select max(block_number) as top from ix_blocks) known where known.top is not null`.execute(db);
    },
  },
};
