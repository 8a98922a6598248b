import { z } from 'zod';

/** Records a list answers with when the request names no page size. */
export const defaultPageSize = 100;

/**
 * The most records one list answer may hold. A list reads every record it answers with
 * and, for most, one more record each to decide whether the caller may see it; an
 * unbounded list over thousands of records ran past the peer's execution deadline.
 */
export const maxPageSize = 500;

/**
 * The paging fields of a list request: how many records at most, and the bookmark a
 * previous page answered with (Fabric's paged range queries: the key the next page
 * starts at). Lists answer in key order, so pages never overlap or skip a record that
 * stayed in place.
 */
export const pageRequestShape = {
  pageSize: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(maxPageSize, `must be at most ${maxPageSize}`)
    .optional(),
  bookmark: z.string().max(4096, 'must be at most 4096 characters').optional(),
};

/**
 * The most records one page of a list that leaves records out may read to fill itself:
 * twice its size, at least {@link defaultPageSize} (see `readFilledPage`). Also how the
 * gateway package weighs a list evaluation against the calls it keeps at the peers.
 */
export function pageReadBudget(pageSize: number | undefined): number {
  return Math.max(2 * (pageSize ?? defaultPageSize), defaultPageSize);
}

export interface PageRequest {
  readonly pageSize?: number | undefined;
  readonly bookmark?: string | undefined;
}

/** One page of a list: its items, and the bookmark of the next page (empty on the last). */
export function pageSchema<Item extends z.ZodType>(item: Item) {
  return z.object({
    items: z.array(item),
    bookmark: z.string().describe('Where the next page starts; empty when this is the last page'),
  });
}

export interface Page<Item> {
  readonly items: Item[];
  readonly bookmark: string;
}
