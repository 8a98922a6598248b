import { validatePayoutAccount } from './accounts.js';
import { accounts } from './test-support/xsd.js';

const holderName = 'Ada Lovelace';

describe('validatePayoutAccount', () => {
  it('accepts a valid IBAN and BIC', () => {
    expect(validatePayoutAccount({ kind: 'iban', holderName, ...accounts.germany })).toEqual([]);
    expect(validatePayoutAccount({ kind: 'iban', holderName, ...accounts.netherlands })).toEqual([]);
  });

  it('names the field and the reason of each problem', () => {
    expect(
      validatePayoutAccount({ kind: 'iban', holderName, iban: 'DE88370400440532013000', bic: 'COBADEFFXXX' }),
    ).toEqual([{ field: 'iban', message: 'check digits do not match' }]);
    expect(validatePayoutAccount({ kind: 'iban', holderName: ' ', iban: '12345678', bic: 'COBADE' })).toEqual([
      { field: 'holderName', message: 'must not be empty' },
      { field: 'iban', message: 'does not start with a known IBAN country code' },
      { field: 'bic', message: 'must be 8 or 11 characters: 4 bank, 2 country, 2 location, optional 3 branch' },
    ]);
  });

  it('asks for the electronic format that ISO 20022 files carry', () => {
    expect(
      validatePayoutAccount({ kind: 'iban', holderName, iban: 'DE89 3704 0044 0532 0130 00', bic: 'cobadeffxxx' }),
    ).toEqual([
      { field: 'iban', message: 'must be upper case letters and digits only, without spaces' },
      { field: 'bic', message: 'must be upper case letters and digits only, without spaces' },
    ]);
  });

  it('refuses names an ISO 20022 file cannot carry', () => {
    expect(validatePayoutAccount({ kind: 'iban', holderName: 'x'.repeat(141), ...accounts.germany })).toEqual([
      { field: 'holderName', message: 'must be at most 140 characters, not 141' },
    ]);
    expect(validatePayoutAccount({ kind: 'iban', holderName: 'bell\u0007', ...accounts.germany })).toEqual([
      { field: 'holderName', message: 'contains a character that XML cannot carry' },
    ]);
  });

  it('checks only name and reference of provider accounts', () => {
    expect(validatePayoutAccount({ kind: 'provider', holderName, reference: 'acct_123' })).toEqual([]);
    expect(validatePayoutAccount({ kind: 'provider', holderName, reference: '' })).toEqual([
      { field: 'reference', message: 'must not be empty' },
    ]);
    for (const reference of ['4242-7781', 'payee+eu@example.com', 'BA3227C223222B5FL4F6M56JB', 'wise:1234.5']) {
      expect([reference, validatePayoutAccount({ kind: 'provider', holderName, reference })]).toEqual([reference, []]);
    }
    // An id, not a path or free text.
    for (const reference of ['../../etc', 'acct 123', '-acct', 'acct/123', 'acct\u0000', 'ácct']) {
      expect([reference, validatePayoutAccount({ kind: 'provider', holderName, reference })]).toEqual([
        reference,
        [{ field: 'reference', message: expect.stringMatching(/^must be the provider's account id/) as string }],
      ]);
    }
  });
});
