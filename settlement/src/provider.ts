/**
 * What every settlement provider adapter speaks. The settlement service turns each
 * committed ledger instruction into one {@link PaymentOrder} and hands it to the
 * adapter of the organisation it belongs to; the provider's answer comes back later as
 * a {@link ProviderConfirmation} (a signed callback, or an entry of a bank statement).
 */

/** An account held at a bank, identified by IBAN (ISO 13616) and BIC (ISO 9362). */
export interface BankAccount {
  readonly kind: 'iban';
  readonly holderName: string;
  readonly iban: string;
  readonly bic: string;
}

/** An account known to the provider by its own reference (a wallet or merchant id). */
export interface ProviderAccount {
  readonly kind: 'provider';
  readonly holderName: string;
  readonly reference: string;
}

export type PayoutAccountDetails = BankAccount | ProviderAccount;

/**
 * `collect` debits the payer into the platform's escrow account; `payout` credits the
 * payee out of it (releases, dispute shares, refunds and royalties are all payouts).
 */
export type PaymentDirection = 'collect' | 'payout';

/** One instruction as a provider receives it. */
export interface PaymentOrder {
  /** The ledger's instruction id, e.g. `A-100/m1/release-1`: unique, and the idempotency key of every attempt. */
  readonly instructionId: string;
  readonly direction: PaymentDirection;
  /** Integer minor units (ISO 4217 exponent of `currency`); never a float. */
  readonly amountMinor: bigint;
  /** ISO 4217 alphabetic code. */
  readonly currency: string;
  /** The payer for a collection, the payee for a payout. */
  readonly counterparty: PayoutAccountDetails;
  /** Free text for the statement line, at most 140 characters (ISO 20022 `Ustrd`). */
  readonly remittanceInformation: string;
  /** Transaction timestamp of the ledger transaction that issued the instruction (ISO 8601). */
  readonly requestedAt: string;
}

/** What an adapter says about one attempt to hand an order over. */
export type SendOutcome =
  /** The provider has the order (or already had it: a repeated idempotency key). */
  | { readonly status: 'accepted'; readonly providerReference?: string }
  /** Worth trying again later (timeout, 5xx, 429, connection refused). */
  | { readonly status: 'retry'; readonly reason: string }
  /** The provider will never take this order (4xx other than 408/409/425/429). */
  | { readonly status: 'rejected'; readonly reason: string };

/** The provider's final word on an order. */
export interface ProviderConfirmation {
  readonly instructionId: string;
  readonly outcome: 'paid' | 'failed';
  readonly providerReference: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly reason?: string;
}

/** One line of a provider's statement, for reconciliation. */
export interface StatementEntry {
  readonly instructionId: string;
  readonly providerReference: string;
  readonly direction: PaymentDirection;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly status: 'paid' | 'failed' | 'pending';
  /** When the provider booked it (ISO 8601). */
  readonly bookedAt: string;
}

/** A provider as the settlement service drives it. */
export interface ProviderAdapter {
  /** Configuration name of the provider, also the `{provider}` of its callback URL. */
  readonly name: string;
  /**
   * Hands one order over. Must be safe to call again with the same order: the
   * instruction id is the idempotency key.
   */
  send(order: PaymentOrder): Promise<SendOutcome>;
  /**
   * True when the provider's confirmations name the reference it took the order under
   * (a payment API's order id, as Standard Webhooks callbacks do), so that a confirmation
   * naming another one is not its answer to that order. A bank's statement names its own
   * entry reference instead, and leaves this unset.
   */
  readonly confirmsUnderOrderReference?: boolean;
  /** The provider's statement for a period, for reconciliation. */
  statement(from: Date, to: Date): Promise<readonly StatementEntry[]>;
  /**
   * For providers that do not call back (bank files): confirmations that arrived since
   * the last call, e.g. from `camt.054` notifications. Each is handed out until
   * {@link acknowledge} says it was recorded.
   */
  pendingConfirmations?(): Promise<readonly ProviderConfirmation[]>;
  acknowledge?(confirmations: readonly ProviderConfirmation[]): Promise<void>;
  /**
   * For providers that batch orders (bank files): hands over the orders whose batch is
   * due. The settlement service calls it on every sweep while any instruction of the
   * provider is sent and unanswered.
   */
  flushDue?(): Promise<unknown>;
}
