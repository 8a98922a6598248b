/** Characters XML 1.0 can carry at all; anything else cannot be escaped, only refused. */
const notXmlCharacter = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Why `value` cannot be an ISO 20022 `MaxNText` of `maxLength` characters, or
 * `undefined` when it can. XSD lengths count characters (code points), not UTF-16 units.
 *
 * @throws never.
 */
export function textProblem(value: string, maxLength: number): string | undefined {
  const length = Array.from(value).length;
  if (value.trim().length === 0) return 'must not be empty';
  if (length > maxLength) return `must be at most ${maxLength} characters, not ${length}`;
  if (notXmlCharacter.test(value)) return 'contains a character that XML cannot carry';
  return undefined;
}
