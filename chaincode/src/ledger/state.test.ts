import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { InMemoryLedger, testIdentity } from '../test-support/in-memory-ledger';
import { readPageByPartialKey, writeRecord } from './state';

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
