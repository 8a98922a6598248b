import { createHash, createHmac, randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditRecordKind, ReadLogAnchor } from '@gigledger/chaincode/model';
import { sql, SqliteAdapter, type Kysely } from 'kysely';
import type SQLite from 'better-sqlite3';
import { sqliteHandleOf, type DatabaseSchema, type Db, type ReadLogTable } from '../db/database.js';

/** The hash before the first row: 64 zeros. */
export const genesisHash = '0'.repeat(64);

/** One read as it is recorded: who, what, when and under which grants. */
export interface ReadLogEntry {
  readonly at: string;
  readonly principal: {
    readonly kind: string;
    readonly id: string;
    readonly userId: string;
    readonly mspId: string;
    readonly role: string;
  };
  /** `GET /v1/agreements/:agreementId`, or `graphql query <root fields>`. */
  readonly operation: string;
  /**
   * The digest of the RFC 8785 canonical JSON of the arguments (path, query, body, GraphQL
   * document and variables): HMAC-SHA256 hex keyed with the row's salt for rows appended
   * with their arguments' text (see {@link ReadLog.append}), so that an organisation shown
   * the row cannot confirm a guess of what a read named; plain SHA-256 in rows written
   * before.
   */
  readonly argumentsSha256: string;
  readonly kinds: AuditRecordKind[];
  /** MSP ids of the organisations the answer concerns. */
  readonly organisations: string[];
  /**
   * Records of the read's kinds in the answer: an array's length, 1 for one record, 0
   * for a refusal; GraphQL root fields that are no records (`me`) count nothing.
   */
  readonly resultCount: number;
  /** HTTP status of the answer. */
  readonly status: number;
  /** Ids of the auditor's live grants covering what was read. */
  readonly grants: string[];
}

/** A stored row: the entry, its position and its link in the chain. */
export interface ReadLogRow extends ReadLogEntry {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * The hash of a row: SHA-256 hex of the previous row's hash (as its hex text) followed
 * by the RFC 8785 canonical JSON of the row's entry, sequence number and salt.
 *
 * The salt (128 random bits, hex, kept in the row and never shown) is why an
 * organisation shown a row with the other organisations and grants withheld
 * ({@link asSeenBy}) cannot find them by hashing the few candidates until one gives the
 * row's hash. Rows written before salts were kept have none and hash without the key.
 */
export function rowHash(prevHash: string, seq: number, entry: ReadLogEntry, salt?: string | null): string {
  const content = canonicalize(salt == null ? { seq, ...entry } : { seq, salt, ...entry });
  if (content === undefined) throw new Error('a read-log entry has no canonical JSON');
  return createHash('sha256').update(prevHash).update(content).digest('hex');
}

function toRow(record: ReadLogTable): ReadLogRow {
  return {
    seq: Number(record.seq),
    at: record.at,
    principal: {
      kind: record.principal_kind,
      id: record.principal_id,
      userId: record.user_id,
      mspId: record.msp_id,
      role: record.role,
    },
    operation: record.operation,
    argumentsSha256: record.arguments_sha256,
    kinds: JSON.parse(record.kinds) as AuditRecordKind[],
    organisations: JSON.parse(record.organisations) as string[],
    resultCount: record.result_count,
    status: record.status,
    grants: JSON.parse(record.grants) as string[],
    prevHash: record.prev_hash,
    hash: record.hash,
  };
}

/**
 * A row as one organisation's admins see it: `organisations` holds their own MSP id alone
 * and `grants` only the grants their organisation gave. A read can concern others for
 * reasons the viewer has no right to: a GraphQL document, or a query string, may name the
 * viewer's organisation and also ask for another organisation's record by id, and the
 * organisations and grants of that record, shown here, would tell that the id exists and
 * whose it is. Salted hashes ({@link rowHash}) keep what is withheld from being found by
 * trial. A row written before salts were kept hashes without one, so what it withholds
 * can be found that way, and so can what a row its viewer never sees concerned when the
 * next row's `prevHash` gives its hash: reads made before salts were kept stay as open to
 * trial as they were.
 *
 * @param givenGrants ids of the audit grants the viewer's organisation gave, live or not.
 */
export function asSeenBy(row: ReadLogRow, mspId: string, givenGrants: ReadonlySet<string>): ReadLogRow {
  return {
    ...row,
    organisations: row.organisations.filter((organisation) => organisation === mspId),
    grants: row.grants.filter((grantId) => givenGrants.has(grantId)),
  };
}

async function headOf(db: Kysely<DatabaseSchema>): Promise<{ sequence: number; headHash: string }> {
  const last = await db
    .selectFrom('read_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return last === undefined
    ? { sequence: 0, headHash: genesisHash }
    : { sequence: Number(last.seq), headHash: last.hash };
}

/** Where the chain stops holding, and why. */
export interface ChainBreak {
  readonly seq: number;
  readonly reason: string;
}

/** What `verify` found: rows and anchors checked, and the first row at fault if any. */
export interface ReadLogVerification {
  readonly ok: boolean;
  readonly rows: number;
  readonly headHash: string;
  readonly anchorsChecked: number;
  readonly latestAnchor?: { readonly sequence: number; readonly headHash: string; readonly txId: string };
  readonly firstBadRow?: ChainBreak;
  /**
   * The organisation's other read logs anchored on the ledger (other deployments of the
   * API), each with its latest anchor. An organisation running one deployment should see
   * none: a log whose first row was rewritten shows here as another log, its rows missing.
   */
  readonly otherLogs?: { readonly logId: string; readonly sequence: number; readonly txId: string }[];
}

/** A row's salt: 128 random bits. */
const saltBytes = 16;

/** Entries appended in one transaction at most; 16 columns each stay far below SQLite's bound on parameters. */
export const maxAppendBatch = 256;

/** The PostgreSQL advisory lock that orders appends: the first 8 bytes of SHA-256("read_log"), as a signed integer. */
const appendLockKey = createHash('sha256').update('read_log').digest().readBigInt64BE(0);

/**
 * Runs `work` in a transaction that holds the read log's write lock from its first
 * statement, so that appends from several processes (the workers of an API cluster)
 * queue for the head instead of reading the same one: on SQLite every transaction begins
 * `IMMEDIATE` (see `ImmediateSqliteDialect`), on PostgreSQL a transaction-scoped advisory
 * lock is taken first. Otherwise two appends could read the same head and one would fail
 * to write (`SQLITE_BUSY`, or a duplicate `seq`).
 */
async function underAppendLock<T>(db: Db, work: (trx: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
      await sql`select pg_advisory_xact_lock(${appendLockKey.toString()}::bigint)`.execute(trx);
    }
    return work(trx);
  });
}

