import type { z } from 'zod';
import type { TransactionSpec } from '@gigledger/chaincode/model';
import type { EvaluateOptions, SubmitOptions, Submitted, TransactionTransport } from './contract-client.js';

type AnySpec = TransactionSpec<z.ZodType, z.ZodType>;

/** Transactions without arguments may be called with none. */
type RequestParameter<Request extends z.ZodType> =
  z.input<Request> extends Record<string, never> ? [request?: z.input<Request>] : [request: z.input<Request>];

/**
 * A camelCase method per transaction of a contract, typed from the shared specs:
 * submitted transactions resolve to the committed result with its transaction id and
 * block, evaluated ones to the parsed result.
 */
export type TypedContract<Specs extends Record<string, AnySpec>> = {
  readonly [Name in keyof Specs]: Specs[Name] extends TransactionSpec<infer Request, infer Result, 'submit'>
    ? (...args: [...RequestParameter<Request>, options?: SubmitOptions]) => Promise<Submitted<z.output<Result>>>
    : Specs[Name] extends TransactionSpec<infer Request, infer Result, 'evaluate'>
      ? (...args: [...RequestParameter<Request>, options?: EvaluateOptions]) => Promise<z.output<Result>>
      : never;
};

export function typedContract<Specs extends Record<string, AnySpec>>(
  client: TransactionTransport,
  specs: Specs,
): TypedContract<Specs> {
  const methods = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      spec.kind === 'submit'
        ? (request: unknown = {}, options?: SubmitOptions) => client.submit(spec, request, options)
        : (request: unknown = {}, options?: EvaluateOptions) => client.evaluate(spec, request, options),
    ]),
  );
  return methods as TypedContract<Specs>;
}
