import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the server: request and ledger transaction latency. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequestSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly ledgerTransactionSeconds: Histogram<'contract' | 'transaction' | 'kind' | 'outcome'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gigledger_' });
    this.httpRequestSeconds = new Histogram({
      name: 'gigledger_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.ledgerTransactionSeconds = new Histogram({
      name: 'gigledger_ledger_transaction_duration_seconds',
      help: 'Fabric transaction latency (evaluate, or endorse to commit for submit) by outcome',
      labelNames: ['contract', 'transaction', 'kind', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
  }
}
