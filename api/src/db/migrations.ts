import type { Kysely, Migration } from 'kysely';
import { settlementMigrations } from '@gigledger/settlement';
import { auditIndexMigrations } from '../audit-index/index-schema.js';

/** Schema changes in order; names sort in the order they apply. Never edit one that shipped. */
export const migrations: Record<string, Migration> = {
  '2026-11-24-001-identities-and-keys': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('users')
        .addColumn('user_id', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('org', 'varchar(64)', (column) => column.notNull())
        .addColumn('role', 'varchar(32)', (column) => column.notNull())
        .addColumn('display_name', 'varchar(200)')
        .addColumn('password_hash', 'varchar(512)')
        .addColumn('source', 'varchar(16)', (column) => column.notNull())
        .addColumn('disabled', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('identities')
        .addColumn('label', 'varchar(128)', (column) => column.primaryKey())
        .addColumn('msp_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('enrollment_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('certificate', 'text', (column) => column.notNull())
        .addColumn('private_key', 'text', (column) => column.notNull())
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'varchar(32)', (column) => column.primaryKey())
        .addColumn('name', 'varchar(64)', (column) => column.notNull())
        .addColumn('org', 'varchar(64)', (column) => column.notNull())
        .addColumn('role', 'varchar(32)', (column) => column.notNull())
        .addColumn('scopes', 'text', (column) => column.notNull())
        .addColumn('secret_hash', 'varchar(64)', (column) => column.notNull())
        .addColumn('identity_label', 'varchar(128)', (column) => column.notNull())
        .addColumn('created_by', 'varchar(64)', (column) => column.notNull())
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('revoked_at', 'varchar(32)')
        .addColumn('last_used_at', 'varchar(32)')
        .execute();
      await db.schema
        .createTable('checkpoints')
        .addColumn('name', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('block_number', 'varchar(32)', (column) => column.notNull())
        .addColumn('transaction_id', 'varchar(128)')
        .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
        .execute();
    },
  },
  ...settlementMigrations,
  ...auditIndexMigrations,
};
