import type { Principal } from '../auth/principal.js';
import { unauthenticated } from '../errors/api-error.js';

/**
 * The principal of a route that requires one. The route layer has already refused
 * anonymous callers; this keeps the type honest without a cast.
 *
 * @throws ApiError 401 without a principal.
 */
export function callerOf(principal: Principal | undefined): Principal {
  if (principal === undefined) throw unauthenticated();
  return principal;
}
