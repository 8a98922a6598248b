import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { PaymentOrder, ProviderAdapter, ProviderConfirmation, SendOutcome, StatementEntry } from '../provider.js';
import { controlSum } from './amount.js';
import { writeFileAtomic } from './atomic-file.js';
import { parseCamt054, type Camt054Transaction } from './camt054.js';
import { Iso20022Error } from './errors.js';
import { digestIdentifier, endToEndIdFor, maxIdentifierLength } from './identifiers.js';
import { buildPain001, checkPayoutOrder, readPain001, type Pain001Debtor } from './pain001.js';

/** Where the adapter keeps its files and whom it pays from. */
export interface Iso20022FileAdapterOptions {
  /** Configuration name of the provider. */
  readonly name: string;
  /** Directory the bank connector picks `pain.001` files up from; also holds the adapter's ledger. */
  readonly outbox: string;
  /** Directory the bank connector drops `camt.054` files into; processed ones move to `inbox/processed`. */
  readonly inbox: string;
  /** The platform's escrow account every payout is paid from. */
  readonly debtor: Pain001Debtor;
  /** A file is written as soon as this many orders wait (and on every {@link Iso20022FileAdapter.flush}). */
  readonly batchSize: number;
  /**
   * A file is also written once the oldest waiting order has waited this long, in ms
   * ({@link Iso20022FileAdapter.flushDue}), so that a quiet day's few payouts still leave.
   * Default 60,000.
   */
  readonly maxWaitMs?: number;
  /** Creation time of files and queuing time of orders; the system clock when left out. */
  readonly clock?: () => Date;
  /**
   * `MsgId` of a file (at most 35 characters, unique per bank customer). By default `GL`,
   * the creation time to the second, and a hash of the batch's instruction ids.
   */
  readonly messageId?: (createdAt: Date, instructionIds: readonly string[]) => string;
}

/** A `pain.001` file written by {@link Iso20022FileAdapter.flush}. */
export interface WrittenFile {
  readonly fileName: string;
  readonly messageId: string;
  readonly instructionIds: readonly string[];
}

/** Name of the adapter's ledger in the outbox: hidden, so connectors picking up `*.xml` ignore it. */
export const ledgerFileName = '.iso20022-ledger.json';
const processedDirectory = 'processed';

const storedOrderSchema = z.object({
  instructionId: z.string(),
  direction: z.enum(['collect', 'payout']),
  amountMinor: z.string().regex(/^\d+$/),
  currency: z.string(),
  counterparty: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('iban'), holderName: z.string(), iban: z.string(), bic: z.string() }),
    z.object({ kind: z.literal('provider'), holderName: z.string(), reference: z.string() }),
  ]),
  remittanceInformation: z.string(),
  requestedAt: z.string(),
  /** When the adapter queued the order (ISO 8601); orders queued before it was kept count as due. */
  queuedAt: z.string().optional(),
});

const ledgerSchema = z.object({
  version: z.literal(1),
  /** Orders accepted but not yet in a file: kept on disk so that an accepted order survives a restart. */
  pending: z.array(storedOrderSchema),
  /** Every instruction already written to a file, by instruction id. */
  written: z.record(
    z.string(),
    z.object({
      endToEndId: z.string(),
      file: z.string(),
      amountMinor: z.string(),
      currency: z.string(),
      iban: z.string(),
    }),
  ),
});

type Ledger = z.infer<typeof ledgerSchema>;
type StoredOrder = z.infer<typeof storedOrderSchema>;

function storeOrder(order: PaymentOrder, queuedAt: Date): StoredOrder {
  return {
    ...order,
    amountMinor: order.amountMinor.toString(),
    counterparty: { ...order.counterparty },
    queuedAt: queuedAt.toISOString(),
  };
}

function loadOrder({ queuedAt: _queuedAt, ...stored }: StoredOrder): PaymentOrder {
  return { ...stored, amountMinor: BigInt(stored.amountMinor) };
}

const defaultMaxWaitMs = 60_000;

function defaultMessageId(createdAt: Date, instructionIds: readonly string[]): string {
  const prefix = `GL${createdAt.toISOString().slice(0, 19).replace(/\D/g, '')}`;
  // Always a digest (19 base32 characters, 95 bits), never the ids themselves: a short
  // batch's ids would otherwise put their slashes and line breaks into the MsgId.
  return `${prefix}${digestIdentifier(instructionIds.join('\n'), maxIdentifierLength - prefix.length)}`;
}

