import { AggregatorRegistry } from 'prom-client';
import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('shows the settlement ledger failure series at 0 before any failure, for both stages', async () => {
    const text = await new Metrics().registry.metrics();
    expect(text).toContain('gigledger_settlement_ledger_failures_total{stage="confirmation"} 0');
    expect(text).toContain('gigledger_settlement_ledger_failures_total{stage="held-payout"} 0');
  });

  it('shows the settlement figures read from the shared database once when an API cluster combines its processes', async () => {
    // The primary and two workers, each observing the same outbox.
    const processes = [new Metrics(), new Metrics(), new Metrics()];
    for (const metrics of processes) {
      metrics.observeSettlement(() =>
        Promise.resolve({ byState: { queued: 4, confirmed: 9793 }, oldestOpenSeconds: 13.5, held: 2 }),
      );
      metrics.settlementSends.inc({ provider: 'sandbox', outcome: 'accepted' }, 10);
    }
    const combined = await AggregatorRegistry.aggregate(
      await Promise.all(processes.map((metrics) => metrics.registry.getMetricsAsJSON())),
    ).metrics();
    expect(combined).toContain('gigledger_settlement_outbox_instructions{state="confirmed"} 9793');
    expect(combined).toContain('gigledger_settlement_outbox_instructions{state="queued"} 4');
    expect(combined).toContain('gigledger_settlement_outbox_lag_seconds 13.5');
    expect(combined).toContain('gigledger_settlement_held_payouts 2');
    // Counters are each process's own and add up.
    expect(combined).toContain('gigledger_settlement_send_attempts_total{provider="sandbox",outcome="accepted"} 30');
  });
});
