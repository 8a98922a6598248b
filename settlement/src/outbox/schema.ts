import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Where an instruction stands between the ledger and the provider:
 *
 *   queued → sending → sent → confirming → confirmed
 *                 ↘ retry ↗        (provider said paid/failed; ledger write pending)
 *                 ↘ dead           (rejected, or out of attempts: an operator decides)
 *
 * `sending` left behind by a crash is sent again: the instruction id is the provider's
 * idempotency key, so a second attempt never pays twice.
 */
export const outboxStates = ['queued', 'sending', 'retry', 'sent', 'confirming', 'confirmed', 'dead'] as const;
export type OutboxState = (typeof outboxStates)[number];

/**
 * The contract that issued an instruction, and so records its confirmation: `agreement`
 * (escrow, releases, refunds; `confirmSettlement`) or `licensing` (royalties;
 * `confirmRoyaltyPayout`).
 */
export const instructionSources = ['agreement', 'licensing'] as const;
export type InstructionSource = (typeof instructionSources)[number];

/** One row per ledger settlement instruction, keyed by its instruction id. */
export interface SettlementOutboxTable {
  instruction_id: string;
  source: InstructionSource;
  /** The record the instruction belongs to: the agreement, or for a royalty the licence grant. */
  agreement_id: string;
  /** The part of it: the milestone, or for a royalty the period (`YYYY-MM`); `fee` for a licence fee. */
  milestone_id: string;
  /** Ledger kind: fund-escrow, release, refund; collection (from a licensee), royalty or licence-fee. */
  kind: string;
  direction: 'collect' | 'payout';
  /** Provider configuration name the instruction is routed to. */
  provider: string;
  counterparty_msp: string;
  counterparty_user: string;
  /** Integer minor units as a decimal string. */
  amount: string;
  platform_fee: string;
  currency: string;
  request_tx_id: string;
  block_number: string;
  requested_at: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  provider_reference: string | null;
  outcome: 'paid' | 'failed' | null;
  outcome_reason: string | null;
  confirm_tx_id: string | null;
  /** The payout account the last attempt went to; recorded on the ledger with the confirmation. */
  payout_account_id: string | null;
  /** On a reissued payout: the failed instruction it replaces (null on rows taken before it was kept). */
  reissue_of: string | null;
  created_at: string;
  updated_at: string;
}

/** Payouts the ledger held for compliance, so the service can retry them when a credential arrives. */
export interface SettlementHeldTable {
  instruction_id: string;
  agreement_id: string;
  milestone_id: string;
  payee_msp: string;
  payee_user: string;
  reason: string;
  held_at: string;
  /** Set when the ledger cleared it (PayoutCleared). */
  cleared_at: string | null;
  /** 1 when something happened that may clear it (a credential of the payee changed). */
  retry_due: number;
}

/**
 * Provider callbacks already taken, by provider and Standard Webhooks `webhook-id`, so a
 * replay changes nothing. An id is unique for its sender only (Standard Webhooks), so two
 * providers' messages may share one.
 */
export interface SettlementWebhookReceiptsTable {
  webhook_id: string;
  provider: string;
  instruction_id: string;
  received_at: string;
}

/**
 * Where a person is paid. The account details are sealed (AES-256-GCM) with the
 * server's key; only a masked form is stored in clear. Nothing of it reaches the ledger.
 */
export interface PayoutAccountsTable {
  account_id: string;
  msp_id: string;
  user_id: string;
  currency: string;
  kind: 'iban' | 'provider';
  holder_name: string;
  masked: string;
  sealed_details: string;
  created_at: string;
  updated_at: string;
}

/**
 * A settlement instruction as the ledger's committed chaincode events last set it, kept so
 * that reconciliation reads only the blocks committed since it last looked: one row per
 * instruction id, replaced only by an event later on the chain.
 */
