import { MemoryStore, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import type { PrimaryLink } from './primary-link.js';

/** The request kind the primary counts rate-limit hits under. */
export const rateLimitRequest = 'rate-limit';

/** One operation on a limit's counts, as a worker sends it to the primary. */
interface RateLimitOperation {
  readonly name: string;
  readonly windowMs: number;
  readonly operation: 'increment' | 'decrement' | 'resetKey';
  readonly key: string;
}

/**
 * An `express-rate-limit` store whose counts live in the cluster primary, so that every
 * HTTP worker charges the same count and N workers are not N times more permissive.
 * Each hit is one IPC round trip; nothing is cached in the worker, which would let a
 * caller spread a burst over the workers.
 *
 * Written here rather than taken from `@express-rate-limit/cluster-memory-store`: that
 * store fails a request after a fixed second without an answer, and a worker whose
 * event loop is busy for a second (its timers run before it reads the waiting answer)
 * then answers 500 to requests the primary had counted.
 */
export class PrimaryRateLimitStore implements Store {
  readonly #link: PrimaryLink;
  readonly #name: string;
  #windowMs = 60_000;
  /** The counts are the primary's, not this process's. */
  readonly localKeys = false;

  /** @param name tells this limit's counts apart from other limits' in the primary. */
  constructor(link: PrimaryLink, name: string) {
    this.#link = link;
    this.#name = name;
  }

  init(options: Options): void {
    this.#windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    return (await this.#send('increment', key)) as IncrementResponse;
  }

  async decrement(key: string): Promise<void> {
    await this.#send('decrement', key);
  }

  async resetKey(key: string): Promise<void> {
    await this.#send('resetKey', key);
  }

  #send(operation: RateLimitOperation['operation'], key: string): Promise<unknown> {
    return this.#link.request(rateLimitRequest, {
      name: this.#name,
      windowMs: this.#windowMs,
      operation,
      key,
    } satisfies RateLimitOperation);
  }
}

/**
 * The primary's side: one `MemoryStore` per limit name, created on a worker's first hit
 * with the window the worker's limit has.
 */
export function rateLimitCounts(): (payload: unknown) => Promise<unknown> {
  const stores = new Map<string, MemoryStore>();
  return async (payload) => {
    const { name, windowMs, operation, key } = payload as RateLimitOperation;
    let store = stores.get(name);
    if (store === undefined) {
      store = new MemoryStore();
      store.init({ windowMs } as Options);
      stores.set(name, store);
    }
    if (operation === 'increment') return store.increment(key);
    if (operation === 'decrement') await store.decrement(key);
    else await store.resetKey(key);
    return null;
  };
}
