import { minorUnitDigits } from '../currencies.js';
import { formatMoney } from '../format.js';

/** The most minor units a ledger amount holds: 18 nines (the chaincode's `maxMinorUnits`). */
const largestAmount = '9'.repeat(18);

/** Spaces people group digits with: space, no-break space, narrow no-break space, thin space. */
const groupingSpaces = /[ \u00a0\u202f\u2009]/g;

/**
 * Turns an amount typed in major units into integer minor units as the API's decimal
 * string ("1250,50" or "1,250.50" EUR → "125050"), digit by digit: no float touches it.
 * Both decimal marks are read, since half the world writes a decimal comma: the last `.`
 * or `,` is the decimal mark when it is followed by at most the currency's decimals, and
 * any other mark must group thousands (`1.250.000,50`, `1,250,000.50`, `1 250,50`). One
 * mark followed by exactly three digits after one to three digits (`1,250`, `1.250`) is
 * refused: it is 1250 to some readers and 1.25 to others, and a wrong guess moves a
 * thousand times the money.
 *
 * An amount is more than 0 (a share may be 0) and at most {@link largestAmount} minor
 * units, as the ledger requires; the sentence for one outside says so in this currency's money, not in minor units.
 *
 * @returns the minor units, or a sentence saying why the text is no amount in this currency.
 */
export function toMinorUnits(
  text: string,
  currency: string,
  { zero = 'refused' }: { /** `allowed` for a share, which may be nothing. */ zero?: 'refused' | 'allowed' } = {},
): { minorUnits: string } | { problem: string } {
  const digits = minorUnitDigits(currency);
  const example = digits === 0 ? '1250' : `1250.${'0'.repeat(digits)} or 1250,${'0'.repeat(digits)}`;
  const trimmed = text.trim();
  // A space groups thousands as the other mark does: "1 250,50", never "12 50".
  const spaced = trimmed.split(groupingSpaces);
  if (
    spaced.length > 1 &&
    (!/^\d{1,3}$/.test(spaced[0] ?? '') || spaced.slice(1).some((group) => !/^\d{3}(?:[.,]\d*)?$/.test(group)))
  ) {
    return { problem: `Group thousands by three digits with one mark, or not at all, e.g. ${example}.` };
  }
  const compact = trimmed.replace(groupingSpaces, '');
  if (!/^\d(?:[\d.,]*\d)?$/.test(compact)) {
    return { problem: `Write the amount as digits with an optional decimal mark, e.g. ${example}.` };
  }
  const marks = compact.replace(/\d/g, '');
  if (marks.length === 1 && /^\d{1,3}[.,]\d{3}$/.test(compact)) {
    return {
      problem: `“${compact}” could mean ${compact.replace(/[.,]/, '')} or ${compact.replace(',', '.')}: write it without a thousands separator, e.g. ${example}.`,
    };
  }
  // One mark, or a different last mark, is the decimal mark; marks before it group thousands.
  const decimalMark =
    marks.length === 1 || (marks.length > 1 && marks.at(-1) !== marks.at(-2)) ? marks.at(-1) : undefined;
  const decimalAt = decimalMark === undefined ? compact.length : compact.lastIndexOf(decimalMark);
  const wholeText = compact.slice(0, decimalAt);
  const fraction = compact.slice(decimalAt + 1);
  const groupMarks = new Set(wholeText.replace(/\d/g, ''));
  const groups = groupMarks.size === 0 ? [wholeText] : wholeText.split(/[.,]/);
  const groupedWell =
    groupMarks.size <= 1 &&
    (groups.length === 1 ||
      (/^\d{1,3}$/.test(groups[0] ?? '') && groups.slice(1).every((group) => /^\d{3}$/.test(group))));
  if (!groupedWell) {
    return { problem: `Group thousands by three digits with one mark, or not at all, e.g. ${example}.` };
  }
  if (fraction.length > digits) {
    return {
      problem:
        digits === 0
          ? `${currency} has no minor unit: write a whole amount.`
          : `${currency} has ${String(digits)} decimal places at most.`,
    };
  }
  const units = `${groups.join('')}${fraction.padEnd(digits, '0')}`.replace(/^0+(?=\d)/, '');
  if (units === '0' && zero === 'refused') return { problem: 'An amount must be more than 0.' };
  if (units.length > largestAmount.length) {
    return { problem: `An amount must be at most ${formatMoney(largestAmount, currency)}.` };
  }
  return { minorUnits: units };
}
