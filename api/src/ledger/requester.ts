import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';

/**
 * Who is asking, and the request's logger: what every service call takes, from REST
 * routes (`routeRequester`) and GraphQL resolvers (`resolverRequester`) alike.
 */
export interface Requester {
  readonly principal: Principal;
  readonly log: Logger;
}

/** The requester of a public operation, which anonymous callers may call too. */
export interface PublicRequester {
  readonly principal: Principal | undefined;
  readonly log: Logger;
}
