import { minorUnitDigits } from './currencies.js';

/**
 * An amount in integer minor units (decimal string, as the API sends money) in its
 * currency, e.g. `"125000"` EUR → `€1,250.00`; the minor-unit digits come from the
 * ledger's ISO 4217 table (see `currencies.ts`), and no float touches the amount.
 */
export function formatMoney(minorUnits: string, currency: string): string {
  const digits = minorUnitDigits(currency);
  const negative = minorUnits.startsWith('-');
  const units = (negative ? minorUnits.slice(1) : minorUnits).padStart(digits + 1, '0');
  const whole = BigInt(units.slice(0, units.length - digits));
  const fraction = units.slice(units.length - digits);
  let symbol = currency;
  try {
    const parts = new Intl.NumberFormat('en', { style: 'currency', currency }).formatToParts(0);
    symbol = parts.find((part) => part.type === 'currency')?.value ?? currency;
  } catch {
    // A code Intl does not know is shown as the code itself.
  }
  const wholeText = new Intl.NumberFormat('en').format(whole);
  return `${negative ? '-' : ''}${symbol}${wholeText}${digits > 0 ? `.${fraction}` : ''}`;
}

/** A whole number of any size (decimal string or integer) with its thousands grouped, e.g. `1,000`. */
export function formatCount(count: string | number | bigint): string {
  return new Intl.NumberFormat('en').format(BigInt(count));
}

/** A count and its noun, the noun plural unless the count is one: `1 transaction`, `3 transactions`. */
export function countOf(count: string | number | bigint, noun: string, plural = `${noun}s`): string {
  return `${formatCount(count)} ${BigInt(count) === 1n ? noun : plural}`;
}

/**
 * An ISO 8601 instant as a reader's local date and time with its time zone (`6 Dec 2026,
 * 09:19:05 CET`), so that times read the same to people in different zones.
 */
export function formatInstant(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'long' });
}

/** The UTC calendar day of an ISO 8601 instant, e.g. `6 Dec 2026` (the days settlement counts by). */
export function formatUtcDay(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleDateString('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });
}

/**
 * A due date as the client set it: the end of a UTC day (the console drafts
 * `…T23:59:59.000Z`; `.999` and no fraction alike) or its start (`…T00:00:00Z`, as API
 * clients often write a date) reads as that day, saying which end, whatever the reader's
 * zone; any other instant as {@link formatInstant} reads it.
 */
export function formatDueDate(iso: string): string {
  if (/T23:59:59(\.000|\.999)?Z$/.test(iso)) return `${formatUtcDay(iso)} (end of the day, UTC)`;
  if (/T00:00:00(\.000)?Z$/.test(iso)) return `${formatUtcDay(iso)} (start of the day, UTC)`;
  return formatInstant(iso);
}
