/**
 * A local payment provider that speaks the webhook protocol as a real one would, for
 * development and tests: it verifies signed orders, executes each order once whatever
 * the number of attempts, calls back with signed messages until the receiver answers
 * 2xx, and can be told to misbehave in the ways real providers do.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Webhook } from 'standardwebhooks';
import {
  describeFirstIssue,
  idempotencyKeyHeader,
  paymentOrderFromMessage,
  paymentOrderMessage,
  paymentOrderRequestedSchema,
  paymentOrdersPath,
  statementQuerySchema,
  statementsPath,
  type ParsedPaymentOrderRequested,
  type PaymentOrderCallbackMessage,
  type StatementResponseMessage,
} from '../webhook/protocol.js';
import { checkSignature, headerValue, newWebhookId, signatureHeaders, webhookSigner } from '../webhook/signature.js';
import { nextAttemptDelayMs, type BackoffOptions } from '../webhook/webhook-adapter.js';
import { PaymentStore, type PaymentRecord } from './payment-store.js';
import { duplicateMemberName } from '../json/member-names.js';

/** Path of the operators' view of every order received. */
export const sandboxPaymentsPath = '/v1/sandbox/payments';

/**
 * Code that starts the reason of the failed callback for an amount that ends in one of
 * `failAmountSuffixes`; a sentence saying why follows it, for the people who read it.
 */
export const amountRefusedReason = 'AMOUNT_REFUSED_BY_SANDBOX';

/** Code that starts the reason of the failed callback for an order to one of `failPayees`. */
export const payeeRefusedReason = 'PAYEE_REFUSED_BY_SANDBOX';

/** How the sandbox runs and how it misbehaves. */
export interface SandboxProviderOptions {
  /** Port on 127.0.0.1; 0 (default) asks the system for a free one. */
  readonly port?: number;
  /** Secret (`whsec_…`) the settlement service signs orders with. */
  readonly outboundSecret: string;
  /** Secret (`whsec_…`) the sandbox signs callbacks with. */
  readonly callbackSecret: string;
  /** Where callbacks are POSTed. */
  readonly callbackUrl: string;
  /** Bearer token of the statement and sandbox endpoints. */
  readonly apiKey: string;
  /** Directory of the payment file; in memory only when absent. */
  readonly dataDir?: string;
  /** Orders whose amount (minor units) ends in one of these digit strings fail. Default `['13']`. */
  readonly failAmountSuffixes?: readonly string[];
  /** Orders to a holder name, IBAN or provider reference in this list fail (case and spaces ignored). */
  readonly failPayees?: readonly string[];
  /** Every Nth callback is delivered twice with the same webhook-id; 0 (default) never. */
  readonly duplicateEvery?: number;
  /** Every Mth callback waits `lateMs` longer; 0 (default) never. */
  readonly lateEvery?: number;
  /** Extra wait of a late callback. Default 5000. */
  readonly lateMs?: number;
  /** Time between accepting an order and executing it (then calling back). Default 200. */
  readonly callbackDelayMs?: number;
  /** Backoff between failed callback attempts. Default 250 ms doubling up to 30 s. */
  readonly callbackRetry?: BackoffOptions;
  /** Time allowed for the receiver to answer one callback. Default 5000. */
  readonly callbackTimeoutMs?: number;
  /** One line per event; silent when absent. */
  readonly log?: (line: string) => void;
  /** Default: the system clock. */
  readonly now?: () => Date;
}

/** One order as operators and tests see it. */
export interface SandboxPaymentView {
  readonly instructionId: string;
  readonly providerReference: string;
  readonly direction: 'collect' | 'payout';
  readonly amount: string;
  readonly currency: string;
  readonly status: 'pending' | 'paid' | 'failed';
  readonly reason?: string;
  /** Requests that carried this order (its idempotency key). */
  readonly receivedCount: number;
  /** Times the payment was made or refused: 1 once executed, and never more. */
  readonly executedCount: number;
  readonly receivedAt: string;
  readonly bookedAt?: string;
  readonly callback?: {
    readonly webhookId: string;
    readonly attempts: number;
    readonly deliveries: number;
    readonly late: boolean;
    readonly duplicate: boolean;
  };
}

