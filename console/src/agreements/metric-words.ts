/** A threshold's operator as people write it (`>=` → `≥`). */
const operatorSigns: Readonly<Record<string, string>> = { '>=': '≥', '>': '>', '<=': '≤', '<': '<' };

/** A metric's value as given: measurements are plain decimals, shown without rounding. */
function metricValue(value: number): string {
  return String(value);
}

/** An acceptance threshold in words, e.g. `recall ≥ 0.9`. */
export function thresholdWords(threshold: { metric: string; operator: string; value: number }): string {
  return `${threshold.metric} ${operatorSigns[threshold.operator] ?? threshold.operator} ${metricValue(threshold.value)}`;
}

/**
 * What a delivery claims, e.g. `claims f1 0.88, recall 0.93`, from the API's
 * `claimedMetrics` (metric name to number); empty when it claims nothing.
 */
export function claimedWords(claimedMetrics: unknown): string {
  if (claimedMetrics === null || typeof claimedMetrics !== 'object') return '';
  const claims = Object.entries(claimedMetrics as Record<string, unknown>)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    // By name: the ledger keeps the claims as canonical JSON, so their order says nothing.
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([metric, value]) => `${metric} ${metricValue(value)}`);
  return claims.length === 0 ? '' : `claims ${claims.join(', ')}`;
}

/**
 * An evaluator's report against the thresholds, e.g. `recall 0.95 (≥ 0.9, met); latency
 * not measured (< 200, not met): not every threshold met`.
 */
export function evaluationWords(evaluation: {
  results: readonly { metric: string; operator: string; threshold: number; measured?: number | null; met: boolean }[];
  allThresholdsMet: boolean;
}): string {
  const results = evaluation.results.map((result) => {
    const measured = result.measured == null ? 'not measured' : metricValue(result.measured);
    const sign = operatorSigns[result.operator] ?? result.operator;
    return `${result.metric} ${measured} (${sign} ${metricValue(result.threshold)}, ${result.met ? 'met' : 'not met'})`;
  });
  const verdict = evaluation.allThresholdsMet ? 'every threshold met' : 'not every threshold met';
  return results.length === 0 ? verdict : `${results.join('; ')}: ${verdict}`;
}
