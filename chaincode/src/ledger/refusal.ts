import type { z } from 'zod';
import { formatRefusal, type Refusal, type RefusalCode } from '../model/errors';

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
 * Parses a transaction's JSON argument against its schema before any state is read,
 * naming the first field at fault.
 *
 * @throws RefusalError VALIDATION_FAILED when the text is not JSON or does not match.
 */
export function parseArgument<Schema extends z.ZodType>(schema: Schema, json: string): z.output<Schema> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    refuse('VALIDATION_FAILED', 'the transaction argument is not valid JSON', 'request');
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'request';
  refuse('VALIDATION_FAILED', `${field}: ${issue?.message ?? 'is invalid'}`, field);
}
