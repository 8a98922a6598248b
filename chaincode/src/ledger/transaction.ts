import type { Context } from 'fabric-contract-api';
import type { z } from 'zod';
import type { TransactionSpec } from '../model/spec';
import { parseArgument } from './refusal';
import { runOnce } from './requests';
import { txOf, type Tx } from './tx';
// The contracts' governance records decide a governed role's reach; see `withStanding`.
import { withStanding } from '../contracts/standing';

/** The domain step of a transaction: what it does once its argument is parsed. */
export type TransactionStep<Request, Result, Prepared = undefined> = (
  tx: Tx,
  request: Request,
  prepared: Prepared,
) => Promise<Result>;

/**
 * A transaction whose request id must not answer from storage before some work is done:
 * `prepare` runs on every call, a retry included, so the checks in it (genesis admin,
 * role, a valid draft) refuse a retry as they refuse a first call, and the inputs it
 * reads besides the argument (transient terms or claims) reach `run`. `fingerprint`
 * names what a retry must repeat besides the request, e.g. the hash of those terms.
 */
export interface PreparedTransaction<Request, Result, Prepared> {
  prepare(tx: Tx, request: Request): Prepared | Promise<Prepared>;
  fingerprint?(request: Request, prepared: Prepared): unknown;
  run: TransactionStep<Request, Result, Prepared>;
}

function hasRequestId(request: unknown): request is { readonly requestId: string } {
  return (
    typeof request === 'object' &&
    request !== null &&
    typeof (request as { requestId?: unknown }).requestId === 'string'
  );
}

/**
 * The body of every transaction that takes one JSON argument: parses `requestJson` with
 * the spec's request schema before any state is read, and, when the parsed request
 * carries a `requestId`, runs the step at most once per (caller, transaction, request
 * id), answering a retry with the stored result parsed by the spec's result schema (see
 * `runOnce`). Every method `contractClass` (`contract-class.ts`) makes is one call of this.
 *
 * @param spec The transaction's spec (`model/<domain>.ts`): its name keys the stored
 *   result, its schemas parse the argument and a replayed result.
 * @param step The domain step, or a {@link PreparedTransaction} when checks or transient
 *   inputs must come before the request id is looked up.
 * @throws RefusalError VALIDATION_FAILED when the argument is not canonical JSON matching
 *   the schema (see `parseArgument`); REQUEST_ID_REUSED when the request id was used for
 *   a different request; and whatever the step refuses.
 */
export async function runTransaction<Request extends z.ZodType, Result extends z.ZodType, Prepared = undefined>(
  ctx: Context,
  spec: TransactionSpec<Request, Result>,
  requestJson: string,
  step:
    | TransactionStep<z.output<Request>, z.output<Result>>
    | PreparedTransaction<z.output<Request>, z.output<Result>, Prepared>,
): Promise<z.output<Result>> {
  // An evaluation stores nothing, and may carry a stored document back to be checked.
  const request = parseArgument(spec.request, requestJson, { refuseControlText: spec.kind === 'submit' });
  const plain = txOf(ctx);
  const tx = { ...plain, caller: await withStanding(ctx, plain.caller) };
  if (typeof step === 'function') return once(tx, spec, request, request, () => step(tx, request, undefined));
  const prepared = await step.prepare(tx, request);
  const fingerprinted = step.fingerprint === undefined ? request : step.fingerprint(request, prepared);
  return once(tx, spec, request, fingerprinted, () => step.run(tx, request, prepared));
}

function once<Result extends z.ZodType>(
  tx: Tx,
  spec: TransactionSpec<z.ZodType, Result>,
  request: unknown,
  fingerprinted: unknown,
  run: () => Promise<z.output<Result>>,
): Promise<z.output<Result>> {
  if (!hasRequestId(request)) return run();
  const resultSchema = spec.result as z.ZodType<z.output<Result>>;
  return runOnce(tx.ctx, spec.name, request.requestId, fingerprinted, resultSchema, run);
}