/** A running sandbox provider. */
export interface SandboxProvider {
  /** `http://127.0.0.1:PORT`, the `providerUrl` of the adapter. */
  readonly url: string;
  readonly port: number;
  /** Every order received, in the order of arrival. */
  payments(): readonly SandboxPaymentView[];
  /**
   * Stops listening and delivering, and waits for the payment file to be written.
   * Pending executions and undelivered callbacks resume when a sandbox opens the same
   * data directory.
   */
  close(): Promise<void>;
}

/**
 * Starts a sandbox provider on 127.0.0.1. Orders already in the data directory that
 * were not executed, or whose callback was not delivered, are resumed.
 *
 * @throws TypeError when a secret is not a `whsec_` secret or `callbackUrl` is not an
 * http(s) URL.
 * @throws RangeError when a count or delay is not a non-negative integer, or a fail
 * suffix is not digits.
 * @throws Error when the data directory holds a file that is not a sandbox payment file,
 * or the port cannot be bound.
 */
export async function startSandboxProvider(options: SandboxProviderOptions): Promise<SandboxProvider> {
  const settings = settingsOf(options);
  const store = await PaymentStore.open(options.dataDir);
  const sandbox = new SandboxProviderImpl(settings, store);
  await sandbox.listen(options.port ?? 0);
  return sandbox;
}

interface Settings {
  readonly orderSigner: Webhook;
  readonly callbackSigner: Webhook;
  readonly callbackUrl: string;
  readonly apiKey: string;
  readonly failAmountSuffixes: readonly string[];
  readonly failPayees: ReadonlySet<string>;
  readonly duplicateEvery: number;
  readonly lateEvery: number;
  readonly lateMs: number;
  readonly callbackDelayMs: number;
  readonly callbackRetry: BackoffOptions;
  readonly callbackTimeoutMs: number;
  readonly log: (line: string) => void;
  readonly now: () => Date;
}

function settingsOf(options: SandboxProviderOptions): Settings {
  const callbackUrl = new URL(options.callbackUrl);
  if (callbackUrl.protocol !== 'http:' && callbackUrl.protocol !== 'https:') {
    throw new TypeError('callbackUrl must be an http or https URL');
  }
  const failAmountSuffixes = options.failAmountSuffixes ?? ['13'];
  for (const suffix of failAmountSuffixes) {
    if (!/^[0-9]+$/.test(suffix)) throw new RangeError(`fail amount suffix "${suffix}" is not digits`);
  }
  return {
    orderSigner: webhookSigner(options.outboundSecret),
    callbackSigner: webhookSigner(options.callbackSecret),
    callbackUrl: callbackUrl.href,
    apiKey: options.apiKey,
    failAmountSuffixes,
    failPayees: new Set((options.failPayees ?? []).map(normalizePayee)),
    duplicateEvery: count('duplicateEvery', options.duplicateEvery ?? 0),
    lateEvery: count('lateEvery', options.lateEvery ?? 0),
    lateMs: count('lateMs', options.lateMs ?? 5000),
    callbackDelayMs: count('callbackDelayMs', options.callbackDelayMs ?? 200),
    callbackRetry: options.callbackRetry ?? { baseMs: 250, maxMs: 30_000 },
    callbackTimeoutMs: count('callbackTimeoutMs', options.callbackTimeoutMs ?? 5000),
    log: options.log ?? (() => undefined),
    now: options.now ?? (() => new Date()),
  };
}

function count(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}

