import type { PaymentOrder } from '../../provider.js';
import { accounts } from './xsd.js';

/**
 * A payout order to Ada Lovelace's German account, as the settlement service hands it to a provider.
 * `amountMinor` is in the currency's minor units (ISO 4217 exponent); `overrides` replace any field.
 */
export function payout(
  instructionId: string,
  amountMinor = 150000n,
  currency = 'EUR',
  overrides: Partial<PaymentOrder> = {},
): PaymentOrder {
  return {
    instructionId,
    direction: 'payout',
    amountMinor,
    currency,
    counterparty: { kind: 'iban', holderName: 'Ada Lovelace', ...accounts.germany },
    remittanceInformation: `GigLedger ${instructionId}`,
    requestedAt: '2026-03-01T09:00:00Z',
    ...overrides,
  };
}
