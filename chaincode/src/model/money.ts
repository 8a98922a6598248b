import { z } from 'zod';

// 18 digits keep every amount below 10^18, far beyond any real milestone, while
// sums and fee products stay exact because arithmetic is done in bigint.
const maxDigits = 18;

/** The largest amount an amount field holds: 18 nines. An amount derived by arithmetic must not exceed it. */
export const maxMinorUnits = 10n ** BigInt(maxDigits) - 1n;

/** A positive whole number of minor units as a decimal string, e.g. "150000" for EUR 1,500.00. */
export const amountSchema = z
  .string()
  .regex(
    new RegExp(`^[1-9][0-9]{0,${maxDigits - 1}}$`),
    `must be a positive whole number of minor units written as a decimal string of at most ${maxDigits} digits`,
  );

/** A whole number of minor units that may be zero, e.g. one side of a dispute split. */
export const shareAmountSchema = z
  .string()
  .regex(
    new RegExp(`^(0|[1-9][0-9]{0,${maxDigits - 1}})$`),
    `must be a whole number of minor units written as a decimal string of at most ${maxDigits} digits`,
  );

/** Basis points: hundredths of a percent, 0 to 10 000. */
export const basisPointsSchema = z.number().int().min(0).max(10_000);

const basisPointsPerUnit = 10_000n;

/**
 * Reads an amount from its wire form. Only called on strings that passed
 * {@link amountSchema} or {@link shareAmountSchema}.
 *
 * @throws Error when the text is not a whole non-negative decimal number.
 */
export function minorUnits(amount: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(amount)) throw new Error(`not an amount of minor units: ${amount}`);
  return BigInt(amount);
}

/**
 * Reads an amount when the text is one, for schema refinements: zod still runs them
 * after a field failed its format check, so they must not trust the field.
 */
export function readMinorUnits(amount: string): bigint | undefined {
  return /^(0|[1-9][0-9]*)$/.test(amount) ? BigInt(amount) : undefined;
}

/**
 * Writes an amount in its wire form.
 *
 * @throws Error when the amount is negative: money never goes below zero on this ledger.
 */
export function formatMinorUnits(amount: bigint): string {
  if (amount < 0n) throw new Error(`negative amount of minor units: ${amount.toString()}`);
  return amount.toString();
}

/**
 * Splits a payment into the platform fee and what the payee receives.
 *
 * Rounding rule: the fee is `floor(amount × feeBps / 10 000)` and the payee receives
 * the remainder, so rounding never takes more than the stated rate and the two parts
 * always add up to the amount exactly.
 *
 * @throws Error when `feeBps` is not a whole number between 0 and 10 000.
 */
export function splitPlatformFee(amount: bigint, feeBps: number): { fee: bigint; net: bigint } {
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new Error(`invalid fee basis points ${feeBps}`);
  const fee = (amount * BigInt(feeBps)) / basisPointsPerUnit;
  return { fee, net: amount - fee };
}
