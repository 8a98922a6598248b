import { isCurrencyCode, minorUnitExponent, type CurrencyCode } from '@gigledger/chaincode/model';
import { Iso20022Error } from './errors.js';

/** ISO 20022 amounts and control sums have at most 18 digits in total (`totalDigits`). */
const maxTotalDigits = 18;

/**
 * The ISO 4217 code itself, once checked to be an active currency.
 *
 * @throws {@link Iso20022Error} `UNKNOWN_CURRENCY` when `currency` is not an active ISO 4217 code.
 */
export function currencyCode(currency: string): CurrencyCode {
  if (!isCurrencyCode(currency)) {
    throw new Iso20022Error('UNKNOWN_CURRENCY', `${JSON.stringify(currency)} is not an active ISO 4217 currency code`);
  }
  return currency;
}

/**
 * Writes `units` (an integer count of 10^-scale) as decimal text with exactly `scale`
 * decimals, e.g. `(12345n, 2)` → `123.45`, `(7n, 0)` → `7`.
 *
 * @throws {@link Iso20022Error} `INVALID_AMOUNT` when `units` is negative or has more than 18 digits.
 */
export function decimalText(units: bigint, scale: number): string {
  if (units < 0n) throw new Iso20022Error('INVALID_AMOUNT', `negative amount ${units}`);
  const digits = units.toString().padStart(scale + 1, '0');
  if (digits.replace(/^0+(?=\d)/, '').length > maxTotalDigits) {
    throw new Iso20022Error('INVALID_AMOUNT', `amount ${units} has more than ${maxTotalDigits} digits`);
  }
  if (scale === 0) return digits;
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * The decimal text of an amount in minor units, with exactly as many decimals as the
 * currency's ISO 4217 exponent: `150000n EUR` → `1500.00`, `5000n JPY` → `5000`,
 * `1234n BHD` → `1.234`.
 *
 * @throws {@link Iso20022Error} `UNKNOWN_CURRENCY` for a code that is not active, `INVALID_AMOUNT`
 * for a negative amount or one of more than 18 digits.
 */
export function formatMinorAmount(amountMinor: bigint, currency: string): string {
  return decimalText(amountMinor, minorUnitExponent(currencyCode(currency)));
}

/**
 * Reads an ISO 20022 decimal amount back into integer minor units of `currency`.
 * Trailing zeros past the exponent are accepted (`1.500` EUR is 150 cents) because
 * they do not change the value; any other digit there is an error, since rounding
 * money silently is never right.
 *
 * @throws {@link Iso20022Error} `UNKNOWN_CURRENCY` for a code that is not active,
 * `INVALID_AMOUNT` for text that is not a non-negative decimal or has more decimals
 * than the currency allows.
 */
export function parseMinorAmount(text: string, currency: string): bigint {
  const code = currencyCode(currency);
  const exponent = minorUnitExponent(code);
  const match = /^\+?(\d*)(?:\.(\d*))?$/.exec(text.trim());
  const whole = match?.[1] ?? '';
  const fraction = match?.[2] ?? '';
  if (match === null || whole.length + fraction.length === 0) {
    throw new Iso20022Error('INVALID_AMOUNT', `${JSON.stringify(text)} is not a decimal amount`);
  }
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw new Iso20022Error(
      'INVALID_AMOUNT',
      `amount ${text} ${code} has more decimals than ${code} allows (${exponent})`,
    );
  }
  return BigInt((whole === '' ? '0' : whole) + significant.padEnd(exponent, '0'));
}

/**
 * The sum of amounts of possibly different currencies as one decimal text, which is
 * what ISO 20022 control sums are: each amount is scaled to the largest exponent in
 * the set so the sum stays exact.
 *
 * @throws {@link Iso20022Error} `UNKNOWN_CURRENCY` for a code that is not active, `INVALID_AMOUNT`
 * when the sum has more than 18 digits.
 */
export function controlSum(amounts: readonly { readonly amountMinor: bigint; readonly currency: string }[]): string {
  const scale = Math.max(0, ...amounts.map(({ currency }) => minorUnitExponent(currencyCode(currency))));
  let total = 0n;
  for (const { amountMinor, currency } of amounts) {
    total += amountMinor * 10n ** BigInt(scale - minorUnitExponent(currencyCode(currency)));
  }
  return decimalText(total, scale);
}
