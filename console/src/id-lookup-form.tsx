import { useState, type SyntheticEvent } from 'react';
import { LabelledInput } from './text-input.js';

/**
 * The form that opens one record by the id a person brought from elsewhere (an email, a
 * report, another system): one required field and one button. The id is trimmed; the
 * page decides what opening it means (a query, a navigation).
 */
export function IdLookupForm({
  label,
  name,
  action,
  onLookup,
}: {
  /** The field's visible label, e.g. "Work id". */
  label: string;
  /** The input's name. */
  name: string;
  /** The button's text, e.g. "Open work". */
  action: string;
  onLookup: (id: string) => void;
}) {
  const [draft, setDraft] = useState('');
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    onLookup(draft.trim());
  };
  return (
    <form onSubmit={submit} className="filters">
      <LabelledInput label={label} name={name} required value={draft} onValue={setDraft} />
      <button type="submit">{action}</button>
    </form>
  );
}
