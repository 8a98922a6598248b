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

/** What a type zod expected is called in a refusal: `must be <this>`. */
const typeWords: Readonly<Record<string, string>> = {
  int: 'a whole number',
  number: 'a number',
  bigint: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** What a sized value holds, by zod's `origin`: `must have at least 2 <this>`. */
const sizeUnits: Readonly<Record<string, string>> = {
  string: 'characters',
  array: 'items',
  set: 'items',
  map: 'entries',
  file: 'bytes',
};

const quoted = (value: unknown): string => (typeof value === 'bigint' ? value.toString() : JSON.stringify(value));

/** A bound in words: `at least 3`, `more than 0`, `exactly 2`, for `at least`/`more than` or `at most`/`less than`. */
function bound(issue: { exact?: boolean; inclusive?: boolean }, value: unknown, inclusive: string, strict: string) {
  return `${issue.exact === true ? 'exactly' : issue.inclusive === false ? strict : inclusive} ${String(value)}`;
}

/**
 * Zod's own wording of an issue for which a schema gave no message of its own ("Too small:
 * expected number to be >=0", "Invalid option: expected one of …") in the words the
 * refusals use everywhere else ("must be at least 0", "must be one of …"); undefined for
 * issues without such words.
 */
function plainReason(issue: z.core.$ZodIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeWords[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${quoted(issue.values[0])}`
        : `must be one of ${issue.values.map(quoted).join(', ')}`;
    case 'too_small': {
      const unit = sizeUnits[issue.origin];
      if (unit === undefined) return `must be ${bound(issue, issue.minimum, 'at least', 'more than')}`;
      if (Number(issue.minimum) === 1 && issue.exact !== true) return 'must not be empty';
      return `must have ${bound(issue, issue.minimum, 'at least', 'more than')} ${unit}`;
    }
    case 'too_big': {
      const unit = sizeUnits[issue.origin];
      if (unit === undefined) return `must be ${bound(issue, issue.maximum, 'at most', 'less than')}`;
      return `must have ${bound(issue, issue.maximum, 'at most', 'fewer than')} ${unit}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
}

/**
 * Zod's default messages begin with a capitalised verdict ("Invalid input: …", "Too big:
 * …"); the schemas' own messages begin in lower case ("must be …").
 */
const zodDefaultMessage = /^(Invalid (input|option|number)|Too (small|big)):/;

/**
 * Why zod refused a value, as a refusal words it after the field's name: the schema's own
 * message, zod's default put in plain words ({@link plainReason}), or "is required" for a
 * field the input left out ({@link isMissingInput}).
 *
 * @param issue the first issue zod found, if any ("is invalid" without one).
 * @param input the value that was parsed, as received.
 */
export function issueReason(issue: z.core.$ZodIssue | undefined, input: unknown): string {
  if (issue === undefined) return 'is invalid';
  if (isMissingInput(issue, input)) return 'is required';
  return zodDefaultMessage.test(issue.message) ? (plainReason(issue) ?? issue.message) : issue.message;
}
