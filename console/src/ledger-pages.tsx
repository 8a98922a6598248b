import { useState } from 'react';

/** How many records a list page asks the ledger for at once. */
export const listPageSize = 50;

/**
 * The pages of a list read from the ledger one page at a time (a `…Page` field's
 * `pageInfo`): the cursor of the page shown, and the cursors of those passed, so that going
 * back needs no backward cursor. A new filter starts again from the first page.
 */
export function useLedgerPages(filterKey: string) {
  const [state, setState] = useState<{ filterKey: string; cursors: (string | null)[] }>({
    filterKey,
    cursors: [null],
  });
  const cursors = state.filterKey === filterKey ? state.cursors : [null];
  return {
    after: cursors[cursors.length - 1] ?? null,
    pageNumber: cursors.length,
    back: () => {
      setState({ filterKey, cursors: cursors.slice(0, -1) });
    },
    forward: (endCursor: string) => {
      setState({ filterKey, cursors: [...cursors, endCursor] });
    },
  };
}

/**
 * The buttons between a list's pages. A page the filter left empty may still be followed
 * by more (the ledger reads a bounded stretch per page), so the next page is offered
 * whenever the answer says there is one.
 */
export function LedgerPageNav({
  label,
  pages,
  pageInfo,
}: {
  label: string;
  pages: ReturnType<typeof useLedgerPages>;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}) {
  if (pages.pageNumber === 1 && !pageInfo.hasNextPage) return null;
  const next = pageInfo.hasNextPage ? pageInfo.endCursor : null;
  const first = pages.pageNumber === 1;
  // aria-disabled, not disabled: a button disabled under the keyboard's focus (the last
  // page reached with Enter) would drop the focus to the page's start.
  return (
    <nav aria-label={label} className="actions">
      <button
        type="button"
        aria-disabled={first}
        onClick={() => {
          if (!first) pages.back();
        }}
      >
        Previous page
      </button>
      <span aria-live="polite">Page {pages.pageNumber}</span>
      <button
        type="button"
        aria-disabled={next == null}
        onClick={() => {
          if (next != null) pages.forward(next);
        }}
      >
        Next page
      </button>
    </nav>
  );
}
