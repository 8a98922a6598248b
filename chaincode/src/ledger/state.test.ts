import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { InMemoryLedger, testIdentity } from '../test-support/in-memory-ledger';
import { readFilledPage, readPageByPartialKey, writeRecord } from './state';

const entrySchema = z.object({ n: z.number() });
const someone = testIdentity('ClientOrgMSP', 'carol', 'client');

describe('readPageByPartialKey', () => {
  async function ledgerWith(count: number): Promise<InMemoryLedger> {
    const ledger = new InMemoryLedger();
    await ledger.invoke(someone, async (ctx) => {
      for (let n = 0; n < count; n += 1) {
        await writeRecord(ctx, ctx.stub.createCompositeKey('entry', ['a', String(n).padStart(3, '0')]), { n });
      }
      // A neighbouring prefix the pages must never reach into.
      await writeRecord(ctx, ctx.stub.createCompositeKey('entry', ['b', '000']), { n: -1 });
    });
    return ledger;
  }

  it('reads a prefix one page at a time, each record once in key order, the last bookmark empty', async () => {
    const ledger = await ledgerWith(5);
    const seen: number[] = [];
    const sizes: number[] = [];
    let bookmark = '';
    do {
      const page = await ledger.invoke(someone, (ctx) =>
        readPageByPartialKey(ctx, entrySchema, 'entry', ['a'], { pageSize: 2, bookmark }),
      );
      sizes.push(page.records.length);
      seen.push(...page.records.map((record) => record.value.n));
      bookmark = page.bookmark;
    } while (bookmark !== '');
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('refuses a bookmark from outside the prefix, which would start the read among other records', async () => {
    const ledger = await ledgerWith(1);
    const other = await ledger.invoke(someone, (ctx) =>
      readPageByPartialKey(ctx, entrySchema, 'entry', [], { pageSize: 1 }),
    );
    expect(other.bookmark).not.toBe('');
    for (const bookmark of [other.bookmark, '\u0000entry\u0000', 'a', '\u0000entry\u0000b\u0000000\u0000']) {
      await expect(
        ledger.invoke(someone, (ctx) => readPageByPartialKey(ctx, entrySchema, 'entry', ['a'], { bookmark })),
      ).rejects.toThrow(/^VALIDATION_FAILED\[bookmark\]: bookmark: is not one this list answered with/);
    }
  });

  it('is refused writes after it in the same transaction, as a peer refuses them', async () => {
    const ledger = await ledgerWith(1);
    await expect(
      ledger.invoke(someone, async (ctx) => {
        await readPageByPartialKey(ctx, entrySchema, 'entry', ['a'], {});
        await writeRecord(ctx, 'plain-key', { n: 9 });
      }),
    ).rejects.toThrow(/paginated query cannot write/);
  });
});

describe('readFilledPage', () => {
  /** Entries 0..count-1 under prefix a; `visible` says which a caller may see. */
  async function filteredList(count: number, visible: (n: number) => boolean) {
    const ledger = new InMemoryLedger();
    await ledger.invoke(someone, async (ctx) => {
      for (let n = 0; n < count; n += 1) {
        await writeRecord(ctx, ctx.stub.createCompositeKey('entry', ['a', String(n).padStart(4, '0')]), { n });
      }
    });
    const reads: number[] = [];
    const page = (request: { pageSize?: number; bookmark?: string }) =>
      ledger.invoke(someone, (ctx) =>
        readFilledPage(request, async (part) => {
          reads.push(part.pageSize ?? 0);
          const read = await readPageByPartialKey(ctx, entrySchema, 'entry', ['a'], part);
          return {
            items: read.records.map((record) => record.value.n).filter(visible),
            bookmark: read.bookmark,
          };
        }),
      );
    return { page, reads };
  }

  it('fills a page past the records it leaves out, and the next page starts where it stopped', async () => {
    const { page, reads } = await filteredList(30, (n) => n % 3 === 0);
    const first = await page({ pageSize: 4 });
    expect(first.items).toEqual([0, 3, 6, 9]);
    // Each read asks for what the page still lacks.
    expect(reads).toEqual([4, 2, 2, 1, 1]);
    const seen = [...first.items];
    let bookmark = first.bookmark;
    while (bookmark !== '') {
      const next = await page({ pageSize: 4, bookmark });
      seen.push(...next.items);
      bookmark = next.bookmark;
    }
    expect(seen).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
  });

  it('stops after asking for twice the page size (at least 100 records), so a page may still be short', async () => {
    // Only the last of 300 entries is visible: a page of 10 asks for 100 records and stops.
    const { page, reads } = await filteredList(300, (n) => n === 299);
    const first = await page({ pageSize: 10 });
    expect(first.items).toEqual([]);
    expect(first.bookmark).not.toBe('');
    expect(reads.reduce((sum, size) => sum + size, 0)).toBe(100);
    // A page of 200 may ask for 400: it reaches the visible one.
    expect((await page({ pageSize: 200 })).items).toEqual([299]);
  });

  it('answers a whole list when nothing is left out, in one read', async () => {
    const { page, reads } = await filteredList(7, () => true);
    expect(await page({})).toEqual({ items: [0, 1, 2, 3, 4, 5, 6], bookmark: '' });
    expect(reads).toEqual([100]);
  });
});
