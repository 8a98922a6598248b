import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { withStatementCache } from './statement-cache.js';

interface Tables {
  items: { id: Generated<number>; label: string; amount: number };
}

describe('withStatementCache', () => {
  let sqlite: SQLite.Database;
  let prepared: string[];

  beforeEach(() => {
    sqlite = new SQLite(':memory:');
    sqlite.exec('create table items (id integer primary key, label text not null, amount integer not null)');
    prepared = [];
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = (text: string) => {
      prepared.push(text);
      return prepare(text);
    };
  });

  afterEach(() => {
    if (sqlite.open) sqlite.close();
  });

  it('prepares each SQL text once and answers a reused statement as a fresh one would', async () => {
    const cached = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    const plain = new SQLite(':memory:');
    plain.exec('create table items (id integer primary key, label text not null, amount integer not null)');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ label: fc.string({ maxLength: 8 }), amount: fc.integer({ min: -1000, max: 1000 }) }), {
          maxLength: 20,
        }),
        fc.integer({ min: -1000, max: 1000 }),
        async (items, threshold) => {
          for (const item of items) {
            await cached.insertInto('items').values(item).execute();
            plain.prepare('insert into items (label, amount) values (?, ?)').run(item.label, item.amount);
          }
          const answer = await cached
            .selectFrom('items')
            .selectAll()
            .where('amount', '>=', threshold)
            .orderBy('id')
            .execute();
          const expected = plain.prepare('select * from items where amount >= ? order by id').all(threshold);
          expect(answer).toEqual(expected);
        },
      ),
      { numRuns: 30 },
    );
    const texts = new Set(prepared);
    // One insert and one select, whatever the values bound.
    expect(prepared.length).toBe(texts.size);
    expect(texts.size).toBe(2);
    plain.close();
    await cached.destroy();
  });

  it('gives a statement of its own to a text whose kept statement is still being iterated', () => {
    const database = withStatementCache(sqlite);
    database.prepare('insert into items (label, amount) values (?, ?)').run(['a', 1]);
    database.prepare('insert into items (label, amount) values (?, ?)').run(['b', 2]);
    const text = 'select amount from items order by id';
    const kept = database.prepare(text);
    const streamed: unknown[] = [];
    const inner: unknown[] = [];
    for (const row of kept.iterate([])) {
      streamed.push(row);
      // better-sqlite3 refuses to run a statement that is being iterated.
      const other = database.prepare(text);
      expect(other).not.toBe(kept);
      if (inner.length === 0) inner.push(...other.all([]));
    }
    expect(streamed).toEqual([{ amount: 1 }, { amount: 2 }]);
    expect(inner).toEqual([{ amount: 1 }, { amount: 2 }]);
    expect(database.prepare(text)).toBe(kept);
  });

  it('sees a changed schema through a kept statement', async () => {
    const cached = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    await cached.insertInto('items').values({ label: 'a', amount: 1 }).execute();
    const before = await sql`select * from items`.execute(cached);
    await sql`alter table items add column note text`.execute(cached);
    const after = await sql`select * from items`.execute(cached);
    expect(before.rows).toEqual([{ id: 1, label: 'a', amount: 1 }]);
    expect(after.rows).toEqual([{ id: 1, label: 'a', amount: 1, note: null }]);
    await cached.destroy();
  });

  it('keeps at most its capacity, dropping the least recently used text', () => {
    const database = withStatementCache(sqlite, 2);
    database.prepare('select 1');
    database.prepare('select 2');
    database.prepare('select 1');
    database.prepare('select 3');
    prepared.length = 0;
    database.prepare('select 1');
    database.prepare('select 3');
    expect(prepared).toEqual([]);
    database.prepare('select 2');
    expect(prepared).toEqual(['select 2']);
  });
});