/** An entry to append: with its arguments' digest, or their RFC 8785 text for the row to digest under its salt. */
export type ReadLogAppend = ReadLogEntry | (Omit<ReadLogEntry, 'argumentsSha256'> & { readonly argumentsText: string });

interface PendingAppend {
  readonly entry: ReadLogAppend;
  readonly resolve: (row: ReadLogRow) => void;
  readonly reject: (error: unknown) => void;
}

/** A row as it is stored: with the salt its hash covers. */
interface SaltedRow extends ReadLogRow {
  readonly salt: string;
}

/** A batch's rows chained after the head, each with the append it answers. */
interface ChainedBatch {
  readonly rows: SaltedRow[];
  readonly appends: PendingAppend[];
}

/** The entry with its arguments' digest: HMAC-SHA256 of their text keyed with the row's salt, when it carries the text. */
function withArgumentsDigest(entry: ReadLogAppend, salt: string): ReadLogEntry {
  if (!('argumentsText' in entry)) return entry;
  const { argumentsText, ...rest } = entry;
  return {
    ...rest,
    argumentsSha256: createHmac('sha256', Buffer.from(salt, 'hex')).update(argumentsText).digest('hex'),
  };
}

/**
 * Chains a batch's entries after `head` in arrival order. An entry without canonical
 * JSON is rejected alone; the others keep their places.
 */
function chained(head: { sequence: number; headHash: string }, batch: readonly PendingAppend[]): ChainedBatch {
  const rows: SaltedRow[] = [];
  const appends: PendingAppend[] = [];
  let previous = head.headHash;
  // One draw of the generator for the whole batch: a call costs far more than its bytes.
  const salts = randomBytes(saltBytes * batch.length);
  for (const [position, pending] of batch.entries()) {
    const seq = head.sequence + rows.length + 1;
    const salt = salts.toString('hex', position * saltBytes, (position + 1) * saltBytes);
    const entry = withArgumentsDigest(pending.entry, salt);
    let hash: string;
    try {
      hash = rowHash(previous, seq, entry, salt);
    } catch (error) {
      pending.reject(error);
      continue;
    }
    rows.push({ ...entry, seq, prevHash: previous, hash, salt });
    appends.push(pending);
    previous = hash;
  }
  return { rows, appends };
}

