import { defaultPageSize } from '@gigledger/chaincode/model';
import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';
import { graphqlPage, ledgerPageShape, readLedgerPage, type LedgerPageQuery } from '../http/ledger-pages.js';
import { parseArguments } from '../http/route.js';
import { resolveWith, type GraphqlContext } from './context.js';
import { withoutNulls } from './input-arguments.js';

const pageArguments = z.object(ledgerPageShape);

/**
 * The most records the list fields of one GraphQL request may ask for together (the sum
 * of their `first`, 100 for each that gives none, and of the HR search's `limit`), over
 * every operation of a batch:
 * pages read from the ledger, pages of the audit index, and pages of the read log. The cost limit counts the
 * document's shape, not page sizes (see `costOfShape`), and each operation of a batch alone;
 * aliases of one list field at 500 each had one request run the peers past their deadline.
 */
export const ledgerRecordsPerRequest = 1000;

/**
 * Counts a list field's page against its HTTP request's {@link ledgerRecordsPerRequest}.
 *
 * @param field the argument giving the page's size, for the refusal.
 * @throws ApiError 422 naming `field` when the request's lists would ask for more.
 */
export function claimLedgerRecords(context: GraphqlContext, first: number | undefined, field = 'first'): void {
  const total = context.httpRequest.ledgerRecordsClaimed + (first ?? defaultPageSize);
  if (total > ledgerRecordsPerRequest) {
    throw new ApiError(
      422,
      'VALIDATION_FAILED',
      `${field}: the list fields of one request may ask for ${String(ledgerRecordsPerRequest)} records together; this one asks for ${String(total)}`,
      field,
    );
  }
  context.httpRequest.ledgerRecordsClaimed = total;
}

/**
 * The most records the nested lists of one GraphQL request may hold together: lists
 * without pages of their own inside index nodes (a block's transactions, a transaction's
 * keys, a proposal's votes). The pages above them bound how many parents there are, not
 * what each holds: `indexedBlocks(first: 100) { transactions { keys } }` would read every
 * key of a hundred full blocks. Ten blocks of the most transactions a block is cut at (500)
 * fit, so the explorer's page of blocks with their transactions does.
 */
export const nestedRecordsPerRequest = 10_000;

/** Records the nested lists of the context's HTTP request may still hold. */
export function nestedRecordsLeft(context: GraphqlContext): number {
  return Math.max(0, nestedRecordsPerRequest - context.httpRequest.nestedRecordsClaimed);
}

/**
 * Counts the records a nested list answered against its HTTP request's
 * {@link nestedRecordsPerRequest}, every time it is answered (under each alias).
 *
 * @param fewer what the client can ask for less of, for the refusal's advice.
 * @throws ApiError 422 naming `field` when they are more than the request has left.
 */
export function claimNestedRecords(context: GraphqlContext, count: number, field: string, fewer: string): void {
  if (count > nestedRecordsLeft(context)) throw nestedRecordsRefusal(field, fewer);
  context.httpRequest.nestedRecordsClaimed += count;
}

/**
 * The refusal of a request whose nested lists hold more than {@link nestedRecordsPerRequest}.
 *
 * @param fewer what the client can ask for less of, for the advice.
 */
export function nestedRecordsRefusal(field: string, fewer: string): ApiError {
  return new ApiError(
    422,
    'VALIDATION_FAILED',
    `${field}: the nested lists of one request may hold ${String(nestedRecordsPerRequest)} records together; this one holds more: ask for ${fewer}, or leave ${field} out`,
    field,
  );
}

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
    claimLedgerRecords(context, page.first);
    return readLedgerPage(page, 'after', (paging) => read(context, own, paging));
  };
  return {
    list: (_parent: unknown, args: unknown, context: GraphqlContext) =>
      resolveWith(context, async () => (await pageOf(context, args)).items),
    page: (_parent: unknown, args: unknown, context: GraphqlContext) =>
      resolveWith(context, async () => graphqlPage(await pageOf(context, args))),
  };
}
