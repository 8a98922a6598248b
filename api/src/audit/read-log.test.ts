import { jest } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { ReadLogAnchor } from '@gigledger/chaincode/model';
import { openDatabase, type Db } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { asSeenBy, genesisHash, ReadLog, rowHash, type ReadLogEntry } from './read-log.js';

const entry = (n: number, overrides: Partial<ReadLogEntry> = {}): ReadLogEntry => ({
  at: new Date(Date.UTC(2026, 10, 30, 12, 0, n)).toISOString(),
  principal: { kind: 'person', id: 'audrey', userId: 'audrey', mspId: 'AuditOrgMSP', role: 'auditor' },
  operation: 'GET /v1/agreements/:agreementId',
  argumentsSha256: 'a'.repeat(64),
  kinds: ['agreement'],
  organisations: n % 2 === 0 ? ['ClientOrgMSP', 'TalentOrgMSP'] : ['TalentOrgMSP'],
  resultCount: 1,
  status: 200,
  grants: ['AG-1'],
  ...overrides,
});

const anchorOf = (sequence: number, headHash: string): ReadLogAnchor => ({
  mspId: 'ClientOrgMSP',
  sequence,
  headHash,
  anchoredBy: { mspId: 'ClientOrgMSP', userId: 'svc.read-log-anchor', role: 'settlement' },
  at: '2026-11-30T12:00:00.000Z',
  txId: `tx-${String(sequence)}`,
});

