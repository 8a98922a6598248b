import type { z } from 'zod';
import { describePath, findNonCanonical } from '../model/canonical-json';
import { formatRefusal, type Refusal, type RefusalCode } from '../model/errors';
import { issueReason } from '../model/missing-input';
import { findRefusedText } from '../model/text-controls';

/** Thrown to refuse a transaction; its message is the wire form `CODE[field]: sentence`. */
export class RefusalError extends Error {
  readonly refusal: Refusal;

  constructor(refusal: Refusal) {
    super(formatRefusal(refusal));
    this.name = 'RefusalError';
    this.refusal = refusal;
  }
}

export function refuse(code: RefusalCode, message: string, field?: string): never {
  throw new RefusalError(field === undefined ? { code, message } : { code, message, field });
}

/**
 * Refuses to create a record under an id another record already holds. The answer is the
 * same whether or not the caller may read that record, and says nothing about it beyond
 * the id being taken: hiding the collision entirely would mean overwriting the record,
 * and a NOT_FOUND would contradict itself, so the one fact given away is the one the
 * caller cannot be kept from, that the id is in use.
 *
 * @throws RefusalError ALREADY_EXISTS, always.
 */
export function refuseIdTaken(what: string, id: string, field: string): never {
  refuse('ALREADY_EXISTS', `the ${what} id ${id} is already taken; choose another id`, field);
}

/**
 * Parses a transaction's JSON argument against its schema before any state is read,
 * naming the first field at fault.
 *
 * Arguments are checked for canonical encoding before the schema sees them: zod would
 * strip a `__proto__` key silently, and a lone surrogate would hash like U+FFFD, so a
 * request fingerprint or a stored record would no longer match what the caller sent.
 * Then, for a transaction that is submitted, for control and bidirectional formatting
 * characters in any string (see `text-controls`); an evaluation stores nothing, and
 * documents re-sent to be verified may predate the rule.
 *
 * @throws RefusalError VALIDATION_FAILED when the text is not JSON, holds a part with no
 *   canonical encoding (a `__proto__` key, a lone surrogate, too deep), a refused
 *   character, or does not match.
 */
export function parseArgument<Schema extends z.ZodType>(
  schema: Schema,
  json: string,
  options: { readonly refuseControlText: boolean } = { refuseControlText: true },
): z.output<Schema> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    refuse('VALIDATION_FAILED', 'the transaction argument is not valid JSON', 'request');
  }
  const nonCanonical = findNonCanonical(raw);
  if (nonCanonical !== undefined) {
    const field = nonCanonical.path.length === 0 ? 'request' : describePath(nonCanonical.path);
    refuse('VALIDATION_FAILED', `${field}: ${nonCanonical.message}`, field);
  }
  if (options.refuseControlText) refuseControlText(raw, []);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'request';
  refuse('VALIDATION_FAILED', `${field}: ${issueReason(issue, raw)}`, field);
}

/**
 * Refuses a caller's value holding a control or bidirectional formatting character in
 * any string, naming it `<prefix>.<path>` (`request` for a bare string argument).
 *
 * @throws RefusalError VALIDATION_FAILED naming the first such string.
 */
export function refuseControlText(value: unknown, prefix: readonly string[]): void {
  const part = findRefusedText(value);
  if (part === undefined) return;
  const path = [...prefix, ...part.path.map(String)];
  const field = path.length === 0 ? 'request' : path.join('.');
  refuse('VALIDATION_FAILED', `${field}: ${part.message}`, field);
}
