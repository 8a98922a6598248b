import { setTimeout as delay } from 'node:timers/promises';
import {
  CommitStatusError,
  EndorseError,
  GatewayError,
  StatusCode,
  type Contract,
  type Network,
  type SubmittedTransaction,
} from '@hyperledger/fabric-gateway';
import type { z } from 'zod';
import { qualifiedName, takesArgument, type TransactionSpec } from '@gigledger/chaincode/model';
import {
  CommitFailedError,
  CommitStatusUnknownError,
  describeGatewayError,
  EndorsementError,
  LedgerError,
  RefusedError,
  refusalIn,
  ResultFormatError,
  SubmissionError,
} from './errors.js';

type AnySpec = TransactionSpec<z.ZodType, z.ZodType>;

export interface SubmitOptions {
  /** Private inputs (e.g. confidential terms) sent to endorsers only, never ordered. */
  readonly transient?: Readonly<Record<string, unknown>>;
  /** Endorse only with these organisations' peers instead of the gateway's plan. */
  readonly endorsingOrganizations?: readonly string[];
  /**
   * How often to endorse and submit again, with a new transaction id, after an MVCC or
   * phantom read conflict (2 by default). Safe: an invalidated transaction changed
   * nothing, and the new endorsement reads the current state.
   */
  readonly conflictRetries?: number;
}

const conflictCodes = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']);

export type EvaluateOptions = Pick<SubmitOptions, 'transient'>;

/** A committed transaction's parsed result and where it landed. */
export interface Submitted<Result> {
  readonly result: Result;
  readonly transactionId: string;
  readonly blockNumber: bigint;
}

const validationCodeNames = new Map<number, string>(
  Object.entries(StatusCode).map(([name, code]) => [code as number, name]),
);

const commitStatusAttempts = 5;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What typed contract clients call: the real {@link ContractClient}, or an in-process
 * stand-in in tests of the layers above.
 */
export interface TransactionTransport {
  evaluate<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options?: EvaluateOptions,
  ): Promise<z.output<Spec['result']>>;
  submit<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options?: SubmitOptions,
  ): Promise<Submitted<z.output<Spec['result']>>>;
}

/**
 * Calls the transactions of one chaincode with the shared specs: arguments are
 * validated before sending, results parsed on the way back, and failures come back as
 * the library's typed errors.
 */
export class ContractClient implements TransactionTransport {
  readonly #network: Network;
  readonly #chaincode: string;

  constructor(network: Network, chaincode: string) {
    this.#network = network;
    this.#chaincode = chaincode;
  }

  /**
   * Evaluates a query on one peer.
   *
   * @throws RefusedError when the chaincode refuses; EndorsementError when no peer answers.
   */
  async evaluate<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: EvaluateOptions = {},
  ): Promise<z.output<Spec['result']>> {
    const contract = this.#contract(spec);
    let bytes: Uint8Array;
    try {
      bytes = await contract.evaluate(spec.name, {
        arguments: transactionArguments(spec, request),
        ...transientOption(options.transient),
      });
    } catch (error) {
      throw mapEndorseError(error, undefined);
    }
    return parseResult(spec, bytes, undefined);
  }

  /**
   * Endorses, orders and waits for the commit of a transaction. A lost commit status
   * is asked for again with the same transaction id; the transaction is never re-sent.
   *
   * @throws RefusedError when the chaincode refuses (nothing is ordered).
   * @throws EndorsementError, SubmissionError, CommitStatusUnknownError, CommitFailedError by stage.
   */
  async submit<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: SubmitOptions = {},
  ): Promise<Submitted<z.output<Spec['result']>>> {
    const retries = options.conflictRetries ?? 2;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#submitOnce(spec, request, options);
      } catch (error) {
        if (!(error instanceof CommitFailedError && conflictCodes.has(error.validationCode)) || attempt >= retries) {
          throw error;
        }
      }
    }
  }

  async #submitOnce<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: SubmitOptions,
  ): Promise<Submitted<z.output<Spec['result']>>> {
    const proposal = this.#contract(spec).newProposal(spec.name, {
      arguments: transactionArguments(spec, request),
      ...transientOption(options.transient),
      ...(options.endorsingOrganizations === undefined
        ? {}
        : { endorsingOrganizations: [...options.endorsingOrganizations] }),
    });
    const transactionId = proposal.getTransactionId();
    let transaction;
    try {
      transaction = await proposal.endorse();
    } catch (error) {
      throw mapEndorseError(error, transactionId);
    }
    let submitted: SubmittedTransaction;
    try {
      submitted = await transaction.submit();
    } catch (error) {
      // fabric-gateway exports SubmitError only as a type; everything submit throws is a GatewayError.
      if (error instanceof GatewayError) {
        throw new SubmissionError(`ordering refused transaction ${transactionId}: ${describeGatewayError(error)}`, {
          transactionId,
          cause: error,
        });
      }
      throw error;
    }
    const status = await commitStatusOf(submitted, transactionId);
    if (!status.successful) {
      throw new CommitFailedError(validationCodeNames.get(status.code) ?? `code ${status.code}`, { transactionId });
    }
    return {
      result: parseResult(spec, transaction.getResult(), transactionId),
      transactionId,
      blockNumber: status.blockNumber,
    };
  }

  #contract(spec: AnySpec): Contract {
    return this.#network.getContract(this.#chaincode, spec.contract);
  }
}

