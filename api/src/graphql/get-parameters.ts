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
 * Whether a raw `application/x-www-form-urlencoded` value decodes to valid UTF-8.
 * `URLSearchParams` replaces an invalid sequence with U+FFFD, which would reach the
 * document or the variables as a character the caller never sent; `decodeURIComponent`
 * refuses it (ECMA-262 Decode, RFC 3629), once a `%` that escapes nothing is taken
 * literally, as the form decoding takes it.
 */
function isUtf8Encoded(raw: string): boolean {
  try {
    decodeURIComponent(raw.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
    return true;
  } catch {
    return false;
  }
}

/**
 * @throws ApiError 400 MALFORMED_REQUEST `query.<name>` when a GraphQL parameter's
 *   percent-encoded bytes are not UTF-8.
 */
function assertUtf8Parameters(search: string): void {
  for (const pair of search.replace(/^\?/, '').split('&')) {
    const separator = pair.indexOf('=');
    const rawName = separator === -1 ? pair : pair.slice(0, separator);
    const name = new URLSearchParams(`${rawName}=`).keys().next().value;
    if (!(names as readonly (string | undefined)[]).includes(name)) continue;
    if (!isUtf8Encoded(separator === -1 ? '' : pair.slice(separator + 1))) {
      throw new ApiError(
        400,
        'MALFORMED_REQUEST',
        `query.${String(name)}: is not UTF-8 once percent-decoded`,
        `query.${String(name)}`,
      );
    }
  }
}

/**
 * A GET's parameters read from its URL as yoga reads them (`URLSearchParams`, no limit
 * on their number), so that what the gate judges is what yoga runs; Express's own query
 * parser keeps only the first thousand parameters and turns a repeated one into a list.
 *
 * @throws ApiError 400 MALFORMED_REQUEST `query.<name>` for a parameter given more than once,
 *   or whose percent-encoded bytes are not UTF-8 (RFC 3629).
 */
export function getParameters(request: Request): GetParameters {
  const search = request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?')) : '';
  assertUtf8Parameters(search);
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