/** The read log's columns, in the order of {@link toRecord}'s keys. */
const readLogColumns = [
  'seq',
  'at',
  'principal_kind',
  'principal_id',
  'user_id',
  'msp_id',
  'role',
  'operation',
  'arguments_sha256',
  'kinds',
  'organisations',
  'result_count',
  'status',
  'grants',
  'prev_hash',
  'hash',
  'salt',
] as const satisfies readonly (keyof ReadLogTable)[];

function toRecord(row: SaltedRow): Pick<ReadLogTable, (typeof readLogColumns)[number]> {
  return {
    seq: row.seq,
    at: row.at,
    principal_kind: row.principal.kind,
    principal_id: row.principal.id,
    user_id: row.principal.userId,
    msp_id: row.principal.mspId,
    role: row.principal.role,
    operation: row.operation,
    arguments_sha256: row.argumentsSha256,
    kinds: JSON.stringify(row.kinds),
    organisations: JSON.stringify(row.organisations),
    result_count: row.resultCount,
    status: row.status,
    grants: JSON.stringify(row.grants),
    prev_hash: row.prevHash,
    hash: row.hash,
    salt: row.salt,
  };
}

/**
 * The append-only, hash-chained log of reads by auditors and HR systems. Rows are only
 * inserted, in sequence order; the class offers no update or delete, and the database
 * refuses them by trigger.
 *
 * Appends from this process go through one writer, and each append transaction holds
 * the log's write lock from its start, so each row links to the one before it even when
 * several processes share the database. Appends of one turn of the event loop (the
 * requests its poll phase read), and those that arrive while a write is under way, are
 * committed together (group commit): one head lookup, the rows chained in arrival order,
 * one commit. Each `append` resolves only once the transaction holding its row has
 * committed, so a read is still logged before it is answered; a failed commit rejects
 * every append of that transaction and writes none of their rows.
 */
