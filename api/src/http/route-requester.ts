import type { Requester } from '../ledger/requester.js';
import type { RouteInput } from './route.js';
import { unauthenticated } from '../errors/api-error.js';

/**
 * The requester of a route that needs a principal. The route layer has already refused
 * anonymous callers; this keeps the type honest without a cast.
 *
 * @throws ApiError 401 without a principal.
 */
export function routeRequester(input: Pick<RouteInput<unknown, unknown, unknown>, 'principal' | 'log'>): Requester {
  if (input.principal === undefined) throw unauthenticated();
  return { principal: input.principal, log: input.log };
}
