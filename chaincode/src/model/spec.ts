import { z } from 'zod';
import { requestIdSchema } from './common';

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
 * The request id a state change takes when its request names none of its own: optional,
 * so Fabric clients that send none keep working, while one that sends it (the API always
 * does) gets the stored result on a retry instead of a refusal such as "already accepted".
 */
export const stateChangeRequestIdSchema = requestIdSchema
  .optional()
  .describe('Makes the change safe to repeat: the same id with the same request answers the stored result');

type WithRequestId<Request extends z.ZodType> =
  Request extends z.ZodObject<infer Shape, infer Config>
    ? [keyof Shape] extends [never]
      ? Request
      : 'requestId' extends keyof Shape
        ? Request
        : z.ZodObject<Shape & { requestId: typeof stateChangeRequestIdSchema }, Config>
    : Request;

/**
 * Every submitted transaction's request carries a request id, so any command can be
 * retried after a lost commit status: creating transactions declare theirs (required,
 * since it names what they create); every other object request gets
 * {@link stateChangeRequestIdSchema} here. A transaction taking no argument
 * ({@link noRequest}) stays without one; one that is worth retrying declares
 * `{ requestId: stateChangeRequestIdSchema }` as its request.
 */
function withRequestId<Request extends z.ZodType>(request: Request): WithRequestId<Request> {
  if (!(request instanceof z.ZodObject) || Object.keys(request.shape).length === 0 || 'requestId' in request.shape) {
    return request as WithRequestId<Request>;
  }
  return request.safeExtend({ requestId: stateChangeRequestIdSchema }) as unknown as WithRequestId<Request>;
}

/**
 * The two spec builders of one contract, so each domain declares its transactions as
 * `submit(name, request, result)` and `evaluate(name, request, result)`. A submitted
 * transaction's request takes a request id (see {@link withRequestId}).
 */
export function contractSpecs(contract: string) {
  return {
    submit: <Request extends z.ZodType, Result extends z.ZodType>(name: string, request: Request, result: Result) =>
      transactionSpec({ contract, name, kind: 'submit', request: withRequestId(request), result }),
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
