import { randomUUID } from 'node:crypto';
import { currencySchema, trimmedText, type Party } from '@gigledger/chaincode/model';
import type { PayoutAccountDetails, PayoutAccountDirectory, RegisteredPayoutAccount } from '@gigledger/settlement';
import { providerReferencePattern, validatePayoutAccount } from '@gigledger/settlement/iso20022';
import { z } from 'zod';
import type { Db } from '../db/database.js';
import { invalidInput } from '../errors/api-error.js';
import type { Sealer } from '../identity/sealer.js';

const holderNameSchema = trimmedText(140);

/** Where a person is paid: a bank account (IBAN + BIC) or an account at the provider. */
export const registerPayoutAccountSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('iban'),
    currency: currencySchema,
    holderName: holderNameSchema,
    iban: z.string().min(1, 'is missing').max(42, 'must be at most 42 characters'),
    bic: z.string().min(1, 'is missing').max(11, 'must be at most 11 characters'),
  }),
  z.strictObject({
    kind: z.literal('provider'),
    currency: currencySchema,
    holderName: holderNameSchema,
    // The adapters' own rule (`validatePayoutAccount`), here too so that /openapi.json shows it.
    reference: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .regex(
        providerReferencePattern,
        "must be the provider's account id: letters, digits and . _ - : @ +, starting with a letter or digit",
      ),
  }),
]);
export type RegisterPayoutAccount = z.output<typeof registerPayoutAccountSchema>;

/** An account as its owner sees it: the number masked, never in full. */
export const payoutAccountViewSchema = z.object({
  accountId: z.string(),
  party: z.object({ mspId: z.string(), userId: z.string() }),
  currency: z.string(),
  kind: z.enum(['iban', 'provider']),
  holderName: z.string(),
  masked: z.string().describe('e.g. DE89 **** **** 3000'),
  updatedAt: z.string(),
});
export type PayoutAccountView = z.infer<typeof payoutAccountViewSchema>;

const sealedDetailsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('iban'), holderName: z.string(), iban: z.string(), bic: z.string() }),
  z.object({ kind: z.literal('provider'), holderName: z.string(), reference: z.string() }),
]);

function masked(details: PayoutAccountDetails): string {
  const number = details.kind === 'iban' ? details.iban : details.reference;
  return number.length <= 8 ? '****' : `${number.slice(0, 4)} **** ${number.slice(-4)}`;
}

/**
 * Payout accounts in the server's database, one per person and currency. Account
 * numbers are sealed with the server's key and leave this store only towards a
 * provider adapter; the ledger and the logs never see them.
 */
export class PayoutAccountStore implements PayoutAccountDirectory {
  readonly #db: Db;
  readonly #sealer: Sealer;

  constructor(db: Db, sealer: Sealer) {
    this.#db = db;
    this.#sealer = sealer;
  }

  /**
   * Registers or replaces the owner's account for the currency.
   *
   * @throws ApiError 422 naming `body.iban`, `body.bic`, `body.holderName` or
   *   `body.reference` when the details fail their check (ISO 13616 IBAN check digits,
   *   ISO 9362 BIC format).
   */
  async register(owner: Party, request: RegisterPayoutAccount): Promise<PayoutAccountView> {
    const details: PayoutAccountDetails =
      request.kind === 'iban'
        ? { kind: 'iban', holderName: request.holderName, iban: request.iban, bic: request.bic }
        : { kind: 'provider', holderName: request.holderName, reference: request.reference };
    const [problem] = validatePayoutAccount(details);
    if (problem !== undefined) throw invalidInput(`body.${problem.field}`, problem.message);
    const now = new Date().toISOString();
    const row = {
      account_id: `pa_${randomUUID()}`,
      msp_id: owner.mspId,
      user_id: owner.userId,
      currency: request.currency,
      kind: details.kind,
      holder_name: details.holderName,
      masked: masked(details),
      sealed_details: this.#sealer.seal(JSON.stringify(details)),
      created_at: now,
      updated_at: now,
    };
    await this.#db
      .insertInto('payout_accounts')
      .values(row)
      .onConflict((conflict) =>
        conflict.columns(['msp_id', 'user_id', 'currency']).doUpdateSet({
          kind: row.kind,
          holder_name: row.holder_name,
          masked: row.masked,
          sealed_details: row.sealed_details,
          updated_at: now,
        }),
      )
      .execute();
    const [saved] = await this.list(owner, request.currency);
    if (saved === undefined) throw new Error('payout account vanished after it was written');
    return saved;
  }

  async list(owner: Party, currency?: string): Promise<PayoutAccountView[]> {
    let query = this.#db
      .selectFrom('payout_accounts')
      .selectAll()
      .where('msp_id', '=', owner.mspId)
      .where('user_id', '=', owner.userId);
    if (currency !== undefined) query = query.where('currency', '=', currency);
    const rows = await query.orderBy('currency').execute();
    return rows.map((row) => ({
      accountId: row.account_id,
      party: { mspId: row.msp_id, userId: row.user_id },
      currency: row.currency,
      kind: row.kind,
      holderName: row.holder_name,
      masked: row.masked,
      updatedAt: row.updated_at,
    }));
  }

  async accountFor(party: Party, currency: string): Promise<RegisteredPayoutAccount | undefined> {
    const row = await this.#db
      .selectFrom('payout_accounts')
      .select(['account_id', 'sealed_details'])
      .where('msp_id', '=', party.mspId)
      .where('user_id', '=', party.userId)
      .where('currency', '=', currency)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          accountId: row.account_id,
          details: sealedDetailsSchema.parse(JSON.parse(this.#sealer.open(row.sealed_details))),
        };
  }
}
