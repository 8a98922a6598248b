import { z } from 'zod';

/**
 * Model-quality metrics (accuracy, F1, latency…) are measurements, not money: they are
 * plain decimal numbers and thresholds compare them with ordinary number comparison.
 */

/** Name of a metric, e.g. `accuracy`, `f1_macro`, `latency.p95_ms`. */
export const metricNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'must start with a letter and use letters, digits, "_", "." or "-"');

export const metricValueSchema = z.number().refine(Number.isFinite, 'must be a finite number');

/** Measured or claimed metric values by metric name. */
export const metricValuesSchema = z
  .record(metricNameSchema, metricValueSchema)
  .refine((values) => Object.keys(values).length <= 50, 'must name at most 50 metrics');
export type MetricValues = z.infer<typeof metricValuesSchema>;

export const thresholdOperators = ['>=', '>', '<=', '<'] as const;
export const thresholdOperatorSchema = z.enum(thresholdOperators);
export type ThresholdOperator = z.infer<typeof thresholdOperatorSchema>;

/** One acceptance threshold, e.g. `accuracy >= 0.92`. */
export const metricThresholdSchema = z.strictObject({
  metric: metricNameSchema,
  operator: thresholdOperatorSchema,
  value: metricValueSchema,
});
export type MetricThreshold = z.infer<typeof metricThresholdSchema>;

export const thresholdResultSchema = z.object({
  metric: z.string(),
  operator: thresholdOperatorSchema,
  threshold: z.number(),
  /** The measured value; absent when the report did not measure the metric. */
  measured: z.number().optional(),
  met: z.boolean(),
});
export type ThresholdResult = z.infer<typeof thresholdResultSchema>;

/** Renders a threshold the way people write it: `accuracy >= 0.92`. */
export function describeThreshold(threshold: MetricThreshold): string {
  return `${threshold.metric} ${threshold.operator} ${threshold.value}`;
}

function compare(measured: number, operator: ThresholdOperator, threshold: number): boolean {
  switch (operator) {
    case '>=':
      return measured >= threshold;
    case '>':
      return measured > threshold;
    case '<=':
      return measured <= threshold;
    case '<':
      return measured < threshold;
  }
}

/**
 * Checks measured metrics against thresholds. A metric the report does not measure
 * fails its threshold, and an empty threshold list is never met: automatic acceptance
 * needs at least one criterion that was actually measured.
 */
export function evaluateThresholds(
  thresholds: readonly MetricThreshold[],
  measured: Readonly<Record<string, number>>,
): { allMet: boolean; results: ThresholdResult[] } {
  const results = thresholds.map((threshold): ThresholdResult => {
    const value = Object.prototype.hasOwnProperty.call(measured, threshold.metric)
      ? measured[threshold.metric]
      : undefined;
    const base = { metric: threshold.metric, operator: threshold.operator, threshold: threshold.value };
    return value === undefined
      ? { ...base, met: false }
      : { ...base, measured: value, met: compare(value, threshold.operator, threshold.value) };
  });
  return { allMet: results.length > 0 && results.every((result) => result.met), results };
}
