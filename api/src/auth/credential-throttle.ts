import { AsyncLocalStorage } from 'node:async_hooks';
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../errors/api-error.js';

/** How many failed credentials a client address or an account may present within a window. */
export interface CredentialThrottleOptions {
  /** Failures (tokens, API keys, passwords) one client address may have within the window before it must wait (default 20). */
  readonly failuresPerAddress?: number;
  /** Failed logins for one user id from one client address within the window before that pair must wait (default 10). */
  readonly failuresPerAccount?: number;
  /**
   * Failed logins for one user id from all addresses together within the window before every
   * password login of that user id must wait (default 100): the ceiling against guessing
   * spread over many addresses. Much higher than the per-address limits, so that no single
   * address can reach it.
   */
  readonly failuresPerAccountAllAddresses?: number;
  /** Length of the window in milliseconds, counted from the first failure in it (default 15 minutes). */
  readonly windowMs?: number;
  /**
   * How many processes examine passwords side by side against the same counts (an API
   * cluster's workers, default 1). Each sees the others' failures only once they are
   * answered, so each assumes the others have as many guesses under way as itself: a
   * burst spread over N workers then examines no more than the limit, at the price of
   * refusing a lone guess up to N − 1 failures before the limit.
   */
  readonly examiningProcesses?: number;
  /**
   * How long a password waits for a place in its counters while others are examined
   * (default 5 s): a burst of sign-ins from one address is examined a few at a time rather
   * than refused; past this wait it is refused 429 saying so, with `Retry-After: 1`.
   */
  readonly queueMs?: number;
  /**
   * With `examiningProcesses` above 1, how long a failed attempt keeps its place after it
   * ends (default 1 s): the time the other processes' failures take to reach this one's counts.
   */
  readonly replayMs?: number;
}

/** A refusal to look at a credential because too many wrong ones came from the same place. */
export class CredentialsThrottledError extends ApiError {
  /** Seconds until the client may try again, for `Retry-After`. */
  readonly retryAfterSeconds: number;

