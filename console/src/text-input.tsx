import type { InputHTMLAttributes, ReactNode } from 'react';

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
 * (what screen readers announce and what the browser tests find it by).
 */
export function LabelledInput({
  label,
  labelClassName,
  ...input
}: InputProps & {
  label: ReactNode;
  /** Class of the `<label>` (e.g. `short`), where the layout needs one. */
  labelClassName?: string;
}) {
  return (
    <label className={labelClassName}>
      {label}
      <ValueInput {...input} />
    </label>
  );
}
