import { statSync } from 'node:fs';
import path from 'node:path';
import { AccountService } from '../auth/account-service.js';
import type { ApiConfig } from '../config.js';
import { DatabaseCheckpointer } from '../events/database-checkpointer.js';
import type { IdentityIssuer } from '../identity/identity-issuer.js';
import { Wallet } from '../identity/wallet.js';
import { migrations } from './migrations.js';
import { storageBackends } from '../test-support/storage-backends.js';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openDatabase, type Db, type DatabaseSchema } from './database.js';
import { createPasswordPerson } from '../test-support/password-people.js';

/**
 * The same storage tests on SQLite and, when GIGLEDGER_TEST_DATABASE_URL names a
 * PostgreSQL server (CI starts one), on a fresh PostgreSQL database of its own.
 */

const backends = storageBackends('gl-db');

const issuer: IdentityIssuer = {
  organizations: [{ name: 'TalentOrg', mspId: 'TalentOrgMSP' }],
  issue: (request) =>
    Promise.resolve({
      mspId: 'TalentOrgMSP',
      certificatePem: `certificate of ${request.enrollmentId}`,
      privateKeyPem: `-----BEGIN PRIVATE KEY-----\nkey of ${request.enrollmentId}\n-----END PRIVATE KEY-----`,
    }),
  ready: () => Promise.resolve(true),
};

describe.each(backends)('storage on $name', (backend) => {
  let db: Db;
  let drop: () => Promise<void>;
  let database: ApiConfig['database'];

  beforeAll(async () => {
    ({ database, drop } = await backend.open());
    db = await openDatabase(database);
  });

  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('migrates once: opening the same database again finds the schema current', async () => {
    const again = await openDatabase(database);
    const applied = await again
      .selectFrom('kysely_migration' as never)
      .selectAll()
      .execute();
    expect(applied).toHaveLength(Object.keys(migrations).length);
    await again.destroy();
  });

  it('leaves a SQLite file readable by the server only', () => {
    if (database.kind !== 'sqlite') return;
    expect(statSync(database.file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(database.file)).mode & 0o077).toBe(0);
  });

  it('begins SQLite transactions with the write lock, so one that read before another process wrote still writes', async () => {
    if (database.kind !== 'sqlite') return;
    const otherProcess = new SQLite(database.file, { timeout: 50 });
    const checkpoint = (name: string) => ({ name, block_number: '1', transaction_id: null, updated_at: 'now' });
    const insertElsewhere = (name: string) =>
      otherProcess
        .prepare('insert into checkpoints (name, block_number, transaction_id, updated_at) values (?, ?, ?, ?)')
        .run(name, '1', null, 'now');
    // Kysely's own begin is deferred: a read, another connection's commit, then a write fails at once.
    const deferred = new Kysely<DatabaseSchema>({
      dialect: new SqliteDialect({ database: new SQLite(database.file) }),
    });
    try {
      await expect(
        deferred.transaction().execute(async (trx) => {
          await trx.selectFrom('checkpoints').select('name').execute();
          insertElsewhere('written-by-another-process');
          await trx.insertInto('checkpoints').values(checkpoint('deferred')).execute();
        }),
      ).rejects.toMatchObject({ code: 'SQLITE_BUSY_SNAPSHOT' });

      // This database's transactions hold the lock from their first statement: the other
      // connection waits for it (here it gives up after 50 ms) and this one writes.
      await db.transaction().execute(async (trx) => {
        await trx.selectFrom('checkpoints').select('name').execute();
        expect(() => insertElsewhere('refused-while-locked')).toThrow(/database is locked/);
        await trx.insertInto('checkpoints').values(checkpoint('immediate')).execute();
      });
      insertElsewhere('after-commit');
      const names = (await db.selectFrom('checkpoints').select('name').execute()).map((row) => row.name);
      expect(names).toEqual(expect.arrayContaining(['written-by-another-process', 'immediate', 'after-commit']));
      expect(names).not.toContain('deferred');
      expect(names).not.toContain('refused-while-locked');
    } finally {
      await deferred.destroy();
      otherProcess.close();
    }
  });

  it('keeps wallet keys sealed at rest and opens them with the same key only', async () => {
    const wallet = new Wallet(db, 'wallet key one');
    await wallet.put({
      label: 'person:ivy',
      mspId: 'TalentOrgMSP',
      enrollmentId: 'ivy',
      certificatePem: 'certificate',
      privateKeyPem: 'the private key of ivy',
    });

    expect((await wallet.get('person:ivy'))?.privateKeyPem).toBe('the private key of ivy');
    const row = await db
      .selectFrom('identities')
      .select('private_key')
      .where('label', '=', 'person:ivy')
      .executeTakeFirstOrThrow();
    expect(row.private_key).not.toContain('ivy');
    await expect(new Wallet(db, 'another key').get('person:ivy')).rejects.toThrow();

    // A re-enrollment stores the same label again: everything under it is replaced.
    await wallet.put({
      label: 'person:ivy',
      mspId: 'TalentOrgMSP',
      enrollmentId: 'ivy-2',
      certificatePem: 'renewed certificate',
      privateKeyPem: 'the new private key of ivy',
    });
    expect(await wallet.get('person:ivy')).toMatchObject({
      enrollmentId: 'ivy-2',
      certificatePem: 'renewed certificate',
      privateKeyPem: 'the new private key of ivy',
    });
  });

  it('stores people and API keys; a revoked key no longer authenticates', async () => {
    const accounts = new AccountService(db, new Wallet(db, 'k'), issuer);
    await createPasswordPerson(accounts, 'jack', 'TalentOrg', 'freelancer', 'a long password 5');
    expect((await accounts.checkPassword('jack', 'a long password 5')).mspId).toBe('TalentOrgMSP');

    const { key, apiKey } = await accounts.createApiKey({ name: 'hr-sync', org: 'TalentOrg', role: 'hr' }, 'jack');
    expect((await accounts.apiKeyPrincipal(key))?.role).toBe('hr');
    const firstUse = (await accounts.listApiKeys('TalentOrg')).items.find(
      (listed) => listed.id === apiKey.id,
    )?.lastUsedAt;
    expect(firstUse).toEqual(expect.any(String));
    await accounts.apiKeyPrincipal(key);
    expect((await accounts.listApiKeys('TalentOrg')).items.find((listed) => listed.id === apiKey.id)?.lastUsedAt).toBe(
      firstUse,
    );
    await accounts.revokeApiKey(apiKey.id);
    expect(await accounts.apiKeyPrincipal(key)).toBeUndefined();
  });

  it('remembers an event checkpoint across reopening', async () => {
    const first = new DatabaseCheckpointer(db, 'consumer');
    await first.load();
    expect(first.getBlockNumber()).toBeUndefined();
    await first.checkpointTransaction(42n, 'tx-42');

    const second = new DatabaseCheckpointer(db, 'consumer');
    await second.load();
    expect([second.getBlockNumber(), second.getTransactionId()]).toEqual([42n, 'tx-42']);
    await second.checkpointBlock(42n);
    const third = new DatabaseCheckpointer(db, 'consumer');
    await third.load();
    expect([third.getBlockNumber(), third.getTransactionId()]).toEqual([43n, undefined]);
  });
});
