import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Response } from 'express';
import { escapeControlText } from '@gigledger/chaincode/model';
import { shownText } from '../errors/error-handler.js';
import { documentErrorField } from './document-fields.js';

/**
 * Codes graphql-yoga gives a request it refused before executing it: a document it could
 * not parse or validate, parameters of the wrong type (`{"query": 123}`) or none, or no
 * operation to run (several unnamed, or none of the name asked for); a client must change
 * the request.
 */
const documentRefusals = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Yoga's one sentence for a request whose operation it cannot pick ("Could not determine
 * what operation to execute."), in the API's form of a refusal: the parameter it is about
 * (`operationName`), then why, from the operation name the request sent (if any).
 */
function operationRefusal(operationName: string | null | undefined): { message: string; field: string } {
  const reason =
    typeof operationName === 'string' && operationName !== ''
      ? `the document has no operation named "${operationName}"`
      : 'must name the operation to run: the document has several, or none';
  return { message: `operationName: ${reason}`, field: 'operationName' };
}

/** What a request's locals carry between yoga's hooks. */
interface RequestLocals {
  requestId?: string;
  /** The `operationName` parameter of each operation of the request, in order (one unless a batch). */
  graphqlOperationNames?: (string | null | undefined)[];
}

/**
 * Yoga's sentence for a request with no document, which only a GET reaches (the request
 * gate refuses a POST without one first): named as GET parameters are, `query.<name>`.
 */
const missingQueryString = 'Must provide query string.';

function namedRefusal(
  error: GraphQLError,
  operationName?: string | null,
): { message: string; field: string; code?: string } | undefined {
  const code = error.extensions.code;
  if (code === 'OPERATION_RESOLUTION_FAILURE') return operationRefusal(operationName);
  if (
    (code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED') &&
    error.extensions.field === undefined
  ) {
    // As REST names the field at fault: the argument a literal was refused in, else the document.
    return { message: error.message, field: documentErrorField(error) };
  }
  if (code === 'BAD_REQUEST' && error.message === missingQueryString) {
    // The code a POST without its document gets at the request gate.
    return {
      message: 'query.query: is missing: a GraphQL request carries its document',
      field: 'query.query',
      code: 'MALFORMED_REQUEST',
    };
  }
  return undefined;
}

function withRequestId(error: GraphQLError, requestId: string, operationName?: string | null): GraphQLError {
  const code = error.extensions.code;
  const resolution = namedRefusal(error, operationName);
  // Yoga's and graphql-js's own sentences quote what the caller sent (an operation name, a
  // literal), as the API's refusals do: shown the same way. The API's own (those with a
  // status) were shown so already, and cut: cut again, their length note would be wrong.
  const show = error.extensions.status === undefined ? shownText : escapeControlText;
  const message = show(resolution?.message ?? error.message);
  const sentField = resolution?.field ?? error.extensions.field;
  const field = typeof sentField === 'string' ? show(sentField) : sentField;
  const status = error.extensions.status ?? (typeof code === 'string' && documentRefusals.has(code) ? 400 : undefined);
  // GraphQL over HTTP answers a well-formed request's request errors 200 under
  // `application/json`; yoga marks its parse and validation refusals so (`http.spec`: the
  // status holds under `application/graphql-response+json` only), but not a request whose
  // operation it cannot pick.
  const http = error.extensions.http;
  const specHttp = code === 'OPERATION_RESOLUTION_FAILURE' && http?.spec !== true ? { ...http, spec: true } : http;
  if (
    error.extensions.requestId === requestId &&
    error.extensions.status === status &&
    specHttp === http &&
    resolution === undefined &&
    message === error.message &&
    field === error.extensions.field
  ) {
    return error;
  }
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: {
      ...error.extensions,
      ...(status === undefined ? {} : { status }),
      ...(specHttp === undefined ? {} : { http: specHttp }),
      ...(field === undefined ? {} : { field }),
      ...(resolution?.code === undefined ? {} : { code: resolution.code }),
      requestId,
    },
  });
}

function stamped(result: ExecutionResult, requestId: string, operationName?: string | null): ExecutionResult {
  if (result.errors === undefined || result.errors.length === 0) return result;
  return { ...result, errors: result.errors.map((error) => withRequestId(error, requestId, operationName)) };
}

function localsOf(serverContext: unknown): RequestLocals | undefined {
  return (serverContext as { res?: Response }).res?.locals as RequestLocals | undefined;
}

/**
 * Every GraphQL error names the request it answers (`extensions.requestId`, the id the
 * API logs and returns in `x-request-id`), as every REST refusal does; yoga's own refusals
 * of a request it could not parse or validate carry none, nor a `status` (given here as
 * 400, the status GraphQL over HTTP gives them with `application/graphql-response+json`;
 * under `application/json` the HTTP status of them all is 200).
 * A request whose operation cannot be picked is refused naming `operationName` (its
 * `field`, and first in its message) and why.
 * Streamed results (subscriptions) are left as they are: their errors come from resolvers,
 * which name the request already.
 */
export const errorRequestIds: Plugin = {
  onParams({ params, context }) {
    const locals = localsOf(context);
    // Called once per operation of a batch, in the batch's order.
    if (locals !== undefined) (locals.graphqlOperationNames ??= []).push(params.operationName);
  },
  onResultProcess(payload) {
    const { result, serverContext } = payload;
    const locals = localsOf(serverContext);
    const requestId = locals?.requestId;
    if (requestId === undefined || Symbol.asyncIterator in result) return;
    const names = locals?.graphqlOperationNames ?? [];
    payload.setResult(
      Array.isArray(result)
        ? result.map((one, index) => stamped(one, requestId, names[index]))
        : stamped(result, requestId, names[0]),
    );
  },
};
