import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import {
  CertificateAuthorityUnavailableError,
  CommitFailedError,
  CommitStatusUnknownError,
  EndorsementError,
  EvaluationError,
  NotMemberError,
  PeersBusyError,
  RefusedError,
  SubmissionError,
} from '@gigledger/gateway';
import { escapeControlText, type RefusalKind } from '@gigledger/chaincode/model';
import { ApiError, notMemberCode } from './api-error.js';

/** The one JSON shape of every REST error. */
export interface ErrorBody {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
  readonly requestId: string;
  /** A command's request id, which a retry must repeat (GraphQL: `extensions.commandRequestId`). */
  readonly commandRequestId?: string;
  readonly transactionId?: string;
}

const statusByKind: Record<RefusalKind, number> = {
  validation: 422,
  unauthenticated: 403,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  state: 409,
};

/** 503 when a proposal waited its deadline for a slot at the peers and was never sent. */
export const peersBusyCode = 'PEERS_BUSY';

/**
 * The `Retry-After` of {@link peersBusyCode}: the request had already waited its whole
 * deadline in a queue, so the peers are behind by at least that; one second would bring
 * the same callers back into the same queue.
 */
export const peersBusyRetryAfterSeconds = 5;

/**
 * The `Retry-After` of a 504 `COMMIT_STATUS_UNKNOWN`: its commit was not seen within the
 * wait (the orderers or the peers are behind, or ordering is down), so a resend under the
 * same request id a second later would most likely wait the same way.
 */
export const commitStatusUnknownRetryAfterSeconds = 5;

/**
 * Seconds a 503 or 504 tells its client to wait before sending again (RFC 9110
 * `Retry-After`): each is a passing condition (peers or orderers busy or restarting, the
 * database busy, a commit not seen yet), and a resend is what the answer asks for.
 *
 * @returns undefined for other statuses, which are not to be resent as they are.
 */
export function retryAfterSecondsOf(body: { status: number; code: string }): number | undefined {
  if (body.status === 504) return commitStatusUnknownRetryAfterSeconds;
  if (body.status !== 503) return undefined;
  return body.code === peersBusyCode ? peersBusyRetryAfterSeconds : 1;
}

/** The organisations whose peers failed, as the gateway peer named them (none when it named none). */
function failedAt(error: unknown): string {
  const organisations = error instanceof EndorsementError ? error.organisations : [];
  return organisations.length === 0 ? '' : ` (failed at the peers of ${organisations.join(', ')})`;
}

/**
 * How a failed transaction's stage is answered: the first entry whose failure class the
 * error is an instance of (so each subclass stands before its parent).
 */
const failedStages: readonly {
  readonly failure: abstract new (...args: never[]) => Error;
  readonly status: number;
  readonly code: string;
  readonly message: string | ((error: unknown) => string);
}[] = [
  {
    failure: CommitFailedError,
    status: 409,
    code: 'COMMIT_FAILED',
    message: (error) =>
      `the transaction was ordered but not committed: ${error instanceof CommitFailedError ? error.validationCode : 'unknown'}`,
  },
  {
    failure: CommitStatusUnknownError,
    status: 504,
    code: 'COMMIT_STATUS_UNKNOWN',
    message:
      'the transaction was sent for ordering; its commit status is not known yet: send the same request again with the same request id (commandRequestId), which answers its result if it committed',
  },
  {
    failure: NotMemberError,
    status: 403,
    code: notMemberCode,
    message: "the peers refuse the caller's identity: its organisation is no longer a member of the channel",
  },
  {
    failure: SubmissionError,
    status: 503,
    code: 'ORDERING_FAILED',
    message:
      'no orderer took the endorsed transaction; it was most likely not ordered, but an orderer that stopped answering may still order it: send the same request again with the same request id (commandRequestId), which acts at most once',
  },
  {
    failure: PeersBusyError,
    status: 503,
    code: peersBusyCode,
    message: `the peers are at capacity: the request waited its turn and was not sent, so nothing was read or changed; try again after ${peersBusyRetryAfterSeconds} s`,
  },
  {
    failure: EvaluationError,
    status: 503,
    code: 'ENDORSEMENT_FAILED',
    message: (error) => `the peers could not answer the query${failedAt(error)}; try again`,
  },
  {
    failure: EndorsementError,
    status: 503,
    code: 'ENDORSEMENT_FAILED',
    message: (error) => `the peers could not endorse the transaction${failedAt(error)}`,
  },
  {
    failure: CertificateAuthorityUnavailableError,
    status: 503,
    code: 'CA_UNAVAILABLE',
    message: "the organisation's certificate authority did not answer; try again",
  },
];

