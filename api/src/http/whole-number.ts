import { z } from 'zod';

const decimalDigits = /^\d{1,16}$/;

/**
 * A whole number sent as a JSON number (a body, GraphQL arguments) or as decimal digits
 * (a path or query string), checked by `range` (a `z.number()` with its bounds and
 * messages). Only digits: `z.coerce.number()` would take `0x10`, `1e1`, `+5`, ` 5` and
 * `10.`, other spellings of a number no client means, and a repeated query parameter
 * (an array) is refused with the same sentence rather than a NaN message.
 */
export function wholeNumber(range: z.ZodNumber = z.number()) {
  return z
    .union([z.number(), z.string().regex(decimalDigits)], {
      error: 'must be a whole number written in decimal digits, given once',
    })
    .transform(Number)
    .pipe(range.int('must be a whole number'));
}
