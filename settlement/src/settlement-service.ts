import { createHash } from 'node:crypto';
import {
  agreementEventBaseSchema,
  credentialEventNames,
  escapeControlText,
  licensingContractName,
  licensingEventBaseSchema,
  partySchema,
  type Party,
  type RoyaltyInstruction,
  type SettlementInstruction,
} from '@gigledger/chaincode/model';
import { RefusedError, StoredCheckpointer, type LedgerClient, type LedgerEvent } from '@gigledger/gateway';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type {
  InstructionSource,
  OutboxState,
  SettlementDb,
  SettlementOutboxTable,
  SettlementTables,
} from './outbox/schema.js';
import type {
  PayoutAccountDetails,
  PaymentOrder,
  ProviderAdapter,
  ProviderConfirmation,
  SendOutcome,
  StatementEntry,
} from './provider.js';
import { nextAttemptDelayMs, type BackoffOptions } from './webhook/webhook-adapter.js';
import type { InstructionRecord } from './reconciliation.js';

/** Where a crash can be injected to prove exactly-once delivery (operators never set this). */
export const crashPoints = ['after-event-read', 'after-outbox-write', 'after-send', 'after-callback'] as const;
export type CrashPoint = (typeof crashPoints)[number];

/** A registered account: its id (the only thing the ledger learns of it) and its details. */
export interface RegisteredPayoutAccount {
  readonly accountId: string;
  readonly details: PayoutAccountDetails;
}

/** Looks up where a party is paid (or debited) in a currency; undefined when they registered nothing. */
export interface PayoutAccountDirectory {
  accountFor(party: Party, currency: string): Promise<RegisteredPayoutAccount | undefined>;
}

/**
 * Starts following committed chaincode events from a checkpoint, or from `startBlock`
 * (the next block when absent) while the checkpoint is empty; the API wires it to the gateway.
 */
export type EventFollowerFactory = (
  checkpointer: StoredCheckpointer,
  handle: (event: LedgerEvent) => Promise<void>,
  startBlock?: bigint,
) => { start(): Promise<void>; stop(): Promise<void> };

/** What the service reports to the server's metrics. */
export interface SettlementObserver {
  sendAttempted(provider: string, outcome: 'accepted' | 'retry' | 'rejected' | 'dead'): void;
  callbackRefused(provider: string, code: string): void;
  confirmationRecorded(outcome: 'paid' | 'failed'): void;
  /** The ledger refused to record a provider's answer (its refusal code); it is offered again after the longest backoff. */
  confirmationRefused?(code: string): void;
  /** The ledger could not be reached to record a provider's answer or retry a held payout; tried again after a backoff. */
  ledgerUnreachable?(stage: 'confirmation' | 'held-payout'): void;
}

export interface SettlementServiceOptions {
  readonly db: SettlementDb;
  /** Signs as the organisation's `settlement` identity. */
  readonly ledger: LedgerClient;
  /**
   * MSP id of that organisation. An instruction naming another organisation as its
   * `settlingOrganisation` is that organisation's service's to send, and is left alone here.
   */
  readonly organisation: string;
  /**
   * Where a service that has no checkpoint yet starts reading instruction events: the
   * next block by default, so that a service whose database was lost does not send again
   * what it sent before. An organisation's first service, started after instructions
   * naming it were issued (listed first by governance before it ran), is given the block
   * of the first of them: nobody else sends those.
   */
  readonly startBlock?: bigint;
  readonly follow: EventFollowerFactory;
  /** The provider each instruction goes to, by the organisation of the person paid or debited. */
  readonly providerFor: (counterparty: Party) => ProviderAdapter;
  /**
   * The configured provider of that name, so that instructions already handed to a
   * provider are followed there after the routing changed; without it, the provider that
   * `providerFor` names now.
   */
  readonly providerNamed?: (name: string) => ProviderAdapter | undefined;
  readonly accounts: PayoutAccountDirectory;
  readonly log: {
    info(object: object, message: string): void;
    warn(object: object, message: string): void;
    error(object: object, message: string): void;
  };
  readonly observer?: SettlementObserver;
  /** Give up (dead letter) after this many attempts; default 8. */
  readonly maxAttempts?: number;
  /** Between sends to a provider that did not take an order, and between tries at a ledger that could not be reached. */
  readonly backoff?: BackoffOptions;
  /** How often the outbox is swept for work when nothing wakes it; default 500 ms. */
  readonly sweepIntervalMs?: number;
  /** Injected crash for the exactly-once proofs; see {@link crashPoints}. */
  readonly crash?: (point: CrashPoint, instructionId: string) => void;
  readonly now?: () => Date;
}

/** What became of a verified provider callback. */
export type CallbackResult =
  | { readonly status: 'accepted' }
  | { readonly status: 'duplicate' }
  /** Signed and well-formed, but contradicting the answer already taken; the first answer stands. */
  | { readonly status: 'conflict'; readonly message: string }
  | {
      readonly status: 'refused';
      readonly code: 'UNKNOWN_INSTRUCTION' | 'CONFIRMATION_MISMATCH';
      readonly message: string;
      /** The confirmation's member at fault, for the provider's protocol to name in its own terms. */
      readonly member: 'instructionId' | 'amountMinor' | 'currency' | 'providerReference';
    };

const checkpointName = 'settlement-outbox';

/** Exponential backoff between attempts when the options name none; its longest delay also spaces refused confirmations. */
const defaultBackoff = { baseMs: 500, maxMs: 60_000 } as const;

/** Consecutive failures of one retried step, and when it may be tried again (epoch ms). */
interface RetryWait {
  readonly failures: number;
  readonly notBefore: number;
}

/** Reads and writes the service's event checkpoint in the `checkpoints` table. */
class OutboxCheckpointer extends StoredCheckpointer {
  readonly #db: SettlementDb;

  constructor(db: SettlementDb) {
    super();
    this.#db = db;
  }

  protected async read(): Promise<{ blockNumber: bigint; transactionId: string | undefined } | undefined> {
    const row = await this.#db
      .selectFrom('checkpoints')
      .selectAll()
      .where('name', '=', checkpointName)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : { blockNumber: BigInt(row.block_number), transactionId: row.transaction_id ?? undefined };
  }

