import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  LedgerError,
  ledgerClient,
  RefusedError,
  type LedgerClient,
  type TransactionTransport,
} from '@gigledger/gateway';
import type { TransactionSpec } from '@gigledger/chaincode/model';
import type { Metrics } from '../observability/metrics.js';

type AnySpec = TransactionSpec<z.ZodType, z.ZodType>;

function outcomeOf(error: unknown): string {
  if (error instanceof RefusedError) return error.code;
  if (error instanceof LedgerError) return error.name;
  return 'error';
}

/**
 * Times every ledger call into the transaction histogram and logs each submitted
 * transaction with its id, so a request's log lines lead to its transactions.
 */
export function instrumentedTransport(
  inner: TransactionTransport,
  metrics: Metrics,
  log: Logger,
): TransactionTransport {
  const observe = async <T>(
    spec: AnySpec,
    call: () => Promise<T>,
    transactionIdOf: (value: T) => string | undefined,
  ) => {
    const stop = metrics.ledgerTransactionSeconds.startTimer({
      contract: spec.contract,
      transaction: spec.name,
      kind: spec.kind,
    });
    try {
      const value = await call();
      stop({ outcome: 'ok' });
      const transactionId = transactionIdOf(value);
      if (transactionId !== undefined) {
        log.info({ transactionId, transaction: `${spec.contract}:${spec.name}` }, 'transaction committed');
      }
      return value;
    } catch (error) {
      const outcome = outcomeOf(error);
      stop({ outcome });
      if (error instanceof LedgerError && error.transactionId !== undefined) {
        log.warn(
          { transactionId: error.transactionId, transaction: `${spec.contract}:${spec.name}`, outcome },
          error.message,
        );
      }
      throw error;
    }
  };
  return {
    evaluate: (spec, request, options) =>
      observe(
        spec,
        () => inner.evaluate(spec, request, options),
        () => undefined,
      ),
    submit: (spec, request, options) =>
      observe(
        spec,
        () => inner.submit(spec, request, options),
        (submitted) => submitted.transactionId,
      ),
  };
}

/** A ledger client over `transport` whose every call is timed and logged as {@link instrumentedTransport} does. */
export function instrumentedClient(transport: TransactionTransport, metrics: Metrics, log: Logger): LedgerClient {
  return ledgerClient(instrumentedTransport(transport, metrics, log));
}
