import { RefusedError } from '@gigledger/gateway';
import { invalidInput } from '../errors/api-error.js';

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

/**
 * Runs a REST handler and names a chaincode VALIDATION_FAILED refusal under the part of
 * the request its field came from (`body.subject.mspId`, `path.agreementId`), found by
 * the field's first segment among what the caller sent; a field none of them holds is
 * left as the chaincode named it. Handlers that already name the part (`fieldsUnder`)
 * throw ApiError, which passes through unchanged.
 *
 * @throws ApiError 422 for such a refusal; anything else as thrown.
 */
export async function refusalsUnderSentParts<T>(
  sent: { readonly body?: unknown; readonly params?: unknown; readonly query?: unknown },
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const refusal = fieldRefusal(error);
    if (refusal !== undefined) {
      const first = refusal.field.split('.')[0] ?? '';
      const part = hasKey(sent.body, first)
        ? 'body'
        : hasKey(sent.params, first)
          ? 'path'
          : hasKey(sent.query, first)
            ? 'query'
            : undefined;
      if (part !== undefined) throw refusalNamedUnder(part, refusal);
    }
    throw error;
  }
}
