import type { Logger } from 'pino';
import type { Principal, Scope } from '../auth/principal.js';
import { CredentialsThrottledError } from '../auth/credential-throttle.js';
import { GraphQLError } from 'graphql';
import { forbidden, unauthenticated } from '../errors/api-error.js';
import { errorBody } from '../errors/error-handler.js';
import { withSettledRequestId, type IdempotencyKeyHeader } from '../http/request-ids.js';
import type { Requester } from '../ledger/requester.js';

/** What every resolver receives: the caller as the HTTP layer authenticated it. */
export interface GraphqlContext {
  readonly principal: Principal | undefined;
  readonly log: Logger;
  readonly requestId: string;
  /** The request's Idempotency-Key, when the operation holds exactly one command mutation to take it (see idempotencyKeyPlugin). */
  readonly idempotencyKey?: IdempotencyKeyHeader;
}

/**
 * @throws ApiError 401 without a principal; 403 when it lacks the scope.
 */
export function requireCaller(context: GraphqlContext, scope: Scope): Principal {
  const principal = context.principal;
  if (principal === undefined) throw unauthenticated();
  if (!principal.scopes.includes(scope)) {
    throw forbidden(`this operation needs scope ${scope}; the caller (role ${principal.role}) does not have it`);
  }
  return principal;
}

/**
 * The caller, whatever their scopes.
 *
 * @throws ApiError 401 without a principal.
 */
export function requireAuthenticated(context: GraphqlContext): Principal {
  if (context.principal === undefined) throw unauthenticated();
  return context.principal;
}

/**
 * The requester of a resolver, for the service layer.
 *
 * @throws ApiError 401 without a principal; 403 when it lacks the scope.
 */
export function resolverRequester(context: GraphqlContext, scope: Scope): Requester {
  return { principal: requireCaller(context, scope), log: context.log };
}

/** A part of the schema: its SDL and its resolvers. */
export interface SchemaModule {
  readonly typeDefs: string;
  readonly resolvers: Record<string, unknown>;
}

/**
 * Runs a resolver body and turns any error into a GraphQLError carrying the same code,
 * status and field a REST client would get, plus the request id and, for a command
 * mutation that got as far as settling its own request id, that id as
 * `commandRequestId`. Unexpected errors are logged and answered as INTERNAL, never with
 * their text.
 */
export async function resolveWith<T>(context: GraphqlContext, body: () => Promise<T> | T): Promise<T> {
  const outcome = await withSettledRequestId(body, context.idempotencyKey);
  if ('value' in outcome) return outcome.value;
  const { error, requestId: commandRequestId } = outcome;
  if (error instanceof GraphQLError) throw error;
  const mapped = errorBody(error, context.requestId);
  if (mapped.status >= 500) context.log.error({ err: error }, 'GraphQL resolver failed');
  throw new GraphQLError(mapped.message, {
    extensions: {
      // A throttled caller is told so at the HTTP level too, as REST tells it: 429 with Retry-After.
      ...(error instanceof CredentialsThrottledError
        ? { http: { status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) } } }
        : {}),
      code: mapped.code,
      status: mapped.status,
      requestId: context.requestId,
      // A command mutation's own request id (its argument's, or one generated): the id to
      // retry with after ORDERING_FAILED or COMMIT_STATUS_UNKNOWN.
      ...(commandRequestId === undefined ? {} : { commandRequestId }),
      ...(mapped.field === undefined ? {} : { field: mapped.field }),
      ...(mapped.transactionId === undefined ? {} : { transactionId: mapped.transactionId }),
    },
  });
}
