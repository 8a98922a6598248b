import { useId, type ReactNode } from 'react';

/**
 * A label that shows its first words only, the rest for screen readers: side by side in
 * one milestone's box, "Amount", "Currency" and "Due date" fit one line each, and their
 * names stay whole ("Currency of milestone 2").
 */
export function ShortLabel({ shown, rest }: { shown: string; rest: string }) {
  return (
    <>
      {shown}
      <span className="visually-hidden"> {rest}</span>
    </>
  );
}

/** A labelled input with the API's or the form's problem for that field right beside it. */
export function Field({
  label,
  problem,
  children,
}: {
  label: ReactNode;
  problem: string | undefined;
  children: (props: {
    id: string;
    'aria-invalid': true | undefined;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}) {
  const id = useId();
  const problemId = `${id}-problem`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        'aria-invalid': problem === undefined ? undefined : true,
        'aria-describedby': problem === undefined ? undefined : problemId,
      })}
      {problem === undefined ? null : (
        <p className="problem" id={problemId} role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
