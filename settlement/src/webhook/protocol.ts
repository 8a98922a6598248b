/**
 * The wire protocol between the settlement service and a Standard Webhooks payment
 * provider: payment orders out, signed callbacks in, statements on demand. Each message
 * is declared here once; the adapter, the callback verifier and the sandbox provider all
 * parse with these schemas. The prose version is this folder's README.
 */
import {
  currencyCodes,
  isCurrencyCode,
  issueReason,
  minorUnitExponent,
  type CurrencyCode,
} from '@gigledger/chaincode/model';
import { z } from 'zod';
import type { PaymentOrder, PayoutAccountDetails, ProviderConfirmation, StatementEntry } from '../provider.js';

/** Path of the order endpoint, relative to the provider's base URL. */
export const paymentOrdersPath = '/v1/payment-orders';

/** Path of the statement endpoint, relative to the provider's base URL. */
export const statementsPath = '/v1/statements';

/** Request header carrying the instruction id, so that a provider never pays the same order twice. */
export const idempotencyKeyHeader = 'Idempotency-Key';

/**
 * Every active ISO 4217 currency the ledger accepts, with its exponent (JPY 0, EUR 2,
 * BHD 3). The exponent travels with every order so that a provider never has to guess
 * what `"1250"` means.
 */
export const currencyExponents: Readonly<Record<CurrencyCode, 0 | 2 | 3>> = Object.fromEntries(
  currencyCodes.map((code) => [code, minorUnitExponent(code)]),
) as Record<CurrencyCode, 0 | 2 | 3>;

/** A currency code the protocol carries. */
export type ProtocolCurrency = CurrencyCode;

/** Whether `currency` can be sent over this protocol. */
export function isProtocolCurrency(currency: string): currency is ProtocolCurrency {
  return isCurrencyCode(currency);
}

const currencySchema = z.string().refine(isProtocolCurrency, 'must be an active ISO 4217 currency code');

/**
 * An amount in minor units as a decimal string: digits only, no sign, no leading zero,
 * no fraction, and never zero. Parsed to a bigint, because `"1.5"` or a float that has
 * lost a cent must never become money.
 */
export const minorUnitsSchema = z
  .string({ error: 'must be a string of digits' })
  .regex(/^[1-9][0-9]{0,29}$/, 'must be a positive integer number of minor units as a decimal string, e.g. "1250"')
  .transform((digits) => BigInt(digits));

const isoTimestampSchema = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

/** Instruction ids travel in a request header too, so they are limited to visible ASCII. */
const instructionIdSchema = z
  .string()
  .regex(/^[!-~]{1,256}$/, 'must be 1 to 256 visible ASCII characters (it is also the Idempotency-Key header)');

const providerReferenceSchema = z.string().min(1, 'must not be empty').max(256);

const holderNameSchema = z.string().trim().min(1, 'must not be empty').max(140);

const counterpartySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('iban'),
    holderName: holderNameSchema,
    iban: z.string().regex(/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/, 'must be an IBAN in electronic format, without spaces'),
    bic: z.string().regex(/^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/, 'must be a BIC of 8 or 11 characters'),
  }),
  z.object({
    kind: z.literal('provider'),
    holderName: holderNameSchema,
    reference: z.string().min(1, 'must not be empty').max(256),
  }),
]);

const directionSchema = z.enum(['collect', 'payout']);

/** `POST {providerUrl}/v1/payment-orders`: one order, signed with the outbound secret. */
export const paymentOrderRequestedSchema = z.object({
  type: z.literal('payment_order.requested'),
  timestamp: isoTimestampSchema,
  data: z
    .object({
      instructionId: instructionIdSchema,
      direction: directionSchema,
      amount: minorUnitsSchema,
      currency: currencySchema,
      exponent: z.number().int(),
      counterparty: counterpartySchema,
      remittanceInformation: z.string().max(140),
      requestedAt: isoTimestampSchema,
    })
    .refine((data) => data.exponent === currencyExponents[data.currency], {
      path: ['exponent'],
      message: 'must be the ISO 4217 exponent of the currency',
    }),
});

/** An order as it is written on the wire (amount as a decimal string). */
export type PaymentOrderRequestedMessage = z.input<typeof paymentOrderRequestedSchema>;

/** An order as a provider reads it after parsing (amount as a bigint). */
export type ParsedPaymentOrderRequested = z.output<typeof paymentOrderRequestedSchema>;

/** Body of the provider's 202 (new order) or 200 (repeated idempotency key) answer. */
export const paymentOrderAcceptedSchema = z.object({ providerReference: providerReferenceSchema });

/** What a provider answers to an order it has. */
export type PaymentOrderAccepted = z.infer<typeof paymentOrderAcceptedSchema>;

/** Body of any refusal by the provider: a stable code and a sentence. */
export const providerErrorSchema = z.object({ code: z.string().min(1), message: z.string() });

/** What a provider answers to an order it refuses. */
export type ProviderErrorBody = z.infer<typeof providerErrorSchema>;

