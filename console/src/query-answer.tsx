import type { ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { Problem } from './session/problem.js';

/** A query's state as urql's `useQuery` answers it. */
export interface QueryState<Data> {
  readonly data?: Data | undefined;
  readonly error?: CombinedError | undefined;
  readonly fetching: boolean;
}

/** An answer with every root field's value there: what a page that shows an answer whole reads. */
export type WholeAnswer<Data> = { readonly [Field in Exclude<keyof Data, '__typename'>]-?: NonNullable<Data[Field]> };

/**
 * The answer, when every root field it asked for has a value. The API answers each root
 * field on its own (a refused one is null beside its error), and the client reads such an
 * answer as no data (`session/api-client.ts`), so this narrows what a page has been given.
 *
 * @returns undefined when some root field is null or missing a value.
 */
export function answeredWhole<Data extends object>(data: Data | null | undefined): WholeAnswer<Data> | undefined {
  if (data === null || data === undefined) return undefined;
  return Object.values(data).some((value) => value === null || value === undefined)
    ? undefined
    : (data as WholeAnswer<Data>);
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
