import { sql, SqliteAdapter, type Kysely, type Migration } from 'kysely';
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
  // After the audit index's tables, which databases created before it already hold.
  '2026-12-01-010-read-log': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('read_log')
        .addColumn('seq', 'bigint', (column) => column.primaryKey())
        .addColumn('at', 'varchar(32)', (column) => column.notNull())
        .addColumn('principal_kind', 'varchar(16)', (column) => column.notNull())
        .addColumn('principal_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('user_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('msp_id', 'varchar(64)', (column) => column.notNull())
        .addColumn('role', 'varchar(32)', (column) => column.notNull())
        .addColumn('operation', 'varchar(512)', (column) => column.notNull())
        .addColumn('arguments_sha256', 'varchar(64)', (column) => column.notNull())
        .addColumn('kinds', 'text', (column) => column.notNull())
        .addColumn('organisations', 'text', (column) => column.notNull())
        .addColumn('result_count', 'integer', (column) => column.notNull())
        .addColumn('status', 'integer', (column) => column.notNull())
        .addColumn('grants', 'text', (column) => column.notNull())
        .addColumn('prev_hash', 'varchar(64)', (column) => column.notNull())
        .addColumn('hash', 'varchar(64)', (column) => column.notNull())
        .execute();
      // The log is append-only: the database refuses changes too, so only someone who
      // drops these triggers can edit a row, and the anchored hash chain then shows it.
      if (db.getExecutor().adapter instanceof SqliteAdapter) {
        for (const event of ['UPDATE', 'DELETE']) {
          await sql
            .raw(
              `CREATE TRIGGER read_log_no_${event.toLowerCase()} BEFORE ${event} ON read_log ` +
                `BEGIN SELECT RAISE(ABORT, 'read_log is append-only'); END`,
            )
            .execute(db);
        }
      } else {
        await sql
          .raw(
            `CREATE FUNCTION read_log_append_only() RETURNS trigger LANGUAGE plpgsql AS ` +
              `$$ BEGIN RAISE EXCEPTION 'read_log is append-only'; END $$`,
          )
          .execute(db);
        await sql
          .raw(
            'CREATE TRIGGER read_log_append_only BEFORE UPDATE OR DELETE ON read_log ' +
              'FOR EACH ROW EXECUTE FUNCTION read_log_append_only()',
          )
          .execute(db);
      }
    },
  },
  '2026-12-02-001-read-log-anchor-requests': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The head each anchoring request id was first sent with, so that a retry after the
      // log grew, or after a restart, sends the same head and is answered the stored anchor.
      await db.schema
        .createTable('read_log_anchor_requests')
        .addColumn('request_id', 'varchar(128)', (column) => column.primaryKey())
        .addColumn('sequence', 'bigint', (column) => column.notNull())
        .addColumn('head_hash', 'varchar(64)', (column) => column.notNull())
        .addColumn('requested_at', 'varchar(32)', (column) => column.notNull())
        .execute();
    },
  },
  '2026-12-03-001-revoked-tokens': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Bearer tokens signed out before they expire, by the SHA-256 of their text (never
      // the token itself), kept until they would have expired.
      await db.schema
        .createTable('revoked_tokens')
        .addColumn('token_sha256', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('user_id', 'varchar(128)', (column) => column.notNull())
        .addColumn('revoked_at', 'varchar(32)', (column) => column.notNull())
        .addColumn('expires_at', 'varchar(32)', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('revoked_tokens_by_expiry').on('revoked_tokens').column('expires_at').execute();
    },
  },
  '2026-12-04-001-read-log-salt': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Each new row's hash covers a random salt kept beside it, so that an organisation
      // shown a row with other organisations withheld cannot find them by trial hashing.
      // Adding a column fires no row trigger: the append-only guard stays as it is.
      await db.schema.alterTable('read_log').addColumn('salt', 'varchar(32)').execute();
    },
  },
  '2026-12-07-003-admin-list-order': {
    async up(db: Kysely<unknown>): Promise<void> {
      // An administrator lists its own organisation's people and keys a page at a time, in
      // the order these give, reading each page from where the last ended.
      // If not there yet: replaying an upgrade (this row and the ones before it removed) runs it again.
      await db.schema.createIndex('users_by_org').ifNotExists().on('users').columns(['org', 'user_id']).execute();
      await db.schema
        .createIndex('api_keys_by_org')
        .ifNotExists()
        .on('api_keys')
        .columns(['org', 'created_at', 'id'])
        .execute();
    },
  },
};