export interface SettlementLedgerInstructionsTable {
  instruction_id: string;
  /** Integer minor units, as text (an amount may exceed 2^53). */
  amount: string;
  /** ISO 4217 code. */
  currency: string;
  status: 'held' | 'pending' | 'paid' | 'failed';
  requested_at: string;
  /** MSP id of the organisation whose settlement service sends it; null before the ledger named one. */
  settling_organisation: string | null;
  source: InstructionSource;
  /** Agreement id, or licence grant id for a royalty. */
  record_id: string;
  /** Milestone id, or royalty period. */
  item_id: string;
  direction: 'collect' | 'payout';
  /** Block of the event that set this row; with `transaction_position`, where it sits on the chain. */
  block_number: number | string;
  transaction_position: number;
}

/** How far the ledger's instructions have been read: one row, `next_block` the first block not yet read. */
export interface SettlementLedgerReplayTable {
  name: string;
  next_block: number | string;
  updated_at: string;
}

export interface SettlementTables {
  settlement_outbox: SettlementOutboxTable;
  settlement_ledger_instructions: SettlementLedgerInstructionsTable;
  settlement_ledger_replay: SettlementLedgerReplayTable;
  settlement_held: SettlementHeldTable;
  settlement_webhook_receipts: SettlementWebhookReceiptsTable;
  payout_accounts: PayoutAccountsTable;
  checkpoints: { name: string; block_number: string; transaction_id: string | null; updated_at: string };
}

export type SettlementDb = Kysely<SettlementTables>;

