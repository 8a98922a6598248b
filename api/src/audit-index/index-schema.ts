import { type Kysely, type Migration } from 'kysely';

/*
 * The audit index's tables. Every row is derived from committed blocks: the indexer
 * writes a block's rows and its checkpoint in one database transaction, and a rebuild
 * empties these tables and reads the chain again from block 0. Amounts are kept twice:
 * as the ledger's decimal string (what is answered) and as an integer column for range
 * filters and sorting (amounts stay below 10^18, inside a signed 64-bit integer).
 */

export interface IxBlocksTable {
  block_number: number;
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

export interface AuditIndexTables {
  ix_blocks: IxBlocksTable;
  ix_transactions: IxTransactionsTable;
  ix_tx_keys: IxTxKeysTable;
  ix_agreements: IxAgreementsTable;
  ix_milestones: IxMilestonesTable;
  ix_payouts: IxPayoutsTable;
  ix_credentials: IxCredentialsTable;
  ix_reputation: IxReputationTable;
}

/** Every table a rebuild empties, children first. */
export const auditIndexTables: readonly (keyof AuditIndexTables)[] = [
  'ix_tx_keys',
  'ix_transactions',
  'ix_blocks',
  'ix_payouts',
  'ix_milestones',
  'ix_agreements',
  'ix_credentials',
  'ix_reputation',
];

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
};
