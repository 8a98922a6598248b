/**
 * What the sandbox provider remembers about the orders it received, and how it keeps
 * that across restarts: one JSON file, replaced atomically after every change, so that a
 * crash leaves either the old or the new file and never half of one.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const callbackSchema = z.object({
  webhookId: z.string(),
  /** The exact bytes of the message: a re-delivery must send the same message. */
  body: z.string(),
  /** Position among all callbacks this sandbox has produced; drives the fault controls. */
  sequence: z.number().int().positive(),
  late: z.boolean(),
  /** Delivered twice on purpose, to exercise the receiver's replay detection. */
  duplicate: z.boolean(),
  /** POSTs made, successful or not. */
  attempts: z.number().int().nonnegative(),
  /** POSTs answered with 2xx. */
  deliveries: z.number().int().nonnegative(),
});

const paymentRecordSchema = z.object({
  instructionId: z.string(),
  providerReference: z.string(),
  /** Canonical JSON of the order's data, to tell a retry from a different order under the same key. */
  fingerprint: z.string(),
  direction: z.enum(['collect', 'payout']),
  amount: z.string(),
  currency: z.string(),
  payee: z.object({ holderName: z.string(), account: z.string() }),
  status: z.enum(['pending', 'paid', 'failed']),
  reason: z.string().optional(),
  receivedCount: z.number().int().positive(),
  executedCount: z.number().int().nonnegative(),
  receivedAt: z.string(),
  bookedAt: z.string().optional(),
  callback: callbackSchema.optional(),
});

const storeFileSchema = z.object({
  version: z.literal(1),
  callbackSequence: z.number().int().nonnegative(),
  payments: z.array(paymentRecordSchema),
});

/** The callback of an executed order, kept until the receiver has taken it. */
export type CallbackRecord = z.infer<typeof callbackSchema>;
/** One order as the sandbox keeps it. */
export type PaymentRecord = z.infer<typeof paymentRecordSchema>;

/** Everything the sandbox knows, as one serialisable value. */
export interface PaymentStoreState {
  callbackSequence: number;
  readonly payments: Map<string, PaymentRecord>;
}

const fileName = 'sandbox-payments.json';

/**
 * The payments of one sandbox, in memory and, when a data directory is given, on disk.
 * Writes are serialised; each writes the whole state as it is when the write starts, so
 * every save asked for while one write is under way is served by the one write after it
 * (a group commit): under load the number of writes follows the disk, not the requests.
 */
export class PaymentStore {
  readonly state: PaymentStoreState;
  readonly #file: string | undefined;
  #queue: Promise<void> = Promise.resolve();
  /** The write that has been asked for and not started yet; later saves join it. */
  #next: Promise<void> | undefined;
  #writes = 0;

  private constructor(state: PaymentStoreState, file: string | undefined) {
    this.state = state;
    this.#file = file;
  }

  /**
   * Opens the store of `dataDir` (created when missing), or an in-memory store.
   *
   * @throws Error when the file exists but is not a sandbox payment file: refusing to
   * start is better than forgetting payments and executing them again.
   */
  static async open(dataDir: string | undefined): Promise<PaymentStore> {
    if (dataDir === undefined) return new PaymentStore({ callbackSequence: 0, payments: new Map() }, undefined);
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, fileName);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return new PaymentStore({ callbackSequence: 0, payments: new Map() }, file);
    }
    const parsed = storeFileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${file} is not a sandbox payment file: ${parsed.error.message}`);
    const payments = new Map(parsed.data.payments.map((record) => [record.instructionId, record]));
    return new PaymentStore({ callbackSequence: parsed.data.callbackSequence, payments }, file);
  }

  /**
   * Writes the current state. Resolves once a write that started after this call has
   * reached the disk; calls made while a write is under way share the next one.
   *
   * @throws Error from the file system; the in-memory state is kept either way.
   */
  save(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    if (this.#next !== undefined) return this.#next;
    const write = this.#queue.then(() => {
      // From here on the state is taken as it is: a save asked for now needs a write of its own.
      this.#next = undefined;
      return this.#write(file);
    });
    this.#next = write;
    // One failed write must not stop the ones after it.
    this.#queue = write.catch(() => undefined);
    return write;
  }

  /** Writes of the whole state made so far. */
  get writes(): number {
    return this.#writes;
  }

  /** Resolves when every write asked for so far has finished. */
  async flushed(): Promise<void> {
    await this.#queue;
  }

  async #write(file: string): Promise<void> {
    this.#writes += 1;
    const temporary = `${file}.${process.pid}.${this.#writes}.tmp`;
    const content = JSON.stringify({
      version: 1,
      callbackSequence: this.state.callbackSequence,
      payments: [...this.state.payments.values()],
    });
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  }
}
