import type { Webhook } from 'standardwebhooks';
import type { PaymentOrder, ProviderAdapter, SendOutcome, StatementEntry } from '../provider.js';
import {
  describeFirstIssue,
  idempotencyKeyHeader,
  isProtocolCurrency,
  paymentOrderAcceptedSchema,
  paymentOrderMessage,
  paymentOrderRequestedSchema,
  paymentOrdersPath,
  providerErrorSchema,
  statementEntriesFromResponse,
  statementResponseSchema,
  statementsPath,
} from './protocol.js';
import { newWebhookId, signatureHeaders, webhookSigner } from './signature.js';

/** How to reach one Standard Webhooks provider. */
export interface WebhookProviderAdapterOptions {
  /** Configuration name of the provider, also the `{provider}` of its callback URL. */
  readonly name: string;
  /** Base URL; the protocol's paths are appended to it. */
  readonly providerUrl: string;
  /** Secret (`whsec_…`) that signs our orders; the provider verifies with it. */
  readonly outboundSecret: string;
  /** Bearer token for the statement endpoint. */
  readonly apiKey: string;
  /** Time allowed for one request, answer included. Default 10 000. */
  readonly requestTimeoutMs?: number;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Default: the system clock. */
  readonly now?: () => Date;
}

/** The statement could not be obtained: unreachable provider, refusal, or an answer outside the protocol. */
export class ProviderStatementError extends Error {
  readonly provider: string;
  /** HTTP status of the provider's answer, when there was one. */
  readonly status: number | undefined;

  constructor(message: string, options: { provider: string; status?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'ProviderStatementError';
    this.provider = options.provider;
    this.status = options.status;
  }
}

/** Statuses after which the same order may succeed later: timeouts, conflicts in flight, throttling. */
const retryableStatuses = new Set([408, 409, 425, 429]);

/**
 * A provider that takes Standard-Webhooks-signed payment orders over HTTP and answers
 * with signed callbacks (see this folder's README). Sending is idempotent: every attempt
 * for an order carries the instruction id as `Idempotency-Key`.
 */
export class WebhookProviderAdapter implements ProviderAdapter {
  readonly name: string;
  /** A callback names the payment order id the provider answered the order with. */
  readonly confirmsUnderOrderReference = true;
  readonly #baseUrl: string;
  readonly #signer: Webhook;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => Date;

  /**
   * @throws TypeError when `outboundSecret` is not a `whsec_` secret or `providerUrl` is
   * not an http(s) URL.
   * @throws RangeError when `requestTimeoutMs` is not a positive integer.
   */
  constructor(options: WebhookProviderAdapterOptions) {
    const url = new URL(options.providerUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`provider ${options.name}: providerUrl must be http or https`);
    }
    const timeoutMs = options.requestTimeoutMs ?? 10_000;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`provider ${options.name}: requestTimeoutMs must be a positive integer`);
    }
    this.name = options.name;
    this.#baseUrl = url.href.replace(/\/+$/, '');
    this.#signer = webhookSigner(options.outboundSecret);
    this.#apiKey = options.apiKey;
    this.#timeoutMs = timeoutMs;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Hands one order to the provider: 2xx is `accepted` (202 new, 200 already known),
   * 408/409/425/429/5xx, a network error or a timeout is `retry`, any other answer is
   * `rejected` with the provider's code and message. An order the protocol cannot carry
   * is `rejected` without a request.
   *
   * Never throws: every failure is an outcome the dispatcher can store.
   */
  async send(order: PaymentOrder): Promise<SendOutcome> {
    if (!isProtocolCurrency(order.currency)) {
      return { status: 'rejected', reason: `CURRENCY_NOT_SUPPORTED: ${order.currency} is not carried by the protocol` };
    }
    const sentAt = this.#now();
    const message = paymentOrderMessage(order, sentAt);
    // The provider would refuse it anyway; refusing here names the field and spares a request.
    const valid = paymentOrderRequestedSchema.safeParse(message);
    if (!valid.success) {
      return { status: 'rejected', reason: `ORDER_INVALID: ${describeFirstIssue(valid.error, message)}` };
    }
    const body = JSON.stringify(message);
    // A fresh id per attempt: the order's identity is the Idempotency-Key, and a
    // provider that drops seen webhook-ids must not drop our retry.
    const headers = {
      ...signatureHeaders(this.#signer, newWebhookId(), sentAt, body),
      'content-type': 'application/json',
      [idempotencyKeyHeader]: order.instructionId,
    };
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.#baseUrl}${paymentOrdersPath}`, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      return { status: 'retry', reason: describeFetchFailure(error, this.#timeoutMs) };
    }
    if (response.status >= 200 && response.status < 300) {
      const accepted = paymentOrderAcceptedSchema.safeParse(parseJson(text));
      // The provider has the order whatever the body says; the reference then comes
      // with the callback or the statement.
      return accepted.success
        ? { status: 'accepted', providerReference: accepted.data.providerReference }
        : { status: 'accepted' };
    }
    const reason = describeRefusal(response.status, text);
    if (retryableStatuses.has(response.status) || response.status >= 500) return { status: 'retry', reason };
    return { status: 'rejected', reason };
  }

  /**
   * The provider's statement for the period from `from` to `to`, both included.
   *
   * @throws ProviderStatementError when the provider cannot be reached in time, answers
   * other than 200, or answers with something that is not a statement.
   */
  async statement(from: Date, to: Date): Promise<readonly StatementEntry[]> {
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.#baseUrl}${statementsPath}?${query.toString()}`, {
        headers: { authorization: `Bearer ${this.#apiKey}`, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new ProviderStatementError(describeFetchFailure(error, this.#timeoutMs), {
        provider: this.name,
        cause: error,
      });
    }
    if (response.status !== 200) {
      throw new ProviderStatementError(describeRefusal(response.status, text), {
        provider: this.name,
        status: response.status,
      });
    }
    const statement = parseJson(text);
    const parsed = statementResponseSchema.safeParse(statement);
    if (!parsed.success) {
      throw new ProviderStatementError(
        `the statement is not in the protocol: ${describeFirstIssue(parsed.error, statement)}`,
        {
          provider: this.name,
          status: response.status,
          cause: parsed.error,
        },
      );
    }
    return statementEntriesFromResponse(parsed.data);
  }
}

