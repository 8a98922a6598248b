import { isUtf8 } from 'node:buffer';
import type { RequestHandler } from 'express';
import { ApiError } from '../errors/api-error.js';

/** Bytes of a JSON request body, REST or GraphQL, before or after inflating. */
export const maxRequestBodyBytes = 1_048_576;

/**
 * Refuses at once, 413 `PAYLOAD_TOO_LARGE` naming `body`, a request whose
 * `Content-Length` declares more than {@link maxRequestBodyBytes}, and closes its connection
 * after the answer. The body parsers would read such a body to its end before refusing it
 * (so as not to answer mid-upload), and a client that declares more than it sends then
 * waits for the request timeout (408) instead of learning that the body is too large.
 */
export const refuseDeclaredOversize: RequestHandler = (request, response, next) => {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (!(declared > maxRequestBodyBytes)) {
    next();
    return;
  }
  // The body is left unread: the connection cannot carry another request.
  response.setHeader('connection', 'close');
  next(
    new ApiError(
      413,
      'PAYLOAD_TOO_LARGE',
      `the request body is larger than the limit of 1 MB (Content-Length declares ${String(declared)} bytes)`,
      'body',
    ),
  );
};

/**
 * Nesting a caller's JSON may have. Code downstream (validation, canonical encoding,
 * hashing) walks values recursively, so deeper input could exhaust the stack; no
 * document the API accepts comes near this.
 */
export const maxJsonDepth = 32;

/** Values (objects, arrays and leaves) in one caller-supplied JSON scalar. */
export const maxJsonValues = 10_000;

/** Where a JSON value breaks a limit: the path to the value, and which limit. */
export interface JsonLimitBreach {
  readonly path: readonly string[];
  readonly limit: 'depth' | 'values';
}

/**
 * Walks a parsed JSON value without recursion (its depth is what is being checked) and
 * answers the first place it nests deeper than `maxDepth` or holds more than
 * `maxValues` values; undefined when it keeps to both.
 */
export function jsonLimitBreach(
  value: unknown,
  limits: { readonly maxDepth: number; readonly maxValues?: number },
): JsonLimitBreach | undefined {
  const pending: { value: unknown; path: readonly string[] }[] = [{ value, path: [] }];
  let seen = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    seen += 1;
    if (limits.maxValues !== undefined && seen > limits.maxValues) return { path: next.path, limit: 'values' };
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.path.length >= limits.maxDepth) return { path: next.path, limit: 'depth' };
    const entries = Array.isArray(next.value)
      ? next.value.map((item, index): [string, unknown] => [String(index), item])
      : Object.entries(next.value);
    // Reversed so that the first member is checked first and named in the refusal.
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const [key, item] = entries[index] as [string, unknown];
      pending.push({ value: item, path: [...next.path, key] });
    }
  }
  return undefined;
}

/**
 * Refuses a caller's JSON that nests deeper than {@link maxJsonDepth}, naming the field
 * as `<part>.<path>` (e.g. `body.terms.scope.a.b`).
 *
 * @throws ApiError 422 VALIDATION_FAILED naming the field.
 */
export function assertJsonDepth(value: unknown, part: string): void {
  const breach = jsonLimitBreach(value, { maxDepth: maxJsonDepth });
  if (breach === undefined) return;
  const field = [part, ...breach.path].filter((segment) => segment !== '').join('.');
  throw new ApiError(422, 'VALIDATION_FAILED', `${field}: nests deeper than ${String(maxJsonDepth)} levels`, field);
}

/**
 * Refuses a JSON body declared in a charset other than UTF-8. JSON exchanged between
 * systems is UTF-8 (RFC 8259 §8.1); the body parser would decode UTF-16 or UTF-32 too,
 * while checks over the raw bytes (duplicate member names) read UTF-8, so such a body
 * could mean one thing to a check and another to the route.
 *
 * @param contentType the request's Content-Type header, if any.
 * @throws ApiError 415 UNSUPPORTED_CHARSET naming `header.content-type`.
 */
export function assertUtf8Json(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
  if (charset === undefined || charset.toLowerCase() === 'utf-8') return;
  throw new ApiError(
    415,
    'UNSUPPORTED_CHARSET',
    `header.content-type: JSON is sent in UTF-8 (RFC 8259 §8.1), not charset=${charset.slice(0, 40)}`,
    'header.content-type',
  );
}

/**
 * Refuses a JSON body whose bytes are not UTF-8 (RFC 8259 §8.1, I-JSON RFC 7493 §2.1). The
 * body parser decodes such bytes into U+FFFD replacement characters, so without this a
 * title sent as `0xFF 0xFE` would be stored as text the caller never wrote.
 *
 * @param bytes the body as received (after any Content-Encoding).
 * @throws ApiError 400 MALFORMED_REQUEST naming `body`.
 */
export function assertUtf8Body(bytes: Buffer | undefined): void {
  if (bytes === undefined || isUtf8(bytes)) return;
  throw new ApiError(
    400,
    'MALFORMED_REQUEST',
    'body: is not valid UTF-8; JSON is sent in UTF-8 (RFC 8259 §8.1, RFC 7493 §2.1)',
    'body',
  );
}
