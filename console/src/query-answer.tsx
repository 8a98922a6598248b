import type { ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { Problem } from './session/problem.js';

/** A query's state as urql's `useQuery` answers it. */
export interface QueryState<Data> {
  readonly data?: Data | undefined;
  readonly error?: CombinedError | undefined;
  readonly fetching: boolean;
}

/**
 * One query as a page shows it: its refusal or failure (announced to screen readers),
 * "Loading…" while no answer has come, `empty` when the answer holds nothing to show
 * (`select` gives undefined, null or an empty list), else `children` with what `select`
 * picked. With `loadingOnEveryFetch` (pages whose lookup form changes the variables),
 * "Loading…" shows on every fetch, beside the previous answer.
 */
export function QueryAnswer<Data, Shown>({
  state,
  select,
  empty = null,
  loadingOnEveryFetch = false,
  children,
}: {
  state: QueryState<Data>;
  select: (data: Data) => Shown | null | undefined;
  empty?: ReactNode;
  loadingOnEveryFetch?: boolean;
  children: (shown: Shown) => ReactNode;
}) {
  const { data, error, fetching } = state;
  let content: ReactNode = null;
  if (data !== undefined) {
    const shown = select(data);
    content =
      shown === undefined || shown === null || (Array.isArray(shown) && shown.length === 0) ? empty : children(shown);
  }
  return (
    <>
      <Problem error={error} />
      {fetching && (loadingOnEveryFetch || data === undefined) ? <p aria-live="polite">Loading…</p> : null}
      {content}
    </>
  );
}
