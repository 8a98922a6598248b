import { Field, ShortLabel } from './draft-fields.js';
import { ValueInput } from '../text-input.js';

/** One acceptance threshold as typed: a metric, how it compares, and the value as text. */
export interface ThresholdDraft {
  readonly key: number;
  readonly metric: string;
  readonly operator: string;
  readonly value: string;
}

/** The ledger's comparison operators (the chaincode's `thresholdOperators`), as people write them. */
const operators: readonly (readonly [string, string])[] = [
  ['>=', '≥ at least'],
  ['>', '> more than'],
  ['<=', '≤ at most'],
  ['<', '< less than'],
];

/**
 * A threshold's value as a number: digits with one decimal point or comma, optionally
 * negative (`0.9`, `0,9`, `-3`, `250`); metrics are plain decimals, not money.
 *
 * @returns the number, or a sentence saying why the text is none.
 */
export function thresholdValue(text: string): { value: number } | { problem: string } {
  const trimmed = text.trim();
  if (!/^-?\d+(?:[.,]\d+)?$/.test(trimmed)) return { problem: 'Write the threshold as a number, e.g. 0.9 or 250.' };
  return { value: Number(trimmed.replace(',', '.')) };
}

/** The API's paths of a milestone's threshold fields, for placing its refusals. */
export function thresholdFieldNames(milestonePath: string, thresholds: readonly ThresholdDraft[]): string[] {
  return thresholds.flatMap((_, index) =>
    ['metric', 'operator', 'value'].map(
      (leaf) => `${milestonePath}.acceptanceCriteria.thresholds.${String(index)}.${leaf}`,
    ),
  );
}

/**
 * A milestone's acceptance thresholds, each on one row (metric, comparison, value), which
 * an evaluator's report is checked against: all met accepts the milestone without the
 * client. Optional; none by default.
 */
export function ThresholdRows({
  milestoneNumber,
  milestonePath,
  thresholds,
  problems,
  onChange,
}: {
  milestoneNumber: number;
  /** `input.milestones.N`, as the API names the milestone's fields. */
  milestonePath: string;
  thresholds: readonly ThresholdDraft[];
  problems: Readonly<Record<string, string>>;
  onChange: (thresholds: ThresholdDraft[]) => void;
}) {
  const update = (key: number, change: Partial<ThresholdDraft>) => {
    onChange(thresholds.map((threshold) => (threshold.key === key ? { ...threshold, ...change } : threshold)));
  };
  return (
    <fieldset className="thresholds">
      <legend>Metric thresholds of milestone {milestoneNumber} (optional)</legend>
      {thresholds.map((threshold, index) => {
        const at = `${milestonePath}.acceptanceCriteria.thresholds.${String(index)}`;
        const of = `of threshold ${String(index + 1)} of milestone ${String(milestoneNumber)}`;
        return (
          <div key={threshold.key} className="field-row">
            <Field label={<ShortLabel shown="Metric" rest={of} />} problem={problems[`${at}.metric`]}>
              {(props) => (
                <ValueInput
                  {...props}
                  placeholder="recall"
                  value={threshold.metric}
                  onValue={(metric) => {
                    update(threshold.key, { metric });
                  }}
                />
              )}
            </Field>
            <Field label={<ShortLabel shown="Must be" rest={of} />} problem={problems[`${at}.operator`]}>
              {(props) => (
                <select
                  {...props}
                  value={threshold.operator}
                  onChange={(event) => {
                    update(threshold.key, { operator: event.target.value });
                  }}
                >
                  {operators.map(([operator, words]) => (
                    <option key={operator} value={operator}>
                      {words}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={<ShortLabel shown="Value" rest={of} />} problem={problems[`${at}.value`]}>
              {(props) => (
                <ValueInput
                  {...props}
                  inputMode="decimal"
                  placeholder="0.9"
                  value={threshold.value}
                  onValue={(value) => {
                    update(threshold.key, { value });
                  }}
                />
              )}
            </Field>
            <button
              type="button"
              className="row-remove"
              onClick={() => {
                onChange(thresholds.filter((other) => other.key !== threshold.key));
              }}
            >
              Remove threshold {index + 1}
            </button>
          </div>
        );
      })}
      <button
        type="button"
        onClick={() => {
          const key = thresholds.reduce((highest, threshold) => Math.max(highest, threshold.key), 0) + 1;
          onChange([...thresholds, { key, metric: '', operator: '>=', value: '' }]);
        }}
      >
        Add a threshold to milestone {milestoneNumber}
      </button>
    </fieldset>
  );
}
