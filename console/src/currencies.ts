import { rest } from './session/api-client.js';

/**
 * Minor-unit exponents of the ISO 4217 currencies as the ledger keeps them, loaded once
 * from the API (`GET /v1/system/currencies`). Every amount the API sends or takes is in
 * minor units of this table; the browser's Intl data disagrees with it for some
 * currencies (HUF and IQD among them), so converting or showing amounts with Intl's
 * digits would be off by a factor of 100 or 1,000 there.
 */
let ledgerExponents: ReadonlyMap<string, number> | undefined;

/** Loads the ledger's currency table; the console starts after it, or without it when the API is down. */
export async function loadCurrencies(): Promise<void> {
  try {
    const table = await rest<{ code: string; minorUnitExponent: number }[]>('GET', '/v1/system/currencies', undefined);
    ledgerExponents = new Map(table.map((entry) => [entry.code, entry.minorUnitExponent]));
  } catch {
    ledgerExponents = undefined;
  }
}

/** Whether the ledger's table was loaded; amounts are drafted only then. */
export function currenciesLoaded(): boolean {
  return ledgerExponents !== undefined;
}

/**
 * Decimal places of one major unit: the ledger's, or, before the table is loaded (or
 * for a code it does not list), what the browser's Intl data says, for display only.
 */
export function minorUnitDigits(currency: string): number {
  const known = ledgerExponents?.get(currency);
  if (known !== undefined) return known;
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** The codes an agreement may be priced in: the ledger's table, or Intl's list until it is loaded. */
export function currencyOptions(): readonly string[] {
  return ledgerExponents === undefined ? Intl.supportedValuesOf('currency') : [...ledgerExponents.keys()].sort();
}
