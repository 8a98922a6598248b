import type { Request } from 'express';
import { ApiError } from '../errors/api-error.js';

/** The GraphQL-over-HTTP parameters of a GET, each given at most once. */
export interface GetParameters {
  readonly query?: string;
  readonly operationName?: string;
  readonly variables?: string;
  readonly extensions?: string;
}

const names = ['query', 'operationName', 'variables', 'extensions'] as const;

/**
 * A GET's parameters read from its URL as yoga reads them (`URLSearchParams`, no limit
 * on their number), so that what the gate judges is what yoga runs; Express's own query
 * parser keeps only the first thousand parameters and turns a repeated one into a list.
 *
 * @throws ApiError 400 MALFORMED_REQUEST `query.<name>` for a parameter given more than once.
 */
export function getParameters(request: Request): GetParameters {
  const search = request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?')) : '';
  const parameters = new URLSearchParams(search);
  const found: Record<string, string> = {};
  for (const name of names) {
    const values = parameters.getAll(name);
    if (values.length > 1) {
      throw new ApiError(400, 'MALFORMED_REQUEST', `query.${name}: is given more than once`, `query.${name}`);
    }
    if (values[0] !== undefined) found[name] = values[0];
  }
  return found;
}
