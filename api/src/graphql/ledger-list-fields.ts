import { z } from 'zod';
import { graphqlPage, ledgerPageShape, readLedgerPage, type LedgerPageQuery } from '../http/ledger-pages.js';
import { parseArguments } from '../http/route.js';
import { resolveWith, type GraphqlContext } from './context.js';
import { withoutNulls } from './input-arguments.js';

const pageArguments = z.object(ledgerPageShape);

/**
 * The resolvers of a list the ledger answers one page at a time: `list` answers the
 * page's items (a `[Item!]!` field), `page` the same page with where the next starts (a
 * `…Page` field). Both take `first` and `after` besides the list's own arguments, which
 * `read` gets without them, nulls dropped.
 *
 * @param read one page from the chaincode, its items already as the field answers them;
 *   throws ApiError 422 naming the argument at fault.
 */
export function ledgerListResolvers<Item>(
  read: (
    context: GraphqlContext,
    args: Record<string, unknown>,
    page: { pageSize?: number; bookmark?: string },
  ) => Promise<{ items: Item[]; bookmark: string }>,
) {
  const pageOf = (context: GraphqlContext, args: unknown) => {
    const { first, after, ...own } = withoutNulls(args ?? {}) as Record<string, unknown>;
    const page: LedgerPageQuery = parseArguments(pageArguments, { first, after });
    return readLedgerPage(page, 'after', (paging) => read(context, own, paging));
  };
  return {
    list: (_parent: unknown, args: unknown, context: GraphqlContext) =>
      resolveWith(context, async () => (await pageOf(context, args)).items),
    page: (_parent: unknown, args: unknown, context: GraphqlContext) =>
      resolveWith(context, async () => graphqlPage(await pageOf(context, args))),
  };
}