function fileNameFor(messageId: string): string {
  return `pain001-${messageId.replace(/[^A-Za-z0-9_-]/g, '_')}.xml`;
}

const isDataFile = (name: string): boolean => name.endsWith('.xml') && !name.startsWith('.');

/**
 * A {@link ProviderAdapter} for banks reached by files: payouts go out as ISO 20022
 * `pain.001.001.09` credit transfer files in an outbox directory, and the bank's answers
 * come back as `camt.054` debit/credit notifications in an inbox directory. Moving the
 * files to and from the bank (EBICS, SFTP, host-to-host) is the connector's job.
 *
 * Guarantees: an accepted order is on disk before `send` returns (in the ledger's
 * pending list); every instruction id goes into at most one file, ever, because the
 * ledger of written ids is consulted before writing and updated right after; files and
 * ledger are replaced atomically. The file is written before the ledger records it, and
 * on start-up files in the outbox that the ledger does not know are read back, so a
 * crash between the two steps does not write the same payment twice unless the
 * connector took the file away in that instant. One adapter instance per outbox: calls
 * are serialised in the instance, not across processes.
 *
 * Collections are refused: a direct debit (`pain.008`) needs a mandate the ledger does
 * not hold.
 */
export class Iso20022FileAdapter implements ProviderAdapter {
  readonly name: string;
  readonly #options: Iso20022FileAdapterOptions;
  #ledger: Ledger | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Confirmations handed out by file, so that a file moves once all of its are acknowledged. */
  readonly #handedOut = new Map<string, Set<string>>();

