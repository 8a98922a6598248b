import { controlSum, formatMinorAmount, parseMinorAmount } from './amount.js';

describe('ISO 20022 amounts', () => {
  it('writes minor units with the ISO 4217 exponent of the currency', () => {
    expect(formatMinorAmount(5000n, 'JPY')).toBe('5000');
    expect(formatMinorAmount(150000n, 'EUR')).toBe('1500.00');
    expect(formatMinorAmount(7n, 'EUR')).toBe('0.07');
    expect(formatMinorAmount(1234n, 'BHD')).toBe('1.234');
    expect(formatMinorAmount(5n, 'BHD')).toBe('0.005');
    expect(formatMinorAmount(999999999999999999n, 'EUR')).toBe('9999999999999999.99');
  });

  it('reads decimal text back to exact minor units', () => {
    expect(parseMinorAmount('5000', 'JPY')).toBe(5000n);
    expect(parseMinorAmount('1500.00', 'EUR')).toBe(150000n);
    expect(parseMinorAmount('1500.5', 'EUR')).toBe(150050n);
    expect(parseMinorAmount('1500', 'EUR')).toBe(150000n);
    expect(parseMinorAmount('1.234', 'BHD')).toBe(1234n);
    expect(parseMinorAmount('+0012.0', 'JPY')).toBe(12n);
  });

  it('refuses more decimals than the currency has, never rounding', () => {
    expect(() => parseMinorAmount('10.5', 'JPY')).toThrow(
      'INVALID_AMOUNT: amount 10.5 JPY has more decimals than JPY allows (0)',
    );
    expect(() => parseMinorAmount('1.001', 'EUR')).toThrow('more decimals than EUR allows (2)');
    expect(() => parseMinorAmount('1.2345', 'BHD')).toThrow('more decimals than BHD allows (3)');
    expect(parseMinorAmount('1.500', 'EUR')).toBe(150n);
  });

  it('refuses text that is not a decimal, and unknown currencies', () => {
    for (const bad of ['', '.', '-1.00', '1e3', '1,00', ' ']) {
      expect(() => parseMinorAmount(bad, 'EUR')).toThrow('INVALID_AMOUNT');
    }
    expect(() => formatMinorAmount(1n, 'XXX')).toThrow(
      'UNKNOWN_CURRENCY: "XXX" is not an active ISO 4217 currency code',
    );
    expect(() => formatMinorAmount(-1n, 'EUR')).toThrow('negative amount');
    expect(() => formatMinorAmount(10n ** 18n, 'EUR')).toThrow('more than 18 digits');
  });

  it('adds amounts of different exponents exactly for control sums', () => {
    expect(
      controlSum([
        { amountMinor: 5000n, currency: 'JPY' },
        { amountMinor: 150001n, currency: 'EUR' },
        { amountMinor: 1234n, currency: 'BHD' },
      ]),
    ).toBe('6501.244');
    expect(controlSum([{ amountMinor: 1n, currency: 'JPY' }])).toBe('1');
  });
});
