import type { Context } from 'fabric-contract-api';
import type { z } from 'zod';
import { issueReason } from '../model/missing-input';
import { refuse, refuseControlText } from './refusal';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses one JSON value passed in the transient map, which Fabric keeps out of the
 * transaction that is ordered and stored, so confidential input never reaches blocks.
 *
 * @throws RefusalError VALIDATION_FAILED when the entry is missing, not JSON, holds a
 *   control or bidirectional formatting character, or does not match, naming `<key>` or
 *   `<key>.<path>` as the field.
 */
export function parseTransient<Schema extends z.ZodType>(ctx: Context, key: string, schema: Schema): z.output<Schema> {
  const bytes = ctx.stub.getTransient().get(key);
  if (bytes === undefined || bytes.length === 0) {
    refuse('VALIDATION_FAILED', `${key}: must be given in the transient map under "${key}"`, key);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch {
    refuse('VALIDATION_FAILED', `${key}: the transient value is not valid JSON`, key);
  }
  refuseControlText(raw, [key]);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = [key, ...(issue?.path.map(String) ?? [])].join('.');
  refuse('VALIDATION_FAILED', `${field}: ${issueReason(issue, raw)}`, field);
}
