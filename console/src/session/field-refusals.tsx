import { createContext, useContext, type ReactNode } from 'react';
import { besideItsField, Problem, problemParts } from './problem.js';

interface Refusal {
  readonly error: unknown;
  /** The API's paths of the fields the form shows (`input.uri`, `body.reason`, `query.to`). */
  readonly fields: readonly string[];
}

const RefusalContext = createContext<Refusal | undefined>(undefined);

/** The field a refusal names, when the form shows that field. */
function placedField({ error, fields }: Refusal): string | undefined {
  if (error === undefined || error === null) return undefined;
  const { field } = problemParts(error);
  return field !== undefined && fields.includes(field) ? field : undefined;
}

/**
 * Gives a form's inputs the refusal of its last request: an input marked with the field
 * the API named (its `field`, e.g. `input.uri`) shows the API's sentence beside itself,
 * and {@link FormRefusal} shows every other refusal where the form puts it.
 */
export function FieldRefusals({
  error,
  fields,
  children,
}: {
  error: unknown;
  fields: readonly string[];
  children: ReactNode;
}) {
  return <RefusalContext.Provider value={{ error, fields }}>{children}</RefusalContext.Provider>;
}

/**
 * The API's sentence about `field`, without the field's path, when the last refusal of
 * the form around names it; undefined otherwise (or outside {@link FieldRefusals}).
 */
export function useFieldRefusal(field: string | undefined): string | undefined {
  const refusal = useContext(RefusalContext);
  if (refusal === undefined || field === undefined || placedField(refusal) !== field) return undefined;
  return besideItsField(problemParts(refusal.error).message, field);
}

/** The last refusal of the form around, unless it is shown beside the field it names. */
export function FormRefusal() {
  const refusal = useContext(RefusalContext);
  if (refusal === undefined || placedField(refusal) !== undefined) return null;
  return <Problem error={refusal.error} />;
}
