import { AsyncLocalStorage } from 'node:async_hooks';
import { ApiError } from '../errors/api-error.js';

/** How many failed credentials a client address or an account may present within a window. */
export interface CredentialThrottleOptions {
  /** Failures one client address may have within the window before it must wait (default 20). */
  readonly failuresPerAddress?: number;
  /** Failed logins one user id may have within the window before it must wait (default 10). */
  readonly failuresPerAccount?: number;
  /** Length of the sliding window in milliseconds (default 15 minutes). */
  readonly windowMs?: number;
  /** Most keys (addresses and accounts) remembered at once (default 100,000). */
  readonly maxTracked?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** A refusal to look at a credential because too many wrong ones came from the same place. */
export class CredentialsThrottledError extends ApiError {
  /** Seconds until the client may try again, for `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(429, 'RATE_LIMITED', `too many failed credentials; try again in ${retryAfterSeconds} s`);
    this.name = 'CredentialsThrottledError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What the throttle counts under: the client address, and for logins the user id. */
export interface CredentialSubject {
  readonly address?: string | undefined;
  readonly account?: string | undefined;
}

/**
 * Counts failed credentials (bearer tokens, API keys, passwords) per client address and
 * per account over a sliding window, and refuses to examine further credentials from
 * either once it is over its limit, until the oldest failure leaves the window. A
 * refused attempt is not examined at all, so a guess that happens to be right gets the
 * same 429 as a wrong one and guessing gains nothing. Refused attempts are not counted
 * either: an attacker hammering someone's account keeps it closed no longer than the
 * window.
 *
 * Held in memory, per process: behind a load balancer each instance counts on its own.
 */
export class CredentialThrottle {
  readonly #perAddress: number;
  readonly #perAccount: number;
  readonly #windowMs: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  /** Failure times per key, oldest first, at most the key's limit of them. */
  readonly #failures = new Map<string, number[]>();
  readonly #requestAddress = new AsyncLocalStorage<string>();

  constructor(options: CredentialThrottleOptions = {}) {
    this.#perAddress = options.failuresPerAddress ?? 20;
    this.#perAccount = options.failuresPerAccount ?? 10;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#maxTracked = options.maxTracked ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs `work` (the rest of a request) with `address` as the client address that
   * failures inside it are charged to, so that a password check deep in a resolver is
   * counted against the address it came from.
   */
  runFor<T>(address: string, work: () => T): T {
    return this.#requestAddress.run(address, work);
  }

  /** The client address of the request being served, when {@link runFor} set one. */
  currentAddress(): string | undefined {
    return this.#requestAddress.getStore();
  }

  /**
   * @throws CredentialsThrottledError when the address or the account has failed too often within the window.
   */
  assertMayTry(subject: CredentialSubject): void {
    const wait = Math.max(
      this.#waitMs(addressKey(subject.address), this.#perAddress),
      this.#waitMs(accountKey(subject.account), this.#perAccount),
    );
    if (wait > 0) throw new CredentialsThrottledError(Math.max(1, Math.ceil(wait / 1000)));
  }

  /** Counts one failed credential against the address and the account. */
  recordFailure(subject: CredentialSubject): void {
    this.#record(addressKey(subject.address), this.#perAddress);
    this.#record(accountKey(subject.account), this.#perAccount);
  }

  /** A correct password clears its account's failures (not its address's: those are anyone's). */
  recordSuccess(subject: CredentialSubject): void {
    const key = accountKey(subject.account);
    if (key !== undefined) this.#failures.delete(key);
  }

  #waitMs(key: string | undefined, limit: number): number {
    if (key === undefined) return 0;
    const times = this.#recent(key);
    if (times === undefined || times.length < limit) return 0;
    // Full: the oldest failure still in the window decides when there is room again.
    return (times[0] ?? 0) + this.#windowMs - this.#now();
  }

  #record(key: string | undefined, limit: number): void {
    if (key === undefined) return;
    const times = this.#recent(key) ?? [];
    times.push(this.#now());
    if (times.length > limit) times.splice(0, times.length - limit);
    // Re-inserted so that the map's order is least recently failed first.
    this.#failures.delete(key);
    this.#failures.set(key, times);
    if (this.#failures.size > this.#maxTracked) this.#evict();
  }

  #recent(key: string): number[] | undefined {
    const times = this.#failures.get(key);
    if (times === undefined) return undefined;
    const horizon = this.#now() - this.#windowMs;
    while (times.length > 0 && (times[0] ?? 0) <= horizon) times.shift();
    if (times.length === 0) {
      this.#failures.delete(key);
      return undefined;
    }
    return times;
  }

  /**
   * Bounds memory when many addresses or user ids fail: forgets expired keys, then the
   * stalest, down to nine tenths of the bound so that the sweep is not repeated on every
   * further failure.
   */
  #evict(): void {
    const target = Math.floor(this.#maxTracked * 0.9);
    for (const key of [...this.#failures.keys()]) this.#recent(key);
    for (const key of this.#failures.keys()) {
      if (this.#failures.size <= target) break;
      this.#failures.delete(key);
    }
  }
}

function addressKey(address: string | undefined): string | undefined {
  return address === undefined || address === '' ? undefined : `address:${address}`;
}

function accountKey(account: string | undefined): string | undefined {
  return account === undefined || account === '' ? undefined : `account:${account}`;
}