  /**
   * @throws RangeError when `batchSize` is not a positive integer, or `maxWaitMs` not a whole number from 0.
   */
  constructor(options: Iso20022FileAdapterOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`batch size must be a positive integer, not ${options.batchSize}`);
    }
    if (options.maxWaitMs !== undefined && !(Number.isInteger(options.maxWaitMs) && options.maxWaitMs >= 0)) {
      throw new RangeError(`the longest wait must be a whole number of ms from 0, not ${options.maxWaitMs}`);
    }
    this.name = options.name;
    this.#options = options;
  }

  /**
   * Queues a payout for the next file (writing the file when the batch is full).
   * Resolves `accepted` when the order is safely queued or was already queued or written
   * with the same details (the EndToEndId is the provider reference), `rejected` for a
   * collection, an account that is not a valid IBAN/BIC, an amount or text the message
   * cannot carry, or an instruction id already used with different details, and `retry`
   * when the disk could not be written.
   *
   * @throws {@link Iso20022Error} `MALFORMED_FILE` when the ledger file is corrupt.
   */
  send(order: PaymentOrder): Promise<SendOutcome> {
    return this.#exclusive(async () => {
      if (order.direction === 'collect') {
        return {
          status: 'rejected',
          reason:
            'collections are not supported: ISO 20022 file payouts only (a pain.008 direct debit needs a mandate)',
        };
      }
      try {
        checkPayoutOrder(order);
      } catch (error) {
        if (error instanceof Iso20022Error) return { status: 'rejected', reason: error.detail };
        throw error;
      }
      const endToEndId = endToEndIdFor(order.instructionId);
      let ledger: Ledger;
      try {
        ledger = await this.#loadLedger();
        const known =
          ledger.written[order.instructionId] ?? ledger.pending.find((p) => p.instructionId === order.instructionId);
        if (known !== undefined) {
          const knownIban =
            'iban' in known ? known.iban : known.counterparty.kind === 'iban' ? known.counterparty.iban : '';
          if (
            known.amountMinor !== order.amountMinor.toString() ||
            known.currency !== order.currency ||
            knownIban !== order.counterparty.iban
          ) {
            return {
              status: 'rejected',
              reason: `instruction ${order.instructionId} was already sent with a different amount, currency or account`,
            };
          }
        } else {
          await this.#saveLedger({ ...ledger, pending: [...ledger.pending, storeOrder(order, this.#now())] });
        }
        if ((this.#ledger?.pending.length ?? 0) >= this.#options.batchSize) await this.#flushLocked();
      } catch (error) {
        if (error instanceof Iso20022Error) throw error;
        return {
          status: 'retry',
          reason: `could not write to ${this.#options.outbox}: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      return { status: 'accepted', providerReference: endToEndId };
    });
  }

  /**
   * Writes every queued order into a `pain.001` file in the outbox, in the order they were
   * queued: one file, or more when the amounts added up would pass the 18 digits a control
   * sum may have (ISO 20022 `DecimalNumber`), each file then holding as many as fit.
   *
   * @returns the last file written, or `undefined` when nothing was queued.
   * @throws {@link Iso20022Error} when the ledger is corrupt; the file system error when
   * the outbox cannot be written (the orders stay queued).
   */
  flush(): Promise<WrittenFile | undefined> {
    return this.#exclusive(() => this.#flushLocked());
  }

  /**
   * Writes the queued orders into a file when the oldest of them has waited `maxWaitMs`
   * (an order queued by a version that did not record when counts as due). The
   * settlement service calls it on every sweep.
   *
   * @returns the file written, or `undefined` when nothing was due.
   * @throws as {@link flush}.
   */
  flushDue(): Promise<WrittenFile | undefined> {
    return this.#exclusive(async () => {
      const ledger = await this.#loadLedger();
      const maxWaitMs = this.#options.maxWaitMs ?? defaultMaxWaitMs;
      const now = this.#now().getTime();
      const due = ledger.pending.some(
        (order) => order.queuedAt === undefined || now - Date.parse(order.queuedAt) >= maxWaitMs,
      );
      return due ? this.#flushLocked() : undefined;
    });
  }

  #now(): Date {
    return (this.#options.clock ?? (() => new Date()))();
  }

  /**
   * Confirmations from the `camt.054` files in the inbox for payouts this adapter wrote,
   * one per instruction and file; when a file books a payout and also returns it, the
   * return wins. Files are read in name order. They stay in the inbox, and their
   * confirmations are handed out again, until {@link acknowledge}; a file with no
   * confirmation in it moves to `inbox/processed` at once. Transactions the adapter did
   * not write (incoming credits, other payers) are left to {@link statement}.
   *
   * @throws {@link Camt054Error} naming the file when one cannot be read: a corrupt bank
   * file needs a person, and skipping it could lose a confirmation.
   */
  pendingConfirmations(): Promise<readonly ProviderConfirmation[]> {
    return this.#exclusive(async () => {
      const ledger = await this.#loadLedger();
      const byEndToEndId = new Map(Object.entries(ledger.written).map(([id, entry]) => [entry.endToEndId, id]));
      const confirmations: ProviderConfirmation[] = [];
      this.#handedOut.clear();
      for (const { fileName, transactions } of await this.#readInbox(false)) {
        const byInstruction = new Map<string, ProviderConfirmation>();
        for (const transaction of transactions) {
          const instructionId =
            transaction.endToEndId === undefined ? undefined : byEndToEndId.get(transaction.endToEndId);
          const { outcome, reason } = payoutOutcome(transaction);
          if (instructionId === undefined || outcome === 'pending') continue;
          if (byInstruction.get(instructionId)?.outcome === 'failed') continue;
          byInstruction.set(instructionId, {
            instructionId,
            outcome,
            providerReference: transaction.providerReference,
            amountMinor: transaction.amountMinor,
            currency: transaction.currency,
            ...(reason === undefined ? {} : { reason }),
          });
        }
        if (byInstruction.size === 0) {
          await this.#moveToProcessed(fileName);
          continue;
        }
        this.#handedOut.set(fileName, new Set([...byInstruction.values()].map(confirmationKey)));
        confirmations.push(...byInstruction.values());
      }
      return confirmations;
    });
  }

  /**
   * Records that confirmations were stored; a file all of whose confirmations are
   * acknowledged moves to `inbox/processed` (where {@link statement} still reads it).
   *
   * @throws the file system error when a file cannot be moved; it is then handed out again.
   */
  acknowledge(confirmations: readonly ProviderConfirmation[]): Promise<void> {
    return this.#exclusive(async () => {
      const acknowledged = new Set(confirmations.map(confirmationKey));
      for (const [fileName, keys] of [...this.#handedOut]) {
        for (const key of keys) if (acknowledged.has(key)) keys.delete(key);
        if (keys.size === 0) {
          await this.#moveToProcessed(fileName);
          this.#handedOut.delete(fileName);
        }
      }
    });
  }

  /**
   * Every transaction of the `camt.054` files seen (inbox and `inbox/processed`) booked
   * in `[from, to)`, for reconciliation. Debits and returns of payouts are `payout`
   * lines, other credits `collect` lines; a payout booked and later returned shows as
   * two lines, `paid` and `failed`. Transactions without an EndToEndId are left out,
   * since they cannot be matched to an instruction.
   *
   * @throws {@link Camt054Error} naming the file when one cannot be read.
   */
  statement(from: Date, to: Date): Promise<readonly StatementEntry[]> {
    return this.#exclusive(async () => {
      const ledger = await this.#loadLedger();
      const byEndToEndId = new Map(Object.entries(ledger.written).map(([id, entry]) => [entry.endToEndId, id]));
      const entries: StatementEntry[] = [];
      for (const { transactions } of await this.#readInbox(true)) {
        for (const transaction of transactions) {
          if (transaction.endToEndId === undefined) continue;
          const bookedAt = Date.parse(transaction.bookedAt);
          if (!(bookedAt >= from.getTime() && bookedAt < to.getTime())) continue;
          const payout = byEndToEndId.get(transaction.endToEndId);
          entries.push({
            instructionId: payout ?? transaction.endToEndId,
            providerReference: transaction.providerReference,
            direction: payout === undefined ? directionOf(transaction) : 'payout',
            amountMinor: transaction.amountMinor,
            currency: transaction.currency,
            status: payout === undefined ? transaction.outcome : payoutOutcome(transaction).outcome,
            bookedAt: transaction.bookedAt,
          });
        }
      }
      return entries;
    });
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #flushLocked(): Promise<WrittenFile | undefined> {
    let last: WrittenFile | undefined;
    for (;;) {
      const ledger = await this.#loadLedger();
      if (ledger.pending.length === 0) return last;
      const orders = withinControlSum(ledger.pending.map(loadOrder));
      const createdAt = this.#now();
      const instructionIds = orders.map((order) => order.instructionId);
      const messageId = (this.#options.messageId ?? defaultMessageId)(createdAt, instructionIds);
      const file = buildPain001(orders, {
        messageId,
        createdAt: createdAt.toISOString(),
        debtor: this.#options.debtor,
      });
      const fileName = fileNameFor(messageId);
      await writeFileAtomic(join(this.#options.outbox, fileName), file.xml);

      const written = { ...ledger.written };
      for (const order of orders) {
        written[order.instructionId] = {
          endToEndId: endToEndIdFor(order.instructionId),
          file: fileName,
          amountMinor: order.amountMinor.toString(),
          currency: order.currency,
          iban: order.counterparty.kind === 'iban' ? order.counterparty.iban : '',
        };
      }
      await this.#saveLedger({ version: 1, pending: ledger.pending.slice(orders.length), written });
      last = { fileName, messageId, instructionIds };
    }
  }

  async #loadLedger(): Promise<Ledger> {
    if (this.#ledger !== undefined) return this.#ledger;
    await mkdir(this.#options.outbox, { recursive: true });
    const path = join(this.#options.outbox, ledgerFileName);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    let ledger: Ledger = { version: 1, pending: [], written: {} };
    if (text !== undefined) {
      try {
        ledger = ledgerSchema.parse(JSON.parse(text));
      } catch (error) {
        throw new Iso20022Error(
          'MALFORMED_FILE',
          `${ledgerFileName} in ${this.#options.outbox} is not a valid ledger`,
          { fileName: ledgerFileName, cause: error },
        );
      }
    }
    this.#ledger = await this.#recover(ledger);
    return this.#ledger;
  }

  /** Moves pending orders that a file in the outbox already carries to `written` (crash after the file, before the ledger). */
  async #recover(ledger: Ledger): Promise<Ledger> {
    if (ledger.pending.length === 0) return ledger;
    const known = new Set(Object.values(ledger.written).map((entry) => entry.file));
    const pending = new Map(ledger.pending.map((order) => [endToEndIdFor(order.instructionId), order]));
    const written = { ...ledger.written };
    for (const fileName of (await readdir(this.#options.outbox))
      .filter((name) => isDataFile(name) && !known.has(name))
      .sort()) {
      const pain = readPain001(await readFile(join(this.#options.outbox, fileName), 'utf8'), fileName);
      for (const transaction of pain.transactions) {
        const order = pending.get(transaction.endToEndId);
        if (order === undefined) continue;
        pending.delete(transaction.endToEndId);
        written[order.instructionId] = {
          endToEndId: transaction.endToEndId,
          file: fileName,
          amountMinor: order.amountMinor,
          currency: order.currency,
          iban: order.counterparty.kind === 'iban' ? order.counterparty.iban : '',
        };
      }
    }
    if (pending.size === ledger.pending.length) return ledger;
    const recovered: Ledger = { version: 1, pending: [...pending.values()], written };
    this.#ledger = undefined;
    await this.#saveLedger(recovered);
    return recovered;
  }

  async #saveLedger(ledger: Ledger): Promise<void> {
    const sorted: Ledger = {
      version: 1,
      pending: ledger.pending,
      written: Object.fromEntries(Object.entries(ledger.written).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
    await writeFileAtomic(join(this.#options.outbox, ledgerFileName), `${JSON.stringify(sorted, null, 2)}\n`);
    this.#ledger = sorted;
  }

  async #readInbox(
    includeProcessed: boolean,
  ): Promise<{ fileName: string; transactions: readonly Camt054Transaction[] }[]> {
    const directories = includeProcessed
      ? [join(this.#options.inbox, processedDirectory), this.#options.inbox]
      : [this.#options.inbox];
    const files: { fileName: string; transactions: readonly Camt054Transaction[] }[] = [];
    for (const directory of directories) {
      let names: string[];
      try {
        names = (await readdir(directory, { withFileTypes: true }))
          .filter((entry) => entry.isFile() && isDataFile(entry.name))
          .map((entry) => entry.name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      for (const fileName of names.sort()) {
        const notification = parseCamt054(await readFile(join(directory, fileName), 'utf8'), fileName);
        files.push({ fileName, transactions: notification.transactions });
      }
    }
    return files;
  }

  async #moveToProcessed(fileName: string): Promise<void> {
    const target = join(this.#options.inbox, processedDirectory);
    await mkdir(target, { recursive: true });
    await rename(join(this.#options.inbox, fileName), join(target, fileName));
  }
}

function confirmationKey(confirmation: ProviderConfirmation): string {
  return [confirmation.instructionId, confirmation.providerReference, confirmation.outcome].join('\n');
}

/**
 * What a booked transaction says of a payout this adapter wrote: money credited back to
 * the escrow account under the payout's EndToEndId is a return, even when the bank shows
 * it only by its transaction code (no `RtrInf`, no reversal indicator).
 */
function payoutOutcome(transaction: Camt054Transaction): { outcome: Camt054Transaction['outcome']; reason?: string } {
  if (transaction.outcome === 'paid' && transaction.creditDebit === 'CRDT') {
    return { outcome: 'failed', reason: 'credited back to the escrow account by the bank (a return)' };
  }
  return { outcome: transaction.outcome, ...(transaction.reason === undefined ? {} : { reason: transaction.reason }) };
}

function directionOf(transaction: Camt054Transaction): 'collect' | 'payout' {
  return transaction.creditDebit === 'DBIT' || transaction.returned ? 'payout' : 'collect';
}

/**
 * The longest run of `orders` from the first whose control sum (all amounts added up as
 * decimals, `CtrlSum`) has at most 18 digits; at least the first order, which fits by itself
 * (`checkPayoutOrder` refused any that does not).
 */
function withinControlSum<Order extends { readonly amountMinor: bigint; readonly currency: string }>(
  orders: readonly Order[],
): Order[] {
  const fits = (count: number): boolean => {
    try {
      controlSum(orders.slice(0, count));
      return true;
    } catch (error) {
      if (error instanceof Iso20022Error && error.code === 'INVALID_AMOUNT') return false;
      throw error;
    }
  };
  // Almost always all of them: one sum. Otherwise the longest fitting run, found by halving
  // (a longer run's sum is never smaller).
  if (fits(orders.length)) return [...orders];
  let fitting = 1;
  let failing = orders.length;
  while (failing - fitting > 1) {
    const middle = Math.floor((fitting + failing) / 2);
    if (fits(middle)) fitting = middle;
    else failing = middle;
  }
  return orders.slice(0, fitting);
}