/**
 * The longest `message` an error answer carries. A refusal may quote what the caller sent
 * (an organisation, an id); cut here, an answer never grows with the request.
 */
export const maxErrorMessageLength = 1000;

/**
 * A refusal's message or field as an answer shows it: control and bidirectional
 * formatting characters and lone surrogates a caller sent written as `\uXXXX` (so the
 * text displays as it reads and stays well-formed Unicode, I-JSON, RFC 7493), then cut at
 * {@link maxErrorMessageLength}.
 */
export function shownText(text: string): string {
  return boundedMessage(escapeControlText(text));
}

function boundedMessage(message: string): string {
  if (message.length <= maxErrorMessageLength) return message;
  // Not between the two halves of a surrogate pair.
  const kept = message.slice(0, maxErrorMessageLength).replace(/[\uD800-\uDBFF]$/, '');
  return `${kept}… (${String(message.length - kept.length)} more characters left out)`;
}

/**
 * Maps any error to its status and body: the only place that does so, for REST and
 * (through `extensions`) GraphQL alike. A refusal's message and field may quote what the
 * caller sent (a key, an id), so both are shown as {@link shownText} gives them. Chaincode refusals keep their code and sentence;
 * the stages of a failed transaction get codes of their own; anything else is a 500.
 */
export function errorBody(error: unknown, requestId: string): ErrorBody {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      code: error.code,
      message: shownText(error.message),
      ...(error.field === undefined ? {} : { field: shownText(error.field) }),
      requestId,
    };
  }
  if (error instanceof RefusedError) {
    return {
      status: statusByKind[error.kind],
      code: error.code,
      message: shownText(error.refusal),
      ...(error.field === undefined ? {} : { field: shownText(error.field) }),
      requestId,
      ...(error.transactionId === undefined ? {} : { transactionId: error.transactionId }),
    };
  }
  const stage = failedStages.find(({ failure }) => error instanceof failure);
  if (stage !== undefined) {
    const { status, code } = stage;
    const message = typeof stage.message === 'string' ? stage.message : stage.message(error);
    const transactionId = (error as { transactionId?: string }).transactionId;
    return { status, code, message, requestId, ...(transactionId === undefined ? {} : { transactionId }) };
  }
  if (isDatabaseContention(error)) {
    return {
      status: 503,
      code: databaseBusyCode,
      message: 'the database was busy with other writers and nothing was changed; try again',
      requestId,
    };
  }
  const refusedBody = bodyRefusal(error);
  if (refusedBody !== undefined) {
    const [status, code, message, field = 'body'] = refusedBody;
    // Every refusal but an undecodable path's is of the body as a whole, or of the header describing it.
    return { status, code, message, ...(error instanceof URIError ? {} : { field }), requestId };
  }
  return { status: 500, code: internalCode, message: 'an unexpected error occurred; quote the request id', requestId };
}

/** The one answer to a failure of no known kind: logged as an error, with its stack. */
const internalCode = 'INTERNAL';

/** 503 when the database's write lock stayed taken past the wait; sent with `Retry-After`. */
export const databaseBusyCode = 'DATABASE_BUSY';

/** PostgreSQL's SQLSTATEs of contention: serialization_failure, deadlock_detected, lock_not_available. */
const postgresContention = new Set(['40001', '40P01', '55P03']);

/**
 * Whether the database refused a statement because other writers held it: SQLite's
 * `SQLITE_BUSY` and `SQLITE_LOCKED` with their extended codes (https://www.sqlite.org/rescode.html),
 * PostgreSQL's contention SQLSTATEs (Appendix A). The statement's transaction was rolled
 * back, so the request may simply be sent again.
 */
function isDatabaseContention(error: unknown): boolean {
  // By shape, not `instanceof Error`: better-sqlite3's native module makes its errors in the realm that first loaded it.
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, severity } = error as { name?: unknown; code?: unknown; severity?: unknown };
  if (typeof code !== 'string') return false;
  if (name === 'SqliteError') return /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
  return typeof severity === 'string' && postgresContention.has(code);
}

/**
 * What the body parser refuses, by its error `type` (see body-parser's README): each a
 * client error, never a 500.
 */
