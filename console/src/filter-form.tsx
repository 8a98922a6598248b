import type { ReactNode } from 'react';

/** A list page's filters, named for screen readers: each choice narrows the list at once, with no button to press. */
export function FilterForm({ label, children }: { label: string; children: ReactNode }) {
  return (
    <form
      className="filters"
      aria-label={label}
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      {children}
    </form>
  );
}

/** One filter of a {@link FilterForm}: a labelled choice among `options`, each a value and its words. */
export function FilterSelect<Value extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: Value;
  options: readonly (readonly [Value, string])[];
  onChange: (value: Value) => void;
}) {
  return (
    <label>
      {label}
      <select
        value={value}
        onChange={(event) => {
          onChange(event.target.value as Value);
        }}
      >
        {options.map(([option, words]) => (
          <option key={option} value={option}>
            {words}
          </option>
        ))}
      </select>
    </label>
  );
}