/** Backoff parameters for {@link nextAttemptDelayMs}. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  readonly baseMs: number;
  /** Ceiling of any delay. */
  readonly maxMs: number;
  /** A number in [0, 1); default `Math.random`. Injected by tests. */
  readonly random?: () => number;
}

/**
 * Delay before retry number `attempt` (1 for the first retry): exponential backoff with
 * full jitter, uniformly drawn from [0, min(maxMs, baseMs × 2^(attempt−1))). Full jitter
 * keeps many orders that failed together from retrying together.
 *
 * @throws RangeError when `attempt` is not a positive integer, `baseMs` is not positive,
 * or `maxMs` is below `baseMs`.
 */
export function nextAttemptDelayMs(attempt: number, options: BackoffOptions): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new RangeError('attempt must be a positive integer');
  if (!(options.baseMs > 0) || !Number.isFinite(options.baseMs)) throw new RangeError('baseMs must be positive');
  if (!(options.maxMs >= options.baseMs) || !Number.isFinite(options.maxMs)) {
    throw new RangeError('maxMs must be at least baseMs');
  }
  // 2 ** 1100 is Infinity, which min() turns into maxMs: no overflow for long outages.
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
  const draw = (options.random ?? Math.random)();
  return Math.floor(Math.min(Math.max(draw, 0), 1 - Number.EPSILON) * ceiling);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeRefusal(status: number, text: string): string {
  const body = providerErrorSchema.safeParse(parseJson(text));
  if (body.success) return `HTTP ${status} ${body.data.code}: ${body.data.message}`;
  const excerpt = text.trim().slice(0, 200);
  return excerpt === '' ? `HTTP ${status}` : `HTTP ${status}: ${excerpt}`;
}

function describeFetchFailure(error: unknown, timeoutMs: number): string {
  // Checked by shape, not instanceof: fetch's errors may come from another realm.
  const { name, message, cause } = errorShape(error);
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  // undici hides the socket error (ECONNREFUSED, ECONNRESET…) in the cause.
  const detail = errorShape(cause).message;
  return `network error: ${message ?? 'unknown'}${detail === undefined ? '' : `: ${detail}`}`;
}

function errorShape(error: unknown): { name?: string; message?: string; cause?: unknown } {
  if (typeof error !== 'object' || error === null) return {};
  const { name, message, cause } = error as { name?: unknown; message?: unknown; cause?: unknown };
  return {
    ...(typeof name === 'string' ? { name } : {}),
    ...(typeof message === 'string' ? { message } : {}),
    cause,
  };
}
