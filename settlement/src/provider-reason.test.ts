import { providerReason } from './settlement-service.js';

describe("a provider's failure reason as the ledger records it", () => {
  it('writes refused characters as \\uXXXX escapes and keeps the rest', () => {
    expect(providerReason('Konto gelöscht\u0000 \u202Eexe')).toBe('Konto gelöscht\\u0000 \\u202Eexe');
    expect(providerReason('line one\nline two')).toBe('line one\nline two');
  });

  it('cuts at 500 whole characters, never inside a surrogate pair', () => {
    const reason = providerReason(`${'a'.repeat(499)}😀😀`);
    expect(reason).toBe(`${'a'.repeat(499)}😀`);
    expect(/\p{Cs}/u.test(reason ?? '')).toBe(false);
  });

  it('answers nothing for no reason or a blank one, so the default reason is recorded', () => {
    expect(providerReason(undefined)).toBeUndefined();
    expect(providerReason(null)).toBeUndefined();
    expect(providerReason(' \t ')).toBeUndefined();
  });
});
