import type { RequestClaims } from '@gigledger/gateway';
import type { PrimaryLink } from './primary-link.js';
import type { PrimaryHandlers } from './worker-supervisor.js';

/** A worker asks the primary for its turn with a request id: answered once the turn is its. */
export const claimRequestIdRequest = 'claim-request-id';
/** A worker ends its turn (the payload is the token its claim was answered with). */
export const endRequestIdTurnRequest = 'end-request-id-turn';

/** The process id the primary's own sessions claim under; workers' ids start at 1. */
const primaryProcess = 0;

interface Turn {
  readonly token: number;
  readonly process: number;
  readonly begin: () => void;
}

/**
 * The primary's queue of turns with each request id key, for every process of the API
 * cluster (see `RequestClaims` in the gateway package): the first claim of a key has its
 * turn at once, later ones in the order they came, each once the turn before it ended.
 * A process that exits (a worker crash) ends its turns and drops its claims.
 */
export class RequestIdTurns {
  #nextToken = 0;
  /** By key, the turn under way first and then those waiting. */
  readonly #queues = new Map<string, Turn[]>();
  readonly #keyOfToken = new Map<number, string>();

  /** Resolves with a token once `process` has its turn with `key`. */
  claim(key: string, process: number): Promise<number> {
    const token = (this.#nextToken += 1);
    return new Promise((resolve) => {
      const turn: Turn = {
        token,
        process,
        begin: () => {
          resolve(token);
        },
      };
      const queue = this.#queues.get(key);
      this.#keyOfToken.set(token, key);
      if (queue === undefined) {
        this.#queues.set(key, [turn]);
        turn.begin();
      } else {
        queue.push(turn);
      }
    });
  }

  /** Ends the turn (or drops the waiting claim) of `token`; an unknown token is ignored. */
  end(token: number): void {
    const key = this.#keyOfToken.get(token);
    if (key === undefined) return;
    this.#remove(key, (turn) => turn.token === token);
  }

  /** Ends every turn of `process` and drops its waiting claims. */
  forget(process: number): void {
    for (const key of [...this.#queues.keys()]) this.#remove(key, (turn) => turn.process === process);
  }

  /** Keys with a turn under way. */
  get size(): number {
    return this.#queues.size;
  }

  /** Claims for the primary's own sessions, taken without a message. */
  forPrimary(): RequestClaims {
    return {
      claim: async (key) => {
        const token = await this.claim(key, primaryProcess);
        return () => {
          this.end(token);
        };
      },
    };
  }

  #remove(key: string, removed: (turn: Turn) => boolean): void {
    const queue = this.#queues.get(key);
    if (queue === undefined) return;
    const current = queue[0];
    const kept = queue.filter((turn) => {
      if (!removed(turn)) return true;
      this.#keyOfToken.delete(turn.token);
      return false;
    });
    if (kept.length === 0) {
      this.#queues.delete(key);
      return;
    }
    this.#queues.set(key, kept);
    if (kept[0] !== current) kept[0]?.begin();
  }
}

/** What the primary serves of {@link RequestIdTurns} to its workers. */
export function requestIdTurnHandlers(turns: RequestIdTurns): PrimaryHandlers {
  return {
    [claimRequestIdRequest]: (payload, worker) => turns.claim((payload as { key: string }).key, worker),
    [endRequestIdTurnRequest]: (payload) => {
      turns.end((payload as { token: number }).token);
      return Promise.resolve(null);
    },
  };
}

/** A worker's claims, taken from the primary's {@link RequestIdTurns}. */
export function primaryRequestClaims(link: PrimaryLink): RequestClaims {
  return {
    async claim(key) {
      const token = (await link.request(claimRequestIdRequest, { key })) as number;
      return () => {
        // Nothing to do if it fails: the primary is gone, and with it every turn.
        link.request(endRequestIdTurnRequest, { token }).catch(() => undefined);
      };
    },
  };
}