/** Schema of the settlement tables, merged into the server's migrations; never edit one that shipped. */
export const settlementMigrations: Record<string, Migration> = {
  '2026-11-30-001-settlement': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('settlement_outbox')
        .addColumn('instruction_id', 'varchar(200)', (column) => column.primaryKey())
        .addColumn('agreement_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('milestone_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('kind', 'varchar(32)', (column) => column.notNull())
        .addColumn('direction', 'varchar(16)', (column) => column.notNull())
        .addColumn('provider', 'varchar(64)', (column) => column.notNull())
        .addColumn('counterparty_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('counterparty_user', 'varchar(64)', (column) => column.notNull())
        .addColumn('amount', 'varchar(32)', (column) => column.notNull())
        .addColumn('platform_fee', 'varchar(32)', (column) => column.notNull())
        .addColumn('currency', 'varchar(3)', (column) => column.notNull())
        .addColumn('request_tx_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('block_number', 'varchar(32)', (column) => column.notNull())
        .addColumn('requested_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('state', 'varchar(16)', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'varchar(32)')
        .addColumn('last_error', 'varchar(500)')
        .addColumn('provider_reference', 'varchar(128)')
        .addColumn('outcome', 'varchar(16)')
        .addColumn('outcome_reason', 'varchar(500)')
        .addColumn('confirm_tx_id', 'varchar(128)')
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('settlement_outbox_state')
        .on('settlement_outbox')
        .columns(['state', 'next_attempt_at'])
        .execute();
      await db.schema
        .createTable('settlement_held')
        .addColumn('instruction_id', 'varchar(200)', (column) => column.primaryKey())
        .addColumn('agreement_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('milestone_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('payee_msp', 'varchar(64)', (column) => column.notNull())
        .addColumn('payee_user', 'varchar(64)', (column) => column.notNull())
        .addColumn('reason', 'varchar(1000)', (column) => column.notNull())
        .addColumn('held_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('cleared_at', 'varchar(32)')
        .addColumn('retry_due', 'integer', (column) => column.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('settlement_held_payee')
        .on('settlement_held')
        .columns(['payee_msp', 'payee_user'])
        .execute();
      await db.schema
        .createTable('settlement_webhook_receipts')
        .addColumn('webhook_id', 'varchar(200)', (column) => column.primaryKey())
        .addColumn('provider', 'varchar(64)', (column) => column.notNull())
        .addColumn('instruction_id', 'varchar(200)', (column) => column.notNull())
        .addColumn('received_at', 'varchar(32)', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('payout_accounts')
        .addColumn('account_id', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('msp_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('user_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('currency', 'varchar(3)', (column) => column.notNull())
        .addColumn('kind', 'varchar(16)', (column) => column.notNull())
        .addColumn('holder_name', 'varchar(140)', (column) => column.notNull())
        .addColumn('masked', 'varchar(64)', (column) => column.notNull())
        .addColumn('sealed_details', 'text', (column) => column.notNull())
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
        .addUniqueConstraint('payout_accounts_owner_currency', ['msp_id', 'user_id', 'currency'])
        .execute();
    },
  },
  '2026-11-30-002-outbox-payout-account': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('settlement_outbox').addColumn('payout_account_id', 'varchar(64)').execute();
    },
  },
  /** A reissued payout names the one it replaces, so that the whole chain of a payout can be checked before one is sent. */
  '2026-12-02-003-outbox-reissue-of': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('settlement_outbox').addColumn('reissue_of', 'varchar(200)').execute();
    },
  },
  /**
   * A webhook id is unique per sender, not across providers: receipts are keyed by both, so
   * one provider's message no longer reads as a replay of another's that bore the same id.
   * The table is rebuilt (SQLite cannot change a primary key in place), receipts kept.
   */
  '2026-12-04-002-webhook-receipts-by-provider': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('settlement_webhook_receipts_by_provider')
        .addColumn('webhook_id', 'varchar(200)', (column) => column.notNull())
        .addColumn('provider', 'varchar(64)', (column) => column.notNull())
        .addColumn('instruction_id', 'varchar(200)', (column) => column.notNull())
        .addColumn('received_at', 'varchar(32)', (column) => column.notNull())
        .addPrimaryKeyConstraint('settlement_webhook_receipts_provider_id', ['provider', 'webhook_id'])
        .execute();
      await sql`insert into settlement_webhook_receipts_by_provider (webhook_id, provider, instruction_id, received_at)
        select webhook_id, provider, instruction_id, received_at from settlement_webhook_receipts`.execute(db);
      await db.schema.dropTable('settlement_webhook_receipts').execute();
      await db.schema
        .alterTable('settlement_webhook_receipts_by_provider')
        .renameTo('settlement_webhook_receipts')
        .execute();
    },
  },
  /** The ledger's instructions as reconciliation last read them, so that it reads only the blocks since. */
  '2026-12-07-001-settlement-ledger-instructions': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('settlement_ledger_instructions')
        .addColumn('instruction_id', 'varchar(200)', (column) => column.primaryKey())
        .addColumn('amount', 'varchar(32)', (column) => column.notNull())
        .addColumn('currency', 'varchar(3)', (column) => column.notNull())
        .addColumn('status', 'varchar(16)', (column) => column.notNull())
        .addColumn('requested_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('settling_organisation', 'varchar(64)')
        .addColumn('source', 'varchar(16)', (column) => column.notNull())
        .addColumn('record_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('item_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('direction', 'varchar(16)', (column) => column.notNull())
        .addColumn('block_number', 'bigint', (column) => column.notNull())
        .addColumn('transaction_position', 'integer', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('settlement_ledger_replay')
        .addColumn('name', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('next_block', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
        .execute();
    },
  },
  /**
   * A reconciliation reads one period's rows, the rows its statements name and the rows of
   * the records it touches, not every row ever written. If not there yet: replaying an
   * upgrade (this row and the ones after it removed) runs it again.
   */
  '2026-12-07-004-reconciliation-lookups': {
    async up(db: Kysely<unknown>): Promise<void> {
      const lookups = [
        ['settlement_outbox_requested', 'settlement_outbox', 'requested_at'],
        ['settlement_outbox_record', 'settlement_outbox', 'agreement_id'],
        ['settlement_ledger_instructions_requested', 'settlement_ledger_instructions', 'requested_at'],
        ['settlement_ledger_instructions_record', 'settlement_ledger_instructions', 'record_id'],
      ] as const;
      for (const [name, table, column] of lookups)
        await db.schema.createIndex(name).ifNotExists().on(table).column(column).execute();
    },
  },
  /** Royalties come from the licensing contract; every row before them came from agreements. */
  '2026-11-30-003-outbox-source': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('settlement_outbox')
        .addColumn('source', 'varchar(16)', (column) => column.notNull().defaultTo('agreement'))
        .execute();
    },
  },
};
