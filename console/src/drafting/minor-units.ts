/**
 * Decimal places of one major unit of an ISO 4217 currency as the browser's Intl data
 * knows it (2 for EUR, 0 for JPY, 3 for KWD), the same source the console formats money
 * with. The API checks the code against the ledger's own ISO 4217 table.
 */
export function minorUnitDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * Turns an amount typed in major units ("1250.5" EUR) into integer minor units as the
 * API's decimal string ("125050"), digit by digit: no float touches it.
 *
 * @returns the minor units, or a sentence saying why the text is no amount in this currency.
 */
export function toMinorUnits(text: string, currency: string): { minorUnits: string } | { problem: string } {
  const digits = minorUnitDigits(currency);
  const match = /^(\d+)(?:\.(\d*))?$/.exec(text.trim().replaceAll(',', ''));
  if (match === null) return { problem: 'Write the amount as digits with an optional decimal point, e.g. 1250.00.' };
  const whole = match[1] ?? '';
  const fraction = match[2] ?? '';
  if (fraction.length > digits) {
    return {
      problem:
        digits === 0
          ? `${currency} has no minor unit: write a whole amount.`
          : `${currency} has ${String(digits)} decimal places at most.`,
    };
  }
  const units = `${whole}${fraction.padEnd(digits, '0')}`.replace(/^0+(?=\d)/, '');
  return { minorUnits: units };
}

/** Every ISO 4217 code the browser knows, for the currency select; the API refuses inactive ones. */
export function currencyOptions(): readonly string[] {
  return Intl.supportedValuesOf('currency');
}
