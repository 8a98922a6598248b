import type { Context } from 'fabric-contract-api';

/**
 * The transaction's timestamp as an ISO instant. Every endorsing peer sees the same
 * value, unlike the wall clock, so it is the only time chaincode may use.
 */
export function transactionInstant(ctx: Context): string {
  const { seconds, nanos } = ctx.stub.getTxTimestamp();
  const millis = Number(seconds.toString()) * 1000 + Math.floor(nanos / 1_000_000);
  return new Date(millis).toISOString();
}

/** Seconds since the epoch of the transaction timestamp. */
export function transactionSeconds(ctx: Context): number {
  return Number(ctx.stub.getTxTimestamp().seconds.toString());
}
