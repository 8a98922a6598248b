import { describeThreshold, evaluateThresholds, type MetricThreshold } from './metrics';

const accuracy: MetricThreshold = { metric: 'accuracy', operator: '>=', value: 0.92 };

describe('metric thresholds', () => {
  it.each([
    ['>=', 0.92, 0.92, true],
    ['>=', 0.9199, 0.92, false],
    ['>', 0.92, 0.92, false],
    ['>', 0.9201, 0.92, true],
    ['<=', 120, 120, true],
    ['<', 120, 120, false],
    ['<', 119.5, 120, true],
  ] as const)('%s compares %d with %d as %s', (operator, measured, value, met) => {
    expect(evaluateThresholds([{ metric: 'm', operator, value }], { m: measured }).allMet).toBe(met);
  });

  it('needs every threshold met and every thresholded metric measured', () => {
    const latency: MetricThreshold = { metric: 'latency_ms', operator: '<', value: 50 };
    expect(evaluateThresholds([accuracy, latency], { accuracy: 0.95, latency_ms: 40 }).allMet).toBe(true);
    expect(evaluateThresholds([accuracy, latency], { accuracy: 0.95, latency_ms: 60 }).allMet).toBe(false);
    expect(evaluateThresholds([accuracy, latency], { accuracy: 0.95 })).toEqual({
      allMet: false,
      results: [
        { metric: 'accuracy', operator: '>=', threshold: 0.92, measured: 0.95, met: true },
        { metric: 'latency_ms', operator: '<', threshold: 50, met: false },
      ],
    });
  });

  it('never meets an empty list of thresholds', () => {
    expect(evaluateThresholds([], { accuracy: 1 }).allMet).toBe(false);
  });

  it('does not mistake inherited properties for measured metrics', () => {
    expect(evaluateThresholds([{ metric: 'constructor', operator: '>', value: 0 }], {}).allMet).toBe(false);
  });

  it('renders a threshold as people write it', () => {
    expect(describeThreshold(accuracy)).toBe('accuracy >= 0.92');
  });
});