function normalizePayee(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

/** A refusal to answer with: status, code and a sentence, as every provider error body is. */
class HttpRefusal extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const maxBodyBytes = 1024 * 1024;

class SandboxProviderImpl implements SandboxProvider {
  readonly #settings: Settings;
  readonly #store: PaymentStore;
  readonly #server: Server;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new AbortController();
  #port = 0;
  #closed = false;

  constructor(settings: Settings, store: PaymentStore) {
    this.#settings = settings;
    this.#store = store;
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#settings.log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) send(response, 500, { code: 'INTERNAL', message: 'the sandbox failed' });
        else response.destroy();
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    for (const record of this.#store.state.payments.values()) {
      if (record.status === 'pending') this.#schedule(() => this.#execute(record), this.#settings.callbackDelayMs);
      else if (record.callback !== undefined && !fullyDelivered(record)) this.#schedule(() => this.#deliver(record), 0);
    }
  }

  payments(): readonly SandboxPaymentView[] {
    return [...this.#store.state.payments.values()].map(viewOf);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#inFlight.abort();
    const stopped = new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
    this.#server.closeAllConnections();
    await stopped;
    await this.#store.flushed();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sandbox');
    try {
      if (url.pathname === '/healthz') {
        send(response, 200, { status: 'ok' });
      } else if (url.pathname === paymentOrdersPath) {
        requireMethod(request, 'POST');
        await this.#receiveOrder(request, response);
      } else if (url.pathname === statementsPath) {
        requireMethod(request, 'GET');
        this.#authenticate(request);
        send(response, 200, this.#statement(url.searchParams));
      } else if (url.pathname === sandboxPaymentsPath) {
        requireMethod(request, 'GET');
        this.#authenticate(request);
        send(response, 200, { payments: this.payments() });
      } else {
        throw new HttpRefusal(404, 'NOT_FOUND', `no endpoint ${url.pathname}`);
      }
    } catch (error) {
      if (!(error instanceof HttpRefusal)) throw error;
      send(response, error.status, { code: error.code, message: error.message });
    }
  }

  async #receiveOrder(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawBody = await readBody(request);
    const signature = checkSignature(this.#settings.orderSigner, request.headers, rawBody, this.#settings.now());
    if (!signature.ok) throw new HttpRefusal(signature.status, signature.code, signature.message);
    const message = parseOrder(rawBody);
    const idempotencyKey = headerValue(request.headers, idempotencyKeyHeader);
    if (idempotencyKey === undefined || idempotencyKey === '') {
      throw new HttpRefusal(400, 'IDEMPOTENCY_KEY_MISSING', `the ${idempotencyKeyHeader} header is required`);
    }
    if (idempotencyKey !== message.data.instructionId) {
      throw new HttpRefusal(400, 'IDEMPOTENCY_KEY_MISMATCH', `${idempotencyKeyHeader} must equal data.instructionId`);
    }
    const fingerprint = fingerprintOf(message);
    const known = this.#store.state.payments.get(idempotencyKey);
    if (known !== undefined) {
      if (known.fingerprint !== fingerprint) {
        throw new HttpRefusal(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          `${idempotencyKey} was already used for a different order; an idempotency key names one order`,
        );
      }
      known.receivedCount += 1;
      await this.#store.save();
      this.#settings.log(`order ${idempotencyKey} received again (${known.receivedCount} times); not executed again`);
      send(response, 200, { providerReference: known.providerReference });
      return;
    }
    const { data } = message;
    const record: PaymentRecord = {
      instructionId: data.instructionId,
      providerReference: `sbx_${randomUUID()}`,
      fingerprint,
      direction: data.direction,
      amount: data.amount.toString(),
      currency: data.currency,
      payee: {
        holderName: data.counterparty.holderName,
        account: data.counterparty.kind === 'iban' ? data.counterparty.iban : data.counterparty.reference,
      },
      status: 'pending',
      receivedCount: 1,
      executedCount: 0,
      receivedAt: this.#settings.now().toISOString(),
    };
    // Recorded before the first await, so a concurrent attempt with the same key finds it.
    this.#store.state.payments.set(record.instructionId, record);
    try {
      await this.#store.save();
    } catch (error) {
      // Unrecorded means not accepted: the sender's retry must find no trace of it.
      this.#store.state.payments.delete(record.instructionId);
      throw error;
    }
    this.#settings.log(`order ${record.instructionId} accepted as ${record.providerReference}`);
    send(response, 202, { providerReference: record.providerReference });
    this.#schedule(() => this.#execute(record), this.#settings.callbackDelayMs);
  }

  #authenticate(request: IncomingMessage): void {
    const given = Buffer.from(headerValue(request.headers, 'authorization') ?? '');
    const expected = Buffer.from(`Bearer ${this.#settings.apiKey}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpRefusal(401, 'UNAUTHENTICATED', 'a valid "Authorization: Bearer <api key>" header is required');
    }
  }

  #statement(query: URLSearchParams): StatementResponseMessage {
    const asked = { from: query.get('from') ?? undefined, to: query.get('to') ?? undefined };
    const parsed = statementQuerySchema.safeParse(asked);
    if (!parsed.success) throw new HttpRefusal(400, 'STATEMENT_QUERY_INVALID', describeFirstIssue(parsed.error, asked));
    const from = Date.parse(parsed.data.from);
    const to = Date.parse(parsed.data.to);
    const entries = [...this.#store.state.payments.values()]
      .map((record) => ({ record, bookedAt: record.bookedAt ?? record.receivedAt }))
      .filter(({ bookedAt }) => Date.parse(bookedAt) >= from && Date.parse(bookedAt) <= to)
      .sort((a, b) => Date.parse(a.bookedAt) - Date.parse(b.bookedAt))
      // The store only holds orders that passed the protocol's currency check.
      .map(({ record, bookedAt }) => ({ ...paymentOf(record), bookedAt }));
    return { entries };
  }

  async #execute(record: PaymentRecord): Promise<void> {
    if (record.status !== 'pending' || this.#closed) return;
    const reason = this.#refusalOf(record);
    const state = this.#store.state;
    state.callbackSequence += 1;
    const sequence = state.callbackSequence;
    const executedAt = this.#settings.now().toISOString();
    const callback: PaymentOrderCallbackMessage = {
      type: reason === undefined ? 'payment_order.paid' : 'payment_order.failed',
      timestamp: executedAt,
      data: {
        instructionId: record.instructionId,
        providerReference: record.providerReference,
        amount: record.amount,
        currency: record.currency,
        ...(reason === undefined ? {} : { reason }),
      },
    };
    record.status = reason === undefined ? 'paid' : 'failed';
    if (reason !== undefined) record.reason = reason;
    record.executedCount += 1;
    record.bookedAt = executedAt;
    const late = this.#settings.lateEvery > 0 && sequence % this.#settings.lateEvery === 0;
    record.callback = {
      webhookId: newWebhookId(),
      body: JSON.stringify(callback),
      sequence,
      late,
      duplicate: this.#settings.duplicateEvery > 0 && sequence % this.#settings.duplicateEvery === 0,
      attempts: 0,
      deliveries: 0,
    };
    await this.#saveOrLog();
    this.#settings.log(
      `order ${record.instructionId} executed: ${record.status}${reason === undefined ? '' : ` (${reason})`}`,
    );
    this.#schedule(() => this.#deliver(record), late ? this.#settings.lateMs : 0);
  }

  /** Why the sandbox refuses an order, as a code and a sentence (`CODE: why`), or undefined when it pays. */
  #refusalOf(record: PaymentRecord): string | undefined {
    const suffix = this.#settings.failAmountSuffixes.find((ending) => record.amount.endsWith(ending));
    if (suffix !== undefined) {
      return `${amountRefusedReason}: the sandbox provider refuses every amount whose minor units end in ${suffix}`;
    }
    const payees = this.#settings.failPayees;
    if (payees.has(normalizePayee(record.payee.holderName)) || payees.has(normalizePayee(record.payee.account))) {
      return `${payeeRefusedReason}: the sandbox provider refuses every payment to this payee`;
    }
    return undefined;
  }

  /** One POST of the callback; schedules the next one until the receiver has answered 2xx (twice for a duplicate). */
  async #deliver(record: PaymentRecord): Promise<void> {
    const callback = record.callback;
    if (callback === undefined || this.#closed) return;
    callback.attempts += 1;
    let outcome: string;
    let succeeded = false;
    try {
      const response = await fetch(this.#settings.callbackUrl, {
        method: 'POST',
        headers: {
          ...signatureHeaders(this.#settings.callbackSigner, callback.webhookId, this.#settings.now(), callback.body),
          'content-type': 'application/json',
        },
        body: callback.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#inFlight.signal, AbortSignal.timeout(this.#settings.callbackTimeoutMs)]),
      });
      await response.arrayBuffer();
      outcome = `HTTP ${response.status}`;
      succeeded = response.ok;
    } catch (error) {
      outcome = error instanceof Error ? error.message : String(error);
    }
    // close() may have run while the request was in flight.
    if (this.#isClosed()) return;
    if (succeeded) callback.deliveries += 1;
    await this.#saveOrLog();
    const delivered = fullyDelivered(record);
    this.#settings.log(
      `callback ${callback.webhookId} for ${record.instructionId}, attempt ${callback.attempts}: ${outcome}${delivered ? '' : succeeded ? '; delivering it again' : '; will retry'}`,
    );
    if (delivered) return;
    const failures = callback.attempts - callback.deliveries;
    this.#schedule(
      () => this.#deliver(record),
      succeeded ? 0 : nextAttemptDelayMs(failures, this.#settings.callbackRetry),
    );
  }

  /** In the background there is nobody to answer with an error; the state in memory stays right. */
  async #saveOrLog(): Promise<void> {
    try {
      await this.#store.save();
    } catch (error) {
      this.#settings.log(`could not write the payment file: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #isClosed(): boolean {
    return this.#closed;
  }

  #schedule(task: () => Promise<void>, delayMs: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task().catch((error: unknown) => {
        this.#settings.log(`background task failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    }, delayMs);
    this.#timers.add(timer);
  }
}

function fullyDelivered(record: PaymentRecord): boolean {
  const callback = record.callback;
  return callback !== undefined && callback.deliveries >= (callback.duplicate ? 2 : 1);
}

/** What a statement line and a payment view both say of a payment: which order it is, its amount and where it stands. */
function paymentOf(
  record: PaymentRecord,
): Pick<PaymentRecord, 'instructionId' | 'providerReference' | 'direction' | 'amount' | 'currency' | 'status'> {
  return {
    instructionId: record.instructionId,
    providerReference: record.providerReference,
    direction: record.direction,
    amount: record.amount,
    currency: record.currency,
    status: record.status,
  };
}

function viewOf(record: PaymentRecord): SandboxPaymentView {
  return {
    ...paymentOf(record),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    receivedCount: record.receivedCount,
    executedCount: record.executedCount,
    receivedAt: record.receivedAt,
    ...(record.bookedAt === undefined ? {} : { bookedAt: record.bookedAt }),
    ...(record.callback === undefined
      ? {}
      : {
          callback: {
            webhookId: record.callback.webhookId,
            attempts: record.callback.attempts,
            deliveries: record.callback.deliveries,
            late: record.callback.late,
            duplicate: record.callback.duplicate,
          },
        }),
  };
}

function parseOrder(rawBody: string): ParsedPaymentOrderRequested {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new HttpRefusal(400, 'ORDER_INVALID', 'the body is not JSON');
  }
  const duplicate = duplicateMemberName(rawBody);
  if (duplicate !== undefined) {
    throw new HttpRefusal(
      400,
      'ORDER_INVALID',
      `${duplicate.join('.')}: appears twice in one JSON object; member names must be unique`,
    );
  }
  const parsed = paymentOrderRequestedSchema.safeParse(json);
  if (!parsed.success) throw new HttpRefusal(400, 'ORDER_INVALID', describeFirstIssue(parsed.error, json));
  return parsed.data;
}

/** The order's data re-serialised in one key order, whatever order the sender wrote. */
function fingerprintOf(message: ParsedPaymentOrderRequested): string {
  return JSON.stringify(paymentOrderMessage(paymentOrderFromMessage(message), new Date(0)).data);
}

function requireMethod(request: IncomingMessage, method: string): void {
  if (request.method !== method) throw new HttpRefusal(405, 'METHOD_NOT_ALLOWED', `use ${method}`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) throw new HttpRefusal(413, 'BODY_TOO_LARGE', `at most ${maxBodyBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
