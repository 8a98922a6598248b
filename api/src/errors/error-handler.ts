import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler } from 'express';
import {
  CommitFailedError,
  CommitStatusUnknownError,
  EndorsementError,
  RefusedError,
  SubmissionError,
} from '@gigledger/gateway';
import type { RefusalKind } from '@gigledger/chaincode/model';

/** The one JSON shape of every REST error. */
export interface ErrorBody {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
  readonly requestId: string;
  readonly transactionId?: string;
}

const statusByKind: Record<RefusalKind, number> = {
  validation: 422,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  state: 409,
};

/** Maps an error to its status and body: the only place that does so. */
export function errorBody(error: unknown, requestId: string): ErrorBody {
  if (error instanceof RefusedError) {
    return {
      status: statusByKind[error.kind],
      code: error.code,
      message: error.refusal,
      ...(error.field === undefined ? {} : { field: error.field }),
      requestId,
      ...(error.transactionId === undefined ? {} : { transactionId: error.transactionId }),
    };
  }
  const transactionId =
    error instanceof EndorsementError ||
    error instanceof SubmissionError ||
    error instanceof CommitStatusUnknownError ||
    error instanceof CommitFailedError
      ? error.transactionId
      : undefined;
  const stage: [number, string, string] | undefined =
    error instanceof CommitFailedError
      ? [409, 'COMMIT_FAILED', `the transaction was not committed: ${error.validationCode}`]
      : error instanceof CommitStatusUnknownError
        ? [504, 'COMMIT_STATUS_UNKNOWN', 'the transaction was sent; its commit status is not known yet']
        : error instanceof SubmissionError
          ? [503, 'ORDERING_UNAVAILABLE', 'the ordering service did not accept the transaction']
          : error instanceof EndorsementError
            ? [503, 'ENDORSEMENT_FAILED', 'the peers could not endorse the transaction']
            : undefined;
  if (stage !== undefined) {
    const [status, code, message] = stage;
    return { status, code, message, requestId, ...(transactionId === undefined ? {} : { transactionId }) };
  }
  return { status: 500, code: 'INTERNAL', message: 'an unexpected error occurred; quote the request id', requestId };
}

export function errorHandler(log: (entry: Record<string, unknown>) => void): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const requestId = (response.locals.requestId as string | undefined) ?? randomUUID();
    const body = errorBody(error, requestId);
    if (body.status >= 500) {
      log({
        level: 'error',
        requestId,
        method: request.method,
        path: request.path,
        error:
          error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      });
    }
    response.status(body.status).json(body);
  };
}