async function commitStatusOf(
  submitted: SubmittedTransaction,
  transactionId: string,
): Promise<{ successful: boolean; code: number; blockNumber: bigint }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await submitted.getStatus();
    } catch (error) {
      if (!(error instanceof CommitStatusError) || attempt >= commitStatusAttempts) {
        throw new CommitStatusUnknownError(
          `commit status of transaction ${transactionId} is unknown after ${attempt} attempts: ${describeGatewayError(error)}`,
          { transactionId, cause: error },
        );
      }
      await delay(500 * attempt);
    }
  }
}

/**
 * The chaincode arguments of a transaction: none, or its request validated against
 * the spec and serialised as JSON.
 *
 * @throws RefusedError VALIDATION_FAILED naming the field, before anything is sent.
 */
export function transactionArguments(spec: AnySpec, request: unknown): string[] {
  if (!takesArgument(spec)) return [];
  const parsed = spec.request.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'request';
    throw new RefusedError({
      code: 'VALIDATION_FAILED',
      message: `${field}: ${issue?.message ?? 'is invalid'}`,
      field,
    });
  }
  return [JSON.stringify(parsed.data)];
}

function transientOption(transient: Readonly<Record<string, unknown>> | undefined): {
  transientData?: Record<string, Uint8Array>;
} {
  if (transient === undefined) return {};
  return {
    transientData: Object.fromEntries(
      Object.entries(transient).map(([key, value]) => [
        key,
        encoder.encode(typeof value === 'string' ? value : JSON.stringify(value)),
      ]),
    ),
  };
}

function mapEndorseError(error: unknown, transactionId: string | undefined): LedgerError {
  const refusal = refusalIn(error);
  if (refusal !== undefined) return new RefusedError(refusal, { transactionId, cause: error });
  const id = transactionId ?? (error instanceof EndorseError ? error.transactionId : undefined);
  return new EndorsementError(`endorsement failed: ${describeGatewayError(error)}`, {
    transactionId: id,
    cause: error,
  });
}

function parseResult<Spec extends AnySpec>(
  spec: Spec,
  bytes: Uint8Array,
  transactionId: string | undefined,
): z.output<Spec['result']> {
  const text = decoder.decode(bytes);
  let raw: unknown;
  try {
    raw = text === '' ? undefined : JSON.parse(text);
  } catch {
    raw = text;
  }
  const parsed = spec.result.safeParse(raw);
  if (!parsed.success) {
    throw new ResultFormatError(
      `${qualifiedName(spec)} returned a result that does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`,
      { transactionId },
    );
  }
  return parsed.data as z.output<Spec['result']>;
}
