import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** How many distinct SQL texts keep their prepared statement; the least recently used goes first. */
export const cachedStatements = 512;

/**
 * The SQLite database as Kysely's dialect sees it, with each SQL text prepared once
 * and its statement reused. Kysely prepares every query it runs, and preparing costs
 * more than running the indexed queries the API sends most (see bench/README.md, audit
 * index); the SQL texts are few (parameters are bound, not inlined), so a small cache
 * keeps them all.
 *
 * A statement still being iterated (a streamed query) is busy and cannot run again, so
 * such a call gets a statement of its own. SQLite prepares a cached statement again by
 * itself when the schema changes (sqlite3_prepare_v3), so a migration does not leave a
 * stale one behind.
 */
export function withStatementCache(database: SQLite.Database, capacity = cachedStatements): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare: (text: string) => {
      const cached = statements.get(text);
      if (cached !== undefined && !cached.busy) {
        // Map order is insertion order: moving a hit to the end makes the first key the least recently used.
        statements.delete(text);
        statements.set(text, cached);
        return cached;
      }
      const statement = database.prepare(text);
      if (cached === undefined) {
        statements.set(text, statement);
        if (statements.size > capacity) statements.delete(statements.keys().next().value ?? '');
      }
      return statement;
    },
  };
}