export class ReadLog {
  readonly #db: Db;
  readonly #pending: PendingAppend[] = [];
  #writing = false;
  #sqliteAppend?: {
    readonly database: SQLite.Database;
    readonly append: (batch: readonly PendingAppend[]) => ChainedBatch;
  };

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Appends one entry after the current head; resolves once its row is committed. An
   * entry given its arguments' RFC 8785 text is stored with their digest keyed with the
   * row's salt.
   */
  append(entry: ReadLogAppend): Promise<ReadLogRow> {
    return new Promise<ReadLogRow>((resolve, reject) => {
      this.#pending.push({ entry, resolve, reject });
      if (!this.#writing) {
        this.#writing = true;
        // Started once the event loop has taken in what its poll phase read, so the
        // appends of every request that arrived with this one share a transaction.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, maxAppendBatch);
        let written: ChainedBatch;
        try {
          const sqlite = sqliteHandleOf(this.#db);
          written =
            sqlite === undefined
              ? await underAppendLock(this.#db, async (trx) => {
                  const written = chained(await headOf(trx), batch);
                  if (written.rows.length > 0) {
                    await trx.insertInto('read_log').values(written.rows.map(toRecord)).execute();
                  }
                  return written;
                })
              : await this.#appendOnSqliteWhenFree(sqlite, batch);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
          continue;
        }
        written.appends.forEach((pending, position) => {
          const row = written.rows[position];
          if (row !== undefined) {
            const { salt: _salt, ...shown } = row;
            pending.resolve(shown);
          }
        });
      }
    } finally {
      this.#writing = false;
    }
  }

  /**
   * Writes a batch on SQLite once the write lock is free, asking for it without waiting
   * and asking again after a pause while another connection (another worker's append,
   * the block follower writing a block) holds it: SQLite's own busy handler would wait
   * inside the call, the whole event loop stopped, every other request of this process
   * with it. Gives up, as the busy handler would, after the connection's busy timeout.
   *
   * @throws the `SQLITE_BUSY` error when the lock stayed taken that long.
   */
  async #appendOnSqliteWhenFree(sqlite: SQLite.Database, batch: readonly PendingAppend[]): Promise<ChainedBatch> {
    const waitMs = sqlite.pragma('busy_timeout', { simple: true }) as number;
    const deadline = performance.now() + waitMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
      let busy: unknown;
      const written = await this.#db.connection().execute(() => {
        sqlite.pragma('busy_timeout = 0');
        try {
          return Promise.resolve(this.#appendOnSqlite(sqlite, batch));
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) throw error;
          busy = error;
          return Promise.resolve(undefined);
        } finally {
          sqlite.pragma(`busy_timeout = ${String(waitMs)}`);
        }
      });
      if (written !== undefined) return written;
      if (performance.now() >= deadline) throw busy;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /**
   * Writes a batch on SQLite in one synchronous transaction. Through Kysely the write
   * lock was held across awaits, while this process's other requests ran in between and
   * another process's appends waited on the lock, their event loop stopped in SQLite's
   * busy handler; held for the statements alone, it is free again within the same task.
   */
  #appendOnSqlite(sqlite: SQLite.Database, batch: readonly PendingAppend[]): ChainedBatch {
    if (this.#sqliteAppend?.database !== sqlite) {
      const lastRow = sqlite.prepare<[], { seq: number | bigint; hash: string }>(
        'select seq, hash from read_log order by seq desc limit 1',
      );
      const insertRow = sqlite.prepare<[ReturnType<typeof toRecord>]>(
        `insert into read_log (${readLogColumns.join(', ')}) values (${readLogColumns.map((column) => `@${column}`).join(', ')})`,
      );
      const append = sqlite.transaction((pending: readonly PendingAppend[]) => {
        const last = lastRow.get();
        const written = chained(
          last === undefined
            ? { sequence: 0, headHash: genesisHash }
            : { sequence: Number(last.seq), headHash: last.hash },
          pending,
        );
        for (const row of written.rows) insertRow.run(toRecord(row));
        return written;
      });
      this.#sqliteAppend = { database: sqlite, append: (pending) => append.immediate(pending) };
    }
    return this.#sqliteAppend.append(batch);
  }

  /** The number of rows and the last row's hash (the genesis hash for an empty log). */
  head(): Promise<{ sequence: number; headHash: string }> {
    return headOf(this.#db);
  }

  /**
   * The head to anchor for the anchoring request `requestId`: the head it was first sent
   * with, kept in the database from its first use, so that a retry after the log grew,
   * through another process or after a restart, sends the same head again (and the
   * chaincode answers it the anchor it stored); the current head for a new id. The
   * genesis head (an empty log) is not kept.
   */
  async headOfAnchorRequest(requestId: string): Promise<{ sequence: number; headHash: string }> {
    const kept = () =>
      this.#db
        .selectFrom('read_log_anchor_requests')
        .select(['sequence', 'head_hash'])
        .where('request_id', '=', requestId)
        .executeTakeFirst();
    const first = await kept();
    if (first !== undefined) return { sequence: Number(first.sequence), headHash: first.head_hash };
    const head = await this.head();
    if (head.sequence === 0) return head;
    await this.#db
      .insertInto('read_log_anchor_requests')
      .values({
        request_id: requestId,
        sequence: head.sequence,
        head_hash: head.headHash,
        requested_at: new Date().toISOString(),
      })
      .onConflict((conflict) => conflict.column('request_id').doNothing())
      .execute();
    // Another process may have kept this id first; its head is the one to send.
    const stored = await kept();
    return stored === undefined ? head : { sequence: Number(stored.sequence), headHash: stored.head_hash };
  }

  /**
   * The log's id among its organisation's read logs on the ledger: its first row's hash
   * (each row's hash covers its entry's time and request id, so two logs never share it).
   * Undefined while the log is empty.
   */
  async logId(): Promise<string | undefined> {
    const first = await this.#db.selectFrom('read_log').select('hash').where('seq', '=', 1).executeTakeFirst();
    return first?.hash;
  }

  /**
   * Rows concerning an organisation, oldest first, after the `after` sequence number, as
   * stored (show them through {@link asSeenBy}). Organisations are kept as a JSON array,
   * so the match is on the quoted MSP id. A row that concerns no organisation (`[]`: an
   * empty answer, a read of nothing but the schema) is nobody's to read here: were it
   * shown to some organisation, that organisation's own reads of an id would show a row
   * when the id is unknown and none when it is another organisation's record, and so tell
   * which ids exist. It stays in the chain the verification checks.
   */
  async concerning(mspId: string, after: number, limit: number): Promise<ReadLogRow[]> {
    const rows = await this.#db
      .selectFrom('read_log')
      .selectAll()
      .where('seq', '>', after)
      .where('organisations', 'like', `%${JSON.stringify(mspId)}%`)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toRow);
  }

  /**
   * Recomputes the chain from the first row and compares it with the anchors on the
   * ledger, naming the first row at fault: a row whose stored link or hash does not
   * recompute (edited without recomputing what follows), a gap in the sequence (a row
   * deleted), or an anchored sequence whose row is missing or hashes differently (the
   * rows up to it rewritten, links and all, or the tail deleted).
   */
  async verify(anchors: readonly ReadLogAnchor[]): Promise<ReadLogVerification> {
    const ordered = [...anchors].sort((a, b) => a.sequence - b.sequence);
    const latest = ordered.at(-1);
    const hashes = new Map<number, string>();
    let previous = genesisHash;
    let expectedSeq = 1;
    let firstBadRow: ChainBreak | undefined;
    let salted = false;
    const pageSize = 1000;
    for (let after = 0; firstBadRow === undefined;) {
      const page = await this.#db
        .selectFrom('read_log')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq', 'asc')
        .limit(pageSize)
        .execute();
      for (const record of page) {
        let row: ReadLogRow;
        try {
          row = toRow(record);
        } catch {
          firstBadRow = {
            seq: Number(record.seq),
            reason: `row ${String(record.seq)} cannot be read: its content was changed`,
          };
          break;
        }
        if (row.seq !== expectedSeq) {
          firstBadRow = {
            seq: expectedSeq,
            reason: `row ${String(expectedSeq)} is missing (the next row is ${String(row.seq)})`,
          };
          break;
        }
        // Once rows are salted every later row must be: an unsalted one was written by a
        // server from before salts (a rolling upgrade left behind), or had its salt removed.
        if (record.salt == null && salted) {
          firstBadRow = {
            seq: row.seq,
            reason: `row ${String(row.seq)} has no salt although rows before it have: it was written by a server of an earlier version, or changed`,
          };
          break;
        }
        salted ||= record.salt != null;
        if (row.prevHash !== previous) {
          firstBadRow = {
            seq: row.seq,
            reason: `row ${String(row.seq)} does not link to the hash of the row before it`,
          };
          break;
        }
        const { seq, prevHash, hash, ...entry } = row;
        if (rowHash(prevHash, seq, entry, record.salt) !== hash) {
          firstBadRow = { seq, reason: `row ${String(seq)} does not hash to its stored hash: its content was changed` };
          break;
        }
        hashes.set(seq, hash);
        previous = hash;
        expectedSeq += 1;
      }
      if (page.length < pageSize) break;
      after = Number(page.at(-1)?.seq ?? after);
    }
    const rows = expectedSeq - 1;
    let anchorsChecked = 0;
    let goodUpTo = 0;
    for (const anchor of ordered) {
      if (anchor.sequence === 0) continue;
      if (firstBadRow !== undefined && anchor.sequence >= firstBadRow.seq) break;
      anchorsChecked += 1;
      const hash = hashes.get(anchor.sequence);
      if (hash === undefined) {
        firstBadRow = {
          seq: rows + 1,
          reason: `the ledger anchors row ${String(anchor.sequence)} (transaction ${anchor.txId}) but the log ends at row ${String(rows)}: rows were deleted`,
        };
        break;
      }
      if (hash !== anchor.headHash) {
        firstBadRow = {
          seq: goodUpTo + 1,
          reason:
            `row ${String(anchor.sequence)} hashes to ${hash}, not to ${anchor.headHash} as anchored in transaction ${anchor.txId}: ` +
            `a row from ${String(goodUpTo + 1)} to ${String(anchor.sequence)} was changed and the chain recomputed`,
        };
        break;
      }
      goodUpTo = anchor.sequence;
    }
    return {
      ok: firstBadRow === undefined,
      rows,
      headHash: previous,
      anchorsChecked,
      ...(latest === undefined
        ? {}
        : { latestAnchor: { sequence: latest.sequence, headHash: latest.headHash, txId: latest.txId } }),
      ...(firstBadRow === undefined ? {} : { firstBadRow }),
    };
  }
}
