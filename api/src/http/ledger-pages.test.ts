import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../errors/api-error.js';
import {
  answerWithPage,
  ledgerPageQuerySchema,
  readEveryLedgerPage,
  readLedgerPage,
  useCursorSecret,
} from './ledger-pages.js';

/** A chaincode list over `keys` as Fabric pages it: the bookmark is the next page's first key. */
function ledgerList(keys: readonly string[]) {
  const asked: { pageSize?: number; bookmark?: string }[] = [];
  const read = (page: { pageSize?: number; bookmark?: string }) => {
    asked.push(page);
    const start = page.bookmark === undefined ? 0 : keys.indexOf(page.bookmark);
    const size = page.pageSize ?? 100;
    return Promise.resolve({ items: keys.slice(start, start + size), bookmark: keys[start + size] ?? '' });
  };
  return { read, asked };
}

const keys = ['\u0000entry\u0000a\u0000', '\u0000entry\u0000b\u0000', '\u0000entry\u0000c\u0000'];

describe('ledger pages', () => {
  it('gives the bookmark back as an opaque cursor and takes it again, until the last page has none', async () => {
    const list = ledgerList(keys);
    const first = await readLedgerPage({ first: 2 }, 'query.after', list.read);
    expect(first.items).toEqual(keys.slice(0, 2));
    expect(first.endCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await readLedgerPage({ first: 2, after: first.endCursor }, 'query.after', list.read);
    expect(second).toEqual({ items: keys.slice(2), endCursor: undefined });
    expect(list.asked).toEqual([{ pageSize: 2 }, { pageSize: 2, bookmark: keys[2] }]);
  });

  it.each(['', 'not*base64url', 'YQ==', 'YQ='])(
    'refuses %j as a cursor, naming the field, before asking the ledger',
    async (after) => {
      const list = ledgerList(keys);
      const refused = await readLedgerPage({ after }, 'query.after', list.read).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ status: 422, field: 'query.after' });
      expect((refused as ApiError).message).toMatch(/^query\.after: is not a cursor/);
      expect(list.asked).toEqual([]);
    },
  );

  it('seals the bookmark: the cursor shows no part of the key, and one altered by a character is refused', async () => {
    // The next key may name a record the caller may not read: its id must not show.
    const secretKeys = ['\u0000agreementParty\u0000TalentOrgMSP\u0000tara\u0000freelancer\u0000ZZ-SECRET-merger\u0000'];
    const list = ledgerList([keys[0] ?? '', ...secretKeys]);
    const first = await readLedgerPage({ first: 1 }, 'query.after', list.read);
    const cursor = first.endCursor ?? '';
    expect(Buffer.from(cursor, 'base64url').toString('latin1')).not.toMatch(/SECRET|tara|agreementParty/);
    for (const altered of [
      `${cursor.slice(0, -1)}${cursor.endsWith('A') ? 'B' : 'A'}`,
      `${cursor.slice(0, 20)}${cursor[20] === 'A' ? 'B' : 'A'}${cursor.slice(21)}`,
      Buffer.from(secretKeys[0] ?? '', 'utf8').toString('base64url'),
    ]) {
      await expect(readLedgerPage({ after: altered }, 'after', list.read)).rejects.toMatchObject({
        status: 422,
        field: 'after',
      });
    }
    expect(list.asked).toHaveLength(1);
  });

  it('gives cursors of one length for keys of different lengths, so a cursor does not tell how long a hidden id is', async () => {
    const varied = [
      '\u0000p\u0000a\u0000',
      '\u0000p\u0000b\u0000',
      `\u0000p\u0000c${'x'.repeat(300)}\u0000`,
      '\u0000p\u0000d\u0000',
    ];
    const list = ledgerList(varied);
    const lengths: number[] = [];
    let after: string | undefined;
    const seen: string[] = [];
    do {
      const page = await readLedgerPage({ first: 1, ...(after === undefined ? {} : { after }) }, 'after', list.read);
      seen.push(...page.items);
      if (page.endCursor !== undefined) lengths.push(page.endCursor.length);
      after = page.endCursor;
    } while (after !== undefined);
    expect(seen).toEqual(varied);
    expect(new Set(lengths).size).toBe(1);
  });

  it("reads the cursors of every process sharing the deployment's secret, and no other deployment's", async () => {
    const list = ledgerList(keys);
    try {
      useCursorSecret('deployment one');
      const cursor = (await readLedgerPage({ first: 1 }, 'after', list.read)).endCursor;
      // Another worker of the same deployment derives the same key.
      useCursorSecret('deployment one');
      expect((await readLedgerPage({ after: cursor }, 'after', list.read)).items).toEqual(keys.slice(1));
      useCursorSecret('deployment two');
      await expect(readLedgerPage({ after: cursor }, 'after', list.read)).rejects.toMatchObject({ status: 422 });
    } finally {
      useCursorSecret('the rest of this file');
    }
  });

  it('points a REST answer at the next page with the same query, after replaced, and at nothing after the last', () => {
    const headers: [string, string][] = [];
    const setHeader = (name: string, value: string) => headers.push([name, value]);
    const items = answerWithPage(
      { items: [1, 2], endCursor: 'Zm9v' },
      {
        path: '/v1/agreements',
        query: { role: 'client', completed: false, first: 2, after: 'b2xk', userId: undefined },
        setHeader,
      },
    );
    expect(items).toEqual([1, 2]);
    expect(headers).toEqual([['Link', '</v1/agreements?role=client&completed=false&first=2&after=Zm9v>; rel="next"']]);
    answerWithPage({ items: [], endCursor: undefined }, { path: '/v1/agreements', query: {}, setHeader });
    expect(headers).toHaveLength(1);
  });

  it('refuses a first that is not decimal digits with a sentence, not the pattern, and one out of range with the range', () => {
    const reasons = (first: unknown) =>
      ledgerPageQuerySchema.safeParse({ first }).error?.issues.map((issue) => issue.message);
    for (const first of ['-1', 'abc', '5 ', ' 5', '1e2', ['5', '6']]) {
      expect(reasons(first)).toEqual(['must be a whole number written in decimal digits, given once']);
    }
    for (const first of ['0', '501']) expect(reasons(first)).toEqual(['must be 1 to 500']);
    expect(reasons('007')).toBeUndefined();
  });

  it('reads a whole list page after page at the largest page size', async () => {
    const many = Array.from({ length: 1203 }, (_, index) => `\u0000k\u0000${String(index).padStart(5, '0')}\u0000`);
    const list = ledgerList(many);
    expect(await readEveryLedgerPage(list.read)).toEqual(many);
    expect(list.asked.map((page) => page.pageSize)).toEqual([500, 500, 500]);
  });
});
