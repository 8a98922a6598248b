import type { Logger } from 'pino';
import type { Access, Principal, Scope } from '../auth/principal.js';
import { CredentialsThrottledError } from '../auth/credential-throttle.js';
import { GraphQLError } from 'graphql';
import { forbidden, unauthenticated } from '../errors/api-error.js';
import { errorBody, logFailure, retryAfterSecondsOf } from '../errors/error-handler.js';
import { withSettledRequestId, type IdempotencyKeyHeader } from '../http/request-ids.js';
import type { Requester } from '../ledger/requester.js';

/** What every resolver receives: the caller as the HTTP layer authenticated it. */
export interface GraphqlContext {
  readonly principal: Principal | undefined;
  readonly log: Logger;
  readonly requestId: string;
  /** The request's Idempotency-Key, when the operation holds exactly one command mutation to take it (see idempotencyKeyPlugin). */
  readonly idempotencyKey?: IdempotencyKeyHeader;
  /**
   * One per HTTP request, shared by every operation of a batch (each operation has a
   * context of its own): what bounds a request's ledger reads counts here or is keyed by
   * it, so that a batch is bounded as one request is.
   */
  readonly httpRequest: HttpRequestShare;
}

/** What the operations of one HTTP request share. */
export interface HttpRequestShare {
  /** Ledger records its list fields asked for so far (see claimLedgerRecords). */
  ledgerRecordsClaimed: number;
  /** Records its nested lists without pages held so far (see claimNestedRecords). */
  nestedRecordsClaimed: number;
  /** Ledger reads its list nodes started so far (see readForNode). */
  nodeReads: number;
  /** Proof bundles its fields exported so far (see proofsPerRequest). */
  proofsExported: number;
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

/** Who may call a root field, as a REST route's `access` says who may call it. */
export type FieldAccess = Access;

/** The root types whose fields declare their access. */
export const rootTypeNames = ['Query', 'Mutation', 'Subscription'] as const;
export type RootTypeName = (typeof rootTypeNames)[number];

/** A part of the schema: its SDL, its resolvers, and the access of each root field it defines. */
export interface SchemaModule {
  readonly typeDefs: string;
  readonly resolvers: Record<string, unknown>;
  /**
   * Checked before the field's resolver reads its arguments, so a caller without the
   * scope is refused 403 whatever it sent, as over REST. Every root field is declared;
   * the server does not start otherwise.
   */
  readonly access: Readonly<Partial<Record<RootTypeName, Readonly<Record<string, FieldAccess>>>>>;
  /**
   * Root fields taking text exactly as sent and storing none of it as the caller's own (a
   * password, a document re-sent to be checked against the ledger, which may predate the
   * rule); every other root field's arguments are refused when they hold control or
   * bidirectional formatting characters (REST's `verbatimText`).
   */
  readonly verbatimText?: Readonly<Partial<Record<RootTypeName, readonly string[]>>>;
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
  throw graphqlErrorOf(context, outcome.error, outcome.requestId);
}

/**
 * The GraphQLError a client is answered for `error` (see {@link resolveWith}).
 *
 * @param commandRequestId a command mutation's own request id, when it settled one.
 */
export function graphqlErrorOf(context: GraphqlContext, error: unknown, commandRequestId?: string): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const mapped = errorBody(error, context.requestId);
  logFailure(context.log, mapped, error, 'GraphQL resolver');
  const retryAfter = retryAfterSecondsOf(mapped);
  return new GraphQLError(mapped.message, {
    extensions: {
      // A throttled caller is told so at the HTTP level too, as REST tells it: 429 with
      // Retry-After; a passing failure of the peers or the database (503 or 504 over REST)
      // keeps GraphQL's status but says when to try again, as REST does.
      ...(error instanceof CredentialsThrottledError
        ? { http: { status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) } } }
        : retryAfter !== undefined
          ? { http: { headers: { 'retry-after': String(retryAfter) } } }
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
