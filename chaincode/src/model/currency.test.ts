import { currencyCodes, currencySchema, minorUnitExponent } from './currency';

describe('currency', () => {
  it('knows the minor-unit exponent of active currencies', () => {
    expect(minorUnitExponent('EUR')).toBe(2);
    expect(minorUnitExponent('JPY')).toBe(0);
    expect(minorUnitExponent('KWD')).toBe(3);
    expect(currencyCodes.every((code) => /^[A-Z]{3}$/.test(code))).toBe(true);
    expect(new Set(currencyCodes).size).toBe(currencyCodes.length);
  });

  it('accepts active codes and refuses malformed, unknown, withdrawn and non-currency codes', () => {
    expect(currencySchema.parse('USD')).toBe('USD');
    expect(currencySchema.safeParse('usd').error?.issues[0]?.message).toBe(
      'must be an ISO 4217 code of 3 uppercase letters',
    );
    for (const code of ['ABC', 'HRK', 'XAU', 'XXX', 'XTS']) {
      expect(currencySchema.safeParse(code).error?.issues[0]?.message).toBe('must be an active ISO 4217 currency code');
    }
  });
});