  /**
   * @param busy refused for the passwords being checked at once, none of them failed yet,
   *   rather than for failures: said so, since the client did nothing wrong.
   */
  constructor(retryAfterSeconds: number, busy = false) {
    super(
      429,
      'RATE_LIMITED',
      busy
        ? `too many passwords from this address or for this account are being checked at once; try again in ${retryAfterSeconds} s`
        : `too many failed credentials; try again in ${retryAfterSeconds} s`,
    );
    this.name = 'CredentialsThrottledError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What the throttle counts under: the client address, and for logins the user id. */
export interface CredentialSubject {
  readonly address?: string | undefined;
  readonly account?: string | undefined;
  /**
   * What was presented: a password (the default) or a bearer token or API key. Each has
   * its own count per address, so bad tokens from one client do not close password login
   * to the others behind the same address.
   */
  readonly credential?: 'password' | 'token' | undefined;
}

/**
 * Counts failed credentials with three counters, as OWASP's Authentication Cheat Sheet
 * ("Account Lockout") advises so that lockout cannot be turned against a user:
 *
 * - per client address: every wrong password, and apart from them every wrong bearer
 *   token or API key;
 * - per (user id, client address): wrong passwords for one account from one address, so
 *   that an address guessing at an account locks only itself out of it;
 * - per user id over all addresses: a much higher ceiling against guessing one account
 *   from many addresses.
 *
 * Once a password's counter is full, passwords under it are refused 429 before being
 * examined, so a guess that happens to be right gets the same answer as a wrong one and
 * guessing gains nothing. Bearer tokens and API keys from a full address are still examined
 * (see `identifyCaller`): they cannot be guessed (a signature, 256 random bits), so only the
 * wrong ones are refused 429, and one client spraying bad tokens does not lock out the
 * others behind its address. Refused attempts are not counted, so hammering keeps a counter
 * full no longer than the window that its first failure opened. A correct password clears
 * its (user id, address) counter only.
 *
 * Held in memory, per process (rate-limiter-flexible's memory store; keys expire with
 * their window): behind a load balancer each instance counts on its own.
 */
export class CredentialThrottle {
  readonly #perAddress: RateLimiterMemory;
  readonly #tokensPerAddress: RateLimiterMemory;
  readonly #perAccountAndAddress: RateLimiterMemory;
  readonly #perAccount: RateLimiterMemory;
  readonly #requestAddress = new AsyncLocalStorage<string>();
  /** Attempts being examined now, by counter and key: each holds a place in its counters until it ends. */
  readonly #examining = new Map<string, number>();
  readonly #processes: number;
  readonly #windowMs: number;
  /** How long a password waits for a place while others are examined, before it is refused. */
  readonly #queueMs: number;
  /** How long a failed attempt keeps its place when other processes examine passwords too. */
  readonly #replayMs: number;
  /** Attempts waiting for a place, woken when one ends. */
  readonly #onPlaceFreed = new Set<() => void>();

  constructor(options: CredentialThrottleOptions = {}) {
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#processes = Math.max(1, options.examiningProcesses ?? 1);
    this.#queueMs = options.queueMs ?? 5_000;
    this.#replayMs = options.replayMs ?? 1_000;
    const duration = this.#windowMs / 1000;
    this.#perAddress = new RateLimiterMemory({
      keyPrefix: 'address',
      points: options.failuresPerAddress ?? 20,
      duration,
    });
    this.#tokensPerAddress = new RateLimiterMemory({
      keyPrefix: 'address-token',
      points: options.failuresPerAddress ?? 20,
      duration,
    });
    this.#perAccountAndAddress = new RateLimiterMemory({
      keyPrefix: 'account-address',
      points: options.failuresPerAccount ?? 10,
      duration,
    });
    this.#perAccount = new RateLimiterMemory({
      keyPrefix: 'account',
      points: options.failuresPerAccountAllAddresses ?? 100,
      duration,
    });
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
   * @throws CredentialsThrottledError when the address, the account from this address, or
   *   the account from all addresses has failed too often within the window.
   */
  async assertMayTry(subject: CredentialSubject): Promise<void> {
    const waits = await Promise.all(
      this.#counters(subject).map(async ([limiter, key]) => waitMs(limiter, await limiter.get(key))),
    );
    const wait = Math.max(0, ...waits);
    if (wait > 0) throw new CredentialsThrottledError(Math.max(1, Math.ceil(wait / 1000)));
  }

  /**
   * {@link assertMayTry} for a password about to be examined, holding its place in each of
   * the subject's counters until `end` is called (after {@link recordFailure} or
   * {@link recordSuccess}): attempts examined side by side (a batch of GraphQL operations,
   * aliases, parallel requests) count against the limit together, so no more of them are
   * examined than the counters have room for.
   *
   * A password that finds the places taken only by others under way waits for one (up to
   * `queueMs`) rather than being refused: a burst of right passwords then all get in.
   *
   * @returns the function that gives the places back, told whether the password failed
   *   (the default, as for an attempt that ended in an error); call it once, whatever the outcome.
   * @throws CredentialsThrottledError as {@link assertMayTry}, counting attempts under way
   *   (with the window's wait); after `queueMs` still waiting, one saying the passwords
   *   under way are why, with a wait of 1 s.
   */
  async beginAttempt(subject: CredentialSubject): Promise<(failed?: boolean) => void> {
    const counters = this.#counters(subject);
    const places = counters.map(([limiter, key]) => `${limiter.keyPrefix}\u0000${key}`);
    const deadline = Date.now() + this.#queueMs;
    for (;;) {
      const states = await Promise.all(counters.map(([limiter, key]) => limiter.get(key)));
      // From here to the return (or the wait) nothing awaits, so no other attempt checks in between.
      const roomFor = (underWay: (index: number) => number) =>
        counters.every(
          ([limiter], index) =>
            (states[index]?.consumedPoints ?? 0) + this.#processes * (underWay(index) + 1) <= limiter.points,
        );
      if (!roomFor(() => 0)) {
        // Full of failures: that lasts until the counter's window ends.
        const waits = states.map((state) => (state === null ? this.#windowMs : Math.max(1, state.msBeforeNext)));
        throw new CredentialsThrottledError(Math.max(1, Math.ceil(Math.max(0, ...waits) / 1000)));
      }
      if (roomFor((index) => this.#examining.get(places[index] ?? '') ?? 0)) break;
      // Full only of passwords under way (a burst of sign-ins, right or wrong): their
      // answers free the places, or fill the counter with failures, in moments.
      if (Date.now() >= deadline) throw new CredentialsThrottledError(1, true);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#onPlaceFreed.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const place of places) this.#examining.set(place, (this.#examining.get(place) ?? 0) + 1);
    let ended = false;
    const giveBack = () => {
      for (const place of places) {
        const left = (this.#examining.get(place) ?? 1) - 1;
        if (left === 0) this.#examining.delete(place);
        else this.#examining.set(place, left);
      }
      const waiting = [...this.#onPlaceFreed];
      this.#onPlaceFreed.clear();
      for (const wake of waiting) wake();
    };
    return (failed = true) => {
      if (ended) return;
      ended = true;
      // Alone, this process's counts are whole the moment an attempt ends. With other
      // workers, theirs reach it a moment later (replayed through the primary): a failed
      // attempt's place is held that much longer, so a guess waiting here is not examined
      // on counts that lack the failures the others' guesses of the same burst just had.
      // A right password gives its place back at once: a burst of sign-ins is not slowed.
      if (this.#processes === 1 || !failed) giveBack();
      else setTimeout(giveBack, this.#replayMs).unref();
    };
  }

  /** Counts one failed credential against every counter of the subject. */
  async recordFailure(subject: CredentialSubject): Promise<void> {
    await Promise.all(
      this.#counters(subject).map(([limiter, key]) =>
        // A rejection only says the counter is now full, which assertMayTry reads next time.
        limiter.consume(key).catch(() => undefined),
      ),
    );
  }

  /**
   * A correct password clears its account's failures from this address, not those from
   * other addresses nor the address's own: those may be someone else's.
   */
  async recordSuccess(subject: CredentialSubject): Promise<void> {
    const key = accountAddressKey(subject);
    if (key !== undefined) await this.#perAccountAndAddress.delete(key);
  }

  #counters(subject: CredentialSubject): [RateLimiterMemory, string][] {
    const counters: [RateLimiterMemory, string][] = [];
    if (present(subject.address)) {
      counters.push([subject.credential === 'token' ? this.#tokensPerAddress : this.#perAddress, subject.address]);
    }
    const pair = accountAddressKey(subject);
    if (pair !== undefined) counters.push([this.#perAccountAndAddress, pair]);
    if (present(subject.account)) counters.push([this.#perAccount, subject.account]);
    return counters;
  }
}

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/** The account with the address it was tried from; a login outside any request counts as from nowhere in particular. */
function accountAddressKey(subject: CredentialSubject): string | undefined {
  if (!present(subject.account)) return undefined;
  // JSON keeps a user id containing the separator from posing as another pair.
  return JSON.stringify([subject.account, subject.address ?? '']);
}

/** How long a counter is still full, 0 when it has room. */
function waitMs(limiter: RateLimiterMemory, state: RateLimiterRes | null): number {
  if (state === null || state.consumedPoints < limiter.points) return 0;
  return Math.max(1, state.msBeforeNext);
}
