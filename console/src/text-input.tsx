import { useId, type InputHTMLAttributes, type ReactNode } from 'react';
import { useFieldRefusal } from './session/field-refusals.js';

/** An `<input>`'s own attributes, less the change handler that `onValue` replaces. */
type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> & {
  value: string;
  /** Called with the field's whole new text on every edit. */
  onValue: (value: string) => void;
  /** Hand `onValue` the text without leading and trailing white space (ids, hashes, URIs). */
  trim?: boolean;
};

/**
 * A controlled text input (any `type` whose value is a string: text, password, date,
 * datetime-local) that hands each edit to `onValue` as the field's new text, trimmed
 * when `trim` says so. Pages keep that text in their own state.
 */
export function ValueInput({ onValue, trim = false, ...input }: InputProps) {
  return (
    <input
      {...input}
      onChange={(event) => {
        onValue(trim ? event.target.value.trim() : event.target.value);
      }}
    />
  );
}

/**
 * A {@link ValueInput} inside its `<label>`, so the label's text is its accessible name
 * (what screen readers announce and what the browser tests find it by). Given the API's
 * path of its field (`field`, e.g. `input.uri`), it shows the API's refusal of that field
 * beside itself, marked invalid and described by it, inside a form's `FieldRefusals`.
 */
export function LabelledInput({
  label,
  labelClassName,
  field,
  ...input
}: InputProps & {
  label: ReactNode;
  /** Class of the `<label>` (e.g. `short`), where the layout needs one. */
  labelClassName?: string;
  /** The API's path of this input's field, as a refusal names it. */
  field?: string;
}) {
  const problemId = useId();
  const refusal = useFieldRefusal(field);
  const labelled = (
    <label className={labelClassName}>
      {label}
      <ValueInput
        {...input}
        {...(refusal === undefined ? {} : { 'aria-invalid': true, 'aria-describedby': problemId })}
      />
    </label>
  );
  if (refusal === undefined) return labelled;
  return (
    <div className="refused-field">
      {labelled}
      <p className="problem" id={problemId} role="alert">
        {refusal}
      </p>
    </div>
  );
}
