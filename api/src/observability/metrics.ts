import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Settlement outbox figures as the service reports them. */
export interface SettlementStats {
  readonly byState: Readonly<Record<string, number>>;
  readonly oldestOpenSeconds: number;
  readonly held: number;
}

/** The server's Prometheus metrics, served at /metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequestSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly ledgerTransactionSeconds: Histogram<'contract' | 'transaction' | 'kind' | 'outcome'>;
  readonly ledgerResubmissions: Counter<'reason'>;
  readonly settlementSends: Counter<'provider' | 'outcome'>;
  readonly settlementCallbackRefusals: Counter<'provider' | 'code'>;
  readonly settlementConfirmations: Counter<'outcome'>;
  readonly settlementConfirmationRefusals: Counter<'code'>;
  readonly settlementLedgerFailures: Counter<'stage'>;
  #settlementStats: (() => Promise<SettlementStats>) | undefined;

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
    this.ledgerResubmissions = new Counter({
      name: 'gigledger_ledger_resubmissions_total',
      help: 'Signed transactions sent for ordering again with the same id, by reason (see ResubmitReason in gateway/)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.settlementSends = new Counter({
      name: 'gigledger_settlement_send_attempts_total',
      help: 'Attempts to hand a settlement instruction to its provider, by outcome (accepted, retry, rejected, dead)',
      labelNames: ['provider', 'outcome'],
      registers: [this.registry],
    });
    this.settlementCallbackRefusals = new Counter({
      name: 'gigledger_settlement_callback_refusals_total',
      help: 'Provider callbacks refused, by reason code',
      labelNames: ['provider', 'code'],
      registers: [this.registry],
    });
    this.settlementConfirmations = new Counter({
      name: 'gigledger_settlement_confirmations_total',
      help: 'Provider confirmations recorded on the ledger, by outcome',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.settlementConfirmationRefusals = new Counter({
      name: 'gigledger_settlement_confirmation_refusals_total',
      help: "Provider answers the ledger refused to record, by the chaincode's refusal code; each is offered again after the longest backoff",
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.settlementLedgerFailures = new Counter({
      name: 'gigledger_settlement_ledger_failures_total',
      help: "Tries to record a provider's answer (stage confirmation) or retry a held payout (stage held-payout) that could not reach the ledger; each is tried again after a growing backoff",
      labelNames: ['stage'],
      registers: [this.registry],
    });
    // Both series from the start at 0, so an alert on their rate has a series before the first outage.
    for (const stage of ['confirmation', 'held-payout']) this.settlementLedgerFailures.inc({ stage }, 0);
    const stats = () => this.#settlementStats?.();
    // Read from the one database by the process that runs the settlement service; should
    // more than one process of a cluster report them, combined (prom-client's
    // AggregatorRegistry) they stay one reading, not a sum.
    const sharedFigure = 'max';
    new Gauge({
      name: 'gigledger_settlement_outbox_instructions',
      help: 'Settlement outbox rows by state (dead = dead letters waiting for an operator)',
      labelNames: ['state'],
      registers: [this.registry],
      aggregator: sharedFigure,
      async collect() {
        const current = await stats();
        if (current === undefined) return;
        for (const [state, count] of Object.entries(current.byState)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'gigledger_settlement_outbox_lag_seconds',
      help: 'Age of the oldest settlement instruction not yet confirmed on the ledger',
      registers: [this.registry],
      aggregator: sharedFigure,
      async collect() {
        const current = await stats();
        if (current !== undefined) this.set(current.oldestOpenSeconds);
      },
    });
    new Gauge({
      name: 'gigledger_settlement_held_payouts',
      help: 'Payouts held for compliance (no valid KYC credential) and not yet cleared',
      registers: [this.registry],
      aggregator: sharedFigure,
      async collect() {
        const current = await stats();
        if (current !== undefined) this.set(current.held);
      },
    });
  }

  /** Reads the settlement service's figures at each scrape. */
  observeSettlement(stats: () => Promise<SettlementStats>): void {
    this.#settlementStats = stats;
  }
}
