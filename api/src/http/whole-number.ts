import toRegexRange from 'to-regex-range';
import { z } from 'zod';

const decimalDigits = /^\d{1,16}$/;

/**
 * The JSON Schema pattern of the digit strings `wholeNumber` takes for these bounds: 1 to
 * 16 digits, leading zeros allowed, whose value lies within them. `high` is at most
 * `Number.MAX_SAFE_INTEGER` (`int()` refuses what lies past it), where `to-regex-range`,
 * which computes in doubles, is still exact.
 */
function digitsPattern(low: number, high: number): string {
  return `^(?=\\d{1,16}$)0*${toRegexRange(low, high)}$`;
}

/**
 * A whole number sent as a JSON number (a body, GraphQL arguments) or as decimal digits
 * (a path or query string), checked by `range` (a `z.number()` with its bounds and
 * messages). Only digits: `z.coerce.number()` would take `0x10`, `1e1`, `+5`, ` 5` and
 * `10.`, other spellings of a number no client means, and a repeated query parameter
 * (an array) is refused with the same sentence rather than a NaN message.
 *
 * The JSON Schema generated from it states the bounds too (an integer within them, or
 * digits whose value is), so that a client built from the OpenAPI document sends what
 * the check takes.
 */
export function wholeNumber(range: z.ZodNumber = z.number()) {
  const minimum = Math.max(Number.MIN_SAFE_INTEGER, Math.ceil(range.minValue ?? Number.MIN_SAFE_INTEGER));
  const maximum = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(range.maxValue ?? Number.MAX_SAFE_INTEGER));
  const notDigits = 'must be a whole number written in decimal digits, given once';
  return z
    .union([z.number(), z.string().regex(decimalDigits, notDigits)], { error: notDigits })
    .transform(Number)
    .pipe(range.int('must be a whole number'))
    .meta({
      anyOf: [
        { type: 'integer', minimum, maximum },
        { type: 'string', pattern: digitsPattern(Math.max(0, minimum), maximum) },
      ],
    });
}
