import { ApiError } from '../errors/api-error.js';
import type { Principal } from './principal.js';

/**
 * Refuses an API key an act whose effect outlives the key: a privileged role given to a
 * person or key, an auditor's access to the organisation's records, an issuer's
 * registration. Revoking a leaked key must end everything it could do, so such grants
 * are made by an administrator signed in as a person, who answers for them.
 *
 * @param act what is refused, as a phrase after "may" (`grant audit access`).
 * @param field the request field the refusal names, when one field makes the act privileged.
 * @throws ApiError 403 FORBIDDEN when the caller is not a person.
 */
export function requirePersonFor(principal: Principal, act: string, field?: string): void {
  if (principal.kind === 'person') return;
  throw new ApiError(
    403,
    'FORBIDDEN',
    `only an administrator signed in as a person may ${act}: what an API key grants would outlive the key's revocation`,
    field,
  );
}
