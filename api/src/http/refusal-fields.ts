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
    if (error instanceof RefusedError && error.code === 'VALIDATION_FAILED' && error.field !== undefined) {
      const prefix = `${error.field}: `;
      const reason = error.refusal.startsWith(prefix) ? error.refusal.slice(prefix.length) : error.refusal;
      throw invalidInput(part === null ? error.field : `${part}.${error.field}`, reason);
    }
    throw error;
  }
}
