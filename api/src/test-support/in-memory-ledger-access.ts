import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Contract } from 'fabric-contract-api';
import { contracts } from '@gigledger/chaincode';
import { parseRefusal, requestReplayedEvent, type TransactionSpec } from '@gigledger/chaincode/model';
import { InMemoryLedger, type TestIdentity } from '@gigledger/chaincode/test-support';
import {
  ledgerClient,
  RefusedError,
  transactionArguments,
  type EvaluateOptions,
  type LedgerClient,
  type LedgerEvent,
  type SubmitOptions,
  type Submitted,
  type TransactionTransport,
} from '@gigledger/gateway';
import type { Principal } from '../auth/principal.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { instrumentedTransport } from '../ledger/instrumented-transport.js';
import type { Metrics } from '../observability/metrics.js';

type AnySpec = TransactionSpec<z.ZodType, z.ZodType>;
type TransactionMethod = (ctx: unknown, ...args: string[]) => Promise<unknown>;

/**
 * The ledger for API tests: the real chaincode contracts running in-process on an
 * in-memory stub, each principal calling with its own MSP id and attributes. Routes,
 * authorisation, chaincode refusals and their mapping are exercised as against Fabric;
 * the network is absent, and with it what only the network does:
 *
 * - no endorsement, ordering or commit stage: it never throws `EndorsementError`,
 *   `SubmissionError`, `CommitStatusUnknownError` or `CommitFailedError`, so the 503 and
 *   504 answers and conflict retries are proven by the gateway's unit tests and the
 *   end-to-end suites instead;
 * - transactions run one at a time, so there are no MVCC or phantom read conflicts;
 * - endorsement policies (state-based endorsement, collection membership) are not
 *   evaluated;
 * - every call, queries included, runs as a transaction of its own (a query writes
 *   nothing but takes a transaction id), the n-th in block n, and its chaincode event is
 *   delivered as soon as the call returns.
 */
export class InMemoryLedgerAccess implements LedgerAccess {
  readonly ledger: InMemoryLedger;
  readonly #contracts: Map<string, Contract>;
  readonly #metrics: Metrics;

  readonly #onEvent: (event: LedgerEvent) => void;

  /** @param onEvent receives each committed transaction's chaincode event, as a block listener would. */
  constructor(
    metrics: Metrics,
    onEvent: (event: LedgerEvent) => void = () => undefined,
    ledger = new InMemoryLedger(Math.floor(Date.now() / 1000)),
  ) {
    this.ledger = ledger;
    this.#metrics = metrics;
    this.#onEvent = onEvent;
    this.#contracts = new Map(
      contracts.map((ContractClass) => {
        const instance = new ContractClass();
        return [instance.getName(), instance];
      }),
    );
  }

  clientFor(principal: Principal, log: Logger): Promise<LedgerClient> {
    const identity: TestIdentity = {
      mspId: principal.mspId,
      name: principal.userId,
      attributes: { role: principal.role, userId: principal.userId },
    };
    return Promise.resolve(ledgerClient(instrumentedTransport(this.transportFor(identity), this.#metrics, log)));
  }

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  transportFor(identity: TestIdentity): TransactionTransport {
    const call = async (spec: AnySpec, request: unknown, transient: Readonly<Record<string, unknown>> | undefined) => {
      const contract = this.#contracts.get(spec.contract);
      const method = (contract as unknown as Record<string, TransactionMethod | undefined> | undefined)?.[spec.name];
      if (contract === undefined || method === undefined)
        throw new Error(`no transaction ${spec.contract}:${spec.name}`);
      const args = transactionArguments(spec, request);
      try {
        const value = await this.ledger.invoke(identity, (ctx) => method.call(contract, ctx, ...args), {
          ...(transient === undefined ? {} : { transient: { ...transient } }),
        });
        // Through JSON as on the wire, then the result schema as the gateway does.
        return spec.result.parse(JSON.parse(JSON.stringify(value ?? null)));
      } catch (error) {
        const refusal = error instanceof Error ? parseRefusal(error.message) : undefined;
        if (refusal !== undefined) throw new RefusedError(refusal, { cause: error });
        throw error;
      }
    };
    return {
      evaluate: async <Spec extends AnySpec>(
        spec: Spec,
        request: z.input<Spec['request']>,
        options?: EvaluateOptions,
      ) => (await call(spec, request, options?.transient)) as z.output<Spec['result']>,
      submit: async <Spec extends AnySpec>(
        spec: Spec,
        request: z.input<Spec['request']>,
        options?: SubmitOptions,
      ): Promise<Submitted<z.output<Spec['result']>>> => {
        const result = (await call(spec, request, options?.transient)) as z.output<Spec['result']>;
        const last = this.ledger.transactions.at(-1);
        // As the gateway package does: a repeat answered from storage is answered as the
        // transaction that acted, and its own transaction (never ordered there) announces nothing.
        const replayed = requestReplayedEvent.payload.safeParse(
          last?.event?.name === requestReplayedEvent.name ? last.event.payload : undefined,
        );
        if (replayed.success) {
          const acted = this.ledger.transactions.findIndex(({ txId }) => txId === replayed.data.txId);
          if (acted >= 0) return { result, transactionId: replayed.data.txId, blockNumber: BigInt(acted + 1) };
        }
        if (last?.event !== undefined) {
          this.#onEvent({
            name: last.event.name,
            payload: last.event.payload,
            transactionId: last.txId,
            blockNumber: BigInt(this.ledger.transactions.length),
          });
        }
        return {
          result,
          transactionId: last?.txId ?? 'unknown',
          blockNumber: BigInt(this.ledger.transactions.length),
        };
      },
    };
  }
}
