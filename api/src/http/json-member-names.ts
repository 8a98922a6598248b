import { duplicateMemberName } from '@gigledger/settlement';
import { ApiError } from '../errors/api-error.js';

/**
 * Refuses a caller's JSON text in which one object names a member twice (I-JSON, RFC 7493
 * §2.3: JSON.parse would keep the last silently), naming the field as `<part>.<path>`
 * (e.g. `body.terms.title`).
 *
 * @param text the JSON text as received (after any Content-Encoding), already parsed once.
 * @throws ApiError 400 MALFORMED_REQUEST naming the field.
 */
export function assertUniqueMemberNames(text: string | Buffer | undefined, part: string): void {
  if (text === undefined) return;
  const path = duplicateMemberName(typeof text === 'string' ? text : text.toString('utf8'));
  if (path === undefined) return;
  const field = [part, ...path.map(String)].filter((segment) => segment !== '').join('.');
  throw new ApiError(
    400,
    'MALFORMED_REQUEST',
    `${field}: appears twice in one JSON object; member names must be unique (I-JSON, RFC 7493 §2.3)`,
    field,
  );
}
