import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { withStatementCache } from './statement-cache.js';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type Migration,
  type MigrationProvider,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';
import type { SettlementTables } from '@gigledger/settlement';
import type { ApiConfig } from '../config.js';
import { migrations } from './migrations.js';
import type { AuditIndexTables } from '../audit-index/index-schema.js';

/** People who log in with a password or through the OIDC issuer. */
export interface UsersTable {
  user_id: string;
  org: string;
  role: string;
  display_name: string | null;
  password_hash: string | null;
  source: 'local' | 'oidc';
  disabled: number;
  created_at: string;
}

/** The wallet: each principal's enrolled Fabric identity, private key encrypted at rest. */
export interface IdentitiesTable {
  label: string;
  msp_id: string;
  enrollment_id: string;
  certificate: string;
  private_key: string;
  created_at: string;
}

/** API keys of services such as HR systems; only a hash of the secret is kept. */
export interface ApiKeysTable {
  id: string;
  name: string;
  org: string;
  role: string;
  scopes: string;
  secret_hash: string;
  identity_label: string;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** Where each event consumer has got to, so a restart neither loses nor repeats events. */
export interface CheckpointsTable {
  name: string;
  block_number: string;
  transaction_id: string | null;
  updated_at: string;
}

/** One read by an auditor or HR system; rows are only ever inserted (see `audit/read-log.ts`). */
export interface ReadLogTable {
  /** 1-based position in the chain; bigint columns come back as strings from PostgreSQL. */
  seq: number | string;
  at: string;
  principal_kind: string;
  principal_id: string;
  user_id: string;
  msp_id: string;
  role: string;
  operation: string;
  arguments_sha256: string;
  /** JSON arrays. */
  kinds: string;
  organisations: string;
  result_count: number;
  status: number;
  grants: string;
  prev_hash: string;
  hash: string;
  /** 128 random bits (hex) the row's hash covers; null on rows written before salts were kept. */
  salt: string | null;
}

/** The head an anchoring request id was first sent with (see `ReadLog.headOfAnchorRequest`). */
export interface ReadLogAnchorRequestsTable {
  request_id: string;
  /** bigint: a string from PostgreSQL. */
  sequence: number | string;
  head_hash: string;
  requested_at: string;
}

/** A bearer token signed out before its expiry (see `AccountService.revokeToken`). */
export interface RevokedTokensTable {
  token_sha256: string;
  user_id: string;
  revoked_at: string;
  /** ISO 8601; the row goes once the token would have expired anyway. */
  expires_at: string;
}

export interface DatabaseSchema extends SettlementTables, AuditIndexTables {
  revoked_tokens: RevokedTokensTable;
  read_log: ReadLogTable;
  read_log_anchor_requests: ReadLogAnchorRequestsTable;
  users: UsersTable;
  identities: IdentitiesTable;
  api_keys: ApiKeysTable;
  checkpoints: CheckpointsTable;
}

export type Db = Kysely<DatabaseSchema>;

const sqliteHandles = new WeakMap<Db, SQLite.Database>();

/**
 * The better-sqlite3 handle under a SQLite database, for work that must run as one
 * synchronous step (no other task between its statements); undefined on PostgreSQL.
 * Use it only while holding Kysely's connection (`db.connection().execute(…)`), so that
 * no transaction of Kysely's is open on it half-way.
 */
export function sqliteHandleOf(db: Db): SQLite.Database | undefined {
  return sqliteHandles.get(db);
}

/**
 * better-sqlite3 whose transactions begin `IMMEDIATE`: each takes the database's write lock
 * at its first statement, waiting for it up to the busy timeout (5 s), as every transaction
 * here writes. Kysely begins them deferred, and a deferred transaction that read before
 * another process (a worker of an API cluster, the primary's block follower) committed
 * cannot upgrade to write: SQLite answers `SQLITE_BUSY` at once, without waiting
 * (https://www.sqlite.org/lang_transaction.html, "BEGIN DEFERRED/IMMEDIATE"; in WAL mode
 * `SQLITE_BUSY_SNAPSHOT`, https://www.sqlite.org/rescode.html#busy_snapshot).
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** How often a SQLite connection re-reads the planner's statistics (see {@link reloadPlannerStatistics}). */
export const plannerStatisticsReloadMs = 60_000;

/**
 * Re-reads SQLite's planner statistics (`sqlite_stat1`) into this connection. SQLite
 * reads them once, with the schema (https://www.sqlite.org/lang_analyze.html: "ANALYZE
 * sqlite_schema" reads them again), and renewing them in another connection does not
 * reach this one: a worker of an API cluster that opened its connection when the audit
 * index held one transaction planned with that count after the primary's `PRAGMA
 * optimize` had written new ones, checking each of a page's transaction keys against a
 * scan of every transaction. A failure leaves the statistics it had.
 */
export function reloadPlannerStatistics(sqlite: SQLite.Database): void {
  try {
    sqlite.exec('analyze sqlite_schema');
  } catch {
    // Read again at the next turn of the timer.
  }
}

/** Opens SQLite (default) or PostgreSQL (DATABASE_URL) and brings the schema up to date. */
export async function openDatabase(database: ApiConfig['database']): Promise<Db> {
  let db: Db;
  if (database.kind === 'sqlite') {
    mkdirSync(path.dirname(database.file), { recursive: true, mode: 0o700 });
    const sqlite = new SQLite(database.file);
    // Users, sealed keys, payout accounts and the read log: readable by the server's user only.
    // SQLite gives its -wal and -shm files the main file's permissions.
    chmodSync(database.file, 0o600);
    // WAL lets readers proceed while the event consumer writes checkpoints.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // An auditor's count over a status or currency range visits thousands of rows spread
    // over the file; read through a memory map and a 64 MiB page cache rather than the
    // default 2 MiB, those visits stop costing a system call and a copy per page.
    sqlite.pragma('mmap_size = 1073741824');
    sqlite.pragma('cache_size = -65536');
    const reload = setInterval(() => {
      reloadPlannerStatistics(sqlite);
    }, plannerStatisticsReloadMs);
    reload.unref();
    const cached = withStatementCache(sqlite);
    const closing = {
      ...cached,
      close: () => {
        clearInterval(reload);
        cached.close();
      },
    };
    db = new Kysely<DatabaseSchema>({ dialect: new ImmediateSqliteDialect({ database: closing }) });
    sqliteHandles.set(db, sqlite);
  } else {
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    // An idle connection the server closes (a restart, a failover, an administrator's
    // pg_terminate_backend) is reported on the pool; unheard, that event would end the
    // process. The pool drops that connection itself and opens a new one when needed.
    pool.on('error', () => undefined);
    db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  }
  await migrate(db);
  return db;
}

class InCodeMigrations implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations);
  }
}

async function migrate(db: Db): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: new InCodeMigrations() }).migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    const reason = error instanceof Error ? error.message : 'see the failed migration';
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