  protected async write(blockNumber: bigint, transactionId: string | undefined): Promise<void> {
    await saveCheckpoint(this.#db, blockNumber, transactionId);
  }
}

async function saveCheckpoint(
  db: SettlementDb | Transaction<SettlementTables>,
  blockNumber: bigint,
  transactionId: string | undefined,
): Promise<void> {
  const row = {
    name: checkpointName,
    block_number: blockNumber.toString(),
    transaction_id: transactionId ?? null,
    updated_at: new Date().toISOString(),
  };
  await db
    .insertInto('checkpoints')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('name').doUpdateSet({
        block_number: row.block_number,
        transaction_id: row.transaction_id,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

const credentialSubjectSchema = z.object({ credential: z.object({ subject: partySchema }) });

/** A deterministic request id, so a confirmation written twice (after a crash) is one ledger change. */
export function confirmationRequestId(instructionId: string): string {
  return `settle:${createHash('sha256').update(instructionId).digest('hex').slice(0, 40)}`;
}

/** Longest failure reason kept from a provider, in characters (the outbox column's size). */
const maxProviderReasonLength = 500;

/**
 * A provider's failure text as the ledger can record it, or undefined when nothing is
 * left: a bank's camt.054 `AddtlInf` or a webhook's `reason` may hold characters the
 * chaincode refuses in text (controls, bidirectional overrides; see the chaincode
 * model's `text-controls`), written here as `\uXXXX`; cut at whole characters, so a
 * surrogate pair is never split into a lone surrogate (which has no canonical encoding);
 * trimmed, since the ledger refuses a blank reason. Without this the confirmation would
 * be refused and retried for ever.
 */
export function providerReason(text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) return undefined;
  const kept = Array.from(escapeControlText(text)).slice(0, maxProviderReasonLength).join('').trim();
  return kept.length === 0 ? undefined : kept;
}

/**
 * Moves money for committed settlement instructions, exactly once:
 *
 * 1. **Intake.** Follows committed chaincode events; each instruction an event carries
 *    (agreement escrow, releases and refunds; licensing collections, royalties and fees) becomes an outbox row
 *    keyed by its instruction id, in the same database transaction as the event
 *    checkpoint. A repeated event inserts nothing.
 * 2. **Dispatch.** Sends queued rows to their provider (the instruction id is the
 *    idempotency key), retrying with exponential backoff and jitter, and moves rows
 *    the provider rejects or that run out of attempts to the dead-letter state.
 * 3. **Confirmation.** A verified provider answer is stored on its row first and then
 *    recorded on the ledger as the settlement identity, by the contract that issued the
 *    instruction, with a request id derived from the instruction id, so a crash between
 *    the two repeats nothing.
 * 4. **Held payouts.** Payouts the ledger held for compliance are retried when a
 *    credential of their payee is issued or reinstated.
 */
export class SettlementService {
  readonly #options: SettlementServiceOptions;
  readonly #db: SettlementDb;
  readonly #inFlight = new Set<string>();
  /**
   * Consecutive failures to reach the ledger while recording an instruction's confirmation:
   * each next try waits the backoff of its count (the row's `next_attempt_at`), so an
   * outage of peers or orderers is not met with every row on every sweep. Counts start
   * again after a restart, the waits from the shortest.
   */
  readonly #confirmationFailures = new Map<string, number>();
  /** The same for held payouts being retried, with when each may be tried again (epoch ms). */
  readonly #heldRetryFailures = new Map<string, RetryWait>();
  /**
   * The same for bank statement entries this database would not take (a full disk), by
   * provider and entry: the entry stays unacknowledged, so its statement hands it out at
   * every sweep, and each next try waits the backoff of its count.
   */
  readonly #statementEntryFailures = new Map<string, Map<string, RetryWait>>();
  #follower: ReturnType<EventFollowerFactory> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: SettlementServiceOptions) {
    this.#options = options;
    this.#db = options.db;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#follower = this.#options.follow(
      new OutboxCheckpointer(this.#db),
      (event) => this.#intake(event),
      this.#options.startBlock,
    );
    await this.#follower.start();
    this.#timer = setInterval(() => {
      this.wake();
    }, this.#options.sweepIntervalMs ?? 500);
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#follower?.stop();
    await this.#sweeping;
  }

  /** Runs a sweep of the outbox now (or right after the one running). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#sweeping !== undefined) {
      this.#again = true;
      return;
    }
    this.#sweeping = this.#sweep()
      .catch((error: unknown) => {
        this.#options.log.error({ err: error }, 'settlement sweep failed');
      })
      .finally(() => {
        this.#sweeping = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  async #intake(event: LedgerEvent): Promise<void> {
    if (credentialEventNames.includes(event.name)) {
      await this.#credentialChanged(event);
      return;
    }
    const answer = ledgerAnswerOf(event);
    if (answer !== undefined) await this.#answeredOnLedger(answer, event.transactionId);
    const carried = instructionsOf(event);
    if (carried === undefined) return;
    if ('malformed' in carried) {
      this.#options.log.warn({ event: event.name, txId: event.transactionId }, carried.malformed);
      return;
    }
    const ours = (instruction: { readonly settlingOrganisation?: string }) =>
      instruction.settlingOrganisation === undefined || instruction.settlingOrganisation === this.#options.organisation;
    const requests = carried.requests.filter(ours);
    const held = carried.held.filter(ours);
    for (const other of [...carried.requests, ...carried.held].filter((instruction) => !ours(instruction))) {
      this.#options.log.info(
        { instructionId: other.instructionId, settlingOrganisation: other.settlingOrganisation },
        'instruction left to the settlement service of the organisation it names',
      );
    }
    const { cleared } = carried;
    if (requests.length === 0 && held.length === 0 && !cleared) return;
    const first = requests[0]?.instructionId ?? held[0]?.instructionId ?? event.transactionId;
    this.#options.crash?.('after-event-read', first);
    const now = this.#now().toISOString();
    await this.#db.transaction().execute(async (trx) => {
      for (const instruction of requests) {
        const withheld = await reissueWithheld(trx, instruction);
        if (withheld !== undefined) this.#options.log.error({ instructionId: instruction.instructionId }, withheld);
        const taken = this.#outboxRow(instruction, event.blockNumber, now);
        const row: SettlementOutboxTable =
          withheld === undefined ? taken : { ...taken, state: 'dead', last_error: withheld };
        await trx
          .insertInto('settlement_outbox')
          .values(row)
          .onConflict((conflict) => conflict.column('instruction_id').doNothing())
          .execute();
        await trx
          .updateTable('settlement_held')
          .set({ cleared_at: now, retry_due: 0 })
          .where('instruction_id', '=', instruction.instructionId)
          .execute();
        // Cleared (perhaps by a retry whose commit status was lost): its retries are over.
        this.#heldRetryFailures.delete(instruction.instructionId);
      }
      for (const instruction of held) {
        await trx
          .insertInto('settlement_held')
          .values({
            instruction_id: instruction.instructionId,
            agreement_id: instruction.agreementId,
            milestone_id: instruction.milestoneId,
            payee_msp: instruction.payee.mspId,
            payee_user: instruction.payee.userId,
            reason: (instruction.compliance?.reason ?? 'held for compliance').slice(0, 1000),
            held_at: instruction.requestedAt,
            cleared_at: null,
            retry_due: 0,
          })
          .onConflict((conflict) => conflict.column('instruction_id').doNothing())
          .execute();
      }
      await saveCheckpoint(trx, event.blockNumber, event.transactionId);
    });
    this.#options.crash?.('after-outbox-write', first);
    this.wake();
  }

  async #credentialChanged(event: LedgerEvent): Promise<void> {
    if (!event.name.endsWith('.CredentialIssued') && !event.name.endsWith('.CredentialReinstated')) return;
    const parsed = credentialSubjectSchema.safeParse(event.payload);
    if (!parsed.success) return;
    const { subject } = parsed.data.credential;
    const updated = await this.#db
      .updateTable('settlement_held')
      .set({ retry_due: 1 })
      .where('payee_msp', '=', subject.mspId)
      .where('payee_user', '=', subject.userId)
      .where('cleared_at', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) this.wake();
  }

  #outboxRow(instruction: LedgerInstruction, blockNumber: bigint, now: string): SettlementOutboxTable {
    // An organisation without a provider must not stop the event stream: the row is a dead letter for an operator.
    let routed: { provider: string; error?: string };
    try {
      routed = { provider: this.#options.providerFor(instruction.counterparty).name };
    } catch (error) {
      routed = { provider: 'unrouted', error: (error instanceof Error ? error.message : String(error)).slice(0, 500) };
    }
    return {
      instruction_id: instruction.instructionId,
      source: instruction.source,
      agreement_id: instruction.recordId,
      milestone_id: instruction.itemId,
      kind: instruction.kind,
      direction: instruction.direction,
      provider: routed.provider,
      counterparty_msp: instruction.counterparty.mspId,
      counterparty_user: instruction.counterparty.userId,
      amount: instruction.amount,
      platform_fee: instruction.platformFee,
      currency: instruction.currency,
      request_tx_id: instruction.requestTxId,
      block_number: blockNumber.toString(),
      requested_at: instruction.requestedAt,
      state: routed.error === undefined ? 'queued' : 'dead',
      attempts: 0,
      next_attempt_at: null,
      last_error: routed.error ?? null,
      provider_reference: null,
      outcome: null,
      outcome_reason: null,
      confirm_tx_id: null,
      payout_account_id: null,
      reissue_of: instruction.reissueOf ?? null,
      created_at: now,
      updated_at: now,
    };
  }

  async #sweep(): Promise<void> {
    // Each stage on its own: one that fails (a database hiccup, a provider's statement that
    // cannot be read) must not keep the others, confirmations above all, from running.
    // Read once per sweep, after dispatching (which may send more), for both stages that need it.
    let sentTo: Promise<Map<string, ProviderAdapter>> | undefined;
    const providersOfSent = () => (sentTo ??= this.#providersOfSentInstructions());
    const stages: [string, () => Promise<void>][] = [
      ['retrying held payouts', () => this.#retryHeld()],
      ['dispatching instructions', () => this.#dispatch()],
      ['handing over due batches', async () => this.#flushDueBatches(await providersOfSent())],
      ['recording confirmations', () => this.#recordConfirmations()],
      ['collecting file confirmations', async () => this.#collectFileConfirmations(await providersOfSent())],
    ];
    for (const [stage, run] of stages) {
      try {
        await run();
      } catch (error) {
        this.#options.log.error({ err: error }, `settlement sweep: ${stage} failed`);
      }
    }
  }

  async #dispatch(): Promise<void> {
    const now = this.#now().toISOString();
    const rows = await this.#db
      .selectFrom('settlement_outbox')
      .selectAll()
      .where((where) =>
        where.or([
          where('state', 'in', ['queued', 'sending']),
          where.and([where('state', '=', 'retry'), where('next_attempt_at', '<=', now)]),
        ]),
      )
      .orderBy('created_at')
      .limit(100)
      .execute();
    const due = rows.filter((row) => !this.#inFlight.has(row.instruction_id));
    // One instruction's failure does not stop the others'. A send that failed once the
    // order may have left stays `sending`, to go again under the same idempotency key.
    const sent = await Promise.allSettled(due.map((row) => this.#send(row)));
    sent.forEach((result, index) => {
      if (result.status === 'fulfilled') return;
      this.#options.log.error(
        { err: result.reason as unknown, instructionId: due[index]?.instruction_id },
        'sending a settlement instruction failed; it goes again at the next sweep',
      );
    });
  }

  /**
   * An instruction that could not even be prepared for its provider (its organisation's
   * provider no longer configured, its payout account unreadable under the current key):
   * nothing is sent this time, so it is tried again after the longest backoff, naming why,
   * instead of on every sweep, and the other instructions of the sweep go on. One left
   * `sending` by a crash goes again under its idempotency key when it is tried.
   */
  async #deferUnsendable(row: SettlementOutboxTable, error: unknown): Promise<void> {
    const reason = `could not be prepared for its provider: ${error instanceof Error ? error.message : String(error)}`;
    const delay = (this.#options.backoff ?? defaultBackoff).maxMs;
    this.#options.log.error(
      { err: error, instructionId: row.instruction_id },
      'a settlement instruction could not be sent',
    );
    await this.#move(row.instruction_id, [row.state], {
      state: 'retry',
      next_attempt_at: new Date(this.#now().getTime() + delay).toISOString(),
      last_error: reason.slice(0, 500),
    });
  }

  async #send(row: SettlementOutboxTable): Promise<void> {
    this.#inFlight.add(row.instruction_id);
    try {
      const counterparty = { mspId: row.counterparty_msp, userId: row.counterparty_user };
      let provider: ProviderAdapter;
      let account: RegisteredPayoutAccount | undefined;
      try {
        provider = this.#options.providerFor(counterparty);
        account = await this.#options.accounts.accountFor(counterparty, row.currency);
      } catch (error) {
        await this.#deferUnsendable(row, error);
        return;
      }
      if (row.attempts > 0 && provider.name !== row.provider) {
        // The order may be with the provider it went to before; sending it to another could pay twice.
        await this.#move(row.instruction_id, [row.state], {
          state: 'dead',
          last_error:
            `was handed to provider ${row.provider} before and is now routed to provider ${provider.name}; ` +
            `not sent again, so that it cannot be paid twice: an operator checks with ${row.provider} and answers it by hand`,
        });
        this.#options.observer?.sendAttempted(provider.name, 'dead');
        this.#options.log.error(
          { instructionId: row.instruction_id, provider: row.provider, routedTo: provider.name },
          'settlement instruction moved to the dead letters: its provider changed after it was sent',
        );
        return;
      }
      if (account === undefined) {
        // Not an attempt: nothing was sent. The row waits (and shows as stuck) until the person registers an account.
        await this.#move(row.instruction_id, [row.state], {
          state: 'retry',
          next_attempt_at: new Date(this.#now().getTime() + 30_000).toISOString(),
          last_error:
            row.direction === 'collect'
              ? `${row.counterparty_msp} user ${row.counterparty_user} has no account in ${row.currency} to be debited (the same registration as a payout account)`
              : `${row.counterparty_msp} user ${row.counterparty_user} has no payout account in ${row.currency}`,
        });
        return;
      }
      const attempts = row.attempts + 1;
      const taken = await this.#move(row.instruction_id, ['queued', 'sending', 'retry'], {
        state: 'sending',
        attempts,
        payout_account_id: account.accountId,
        // Never sent before: it goes where the organisation is routed now, and its answer is expected from there.
        provider: provider.name,
      });
      // Answered on the ledger meanwhile (see #answeredOnLedger): the money must not move again.
      if (!taken) return;
      const order: PaymentOrder = {
        instructionId: row.instruction_id,
        direction: row.direction,
        amountMinor: BigInt(row.amount),
        currency: row.currency,
        counterparty: account.details,
        remittanceInformation: `GigLedger ${row.agreement_id} ${row.milestone_id} ${row.kind}`.slice(0, 140),
        requestedAt: row.requested_at,
      };
      const outcome = await provider.send(order);
      this.#options.crash?.('after-send', row.instruction_id);
      const maxAttempts = this.#options.maxAttempts ?? 8;
      if (outcome.status === 'accepted') {
        const moved = await this.#move(row.instruction_id, ['sending'], {
          state: 'sent',
          provider_reference: outcome.providerReference ?? null,
          last_error: null,
        });
        this.#options.observer?.sendAttempted(provider.name, 'accepted');
        if (!moved) await this.#setAsideOvertakingAnswer(row.instruction_id, provider.name, outcome);
      } else if (outcome.status === 'rejected' || attempts >= maxAttempts) {
        const moved = await this.#move(row.instruction_id, ['sending'], {
          state: 'dead',
          last_error: outcome.reason.slice(0, 500),
        });
        if (!moved && outcome.status === 'rejected') {
          await this.#setAsideOvertakingAnswer(row.instruction_id, provider.name, outcome);
        }
        this.#options.observer?.sendAttempted(provider.name, outcome.status === 'rejected' ? 'rejected' : 'dead');
        this.#options.log.error(
          { instructionId: row.instruction_id, provider: provider.name, attempts, reason: outcome.reason },
          'settlement instruction moved to the dead letters',
        );
      } else {
        const delay = nextAttemptDelayMs(attempts, this.#options.backoff ?? defaultBackoff);
        await this.#move(row.instruction_id, ['sending'], {
          state: 'retry',
          next_attempt_at: new Date(this.#now().getTime() + delay).toISOString(),
          last_error: outcome.reason.slice(0, 500),
        });
        this.#options.observer?.sendAttempted(provider.name, 'retry');
      }
    } finally {
      this.#inFlight.delete(row.instruction_id);
    }
  }

  /**
   * Updates a row only while it is still in one of `from`, so a callback that overtook the
   * send is not undone; true when it did.
   */
  async #move(
    instructionId: string,
    from: readonly OutboxState[],
    values: Partial<SettlementOutboxTable>,
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('settlement_outbox')
      .set({ ...values, updated_at: this.#now().toISOString() })
      .where('instruction_id', '=', instructionId)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Whether the provider of this row confirms under the reference it took the order with. */
  #confirmsUnderOrderReference(row: SettlementOutboxTable): boolean {
    const counterparty = { mspId: row.counterparty_msp, userId: row.counterparty_user };
    const provider = this.#options.providerNamed?.(row.provider) ?? this.#options.providerFor(counterparty);
    return provider.confirmsUnderOrderReference === true;
  }

  /**
   * A callback answered the instruction while its send was under way (a provider may call
   * back before its answer to the order arrives). Its answer waited unrecorded, since a
   * row being sent is not recorded on the ledger; now the provider's answer to the order
   * is known. A callback it contradicts did not come from the provider's handling of this
   * order (forged with a leaked secret, misrouted, or a provider fault): one naming
   * another reference than the provider took the order as is set aside and the
   * instruction waits for the provider's own callback, as if that one had never come; one
   * for an order the provider rejected leaves a dead letter for an operator. Either is
   * logged and counted as a conflict. Recorded, such an answer would mark failed a
   * payment the provider makes (and the payer could be charged again), or paid one it
   * never made.
   */
  async #setAsideOvertakingAnswer(instructionId: string, provider: string, outcome: SendOutcome): Promise<void> {
    const row = await this.instruction(instructionId);
    if (row?.state !== 'confirming' || outcome.status === 'retry') return;
    if (outcome.status === 'accepted' && !this.#confirmsUnderOrderReference(row)) return;
    const callback = `a callback answered ${row.outcome ?? '?'} as ${row.provider_reference ?? '?'}`;
    let reason: string;
    let setAside: boolean;
    if (outcome.status === 'accepted') {
      if (outcome.providerReference === undefined || outcome.providerReference === row.provider_reference) return;
      reason = `${callback} while provider ${provider} took the order as ${outcome.providerReference}; that answer was set aside`;
      setAside = await this.#move(instructionId, ['confirming'], {
        state: 'sent',
        provider_reference: outcome.providerReference,
        outcome: null,
        outcome_reason: null,
        last_error: reason.slice(0, 500),
      });
    } else {
      reason = `${callback} while provider ${provider} rejected the order (${outcome.reason}); an operator decides`;
      setAside = await this.#move(instructionId, ['confirming'], { state: 'dead', last_error: reason.slice(0, 500) });
    }
    if (setAside) {
      this.#confirmationFailures.delete(instructionId);
      this.#options.observer?.callbackRefused(provider, 'CONFIRMATION_CONFLICT');
      this.#options.log.error({ instructionId, provider }, reason);
    }
  }

  /**
   * Takes a provider's verified answer: stores it on the instruction's row (the webhook
   * id with it, so a replay changes nothing), then records it on the ledger. Returns
   * before the ledger write; the sweep finishes it even after a crash.
   */
  async acceptConfirmation(
    provider: string,
    webhookId: string,
    confirmation: ProviderConfirmation,
  ): Promise<CallbackResult> {
    const now = this.#now().toISOString();
    const result = await this.#db.transaction().execute(async (trx): Promise<CallbackResult> => {
      const row = await trx
        .selectFrom('settlement_outbox')
        .selectAll()
        .where('instruction_id', '=', confirmation.instructionId)
        .executeTakeFirst();
      // Nothing goes to a provider before a send attempt (a row waiting for an account has none).
      if (row?.provider !== provider || row.attempts === 0) {
        return {
          status: 'refused',
          code: 'UNKNOWN_INSTRUCTION',
          message: `provider ${provider} was sent no instruction ${confirmation.instructionId}`,
          member: 'instructionId',
        };
      }
      if (row.amount !== confirmation.amountMinor.toString() || row.currency !== confirmation.currency) {
        return {
          status: 'refused',
          code: 'CONFIRMATION_MISMATCH',
          message: `instruction ${row.instruction_id} is for ${row.amount} ${row.currency} (minor units), not ${confirmation.amountMinor.toString()} ${confirmation.currency}`,
          member: row.amount !== confirmation.amountMinor.toString() ? 'amountMinor' : 'currency',
        };
      }
      const underOrderReference = this.#confirmsUnderOrderReference(row);
      if (
        underOrderReference &&
        row.state !== 'confirming' &&
        row.state !== 'confirmed' &&
        row.provider_reference !== null &&
        row.provider_reference !== confirmation.providerReference
      ) {
        return {
          status: 'refused',
          code: 'CONFIRMATION_MISMATCH',
          message: `instruction ${row.instruction_id} was taken by provider ${provider} as ${row.provider_reference}, not ${confirmation.providerReference}`,
          member: 'providerReference',
        };
      }
      // Insert-or-nothing rather than look-then-insert: two deliveries of one message may arrive at once.
      const receipt = await trx
        .insertInto('settlement_webhook_receipts')
        .values({ webhook_id: webhookId, provider, instruction_id: row.instruction_id, received_at: now })
        .onConflict((conflict) => conflict.columns(['provider', 'webhook_id']).doNothing())
        .executeTakeFirst();
      if (Number(receipt.numInsertedOrUpdatedRows ?? 0n) === 0) return { status: 'duplicate' };
      if (row.state === 'confirming' || row.state === 'confirmed') {
        const otherReference = underOrderReference && row.provider_reference !== confirmation.providerReference;
        if (row.outcome !== confirmation.outcome || otherReference) {
          // The provider contradicts its own earlier answer: nothing on the ledger changes, but an operator must look.
          return {
            status: 'conflict',
            message: `instruction ${row.instruction_id} was already answered ${row.outcome ?? '?'} as ${row.provider_reference ?? '?'}; the provider now says ${confirmation.outcome} as ${confirmation.providerReference}`,
          };
        }
        return { status: 'duplicate' };
      }
      await trx
        .updateTable('settlement_outbox')
        .set({
          state: 'confirming',
          outcome: confirmation.outcome,
          outcome_reason: providerReason(confirmation.reason) ?? null,
          provider_reference: confirmation.providerReference,
          // Recorded at once: a send's retry time means nothing once the provider has answered.
          next_attempt_at: null,
          updated_at: now,
        })
        .where('instruction_id', '=', row.instruction_id)
        .execute();
      return { status: 'accepted' };
    });
    if (result.status === 'refused') this.#options.observer?.callbackRefused(provider, result.code);
    if (result.status === 'conflict') {
      this.#options.observer?.callbackRefused(provider, 'CONFIRMATION_CONFLICT');
      this.#options.log.error({ provider, instructionId: confirmation.instructionId }, result.message);
    }
    if (result.status === 'accepted') {
      this.#options.crash?.('after-callback', confirmation.instructionId);
      this.wake();
    }
    return result;
  }

  async #recordConfirmations(): Promise<void> {
    const now = this.#now().toISOString();
    const rows = await this.#db
      .selectFrom('settlement_outbox')
      .selectAll()
      .where('state', '=', 'confirming')
      // A confirmation the ledger refused waits for its next attempt (`#deferRefusedConfirmation`).
      .where((where) => where.or([where('next_attempt_at', 'is', null), where('next_attempt_at', '<=', now)]))
      .orderBy('updated_at')
      .limit(100)
      .execute();
    await eachRecordInTurn(rows, ledgerRecordOf, (row) => this.#recordConfirmation(row));
  }

  async #recordConfirmation(row: SettlementOutboxTable): Promise<void> {
    if (row.outcome === null || row.provider_reference === null || this.#inFlight.has(row.instruction_id)) return;
    this.#inFlight.add(row.instruction_id);
    try {
      let confirmTxId: string | null = null;
      try {
        const answer = {
          requestId: confirmationRequestId(row.instruction_id),
          instructionId: row.instruction_id,
          outcome: row.outcome,
          providerReference: providerReferenceOf(row.provider_reference),
          ...(row.payout_account_id === null ? {} : { payoutAccountId: row.payout_account_id }),
          ...(row.outcome === 'failed'
            ? { reason: providerReason(row.outcome_reason) ?? 'the provider reported a failure' }
            : {}),
        };
        // The contract that issued the instruction records its answer.
        const committed =
          row.source === 'licensing'
            ? await this.#options.ledger.licensing.confirmRoyaltyPayout({
                ...answer,
                grantId: row.agreement_id,
                periodId: row.milestone_id,
              })
            : await this.#options.ledger.agreements.confirmSettlement({
                ...answer,
                agreementId: row.agreement_id,
                milestoneId: row.milestone_id,
              });
        confirmTxId = committed.transactionId;
      } catch (error) {
        if (error instanceof RefusedError && error.code !== 'INVALID_STATE') {
          await this.#deferRefusedConfirmation(row, error);
          return;
        }
        // Answered already (e.g. by hand, or a write whose status was lost): the ledger is the record.
        if (!(error instanceof RefusedError)) {
          await this.#deferUnreachableConfirmation(row, error);
          return;
        }
      }
      this.#confirmationFailures.delete(row.instruction_id);
      await this.#move(row.instruction_id, ['confirming'], {
        state: 'confirmed',
        confirm_tx_id: confirmTxId,
        next_attempt_at: null,
      });
      this.#options.observer?.confirmationRecorded(row.outcome);
    } finally {
      this.#inFlight.delete(row.instruction_id);
    }
  }

  /**
   * The ledger refused to record the provider's answer for a reason of its own (the
   * service's organisation no longer settles, a peer not yet at the block that issued the
   * instruction, a governed parameter being changed): the answer stays on its row, still
   * `confirming` (it is the provider's, and a later contradicting callback is a conflict),
   * and is offered again after the longest backoff rather than on every sweep. `last_error`
   * names the refusal, `/metrics` counts it, and reconciliation reports the row as stuck
   * once it is old, for a person to see to the cause.
   */
  async #deferRefusedConfirmation(row: SettlementOutboxTable, refusal: RefusedError): Promise<void> {
    // The ledger answered: whatever kept it out of reach before is over.
    this.#confirmationFailures.delete(row.instruction_id);
    const delay = (this.#options.backoff ?? defaultBackoff).maxMs;
    const retryAt = new Date(this.#now().getTime() + delay).toISOString();
    const reason =
      `the ledger refused to record provider ${row.provider}'s ${row.outcome ?? '?'} answer ` +
      `(${refusal.code}: ${refusal.refusal}); offered again at ${retryAt}`;
    const deferred = await this.#move(row.instruction_id, ['confirming'], {
      next_attempt_at: retryAt,
      last_error: reason.slice(0, 500),
    });
    if (!deferred) return;
    this.#options.observer?.confirmationRefused?.(refusal.code);
    this.#options.log.error({ instructionId: row.instruction_id, code: refusal.code }, reason);
  }

  /**
   * The ledger could not be reached to record the provider's answer (peers or orderers
   * down, a timeout, a commit whose status was lost): the answer is offered again after
   * the backoff of its consecutive failures, with `last_error` naming the failure, so that
   * an outage is not answered with every waiting confirmation on every sweep.
   */
  async #deferUnreachableConfirmation(row: SettlementOutboxTable, error: unknown): Promise<void> {
    const failures = (this.#confirmationFailures.get(row.instruction_id) ?? 0) + 1;
    this.#confirmationFailures.set(row.instruction_id, failures);
    const retryAt = new Date(this.#now().getTime() + this.#ledgerBackoffMs(failures)).toISOString();
    const cause = error instanceof Error ? error.message : String(error);
    this.#options.observer?.ledgerUnreachable?.('confirmation');
    this.#options.log.warn(
      { err: error, instructionId: row.instruction_id, retryAt },
      'recording a settlement confirmation failed; will retry',
    );
    await this.#move(row.instruction_id, ['confirming'], {
      next_attempt_at: retryAt,
      last_error:
        `recording provider ${row.provider}'s ${row.outcome ?? '?'} answer failed (${cause}); offered again at ${retryAt}`.slice(
          0,
          500,
        ),
    });
  }

  /** The wait before the next try after `failures` consecutive failures to reach the ledger (or to store an entry). */
  #ledgerBackoffMs(failures: number): number {
    return nextAttemptDelayMs(failures, this.#options.backoff ?? defaultBackoff);
  }

  /** The providers holding instructions sent and not yet answered, by name. */
  async #providersOfSentInstructions(): Promise<Map<string, ProviderAdapter>> {
    const providers = new Map<string, ProviderAdapter>();
    const rows = await this.#db
      .selectFrom('settlement_outbox')
      .select(['provider', 'counterparty_msp', 'counterparty_user'])
      .where('state', '=', 'sent')
      .groupBy(['provider', 'counterparty_msp', 'counterparty_user'])
      .execute();
    for (const row of rows) {
      const provider =
        this.#options.providerNamed?.(row.provider) ??
        this.#options.providerFor({ mspId: row.counterparty_msp, userId: row.counterparty_user });
      if (provider.name === row.provider) providers.set(provider.name, provider);
    }
    return providers;
  }

  /**
   * A provider that batches orders (a bank's files) has taken them once `send` returns,
   * but hands them to the bank only with a full batch or when the oldest has waited long
   * enough; this is what makes the second happen.
   */
  async #flushDueBatches(providersOfSent: ReadonlyMap<string, ProviderAdapter>): Promise<void> {
    for (const provider of providersOfSent.values()) await provider.flushDue?.();
  }

  async #collectFileConfirmations(providersOfSent: ReadonlyMap<string, ProviderAdapter>): Promise<void> {
    for (const provider of providersOfSent.values()) {
      if (provider.pendingConfirmations === undefined) continue;
      const confirmations = await provider.pendingConfirmations();
      // Each entry on its own: one that cannot be taken now (a database failure) stays
      // unacknowledged and is handed out again, while the statement's others are done with.
      const taken: ProviderConfirmation[] = [];
      const failed = this.#statementEntryFailures.get(provider.name) ?? new Map<string, RetryWait>();
      this.#statementEntryFailures.set(provider.name, failed);
      // An entry no longer handed out (its statement taken away) is forgotten.
      const handedOut = new Set<string>();
      for (const confirmation of confirmations) {
        // A statement entry has no webhook id; the instruction id and outcome identify it.
        const entryId = `file:${confirmation.instructionId}:${confirmation.outcome}`;
        handedOut.add(entryId);
        if ((failed.get(entryId)?.notBefore ?? 0) > this.#now().getTime()) continue;
        try {
          const answer = await this.acceptConfirmation(provider.name, entryId, confirmation);
          if (answer.status === 'refused')
            await this.#setAsideRefusedStatementEntry(provider.name, confirmation, answer);
          failed.delete(entryId);
          taken.push(confirmation);
        } catch (error) {
          const failures = (failed.get(entryId)?.failures ?? 0) + 1;
          const retryAt = this.#now().getTime() + this.#ledgerBackoffMs(failures);
          failed.set(entryId, { failures, notBefore: retryAt });
          this.#options.log.error(
            {
              err: error,
              provider: provider.name,
              instructionId: confirmation.instructionId,
              retryAt: new Date(retryAt).toISOString(),
            },
            'a statement entry could not be taken; it is read again after a backoff',
          );
        }
      }
      for (const entryId of failed.keys()) if (!handedOut.has(entryId)) failed.delete(entryId);
      if (taken.length > 0) await provider.acknowledge?.(taken);
    }
  }

  /**
   * A bank's statement entry that does not fit the instruction it names (another amount
   * or currency: a return net of charges, a payout converted by the bank) is not recorded
   * on the ledger, and no one will send it again, unlike a refused webhook. An instruction
   * still waiting for its answer becomes a dead letter quoting the entry, so that a person
   * checks with the bank and answers it by hand; the statement file is kept as processed.
   * Entries naming no instruction sent to this bank are only logged.
   */
  async #setAsideRefusedStatementEntry(
    provider: string,
    confirmation: ProviderConfirmation,
    answer: Extract<CallbackResult, { status: 'refused' }>,
  ): Promise<void> {
    const entry =
      `${provider}'s statement answered ${confirmation.outcome} for ${confirmation.amountMinor.toString()} ` +
      `${confirmation.currency} (minor units) as ${confirmation.providerReference}`;
    const setAside =
      answer.code === 'CONFIRMATION_MISMATCH' &&
      (await this.#move(confirmation.instructionId, ['sending', 'sent', 'retry'], {
        state: 'dead',
        last_error:
          `${entry}, which does not fit it (${answer.message}); an operator checks with the bank and answers it by hand`.slice(
            0,
            500,
          ),
      }));
    this.#options.log.error(
      { instructionId: confirmation.instructionId, provider, code: answer.code, setAside },
      `a statement entry was not taken: ${entry}: ${answer.message}`,
    );
  }

  async #retryHeld(): Promise<void> {
    const due = await this.#db
      .selectFrom('settlement_held')
      .selectAll()
      .where('retry_due', '=', 1)
      .where('cleared_at', 'is', null)
      .limit(50)
      .execute();
    const now = this.#now().getTime();
    for (const held of due) {
      if ((this.#heldRetryFailures.get(held.instruction_id)?.notBefore ?? 0) > now) continue;
      try {
        await this.#options.ledger.agreements.retryHeldPayout({
          agreementId: held.agreement_id,
          milestoneId: held.milestone_id,
          instructionId: held.instruction_id,
        });
        this.#heldRetryFailures.delete(held.instruction_id);
        // The PayoutCleared event brings the instruction into the outbox.
        await this.#db
          .updateTable('settlement_held')
          .set({ retry_due: 0 })
          .where('instruction_id', '=', held.instruction_id)
          .execute();
      } catch (error) {
        // A refusal is the chaincode's answer and would be the same at the next sweep: the
        // retry waits for the next credential of the payee (which marks it due again). A
        // failure to reach the ledger is tried again after the backoff of its consecutive failures.
        if (!(error instanceof RefusedError)) {
          const failures = (this.#heldRetryFailures.get(held.instruction_id)?.failures ?? 0) + 1;
          // From the failure, not the sweep's start: the calls before it may have waited out timeouts.
          const retryAt = this.#now().getTime() + this.#ledgerBackoffMs(failures);
          this.#heldRetryFailures.set(held.instruction_id, { failures, notBefore: retryAt });
          this.#options.observer?.ledgerUnreachable?.('held-payout');
          this.#options.log.warn(
            { err: error, instructionId: held.instruction_id, retryAt: new Date(retryAt).toISOString() },
            'retrying a held payout failed; will retry',
          );
          continue;
        }
        this.#heldRetryFailures.delete(held.instruction_id);
        if (!['COMPLIANCE_HOLD', 'INVALID_STATE'].includes(error.code)) {
          this.#options.log.error(
            { instructionId: held.instruction_id, code: error.code },
            `the ledger refused to retry a held payout (${error.code}: ${error.refusal}); it is retried when the payee's next credential is issued`,
          );
        }
        await this.#db
          .updateTable('settlement_held')
          .set({
            retry_due: 0,
            ...(error.code === 'INVALID_STATE' ? { cleared_at: this.#now().toISOString() } : {}),
          })
          .where('instruction_id', '=', held.instruction_id)
          .execute();
      }
    }
  }

  /**
   * Why a person may not record `answer` to `instructionId` by hand, or undefined when
   * they may. This service answers every instruction it takes from its provider's
   * verified answer; a person answers only a dead letter (an instruction the provider
   * rejected or that ran out of attempts: "an operator decides"), or repeats the answer
   * already recorded (a retried request). Anything else would put a claim on the ledger
   * that the provider may contradict: a payout marked failed while the provider pays it
   * can be reissued and paid twice, an escrow marked paid that was never collected is
   * released from nothing. For the same reason a dead letter that was sent is answered
   * `failed` only when its provider's statement shows it neither paid nor pending: a
   * provider may hold an order it seemed to refuse (a lost answer, then a retry with other
   * details refused as a reused idempotency key).
   */
  async handAnswerRefusal(instructionId: string, answer: HandAnswer): Promise<string | undefined> {
    const row = await this.instruction(instructionId);
    if (row === undefined) {
      return `instruction ${instructionId} is not a dead letter of the settlement service: its provider's answer is recorded when it comes`;
    }
    if (row.state === 'dead') {
      return answer.outcome === 'failed' && row.attempts > 0 ? this.#heldByItsProvider(row) : undefined;
    }
    if (
      row.state === 'confirmed' &&
      row.outcome === answer.outcome &&
      row.provider_reference === answer.providerReference
    ) {
      return undefined;
    }
    const answered = row.outcome === null ? '' : ` and answered ${row.outcome}`;
    return `instruction ${instructionId} is with provider ${row.provider} (${row.state}${answered}); only its provider answers it, and only a dead letter is answered by hand`;
  }

  /**
   * Why the provider of a sent dead letter may still pay it (the latest entry of its
   * statement for it is paid or pending, or the statement cannot be read), or undefined
   * when its statement shows no entry for it or ends in a failure or return.
   */
  async #heldByItsProvider(row: SettlementOutboxTable): Promise<string | undefined> {
    const counterparty = { mspId: row.counterparty_msp, userId: row.counterparty_user };
    let provider: ProviderAdapter | undefined;
    try {
      provider = this.#options.providerNamed?.(row.provider) ?? this.#options.providerFor(counterparty);
    } catch {
      provider = undefined;
    }
    if (provider?.name !== row.provider) {
      return `instruction ${row.instruction_id} was sent to provider ${row.provider}, which is no longer configured, so its statement cannot show that it will not pay it; it is not answered failed by hand`;
    }
    const day = 86_400_000;
    let entries: readonly StatementEntry[];
    try {
      entries = await provider.statement(
        new Date(Date.parse(row.created_at) - day),
        new Date(this.#now().getTime() + day),
      );
    } catch (error) {
      return `provider ${row.provider}'s statement could not be read (${error instanceof Error ? error.message : String(error)}), so instruction ${row.instruction_id} is not answered failed by hand until it shows the provider will not pay it`;
    }
    // The latest entry decides: a booking the bank returned later will not pay (a return
    // booked at the same time as its booking follows it).
    const latest = entries
      .filter((entry) => entry.instructionId === row.instruction_id)
      .sort(
        (a, b) =>
          Date.parse(a.bookedAt) - Date.parse(b.bookedAt) ||
          Number(a.status === 'failed') - Number(b.status === 'failed'),
      )
      .at(-1);
    if (latest === undefined || latest.status === 'failed') return undefined;
    return `provider ${row.provider}'s statement lists instruction ${row.instruction_id} as ${latest.status} (${latest.providerReference}); answering it failed would let it be paid twice`;
  }

  /**
   * A person's answer to a dead letter is on the ledger: the row records it as confirmed,
   * so a late provider answer that contradicts it is reported as a conflict and
   * reconciliation compares the provider's statement with it.
   */
  async handAnswerRecorded(instructionId: string, answer: HandAnswer & { txId: string; by: Party }): Promise<void> {
    await this.#move(instructionId, ['dead'], {
      state: 'confirmed',
      outcome: answer.outcome,
      provider_reference: answer.providerReference,
      outcome_reason: `answered by hand by ${answer.by.mspId} user ${answer.by.userId}`.slice(0, 500),
      confirm_tx_id: answer.txId,
    });
  }

  /**
   * The ledger recorded an answer to an instruction this service has not handed to its
   * provider (queued, waiting for a retry, or a dead letter): someone else answered it (a
   * settlement identity of this organisation outside this service, say), so it is closed
   * as the ledger has it and never sent: sending it now would move money the ledger
   * already counts as moved, or as failed. Rows with the provider (being sent, sent, or
   * answered) are left: their answer comes from the provider, and reconciliation compares
   * the two. Its own confirmations find their rows confirmed (or confirming, after a
   * write whose status was lost: then recorded as the ledger has it).
   */
  async #answeredOnLedger(answer: LedgerAnswer, txId: string): Promise<void> {
    const closed = await this.#move(answer.instructionId, ['queued', 'retry', 'dead'], {
      state: 'confirmed',
      outcome: answer.outcome,
      provider_reference: answer.providerReference,
      outcome_reason:
        `answered ${answer.outcome} on the ledger by ${answer.by} in transaction ${txId} before this service sent it; not sent`.slice(
          0,
          500,
        ),
      confirm_tx_id: txId,
      next_attempt_at: null,
    });
    if (closed) {
      this.#options.log.warn(
        { instructionId: answer.instructionId, txId, by: answer.by },
        'settlement instruction answered on the ledger before it was sent: closed, not sent',
      );
      return;
    }
    await this.#move(answer.instructionId, ['confirming'], {
      state: 'confirmed',
      confirm_tx_id: txId,
      next_attempt_at: null,
    });
  }

  /** The outbox row of an instruction, or undefined when this service never took it. */
  async instruction(instructionId: string): Promise<SettlementOutboxTable | undefined> {
    return this.#db
      .selectFrom('settlement_outbox')
      .selectAll()
      .where('instruction_id', '=', instructionId)
      .executeTakeFirst();
  }

  /**
   * A party registered a payout account: instructions that waited for one are sent now
   * rather than at their next scheduled attempt.
   */
  async accountRegistered(party: Party): Promise<void> {
    await this.#db
      .updateTable('settlement_outbox')
      .set({ next_attempt_at: this.#now().toISOString() })
      .where('state', '=', 'retry')
      .where('counterparty_msp', '=', party.mspId)
      .where('counterparty_user', '=', party.userId)
      .execute();
    this.wake();
  }

  /** Outbox rows per state and the age of the oldest unconfirmed one, for metrics and status. */
  async stats(): Promise<{ byState: Record<OutboxState, number>; oldestOpenSeconds: number; held: number }> {
    const counts = await this.#db
      .selectFrom('settlement_outbox')
      .select(['state', sql<string | number>`count(*)`.as('count')])
      .groupBy('state')
      .execute();
    const byState = Object.fromEntries(
      (['queued', 'sending', 'retry', 'sent', 'confirming', 'confirmed', 'dead'] as const).map((state) => [state, 0]),
    ) as Record<OutboxState, number>;
    for (const row of counts) byState[row.state] = Number(row.count);
    const oldest = await this.#db
      .selectFrom('settlement_outbox')
      .select('created_at')
      .where('state', 'not in', ['confirmed', 'dead'])
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    const held = await this.#db
      .selectFrom('settlement_held')
      .select(sql<string | number>`count(*)`.as('count'))
      .where('cleared_at', 'is', null)
      .executeTakeFirst();
    return {
      byState,
      oldestOpenSeconds: oldest === undefined ? 0 : (this.#now().getTime() - Date.parse(oldest.created_at)) / 1000,
      held: Number(held?.count ?? 0),
    };
  }
}

/** A settlement answer recorded by a person rather than a provider. */
export interface HandAnswer {
  readonly outcome: 'paid' | 'failed';
  readonly providerReference: string;
}

/** Payouts replaced one after another that one check follows at most; a real chain holds a handful. */
const maxReissueChain = 100;

/**
 * Why the replacement of a failed payout must not be sent, or undefined when it may. Every
 * payout it replaces, back to the first (`reissue_of` from row to row), must have failed
 * at its provider, been answered failed by hand, or never been taken by one (a dead
 * letter); one paid, or still open with its provider, may pay the payee already, and the
 * replacement would pay them twice. The chain stops at a payout never sent from here.
 */
/**
 * The ledger record whose instruction a row answers: a milestone of an agreement, or a
 * closed royalty month of a grant. Every confirmation of one record rewrites it.
 */
function ledgerRecordOf(row: SettlementOutboxTable): string {
  return JSON.stringify([row.source, row.agreement_id, row.milestone_id]);
}

/**
 * Runs `work` on every item, the items of one record one after another in their order and
 * the records side by side. Two transactions rewriting one ledger record at once
 * invalidate each other (`MVCC_READ_CONFLICT`) and one must be endorsed and ordered again;
 * a co-owned royalty month's payouts, or a dispute's release and refund, are answered
 * together by the provider.
 */
export async function eachRecordInTurn<Item>(
  items: readonly Item[],
  recordOf: (item: Item) => string,
  work: (item: Item) => Promise<void>,
): Promise<void> {
  const byRecord = new Map<string, Item[]>();
  for (const item of items) {
    const record = recordOf(item);
    byRecord.set(record, [...(byRecord.get(record) ?? []), item]);
  }
  await Promise.all(
    [...byRecord.values()].map(async (inTurn) => {
      for (const item of inTurn) await work(item);
    }),
  );
}

async function reissueWithheld(
  trx: Transaction<SettlementTables>,
  instruction: LedgerInstruction,
): Promise<string | undefined> {
  let replaced = instruction.reissueOf;
  for (let step = 0; replaced !== undefined && step < maxReissueChain; step += 1) {
    const earlier = await trx
      .selectFrom('settlement_outbox')
      .select(['state', 'provider', 'outcome', 'provider_reference', 'reissue_of'])
      .where('instruction_id', '=', replaced)
      .executeTakeFirst();
    if (earlier === undefined) return undefined;
    const settledUnpaid =
      earlier.state === 'dead' ||
      ((earlier.state === 'confirming' || earlier.state === 'confirmed') && earlier.outcome === 'failed');
    if (!settledUnpaid) {
      const status =
        earlier.outcome === 'paid'
          ? `which provider ${earlier.provider} reported paid (reference ${earlier.provider_reference ?? '?'})`
          : `which is still open with provider ${earlier.provider} (${earlier.state})`;
      const via = replaced === instruction.reissueOf ? '' : ` by way of ${instruction.reissueOf ?? '?'}`;
      return `not sent: it replaces ${replaced}${via}, ${status}; paying it could pay twice, an operator decides`;
    }
    replaced = earlier.reissue_of ?? undefined;
  }
  return undefined;
}

/** An instruction as the outbox takes it in, from whichever contract issued it. */
interface LedgerInstruction {
  readonly instructionId: string;
  readonly source: InstructionSource;
  /** Agreement id, or grant id for a royalty. */
  readonly recordId: string;
  /** Milestone id, or royalty period for a royalty. */
  readonly itemId: string;
  readonly kind: string;
  readonly direction: 'collect' | 'payout';
  /** Who is debited (a collection) or paid (a payout). */
  readonly counterparty: Party;
  readonly amount: string;
  readonly platformFee: string;
  readonly currency: string;
  readonly requestTxId: string;
  readonly requestedAt: string;
  /** On a reissued payout: the failed instruction it replaces. */
  readonly reissueOf?: string;
  /** The organisation whose settlement service sends it; absent on instructions issued before the ledger named one. */
  readonly settlingOrganisation?: string;
}

/** What an agreement's and a licence's instructions both say: the order, its kind and money, and the request that made it. */
function orderOf(instruction: SettlementInstruction | RoyaltyInstruction) {
  const {
    instructionId,
    kind,
    amount,
    platformFee,
    currency,
    requestTxId,
    requestedAt,
    reissueOf,
    settlingOrganisation,
  } = instruction;
  return {
    instructionId,
    kind,
    amount,
    platformFee,
    currency,
    requestTxId,
    requestedAt,
    ...(reissueOf === undefined ? {} : { reissueOf }),
    ...(settlingOrganisation === undefined ? {} : { settlingOrganisation }),
  };
}

/**
 * The record an instruction moves money for, as outbox rows name it, and which way: escrow
 * is collected from the client and a licence's royalty or fee from the licensee; releases,
 * refunds and owners' payouts pay out.
 */
export function instructionRecord(instruction: SettlementInstruction | RoyaltyInstruction): InstructionRecord {
  return 'agreementId' in instruction
    ? {
        source: 'agreement',
        recordId: instruction.agreementId,
        itemId: instruction.milestoneId,
        direction: instruction.kind === 'fund-escrow' ? 'collect' : 'payout',
      }
    : {
        source: 'licensing',
        recordId: instruction.grantId,
        itemId: instruction.periodId,
        direction: instruction.kind === 'collection' ? 'collect' : 'payout',
      };
}

function fromAgreement(instruction: SettlementInstruction): LedgerInstruction {
  return {
    ...orderOf(instruction),
    ...instructionRecord(instruction),
    // Releases pay the freelancer; escrow is collected from, and refunds return to, the client.
    counterparty: instruction.kind === 'release' ? instruction.payee : instruction.payer,
  };
}

/** A collection debits the licensee; royalty and fee payouts pay one owner each. */
function fromLicensing(instruction: RoyaltyInstruction): LedgerInstruction {
  return {
    ...orderOf(instruction),
    ...instructionRecord(instruction),
    counterparty: instruction.kind === 'collection' ? instruction.payer : (instruction.payee ?? instruction.payer),
  };
}

/** An answer to an instruction recorded on the ledger, as a confirmation event carries it. */
interface LedgerAnswer {
  readonly instructionId: string;
  readonly outcome: 'paid' | 'failed';
  readonly providerReference: string | null;
  /** Who recorded it: `<mspId> user <userId>`. */
  readonly by: string;
}

const ledgerAnswerSchema = z.object({
  actor: z.object({ mspId: z.string(), userId: z.string().optional() }),
  instruction: z.object({
    instructionId: z.string(),
    status: z.enum(['paid', 'failed']),
    confirmation: z.object({ providerReference: z.string() }).optional(),
  }),
});

/** The answer a confirmation event (`confirmSettlement`, `confirmRoyaltyPayout`) recorded, if it is one. */
function ledgerAnswerOf(event: LedgerEvent): LedgerAnswer | undefined {
  if (
    event.name !== 'agreement.SettlementConfirmed' &&
    event.name !== `${licensingContractName}.RoyaltyPayoutConfirmed`
  ) {
    return undefined;
  }
  const parsed = ledgerAnswerSchema.safeParse(event.payload);
  if (!parsed.success) return undefined;
  const { actor, instruction } = parsed.data;
  return {
    instructionId: instruction.instructionId,
    outcome: instruction.status,
    providerReference: instruction.confirmation?.providerReference ?? null,
    by: `${actor.mspId} user ${actor.userId ?? '?'}`,
  };
}

/**
 * The settlement work a committed event carries: instructions to send, payouts held for
 * compliance (agreements only), and whether it cleared a held payout. Undefined for
 * events of contracts that issue no instructions.
 */
function instructionsOf(
  event: LedgerEvent,
):
  | { requests: LedgerInstruction[]; held: SettlementInstruction[]; cleared: boolean }
  | { malformed: string }
  | undefined {
  if (event.name.startsWith('agreement.')) {
    const base = agreementEventBaseSchema.safeParse(event.payload);
    if (!base.success) return { malformed: 'agreement event without its base' };
    return {
      requests: base.data.settlementRequests.map(fromAgreement),
      held: base.data.heldPayouts,
      cleared: event.name === 'agreement.PayoutCleared',
    };
  }
  if (event.name.startsWith(`${licensingContractName}.`)) {
    const base = licensingEventBaseSchema.safeParse(event.payload);
    if (!base.success) return { malformed: 'licensing event without its base' };
    return { requests: base.data.settlementRequests.map(fromLicensing), held: [], cleared: false };
  }
  return undefined;
}

/** The ledger accepts references of letters, digits and `._:/-`; anything else a provider sends is replaced. */
function providerReferenceOf(reference: string): string {
  const cleaned = reference.replace(/[^A-Za-z0-9._:/-]/g, '-').slice(0, 128);
  return cleaned.length > 0 ? cleaned : 'unknown';
}