describe('ReadLog', () => {
  let dir: string;
  let db: Db;
  let log: ReadLog;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-rl-'));
    db = await openDatabase({ kind: 'sqlite', file: path.join(dir, 'rl.sqlite') });
    log = new ReadLog(db);
  });

  afterEach(async () => {
    try {
      await db.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const fill = async (rows: number) => {
    for (let n = 1; n <= rows; n += 1) await log.append(entry(n));
  };
  // A database owner can drop the triggers; the chain and the anchors must still catch the edit.
  const dropTriggers = async () => {
    await sql.raw('DROP TRIGGER read_log_no_update').execute(db);
    await sql.raw('DROP TRIGGER read_log_no_delete').execute(db);
  };

  const saltOf = async (seq: number) =>
    (await db.selectFrom('read_log').select('salt').where('seq', '=', seq).executeTakeFirstOrThrow()).salt;

  it('chains each row to the one before with SHA-256 over the previous hash and the RFC 8785 JSON', async () => {
    const first = await log.append(entry(1));
    const second = await log.append(entry(2));
    expect(first).toMatchObject({ seq: 1, prevHash: genesisHash });
    const [salt1, salt2] = [await saltOf(1), await saltOf(2)];
    expect([salt1, salt2]).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), expect.stringMatching(/^[0-9a-f]{32}$/)]);
    expect(salt1).not.toBe(salt2);
    const expected = createHash('sha256')
      .update(genesisHash)
      .update(canonicalize({ seq: 1, salt: salt1, ...entry(1) }) ?? '')
      .digest('hex');
    expect(first.hash).toBe(expected);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, hash: rowHash(first.hash, 2, entry(2), salt2) });
    // The salt is the server's: it is not part of the row handed out.
    expect(Object.keys(first)).not.toContain('salt');
    expect(await log.head()).toEqual({ sequence: 2, headHash: second.hash });
  });

  // A row as a server from before salts wrote it: hashed without one, none stored.
  const insertUnsalted = async (seq: number, written: ReadLogEntry, prevHash: string) => {
    await db
      .insertInto('read_log')
      .values({
        seq,
        at: written.at,
        principal_kind: written.principal.kind,
        principal_id: written.principal.id,
        user_id: written.principal.userId,
        msp_id: written.principal.mspId,
        role: written.principal.role,
        operation: written.operation,
        arguments_sha256: written.argumentsSha256,
        kinds: JSON.stringify(written.kinds),
        organisations: JSON.stringify(written.organisations),
        result_count: written.resultCount,
        status: written.status,
        grants: JSON.stringify(written.grants),
        prev_hash: prevHash,
        hash: rowHash(prevHash, seq, written),
      })
      .execute();
  };

  it("digests a read's arguments under its row's salt, so a row shown tells no guess of what it named", async () => {
    const argumentsText = canonicalize({ path: '/v1/agreements/A-100', query: {} })!;
    const { argumentsSha256: _given, ...rest } = entry(1);
    const first = await log.append({ ...rest, argumentsText });
    const second = await log.append({ ...rest, argumentsText });
    const stored = await sql<{ salt: string; arguments_sha256: string }>`
      SELECT salt, arguments_sha256 FROM read_log ORDER BY seq`.execute(db);
    const plain = createHash('sha256').update(argumentsText).digest('hex');
    expect([first.argumentsSha256, second.argumentsSha256]).not.toContain(plain);
    expect(first.argumentsSha256).not.toBe(second.argumentsSha256);
    // Whoever holds the row's salt (the database, never a page of the log) can check it.
    expect(stored.rows.map((row) => row.arguments_sha256)).toEqual(
      stored.rows.map((row) => createHmac('sha256', Buffer.from(row.salt, 'hex')).update(argumentsText).digest('hex')),
    );
    expect(await log.verify([])).toMatchObject({ ok: true, rows: 2 });
  });

  it('verifies rows written before salts were kept, and salted rows after them', async () => {
    await insertUnsalted(1, entry(1), genesisHash);
    await log.append(entry(2));
    expect(await saltOf(1)).toBeNull();
    expect(await log.verify([anchorOf(2, (await log.head()).headHash)])).toMatchObject({ ok: true, rows: 2 });
    // A server of an earlier version appending after salted rows is named, as is a salt removed.
    await insertUnsalted(3, entry(3), (await log.head()).headHash);
    expect((await log.verify([])).firstBadRow).toEqual({
      seq: 3,
      reason:
        'row 3 has no salt although rows before it have: it was written by a server of an earlier version, or changed',
    });
  });

  it('keeps sequence and links when appends arrive together', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, n) => log.append(entry(n + 1))));
    const verification = await log.verify([]);
    expect(verification).toMatchObject({ ok: true, rows: 20 });
  });

  it('chains appends that arrive during a write in arrival order, each answered with its committed row', async () => {
    await log.append(entry(0));
    const rows = await Promise.all(Array.from({ length: 600 }, (_, n) => log.append(entry(n + 1))));
    // More than one batch's worth, so several group commits follow one another.
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 600 }, (_, n) => n + 2));
    rows.forEach((row, n) => {
      expect(row).toMatchObject(entry(n + 1));
    });
    const stored = await db.selectFrom('read_log').select(['seq', 'prev_hash', 'hash']).orderBy('seq').execute();
    for (const row of rows) {
      expect(stored[row.seq - 1]).toEqual({ seq: row.seq, prev_hash: row.prevHash, hash: row.hash });
    }
    expect(await log.verify([anchorOf(601, rows.at(-1)?.hash ?? '')])).toMatchObject({
      ok: true,
      rows: 601,
      anchorsChecked: 1,
    });
  });

  it("waits for another connection's write lock without stopping the event loop", async () => {
    await log.append(entry(1));
    // Another writer of the same file (another worker, the block follower) holds the lock;
    // only this process's event loop can let it go.
    const other = new SQLite(path.join(dir, 'rl.sqlite'));
    let release: NodeJS.Timeout | undefined;
    try {
      other.exec('BEGIN IMMEDIATE');
      const events: string[] = [];
      release = setTimeout(() => {
        other.exec('COMMIT');
        events.push('other writer committed');
      }, 200);
      const appended = log.append(entry(2)).then((row) => {
        events.push('appended');
        return row;
      });
      expect((await appended).seq).toBe(2);
      expect(events).toEqual(['other writer committed', 'appended']);
      expect(await log.verify([])).toMatchObject({ ok: true, rows: 2 });
    } finally {
      clearTimeout(release);
      other.close();
    }
  });

  it('keeps the chain verifiable under concurrent appends of any sizes and timings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.nat(3), { maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        async (waves) => {
          const before = (await log.head()).sequence;
          let appended = 0;
          // Waves of appends, some started while an earlier wave's commit is under way.
          await Promise.all(
            waves.map(async (delays, wave) => {
              await new Promise((resolve) => setTimeout(resolve, wave));
              await Promise.all(
                delays.map(async (delay, n) => {
                  await new Promise((resolve) => setImmediate(resolve));
                  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
                  appended += 1;
                  return log.append(entry(n));
                }),
              );
            }),
          );
          const verification = await log.verify([]);
          expect(verification).toMatchObject({ ok: true, rows: before + appended });
        },
      ),
      { numRuns: 15 },
    );
  });

  it('fails only the entry that has no canonical JSON, and chains the others past it', async () => {
    const broken = entry(2, { resultCount: Number.NaN });
    const outcomes = await Promise.allSettled([log.append(entry(1)), log.append(broken), log.append(entry(3))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [, , third] = outcomes;
    expect(third.status === 'fulfilled' ? third.value.seq : undefined).toBe(2);
    expect(await log.verify([])).toMatchObject({ ok: true, rows: 2 });
  });

  it('writes none of a group whose commit fails, answers each of them with the failure, and goes on', async () => {
    await log.append(entry(1));
    // A row the database refuses (a duplicate sequence number) fails the whole transaction.
    await sql
      .raw(
        `CREATE TRIGGER refuse_third BEFORE INSERT ON read_log WHEN NEW.seq = 3 BEGIN SELECT RAISE(ABORT, 'refused'); END`,
      )
      .execute(db);
    const outcomes = await Promise.allSettled([log.append(entry(2)), log.append(entry(3)), log.append(entry(4))]);
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(await log.head()).toMatchObject({ sequence: 1 });
    await sql.raw('DROP TRIGGER refuse_third').execute(db);
    const next = await log.append(entry(5));
    expect(next.seq).toBe(2);
    expect(await log.verify([])).toMatchObject({ ok: true, rows: 2 });
  });

  it('is refused updates and deletes by the database', async () => {
    await fill(2);
    const outcome = (statement: string) =>
      sql
        .raw(statement)
        .execute(db)
        .then(
          () => 'accepted',
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
    expect(await outcome("UPDATE read_log SET operation = 'x' WHERE seq = 1")).toMatch(/read_log is append-only/);
    expect(await outcome('DELETE FROM read_log WHERE seq = 2')).toMatch(/read_log is append-only/);
    expect((await log.verify([])).rows).toBe(2);
  });

  it('verifies against anchors, and names an edited row', async () => {
    await fill(5);
    const head = await log.head();
    expect(await log.verify([anchorOf(5, head.headHash)])).toMatchObject({ ok: true, rows: 5, anchorsChecked: 1 });
    await dropTriggers();
    await sql.raw('UPDATE read_log SET result_count = 0 WHERE seq = 3').execute(db);
    expect((await log.verify([anchorOf(5, head.headHash)])).firstBadRow).toEqual({
      seq: 3,
      reason: 'row 3 does not hash to its stored hash: its content was changed',
    });
  });

  it('names a deleted row, a deleted tail and a chain recomputed under an anchor', async () => {
    await fill(6);
    const at4 = (await db.selectFrom('read_log').select('hash').where('seq', '=', 4).executeTakeFirstOrThrow()).hash;
    const at6 = (await log.head()).headHash;
    await dropTriggers();
    await sql.raw('DELETE FROM read_log WHERE seq = 6').execute(db);
    expect((await log.verify([anchorOf(4, at4), anchorOf(6, at6)])).firstBadRow).toMatchObject({
      seq: 6,
      reason: expect.stringMatching(
        /^the ledger anchors row 6 \(transaction tx-6\) but the log ends at row 5/,
      ) as unknown,
    });
    await sql.raw('DELETE FROM read_log WHERE seq = 2').execute(db);
    expect((await log.verify([])).firstBadRow).toEqual({ seq: 2, reason: 'row 2 is missing (the next row is 3)' });

    // Rewrite rows 1..5 consistently, as someone who knows the hashing would: only an anchor tells.
    await sql.raw('DELETE FROM read_log').execute(db);
    const forged = new ReadLog(db);
    for (let n = 1; n <= 5; n += 1) await forged.append(entry(n, n === 3 ? { resultCount: 0 } : {}));
    expect((await forged.verify([anchorOf(4, at4)])).firstBadRow).toMatchObject({
      seq: 1,
      reason: expect.stringMatching(
        /^row 4 hashes to [0-9a-f]{64}, not to [0-9a-f]{64} as anchored in transaction tx-4: a row from 1 to 4/,
      ) as unknown,
    });
  });

  it('pages the rows concerning one organisation', async () => {
    await fill(7);
    const client = await log.concerning('ClientOrgMSP', 0, 2);
    expect(client.map((row) => row.seq)).toEqual([2, 4]);
    expect((await log.concerning('ClientOrgMSP', 4, 10)).map((row) => row.seq)).toEqual([6]);
    expect((await log.concerning('TalentOrgMSP', 0, 100)).length).toBe(7);
    expect(await log.concerning('AuditOrgMSP', 0, 100)).toEqual([]);
  });

  it('shows nobody the rows that concern no organisation', async () => {
    await fill(3);
    await log.append(entry(4, { organisations: [], resultCount: 0, operation: 'graphql query __typename' }));
    await log.append(entry(5, { organisations: ['AuditOrgMSP'] }));
    const seqs = (rows: readonly { seq: number }[]) => rows.map((row) => row.seq);
    expect(seqs(await log.concerning('ClientOrgMSP', 0, 100))).toEqual([2]);
    expect(seqs(await log.concerning('AuditOrgMSP', 0, 100))).toEqual([5]);
    expect(seqs(await log.concerning('TalentOrgMSP', 0, 100))).toEqual([1, 2, 3]);
    expect((await log.verify([])).rows).toBe(5);
  });

  it('shows an organisation its own MSP id and the grants it gave, and what is withheld cannot be found by hashing', async () => {
    // A read that named TalentOrg and also asked for a record of ClientOrg and AuditOrg by id.
    const row = await log.append(
      entry(1, { organisations: ['AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP'], grants: ['AG-client', 'AG-talent'] }),
    );
    const seen = asSeenBy(row, 'TalentOrgMSP', new Set(['AG-talent', 'AG-talent-old']));
    expect(seen).toEqual({ ...row, organisations: ['TalentOrgMSP'], grants: ['AG-talent'] });
    const members = ['AuditOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP', 'PlatformMSP'];
    const subsets = (items: readonly string[]): string[][] =>
      items.reduce<string[][]>((all, item) => [...all, ...all.map((subset) => [...subset, item])], [[]]);
    const { seq, prevHash, hash, ...shown } = seen;
    for (const organisations of subsets(members)) {
      for (const grants of subsets(['AG-client', 'AG-talent'])) {
        const candidate = { ...shown, organisations: [...organisations].sort(), grants: [...grants].sort() };
        expect(rowHash(prevHash, seq, candidate)).not.toBe(hash);
      }
    }
    // The server, which holds the salt, still verifies the row.
    expect((await log.verify([])).ok).toBe(true);
  });

  it('detects any single-field edit of any row', async () => {
    await fill(4);
    const anchor = anchorOf(4, (await log.head()).headHash);
    await dropTriggers();
    const columns = ['operation', 'principal_id', 'msp_id', 'organisations', 'grants', 'at', 'salt'] as const;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.constantFrom(...columns), async (seq, column) => {
        const before = await db.selectFrom('read_log').select(column).where('seq', '=', seq).executeTakeFirstOrThrow();
        await db
          .updateTable('read_log')
          .set({ [column]: `${before[column]}x` })
          .where('seq', '=', seq)
          .execute();
        const verification = await log.verify([anchor]);
        await db
          .updateTable('read_log')
          .set({ [column]: before[column] })
          .where('seq', '=', seq)
          .execute();
        expect(verification.firstBadRow?.seq).toBe(seq);
      }),
      { numRuns: 20 },
    );
  });
});

