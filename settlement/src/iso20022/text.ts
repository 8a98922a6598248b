import anyAscii from 'any-ascii';
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

/** What the EPC's SEPA implementation guidelines let a name carry: the basic Latin set. */
const notSepaCharacter = /[^A-Za-z0-9/\-?:().,'+ ]/g;

/**
 * `value` in the character set SEPA credit transfers carry (EPC guidelines, "Character
 * set": a–z, A–Z, 0–9, `/ - ? : ( ) . , ' +` and space): transliterated to ASCII (`Ø`
 * becomes `O`, `北京` `BeiJing`), `&` written as `+`, any other character a space,
 * spaces run together, at most `maxLength` characters, and `-` when nothing is left.
 * A bank may refuse a whole file for one character outside the set.
 *
 * @throws never.
 */
export function sepaText(value: string, maxLength: number): string {
  const text = anyAscii(value)
    .replaceAll('&', '+')
    .replace(notSepaCharacter, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, maxLength)
    .trim();
  return text === '' ? '-' : text;
}
