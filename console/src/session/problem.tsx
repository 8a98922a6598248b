import type { CombinedError } from 'urql';
import { ApiProblem } from './api-client.js';

/** A failure in words: the API's code and sentence, and the field it names. */
export function describeProblem(error: unknown): string {
  if (error instanceof ApiProblem) {
    return `${error.code}: ${error.message}${error.field === undefined ? '' : ` (${error.field})`}`;
  }
  const combined = error as Partial<CombinedError> | undefined;
  const first = combined?.graphQLErrors?.[0];
  if (first !== undefined) {
    const code = first.extensions.code;
    const field = first.extensions.field;
    return `${typeof code === 'string' ? `${code}: ` : ''}${first.message}${typeof field === 'string' ? ` (${field})` : ''}`;
  }
  if (combined?.networkError !== undefined) return `the API could not be reached: ${combined.networkError.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** A refusal or failure, announced to screen readers as it appears. */
export function Problem({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <p role="alert" className="problem">
      {describeProblem(error)}
    </p>
  );
}