/** The provider's signed callback: the final word on one order. */
export const paymentOrderCallbackSchema = z.object({
  type: z.enum(['payment_order.paid', 'payment_order.failed']),
  timestamp: isoTimestampSchema,
  data: z.object({
    instructionId: instructionIdSchema,
    providerReference: providerReferenceSchema,
    amount: minorUnitsSchema,
    currency: currencySchema,
    reason: z.string().min(1).max(500).optional(),
  }),
});

/** A callback as written on the wire. */
export type PaymentOrderCallbackMessage = z.input<typeof paymentOrderCallbackSchema>;

/** A callback after parsing. */
export type ParsedPaymentOrderCallback = z.output<typeof paymentOrderCallbackSchema>;

const statementEntrySchema = z.object({
  instructionId: instructionIdSchema,
  providerReference: providerReferenceSchema,
  direction: directionSchema,
  amount: minorUnitsSchema,
  currency: currencySchema,
  status: z.enum(['paid', 'failed', 'pending']),
  bookedAt: isoTimestampSchema,
});

/** `GET {providerUrl}/v1/statements?from=…&to=…` answer. */
export const statementResponseSchema = z.object({ entries: z.array(statementEntrySchema) });

/** A statement as written on the wire. */
export type StatementResponseMessage = z.input<typeof statementResponseSchema>;

/** Query of the statement endpoint: both ends of the period, inclusive. */
export const statementQuerySchema = z
  .object({ from: isoTimestampSchema, to: isoTimestampSchema })
  .refine((query) => Date.parse(query.from) <= Date.parse(query.to), {
    path: ['to'],
    message: 'must not be before from',
  });

/**
 * The first problem zod found, as `path: message`, so that a refusal names the field; a
 * field the input left out "is required".
 *
 * @param input the value that was parsed, to tell a field left out from a wrong one.
 */
export function describeFirstIssue(error: z.ZodError, input?: unknown): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const field = firstIssuePath(error);
  const message = field === '' ? issue.message : issueReason(issue, input);
  return field === '' ? message : `${field}: ${message}`;
}

/** The dotted path of the first issue (`data.amount`), or `''` when it is the whole value. */
export function firstIssuePath(error: z.ZodError): string {
  return error.issues[0]?.path.map(String).join('.') ?? '';
}

/**
 * The wire message for one order.
 *
 * @throws RangeError when the order's currency is not one the protocol carries
 * (check with {@link isProtocolCurrency} first).
 */
export function paymentOrderMessage(order: PaymentOrder, timestamp: Date): PaymentOrderRequestedMessage {
  if (!isProtocolCurrency(order.currency)) {
    throw new RangeError(`currency ${order.currency} is not carried by the webhook protocol`);
  }
  return {
    type: 'payment_order.requested',
    timestamp: timestamp.toISOString(),
    data: {
      instructionId: order.instructionId,
      direction: order.direction,
      amount: order.amountMinor.toString(),
      currency: order.currency,
      exponent: currencyExponents[order.currency],
      counterparty: counterpartyMessage(order.counterparty),
      remittanceInformation: order.remittanceInformation,
      requestedAt: order.requestedAt,
    },
  };
}

// Copied field by field so that nothing outside the protocol leaks onto the wire.
function counterpartyMessage(account: PayoutAccountDetails): PaymentOrderRequestedMessage['data']['counterparty'] {
  return account.kind === 'iban'
    ? { kind: 'iban', holderName: account.holderName, iban: account.iban, bic: account.bic }
    : { kind: 'provider', holderName: account.holderName, reference: account.reference };
}

/** The order a parsed wire message describes. */
export function paymentOrderFromMessage(message: ParsedPaymentOrderRequested): PaymentOrder {
  const { data } = message;
  return {
    instructionId: data.instructionId,
    direction: data.direction,
    amountMinor: data.amount,
    currency: data.currency,
    counterparty: data.counterparty,
    remittanceInformation: data.remittanceInformation,
    requestedAt: data.requestedAt,
  };
}

/**
 * Where a callback holds each member of the confirmation it carries, as the path of a
 * refused field in the HTTP answer to the provider (`body.data.amount`).
 */
export function callbackFieldOf(member: 'instructionId' | 'amountMinor' | 'currency' | 'providerReference'): string {
  return `body.data.${member === 'amountMinor' ? 'amount' : member}`;
}

/** The confirmation a parsed callback carries. */
export function confirmationFromCallback(callback: ParsedPaymentOrderCallback): ProviderConfirmation {
  const { data } = callback;
  return {
    instructionId: data.instructionId,
    outcome: callback.type === 'payment_order.paid' ? 'paid' : 'failed',
    providerReference: data.providerReference,
    amountMinor: data.amount,
    currency: data.currency,
    ...(data.reason === undefined ? {} : { reason: data.reason }),
  };
}

/** The statement entries of a parsed statement answer. */
export function statementEntriesFromResponse(
  response: z.output<typeof statementResponseSchema>,
): readonly StatementEntry[] {
  return response.entries.map((entry) => ({
    instructionId: entry.instructionId,
    providerReference: entry.providerReference,
    direction: entry.direction,
    amountMinor: entry.amount,
    currency: entry.currency,
    status: entry.status,
    bookedAt: entry.bookedAt,
  }));
}
