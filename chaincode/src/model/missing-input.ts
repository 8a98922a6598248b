import type { z } from 'zod';

/** The value at `path` inside `value`, or undefined where the path leads nowhere. */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/**
 * Whether zod's issue is about a value the input left out: zod words it as a wrong type
 * or option ("expected string, received undefined", "expected one of …"), which misleads a
 * caller who sent nothing there. Refusals then say the field "is required".
 *
 * @param input the value that was parsed, as received.
 */
export function isMissingInput(issue: z.core.$ZodIssue, input: unknown): boolean {
  return (
    ['invalid_type', 'invalid_value', 'invalid_union'].includes(issue.code) && valueAt(input, issue.path) === undefined
  );
}

/**
 * Why zod refused a value, as a refusal words it after the field's name: zod's own
 * message, or "is required" for a field the input left out ({@link isMissingInput}).
 *
 * @param issue the first issue zod found, if any ("is invalid" without one).
 * @param input the value that was parsed, as received.
 */
export function issueReason(issue: z.core.$ZodIssue | undefined, input: unknown): string {
  if (issue === undefined) return 'is invalid';
  return isMissingInput(issue, input) ? 'is required' : issue.message;
}
