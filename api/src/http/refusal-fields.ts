import { RefusedError } from '@gigledger/gateway';
import { ApiError, invalidInput } from '../errors/api-error.js';

/**
 * Runs a ledger call and reports a chaincode validation refusal under the input part
 * the caller sent (`body.milestones.0.dueDate`), as edge validation does. `null` for a
 * GraphQL field whose request fields are its own arguments (`reason`, not `input.reason`).
 *
 * @throws ApiError 422 for a chaincode VALIDATION_FAILED that names a field; anything else as thrown.
 */
export async function fieldsUnder<T>(part: string | null, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const refusal = fieldRefusal(error);
    if (refusal !== undefined) throw refusalNamedUnder(part, refusal);
    throw error;
  }
}

/** The error when it is a chaincode VALIDATION_FAILED refusal naming a field. */
function fieldRefusal(error: unknown): { readonly field: string; readonly refusal: string } | undefined {
  return error instanceof RefusedError && error.code === 'VALIDATION_FAILED' && error.field !== undefined
    ? { field: error.field, refusal: error.refusal }
    : undefined;
}

/** The refusal as edge validation would answer it, its field under `part` (none: `null`). */
function refusalNamedUnder(part: string | null, { field, refusal }: { field: string; refusal: string }): Error {
  const prefix = `${field}: `;
  const reason = refusal.startsWith(prefix) ? refusal.slice(prefix.length) : refusal;
  return invalidInput(part === null ? field : `${part}.${field}`, reason);
}

const hasKey = (value: unknown, key: string): boolean =>
  typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, key);

/** A field already named with the part of the request it came from. */
const namedPart = /^(body|path|query|header)(\.|$)/;

/** The field an error names as its source (a chaincode refusal's, or the server's own) when no part precedes it. */
function bareField(error: unknown): string | undefined {
  if (error instanceof RefusedError || error instanceof ApiError) {
    return error.field !== undefined && !namedPart.test(error.field) ? error.field : undefined;
  }
  return undefined;
}

/** The same refusal, its field named `field`, in its message too where the message starts with the old name. */
function renamed(error: RefusedError | ApiError, field: string): Error {
  const rename = (message: string): string => {
    const prefix = error.field === undefined ? undefined : `${error.field}: `;
    return prefix !== undefined && message.startsWith(prefix) ? `${field}: ${message.slice(prefix.length)}` : message;
  };
  if (error instanceof ApiError) return new ApiError(error.status, error.code, rename(error.message), field);
  return new RefusedError(
    { code: error.code, message: rename(error.refusal), field },
    error.transactionId === undefined ? {} : { transactionId: error.transactionId },
  );
}

/**
 * Runs a REST handler and names the field of any refusal under the part of the request
 * it came from (`body.subject.mspId`, `path.agreementId`, `query.grantId`), found by the
 * field's first segment among what the caller sent: a chaincode VALIDATION_FAILED as
 * edge validation answers it (422), any other refusal (404, 409, 403, from the chaincode
 * or the server) with its own status and code. A field none of them holds, or one that
 * already names its part, is left as it was.
 *
 * @throws the refusal, renamed; anything else as thrown.
 */
export async function refusalsUnderSentParts<T>(
  sent: { readonly body?: unknown; readonly params?: unknown; readonly query?: unknown },
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const field = bareField(error);
    if (field !== undefined) {
      const first = field.split('.')[0] ?? '';
      const part = hasKey(sent.body, first)
        ? 'body'
        : hasKey(sent.params, first)
          ? 'path'
          : hasKey(sent.query, first)
            ? 'query'
            : undefined;
      if (part !== undefined) {
        const refusal = fieldRefusal(error);
        throw refusal !== undefined
          ? refusalNamedUnder(part, refusal)
          : renamed(error as RefusedError | ApiError, `${part}.${field}`);
      }
    }
    throw error;
  }
}

/**
 * Runs a call whose refusals name a request field (`agreementId`) that the caller sent
 * under another name (GraphQL `agreement(id:)`), and names it as sent.
 *
 * @throws the refusal with `field` renamed `as`; anything else as thrown.
 */
export async function fieldSentAs<T>(field: string, as: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if ((error instanceof RefusedError || error instanceof ApiError) && error.field === field) throw renamed(error, as);
    throw error;
  }
}
