import { z } from 'zod';

/**
 * One chaincode transaction as both sides see it: which contract and function,
 * whether it is submitted (ordered and committed) or only evaluated, and the
 * schemas of its single JSON argument and of its result.
 */
export type TransactionKind = 'submit' | 'evaluate';

export interface TransactionSpec<
  Request extends z.ZodType,
  Result extends z.ZodType,
  Kind extends TransactionKind = TransactionKind,
> {
  readonly contract: string;
  readonly name: string;
  readonly kind: Kind;
  readonly request: Request;
  readonly result: Result;
  /**
   * The private data collection the transaction's transient data belongs to: clients
   * send that data only to peers of the collection's member organisations, whatever
   * the transaction ends up writing (a replayed request writes nothing private, and
   * must not widen who receives the data).
   */
  readonly privateCollection?: string;
}

export function transactionSpec<Request extends z.ZodType, Result extends z.ZodType, Kind extends TransactionKind>(
  spec: TransactionSpec<Request, Result, Kind>,
): TransactionSpec<Request, Result, Kind> {
  return spec;
}

/**
 * The two spec builders of one contract, so each domain declares its transactions as
 * `submit(name, request, result)` and `evaluate(name, request, result)`.
 */
export function contractSpecs(contract: string) {
  return {
    submit: <Request extends z.ZodType, Result extends z.ZodType>(name: string, request: Request, result: Result) =>
      transactionSpec({ contract, name, kind: 'submit', request, result }),
    evaluate: <Request extends z.ZodType, Result extends z.ZodType>(name: string, request: Request, result: Result) =>
      transactionSpec({ contract, name, kind: 'evaluate', request, result }),
  };
}

/** The fully qualified name a Fabric client calls: `contract:function`. */
export function qualifiedName(spec: TransactionSpec<z.ZodType, z.ZodType>): string {
  return `${spec.contract}:${spec.name}`;
}

export type RequestOf<S> = S extends TransactionSpec<infer Request, z.ZodType> ? z.input<Request> : never;
export type ResultOf<S> = S extends TransactionSpec<z.ZodType, infer Result> ? z.output<Result> : never;

/** A chaincode event as emitted: a name (`contract.EventName`) and a typed payload. */
export interface EventSpec<Payload extends z.ZodType> {
  readonly name: string;
  readonly payload: Payload;
}

export function eventSpec<Payload extends z.ZodType>(spec: EventSpec<Payload>): EventSpec<Payload> {
  return spec;
}

/** Request schema of transactions that take no argument; clients then send none. */
export const noRequest = z.object({}).strict();

export function takesArgument(spec: TransactionSpec<z.ZodType, z.ZodType>): boolean {
  return spec.request !== noRequest;
}
