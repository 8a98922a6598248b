import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('shows the settlement ledger failure series at 0 before any failure, for both stages', async () => {
    const text = await new Metrics().registry.metrics();
    expect(text).toContain('gigledger_settlement_ledger_failures_total{stage="confirmation"} 0');
    expect(text).toContain('gigledger_settlement_ledger_failures_total{stage="held-payout"} 0');
  });
});
