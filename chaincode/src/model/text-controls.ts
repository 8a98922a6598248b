import { z } from 'zod';
import { maxCanonicalDepth } from './canonical-json';

/*
 * Characters refused in text a caller sends
 * ==========================================
 *
 * Every string of a request (values and keys, at any depth) may hold any Unicode text
 * except characters that change how other text is shown or processed rather than being
 * text themselves:
 *
 * - C0 control characters (U+0000–U+001F) other than tab, line feed and carriage return,
 *   DEL (U+007F) and the C1 controls (U+0080–U+009F): a NUL ends the string for C
 *   programs reading an export, others ring, erase or drive terminals that print a
 *   record; none belongs in a name, a reason or a contract's text;
 * - the bidirectional embedding, override and isolate controls of Unicode's
 *   Bidirectional Algorithm (UAX #9: U+202A–U+202E, U+2066–U+2069), which make text
 *   display in an order other than the one stored and signed, so that a reader of a
 *   record approves something other than what it says (CVE-2021-42574, "Trojan
 *   Source"). The implicit marks (U+200E, U+200F, U+061C) stay allowed: right-to-left
 *   names need them and they reorder nothing around them.
 *
 * Stored records are read as they are; the rule applies to what callers send.
 */

// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
const refusedCharacter = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/u;
const everyRefusedCharacter = new RegExp(refusedCharacter.source, 'gu');

/**
 * The refused characters as one JSON Schema (ECMA-262) character class, for documents that
 * describe the rule (the API's OpenAPI document adds `^[^…]*$` to the text it takes).
 */
export const refusedCharacterClass = refusedCharacter.source;

/**
 * What `String.prototype.trim` removes (ECMA-262 WhiteSpace and LineTerminator), spelled
 * out rather than `\s`, whose meaning differs between regular expression engines that read
 * a JSON Schema (Python's leaves out U+FEFF).
 */
const blankCharacters = String.raw`\t\n\u000B\f\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF`;

/** JSON Schema pattern of text with at least one character `trim` keeps. */
export const nonBlankPattern = `[^${blankCharacters}]`;

/**
 * Text of at most `max` characters that is not empty or white space alone. The rule is
 * also stated as a JSON Schema `pattern` ({@link nonBlankPattern}), so that a document
 * generated from the schema says what the check refuses.
 */
export function nonBlankText(max: number) {
  return z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((text) => text.trim().length > 0, 'must not be blank')
    .meta({ pattern: nonBlankPattern });
}

/**
 * Text stored without its surrounding white space: at least one character must be left,
 * and at most `max`. Stated as a JSON Schema `pattern` too ({@link nonBlankPattern}).
 */
export function trimmedText(max: number) {
  return z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .meta({ pattern: nonBlankPattern });
}

/** The character's code point as four or more uppercase hex digits (`202E`). */
const hexOf = (character: string): string =>
  (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');

/** Where a request holds a refused character, and which. */
export interface RefusedTextPart {
  /** Path from the root: object keys and array indexes; empty for the root itself. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

// In a `u` regular expression a valid surrogate pair is one code point, so only lone
// surrogates match; U+2028 and U+2029 are the line and paragraph separators.
const shownEscaped = /[\p{Cs}\u2028\u2029]/gu;

/**
 * The text with each refused character, each lone surrogate and the line and paragraph
 * separators (U+2028, U+2029) written as a `\uXXXX` escape, for showing a caller's text (a
 * refused key in a field path) or a provider's (a failure reason recorded on the ledger)
 * without the characters themselves: what quotes it stays well-formed Unicode (I-JSON,
 * RFC 7493), and on one line where the separators would end it (log viewers, JavaScript
 * before ES2019, which reads them as line terminators even inside a string).
 */
export function escapeControlText(text: string): string {
  return text
    .replace(everyRefusedCharacter, (character) => `\\u${hexOf(character)}`)
    .replace(shownEscaped, (character) => `\\u${hexOf(character)}`);
}

/** Why a string is refused, or undefined when it holds no refused character. */
export function refusedTextReason(text: string): string | undefined {
  const found = refusedCharacter.exec(text);
  if (found === null) return undefined;
  const character = found[0];
  const code = character.codePointAt(0) ?? 0;
  return code >= 0x202a
    ? `holds U+${hexOf(character)}, a bidirectional formatting character, which could make the text display otherwise than it is stored`
    : `holds U+${hexOf(character)}, a control character (only tab, line feed and carriage return are allowed)`;
}

/**
 * The first string (value or key, depth first in the caller's order) of a JSON value
 * that holds a refused character, or undefined when none does. Nesting beyond
 * {@link maxCanonicalDepth} is not walked: it is refused on its own (the chaincode's
 * canonical check, the API's JSON depth limit of 32).
 */
export function findRefusedText(value: unknown): RefusedTextPart | undefined {
  return walk(value, [], 0);
}

function walk(value: unknown, path: (string | number)[], depth: number): RefusedTextPart | undefined {
  if (typeof value === 'string') {
    const message = refusedTextReason(value);
    return message === undefined ? undefined : { path: [...path], message };
  }
  if (typeof value !== 'object' || value === null || depth >= maxCanonicalDepth) return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of (value as unknown[]).entries()) {
      path.push(index);
      const found = walk(item, path, depth + 1);
      path.pop();
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    path.push(key);
    const keyReason = refusedTextReason(key);
    // The key is shown escaped, so that the refusal naming it holds no such character itself.
    const found =
      keyReason === undefined
        ? walk(item, path, depth + 1)
        : { path: [...path.slice(0, -1), escapeControlText(key)], message: `the key ${keyReason}` };
    path.pop();
    if (found !== undefined) return found;
  }
  return undefined;
}
