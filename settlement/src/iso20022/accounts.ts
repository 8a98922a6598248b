import { ValidationErrorsBIC, ValidationErrorsIBAN, validateBIC, validateIBAN } from 'ibantools';
import type { PayoutAccountDetails } from '../provider.js';
import { textProblem } from './text.js';

/** One reason why payout account details cannot be used, tied to the field at fault. */
export interface AccountProblem {
  readonly field: 'kind' | 'holderName' | 'iban' | 'bic' | 'reference';
  readonly message: string;
}

/** ISO 20022 party names (`Nm`) are `Max140Text`. */
const maxNameLength = 140;

const ibanMessages: Record<ValidationErrorsIBAN, string> = {
  [ValidationErrorsIBAN.NoIBANProvided]: 'is missing',
  [ValidationErrorsIBAN.NoIBANCountry]: 'does not start with a known IBAN country code',
  [ValidationErrorsIBAN.WrongBBANLength]: 'has the wrong length for its country',
  [ValidationErrorsIBAN.WrongBBANFormat]: 'does not have the account number format of its country',
  [ValidationErrorsIBAN.ChecksumNotNumber]: 'check digits are not a number',
  [ValidationErrorsIBAN.WrongIBANChecksum]: 'check digits do not match',
  [ValidationErrorsIBAN.WrongAccountBankBranchChecksum]: 'national bank or branch check digits do not match',
  [ValidationErrorsIBAN.QRIBANNotAllowed]: 'is a QR-IBAN, which only takes QR-bill payments',
};

const bicMessages: Record<ValidationErrorsBIC, string> = {
  [ValidationErrorsBIC.NoBICProvided]: 'is missing',
  [ValidationErrorsBIC.NoBICCountry]: 'does not contain a known country code',
  [ValidationErrorsBIC.WrongBICFormat]: 'must be 8 or 11 characters: 4 bank, 2 country, 2 location, optional 3 branch',
};

/**
 * An account id as payment providers give them (`acct_1Hh1mJ2e`, `4242-7781`,
 * `payee@example.com`): an identifier, not free text, since adapters put it into
 * request paths and file fields where a `/`, a space or a control character would
 * change what it names.
 */
export const providerReferencePattern = /^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/;

/**
 * Checks payout account details before they are stored or paid to: for a bank account,
 * the holder name, the IBAN (ISO 13616 structure of its country and check digits) and
 * the BIC (ISO 9362); for a provider account, the name and that the reference is an
 * account id (see {@link providerReferencePattern}).
 * IBAN and BIC must be in electronic format (upper case, no spaces), the only form an
 * ISO 20022 file accepts, so that the value checked is the value stored.
 *
 * @returns every problem found, empty when the details are usable.
 * @throws never: malformed input is reported as problems.
 */
export function validatePayoutAccount(details: PayoutAccountDetails): AccountProblem[] {
  const problems: AccountProblem[] = [];
  const nameProblem = textProblem(details.holderName, maxNameLength);
  if (nameProblem !== undefined) problems.push({ field: 'holderName', message: nameProblem });

  if (details.kind === 'provider') {
    if (details.reference.trim().length === 0) problems.push({ field: 'reference', message: 'must not be empty' });
    else if (!providerReferencePattern.test(details.reference)) {
      problems.push({
        field: 'reference',
        message: `must be the provider's account id: letters, digits and . _ - : @ +, starting with a letter or digit`,
      });
    }
    return problems;
  }

  if (!/^[A-Z0-9]*$/.test(details.iban)) {
    problems.push({ field: 'iban', message: 'must be upper case letters and digits only, without spaces' });
  } else {
    const result = validateIBAN(details.iban, { allowQRIBAN: false });
    for (const code of result.errorCodes) problems.push({ field: 'iban', message: ibanMessages[code] });
  }

  if (!/^[A-Z0-9]*$/.test(details.bic)) {
    problems.push({ field: 'bic', message: 'must be upper case letters and digits only, without spaces' });
  } else {
    const result = validateBIC(details.bic);
    for (const code of result.errorCodes) problems.push({ field: 'bic', message: bicMessages[code] });
  }
  return problems;
}

/**
 * The problems of `details` as one sentence, e.g. `iban check digits do not match`.
 *
 * @throws never.
 */
export function describeAccountProblems(problems: readonly AccountProblem[]): string {
  return problems.map(({ field, message }) => `${field} ${message}`).join('; ');
}
