import { z } from 'zod';
import type { Submitted } from '@gigledger/gateway';

/**
 * The answer to every command, in every domain: what the command returned, the
 * transaction that committed it, and the request id it ran under.
 */
export function committedSchema<Result extends z.ZodType>(result: Result) {
  return z.object({
    requestId: z
      .string()
      .describe(
        "The request id used (the body's, the Idempotency-Key header's, or one the server generated); repeat it to retry safely",
      ),
    transactionId: z
      .string()
      .describe('The transaction that acted; a repeat of the request answers the same transaction'),
    blockNumber: z.string().describe('Block of the transaction, as a decimal string'),
    result,
  });
}

/** A committed command: what the chaincode returned and where the transaction landed. */
export interface Committed<Value> {
  /** The id that makes the request safe to repeat (possibly server-generated). */
  readonly requestId: string;
  readonly transactionId: string;
  /** Block number as a decimal string: block heights outgrow JSON numbers. */
  readonly blockNumber: string;
  readonly result: Value;
}

/** The envelope of a submitted transaction, with the request id it was sent with. */
export function committed<Value>(submitted: Submitted<Value>, requestId: string): Committed<Value> {
  return {
    requestId,
    transactionId: submitted.transactionId,
    blockNumber: submitted.blockNumber.toString(),
    result: submitted.result,
  };
}

/**
 * A command's request as services take it: with the request id settled (the caller's,
 * or one the server generated), so every answer can return it.
 */
export type CommandRequest<Request> = Request & { readonly requestId: string };
