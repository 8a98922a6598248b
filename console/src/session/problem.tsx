import type { CombinedError } from 'urql';
import { ApiProblem } from './api-client.js';

/** A failure as the API (or the browser) gave it: its sentence, the API's code and the field it names. */
export interface ProblemParts {
  readonly message: string;
  readonly code?: string;
  readonly field?: string;
}

/** The parts of a REST refusal, a GraphQL error, a failed connection or any other error. */
export function problemParts(error: unknown): ProblemParts {
  if (error instanceof ApiProblem) {
    return { message: error.message, code: error.code, ...(error.field === undefined ? {} : { field: error.field }) };
  }
  const combined = error as Partial<CombinedError> | undefined;
  const first = combined?.graphQLErrors?.[0];
  if (first !== undefined) {
    const { code, field } = first.extensions;
    return {
      message: first.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof field === 'string' ? { field } : {}),
    };
  }
  if (combined?.networkError !== undefined) {
    return { message: `the API could not be reached: ${combined.networkError.message}` };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * The API's sentence for a field, without the field's path it starts with
 * (`input.title: must not be blank` → `must not be blank`), for showing beside that field.
 */
export function besideItsField(message: string, field: string): string {
  return message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
}

/** A field's path in front of a sentence (`body.reason: …`, `input.milestones.0.amount: …`). */
const fieldPathFirst = /^[A-Za-z_$][\w$]*(?:\.[\w$]+)*: /;

/**
 * The API's sentence as a sentence on a page: its first letter capitalised (the API words
 * its messages to follow a field's path), unless it starts with that path.
 */
export function asSentence(message: string): string {
  return fieldPathFirst.test(message) ? message : message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * A refusal or failure, announced to screen readers as it appears: the API's sentence
 * (which names the field it is about), then, set apart, its error code, which support and
 * the API's documentation go by.
 */
export function Problem({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const { message, code } = problemParts(error);
  return (
    <p role="alert" className="problem">
      {asSentence(message)}
      {code === undefined ? null : <span className="problem-code"> (error code {code})</span>}
    </p>
  );
}
