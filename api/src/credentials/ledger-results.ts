import { z } from 'zod';
import { RefusedError, type Submitted } from '@gigledger/gateway';
import { notFound } from '../errors/api-error.js';

/** Where a submitted transaction landed; returned with every command's result. */
export const transactionRefSchema = z.object({
  transactionId: z.string(),
  /** Decimal: block numbers are 64-bit. */
  blockNumber: z.string(),
});
export type TransactionRef = z.output<typeof transactionRefSchema>;

export function transactionOf(submitted: Submitted<unknown>): TransactionRef {
  return { transactionId: submitted.transactionId, blockNumber: submitted.blockNumber.toString() };
}

/**
 * Runs a read and answers 404 both when the object does not exist and when the
 * chaincode refuses the caller, so a caller cannot tell someone else's object from a
 * missing one, and the refusal's sentence (which names the owner) is not passed on.
 *
 * @throws ApiError 404 NOT_FOUND for a NOT_FOUND or FORBIDDEN refusal; any other error as it is.
 */
export async function visible<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof RefusedError && (error.kind === 'forbidden' || error.kind === 'not-found')) {
      throw notFound(what);
    }
    throw error;
  }
}