const bodyRefusals: Readonly<Record<string, [number, string, string, string?]>> = {
  'entity.parse.failed': [
    400,
    'MALFORMED_REQUEST',
    'the request body must be a JSON object or array: it is not valid JSON, or its top level is a bare value such as null',
  ],
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'the request body is larger than the limit of 1 MB'],
  'entity.verify.failed': [400, 'MALFORMED_REQUEST', 'the request body could not be read'],
  'request.aborted': [400, 'MALFORMED_REQUEST', 'the request body ended before its declared length'],
  'request.size.invalid': [400, 'MALFORMED_REQUEST', 'the request body does not match its Content-Length'],
  'encoding.unsupported': [
    415,
    'UNSUPPORTED_ENCODING',
    'header.content-encoding: is not supported; send identity, gzip, deflate or br',
    'header.content-encoding',
  ],
  'charset.unsupported': [
    415,
    'UNSUPPORTED_CHARSET',
    'header.content-type: the charset is not supported; send UTF-8',
    'header.content-type',
  ],
  'parameters.too.many': [413, 'PAYLOAD_TOO_LARGE', 'the request has too many parameters'],
};

function bodyRefusal(error: unknown): [number, string, string, string?] | undefined {
  // The router's own refusal of a path parameter it cannot decode, on a route that
  // did not check its parameters first.
  if (error instanceof URIError && (error as { status?: unknown }).status === 400) {
    return [400, 'MALFORMED_REQUEST', 'the request path is not valid percent-encoded UTF-8'];
  }
  const fields = (error ?? {}) as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown };
  const { type, expose } = fields;
  if (typeof type === 'string' && bodyRefusals[type] !== undefined) return bodyRefusals[type];
  // Other client errors the body parser passes on (a corrupt gzip or deflate stream, say) are still the client's.
  const status = fields.status ?? fields.statusCode;
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return [413, 'PAYLOAD_TOO_LARGE', 'the request body is larger than the limit of 1 MB'];
    if (status === 415) return [415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body is in an unsupported format'];
    return [400, 'MALFORMED_REQUEST', 'the request body could not be read (a corrupt or truncated encoding?)'];
  }
  return undefined;
}

/**
 * Logs an answered failure as every edge logs it: a request shed unsent for busy peers as
 * one warning line (the limit doing its work, not a fault); a 5xx of a known kind (a peer
 * or orderer that did not answer, a commit not seen, a busy database: what a peer restart
 * brings by the hundred) as a warning naming its code and cause; an unexpected one
 * (`INTERNAL`) as an error with its stack; a 4xx not at all (the request log has it).
 *
 * @param what the failing thing in the log line's words: `request`, `GraphQL resolver`.
 */
export function logFailure(
  log: Logger,
  body: ErrorBody,
  error: unknown,
  what: string,
  fields: Record<string, unknown> = {},
): void {
  if (body.code === peersBusyCode) log.warn(fields, `peers busy: ${what} shed`);
  else if (body.status >= 500 && body.code !== internalCode) {
    const cause = error instanceof Error ? error.message : String(error);
    log.warn({ ...fields, code: body.code, cause }, `${what} failed: ${body.code}`);
  } else if (body.status >= 500) log.error({ err: error, ...fields }, `${what} failed`);
}

/**
 * A refusal as a GraphQL response: GraphQL over HTTP answers a request error with a
 * GraphQL response too (its `errors`, no `data`), so a client reads a refusal made before
 * execution (a token refused, a rate limit, a body too large) where it reads a resolver's,
 * with the same `extensions` (`code`, `status`, `field`, `requestId`).
 */
export function graphqlRefusal(body: ErrorBody): {
  readonly errors: readonly [{ readonly message: string; readonly extensions: Omit<ErrorBody, 'message'> }];
} {
  const { message, ...extensions } = body;
  return { errors: [{ message, extensions }] };
}

/** Where the error handler answers in GraphQL's shape rather than REST's. */
export interface ErrorHandlerOptions {
  /** The GraphQL endpoint's path (without a trailing slash); refusals of it are GraphQL responses. */
  readonly graphqlPath?: string;
}

export function errorHandler(log: Logger, options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const { requestId, commandRequestId } = response.locals;
    // A command's error names the id it ran under, which a retry must repeat (the caller's
    // Idempotency-Key or body requestId), beside the HTTP request's own id.
    const refusal = errorBody(error, requestId);
    const body = commandRequestId === undefined ? refusal : { ...refusal, commandRequestId };
    logFailure(log, body, error, 'request', {
      requestId,
      commandRequestId,
      method: request.method,
      path: request.path,
    });
    // Every 503 and 504 is a passing condition: saying when to try again lets clients back
    // off rather than hammer.
    const retryAfter = retryAfterSecondsOf(body);
    if (retryAfter !== undefined) response.set('Retry-After', String(retryAfter));
    const toGraphql = options.graphqlPath !== undefined && request.path.replace(/(.)\/$/, '$1') === options.graphqlPath;
    response.status(body.status).json(toGraphql ? graphqlRefusal(body) : body);
  };
}
