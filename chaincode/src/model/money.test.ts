import {
  amountSchema,
  formatMinorUnits,
  minorUnits,
  readMinorUnits,
  shareAmountSchema,
  splitPlatformFee,
} from './money';

describe('money', () => {
  it('accepts positive whole minor units as decimal strings only', () => {
    for (const ok of ['1', '150000', '999999999999999999']) expect(amountSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['0', '-1', '01', '1.5', '1e3', ' 1', '1000000000000000000', 150000]) {
      expect(amountSchema.safeParse(bad).success).toBe(false);
    }
    expect(shareAmountSchema.safeParse('0').success).toBe(true);
    expect(shareAmountSchema.safeParse('00').success).toBe(false);
  });

  it('reads and writes amounts beyond the safe integer range exactly', () => {
    const big = '900719925474099312';
    expect(minorUnits(big) + 1n).toBe(900719925474099313n);
    expect(formatMinorUnits(minorUnits(big))).toBe(big);
    expect(readMinorUnits('-1')).toBeUndefined();
    expect(() => minorUnits('1.5')).toThrow('not an amount of minor units: 1.5');
    expect(() => formatMinorUnits(-1n)).toThrow('negative amount');
  });

  it('floors the platform fee and pays the remainder, so the parts always add up', () => {
    expect(splitPlatformFee(150001n, 250)).toEqual({ fee: 3750n, net: 146251n });
    expect(splitPlatformFee(39n, 250)).toEqual({ fee: 0n, net: 39n });
    expect(splitPlatformFee(40n, 250)).toEqual({ fee: 1n, net: 39n });
    expect(splitPlatformFee(100n, 0)).toEqual({ fee: 0n, net: 100n });
    expect(splitPlatformFee(100n, 10_000)).toEqual({ fee: 100n, net: 0n });
    for (const amount of [1n, 7n, 99_999n, 123_456_789_012_345_678n]) {
      const { fee, net } = splitPlatformFee(amount, 333);
      expect(fee + net).toBe(amount);
      expect(fee * 10_000n <= amount * 333n).toBe(true);
    }
  });

  it('refuses fee rates outside 0 to 10 000 basis points', () => {
    expect(() => splitPlatformFee(1n, 10_001)).toThrow('invalid fee basis points 10001');
    expect(() => splitPlatformFee(1n, 2.5)).toThrow('invalid fee basis points 2.5');
  });
});