describe.each(storageBackends('gl-rl-group'))('the read log on each storage backend ($name)', (backend) => {
  let db: Db;
  let log: ReadLog;
  let drop: () => Promise<void>;

  beforeEach(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    db = await openDatabase(opened.database);
    log = new ReadLog(db);
  });

  afterEach(async () => {
    try {
      await db.destroy();
    } finally {
      await drop();
    }
  });

  const saltOf = async (seq: number) =>
    (await db.selectFrom('read_log').select('salt').where('seq', '=', seq).executeTakeFirstOrThrow()).salt;

  it('commits the appends of one turn of the event loop together, each row with a salt of its own', async () => {
    // A write takes Kysely's connection (SQLite: one synchronous transaction) or opens a Kysely transaction (PostgreSQL).
    const writes = [jest.spyOn(db, 'connection'), jest.spyOn(db, 'transaction')];
    // Requests read in one poll phase reach their append after different numbers of awaits.
    const rows = await Promise.all(
      Array.from({ length: 12 }, async (_, n) => {
        for (let step = 0; step < n * 3; step += 1) await Promise.resolve();
        return log.append(entry(n + 1));
      }),
    );
    expect(writes.reduce((calls, write) => calls + write.mock.calls.length, 0)).toBe(1);
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 12 }, (_, n) => n + 1));
    const salts = await Promise.all(rows.map((row) => saltOf(row.seq)));
    for (const salt of salts) expect(salt).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(salts).size).toBe(12);
    expect(await log.verify([])).toMatchObject({ ok: true, rows: 12 });
  });
});
