import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { ApiConfig } from '../config.js';

/** A database a storage test runs on, created fresh and dropped afterwards. */
export interface StorageBackend {
  readonly name: string;
  /** A new database; its `drop` deletes it (SQLite: its whole folder) once the test has closed it. */
  open(): Promise<{ database: ApiConfig['database']; drop: () => Promise<void> }>;
}

/**
 * SQLite in a fresh directory always; PostgreSQL too when GIGLEDGER_TEST_DATABASE_URL
 * names a server (CI starts one), each test file on its own new database `<prefix>_<hex>`.
 */
export function storageBackends(prefix: string): StorageBackend[] {
  // An empty value means "not set", as a shell's `VAR=` does; pg would read it as localhost:5432.
  const postgresServer = process.env.GIGLEDGER_TEST_DATABASE_URL || undefined;
  const sqlite: StorageBackend = {
    name: 'SQLite',
    open: () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
      return Promise.resolve({
        database: { kind: 'sqlite', file: path.join(dir, 'test.sqlite') },
        drop: () => {
          rmSync(dir, { recursive: true, force: true });
          return Promise.resolve();
        },
      });
    },
  };
  if (postgresServer === undefined) return [sqlite];
  const postgres: StorageBackend = {
    name: 'PostgreSQL',
    async open() {
      const name = `${prefix.replaceAll('-', '_')}_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: postgresServer });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = new URL(postgresServer);
      url.pathname = `/${name}`;
      return {
        database: { kind: 'postgres', url: url.toString() },
        drop: async () => {
          const dropper = new pg.Client({ connectionString: postgresServer });
          await dropper.connect();
          await dropper.query(`drop database ${name} with (force)`);
          await dropper.end();
        },
      };
    },
  };
  return [sqlite, postgres];
}
