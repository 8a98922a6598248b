import 'reflect-metadata';
import { Context, Contract, Transaction } from 'fabric-contract-api';
import type { z } from 'zod';
import { takesArgument, type TransactionSpec } from '../model/spec';
import { runTransaction, type PreparedTransaction, type TransactionStep } from './transaction';

/** One transaction of a {@link contractClass}: its spec and what a call of it runs. */
export interface ContractTransaction<Result, Argument extends boolean> {
  readonly spec: TransactionSpec<z.ZodType, z.ZodType>;
  /** Whether the transaction takes its one JSON argument; false for a spec with `noRequest`. */
  readonly argument: Argument;
  readonly call: (ctx: Context, requestJson: string) => Promise<Result>;
}

/** Whether a transaction takes its argument: not with `noRequest`, whose input is an object without fields. */
type TakesArgument<Request extends z.ZodType> = [z.input<Request>] extends [Record<string, never>] ? false : true;

/**
 * A transaction of a contract: `step` run by {@link runTransaction} with the spec, so
 * the argument is parsed before any state is read and a request id answers a retry
 * from storage. A spec with `noRequest` makes a transaction without an argument.
 *
 * @param spec The transaction's spec (`model/<domain>.ts`).
 * @param step The domain step, or a {@link PreparedTransaction}.
 */
export function transaction<Request extends z.ZodType, Result extends z.ZodType, Prepared = undefined>(
  spec: TransactionSpec<Request, Result>,
  step:
    | TransactionStep<z.output<Request>, z.output<Result>>
    | PreparedTransaction<z.output<Request>, z.output<Result>, Prepared>,
): ContractTransaction<z.output<Result>, TakesArgument<Request>> {
  const argument = takesArgument(spec) as TakesArgument<Request>;
  return { spec, argument, call: (ctx, requestJson) => runTransaction(ctx, spec, requestJson, step) };
}

type AnyTransaction = ContractTransaction<unknown, boolean>;

/** The methods a contract class has for its transactions, as its callers (and unit tests) call them. */
export type TransactionMethods<Transactions extends Readonly<Record<string, AnyTransaction>>> = {
  readonly [Name in keyof Transactions]: Transactions[Name] extends ContractTransaction<infer Result, infer Argument>
    ? Argument extends true
      ? (ctx: Context, requestJson: string) => Promise<Result>
      : (ctx: Context) => Promise<Result>
    : never;
};

/**
 * The base class of a contract whose transactions are a table: one method per entry,
 * decorated as `@Transaction()` when its spec is submitted and `@Transaction(false)`
 * when evaluated, taking `(ctx, requestJson)` or, without an argument, `(ctx)`. That is
 * the decorator and signature a hand-written method would have, so fabric-contract-api
 * records the same metadata and `GetMetadata` answers the same; only here the decorator,
 * the commit flag and the parameter list follow from the spec and cannot disagree with
 * it. Methods are defined in the table's order, which is the order `GetMetadata` lists.
 *
 * Extend it and decorate the subclass with `@Info`, which fabric-contract-api files
 * under the subclass's name.
 *
 * @param name The contract's name, the `<contract>` in `<contract>:<transaction>`.
 * @param transactions The contract's transactions by name, each made by {@link transaction}.
 * @throws Error when an entry's key is not its spec's name, or its spec belongs to another contract.
 */
export function contractClass<Transactions extends Readonly<Record<string, AnyTransaction>>>(
  name: string,
  transactions: Transactions,
): new () => Contract & TransactionMethods<Transactions> {
  class TableContract extends Contract {
    constructor() {
      super(name);
    }
  }
  const prototype = TableContract.prototype as unknown as Record<string, unknown>;
  for (const [key, { spec, argument, call }] of Object.entries(transactions)) {
    if (key !== spec.name || spec.contract !== name) {
      throw new Error(`${name}:${key} is given the spec of ${spec.contract}:${spec.name}`);
    }
    // fabric-contract-api reads the parameter names from the function's source text, and
    // their types from the metadata TypeScript would emit for a decorated method.
    const method = argument
      ? function (ctx: Context, requestJson: string): Promise<unknown> {
          return call(ctx, requestJson);
        }
      : function (ctx: Context): Promise<unknown> {
          return call(ctx, '{}');
        };
    Object.defineProperty(prototype, key, { value: method, writable: true, configurable: true });
    Reflect.defineMetadata('design:paramtypes', argument ? [Context, String] : [Context], prototype, key);
    Transaction(spec.kind === 'submit')(prototype, key);
  }
  return TableContract as unknown as new () => Contract & TransactionMethods<Transactions>;
}
