import { z } from 'zod';

/*
 * Canonical JSON
 * ==============
 *
 * Everything the ledger hashes, signs or stores is encoded one way: object keys sorted
 * by UTF-16 code units at every depth, no whitespace, strings and numbers as ECMAScript's
 * `JSON.stringify` writes them, members whose value is `undefined` left out. For the
 * values it accepts this is byte for byte RFC 8785 (JSON Canonicalization Scheme), so a
 * verifier in another language gets the same bytes.
 *
 * Some values have no such encoding, or one that another path would not reproduce, and
 * are refused instead of being changed silently:
 *
 * - an own key `__proto__`: `JSON.parse` keeps it, but assigning it to an object sets
 *   the prototype and zod strips it from records, so a document holding one would hash
 *   differently depending on the path it took;
 * - strings (values or keys) that are not well-formed UTF-16 (a lone surrogate): UTF-8
 *   encoders replace it with U+FFFD, so two different strings would hash the same, and
 *   RFC 8785 forbids it;
 * - numbers that are not finite, which JSON cannot express (`JSON.stringify` writes null);
 * - `undefined`, functions, symbols or bigints inside arrays, and objects that are not
 *   plain (a `Date`, a `Map`), which have no JSON form of their own;
 * - nesting deeper than {@link maxCanonicalDepth}, so that walking a caller's value can
 *   never exhaust the stack.
 */

/** Deepest nesting of arrays and objects a canonical value may have. */
export const maxCanonicalDepth = 64;

/** Where a value cannot be encoded canonically, and why. */
export interface NonCanonicalPart {
  /** Path from the root: object keys and array indexes; empty for the root itself. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Thrown by {@link canonicalJson} for a value that has no canonical encoding. */
export class NonCanonicalValueError extends Error {
  readonly part: NonCanonicalPart;

  constructor(part: NonCanonicalPart) {
    super(`${describePath(part.path)}: ${part.message}`);
    this.name = 'NonCanonicalValueError';
    this.part = part;
  }
}

/** The dotted form of a path (`terms.personalData.__proto__`), or `value` for the root. */
export function describePath(path: readonly (string | number)[]): string {
  // A key that is not well-formed is shown escaped, so the refusal itself stays well-formed.
  const shown = path.map((part) =>
    typeof part === 'string' && !isWellFormedText(part) ? JSON.stringify(part) : String(part),
  );
  return path.length === 0 ? 'value' : shown.join('.');
}

// In a `u` regular expression a valid surrogate pair is one code point, so only lone
// surrogates match the surrogate category.
const loneSurrogate = /\p{Cs}/u;

/** Whether a string is well-formed UTF-16, i.e. has no lone surrogate. */
export function isWellFormedText(text: string): boolean {
  return !loneSurrogate.test(text);
}

const notWellFormed = 'is not well-formed Unicode (it holds a lone surrogate)';

function isPlainObject(value: object): value is Record<string, unknown> {
  // Compared by shape, not identity with this realm's Object.prototype: values built in
  // another realm (a vm context, structuredClone in a test runner) are plain too.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === null) return true;
  return Object.getPrototypeOf(prototype) === null && Object.prototype.toString.call(value) === '[object Object]';
}

function encode(value: unknown, path: (string | number)[], depth: number): string {
  const fail = (message: string): never => {
    throw new NonCanonicalValueError({ path: [...path], message });
  };
  switch (typeof value) {
    case 'string':
      if (!isWellFormedText(value)) fail(notWellFormed);
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) fail('must be a finite number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return fail(`a ${typeof value} has no JSON form`);
  }
  if (value === null) return 'null';
  if (depth >= maxCanonicalDepth) fail(`nests deeper than ${maxCanonicalDepth} levels`);
  if (Array.isArray(value)) {
    const items = (value as unknown[]).map((item, index) => {
      path.push(index);
      const text = encode(item, path, depth + 1);
      path.pop();
      return text;
    });
    return `[${items.join(',')}]`;
  }
  if (!isPlainObject(value)) fail('is not a plain JSON object');
  const source = value as Record<string, unknown>;
  const members: string[] = [];
  // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  for (const key of Object.keys(source).sort()) {
    path.push(key);
    if (key === '__proto__') fail('the key __proto__ cannot be encoded canonically');
    if (!isWellFormedText(key)) fail(`the key ${notWellFormed}`);
    const entry = source[key];
    if (entry !== undefined) members.push(`${JSON.stringify(key)}:${encode(entry, path, depth + 1)}`);
    path.pop();
  }
  return `{${members.join(',')}}`;
}

/**
 * The canonical JSON of a value (see the rules at the top of this file), so that every
 * peer writes the same bytes for the same value and endorsements agree.
 *
 * @throws NonCanonicalValueError naming the first part (in key order) that has no
 *   canonical encoding; nothing is dropped or replaced silently.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, [], 0);
}

/** The first part of a value with no canonical encoding, or undefined when it has one. */
export function findNonCanonical(value: unknown): NonCanonicalPart | undefined {
  try {
    encode(value, [], 0);
    return undefined;
  } catch (error) {
    if (error instanceof NonCanonicalValueError) return error.part;
    throw error;
  }
}

/**
 * Adds an issue at the offending path when a value has no canonical encoding. For
 * `superRefine` on schemas whose output is hashed or signed.
 */
export function refuseNonCanonical(value: unknown, ctx: z.RefinementCtx): void {
  const part = findNonCanonical(value);
  if (part !== undefined) ctx.addIssue({ code: 'custom', message: part.message, path: [...part.path] });
}

/**
 * Wraps a schema whose parsed value is hashed or signed so that the raw input is first
 * checked for parts with no canonical encoding, reported at their path, before
 * anything is dropped: zod strips a `__proto__` key from records silently, so checking
 * the parsed value alone would miss it. When the check fails the schema does not run,
 * so that refusal is the first issue. JSON Schema (input and output) is the wrapped
 * schema's.
 */
export function canonicalInput<Schema extends z.ZodType>(schema: Schema): z.ZodPreprocess<Schema> {
  return z.preprocess((value, ctx) => {
    // Nothing given has no parts to check: the schema says whether it is required.
    const part = value === undefined ? undefined : findNonCanonical(value);
    if (part !== undefined)
      ctx.issues.push({ code: 'custom', message: part.message, path: [...part.path], input: value });
    return value;
  }, schema);
}

/** A string that must be well-formed Unicode, for fields that are hashed or committed to. */
export const wellFormedString = (): z.ZodString => z.string().refine(isWellFormedText, notWellFormed);
