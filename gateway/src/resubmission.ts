import { setTimeout as delay } from 'node:timers/promises';

/**
 * Why a transaction was sent for ordering again (always the same signed transaction,
 * with the same id):
 *
 * - `unreachable`: no orderer took it (the gateway peer's Submit answered UNAVAILABLE),
 *   so nothing was ordered and the copy cannot land twice;
 * - `unanswered`: the hand-over to ordering timed out (an orderer that stopped
 *   answering had it) or its connection to the gateway peer dropped mid-call (the peer
 *   may have passed it on), so the first may yet be ordered and a copy land as
 *   DUPLICATE_TXID;
 * - `stalled`: its commit status has not come and no peer has committed a block for a
 *   while, so the ordering service has stopped cutting blocks (a Raft leader that took
 *   the transaction died, say) and may have lost it;
 * - `overdue`: its commit status has not come although blocks keep being committed,
 *   for much longer than recent commits took.
 *
 * A `stalled` or `overdue` copy of a transaction that was not lost lands as
 * DUPLICATE_TXID: harmless, but it costs ordering and validation on every peer, which
 * is why those two are sent only when the wait is out of the ordinary.
 */
export type ResubmitReason = 'unreachable' | 'unanswered' | 'stalled' | 'overdue';

/** Time as the commit wait sees it: injectable so that tests run on a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? {} : { signal }).catch(() => undefined),
};

/** When any peer last committed a block, in the clock's milliseconds; undefined while unknown. */
export interface BlockProgress {
  lastBlockAt(): number | undefined;
}

/**
 * The submit-to-commit latencies of the most recent transactions (of every session that
 * shares this object), so that "no commit status yet" can be judged against what is
 * normal on this network right now rather than a fixed guess.
 */
export class CommitLatencies {
  readonly #capacity: number;
  readonly #samples: number[] = [];
  #next = 0;

  /** @param capacity how many recent latencies to keep (256 by default). */
  constructor(capacity = 256) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError('capacity must be a positive whole number');
    this.#capacity = capacity;
  }

  /** Records one commit's latency in milliseconds. */
  record(ms: number): void {
    if (this.#samples.length < this.#capacity) {
      this.#samples.push(ms);
    } else {
      this.#samples[this.#next] = ms;
    }
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /**
   * The 99th percentile of the recent latencies in milliseconds; undefined until
   * `minimumSamples` (10 by default) have been recorded.
   */
  p99(minimumSamples = 10): number | undefined {
    if (this.#samples.length < minimumSamples) return undefined;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
  }
}

/** The limits {@link resubmitReason} applies, in milliseconds. */
export interface ResubmitLimits {
  /** No block on any peer for this long since the transaction was sent: ordering has stalled. */
  readonly stallMs: number;
  /** Never `overdue` before this long since the transaction was sent. */
  readonly overdueFloorMs: number;
  /** `overdue` after this many times the recent p99 commit latency (when longer than the floor). */
  readonly overdueFactor: number;
  /** Never wait longer than this for `overdue`, however slow recent commits were. */
  readonly overdueCeilingMs: number;
}

/** What {@link resubmitReason} judges by, all in the clock's milliseconds. */
export interface CommitWait {
  readonly now: number;
  /** When the transaction was last sent for ordering (first sent, or last re-sent). */
  readonly sentAt: number;
  /** When any peer last committed a block; undefined when block progress is not followed. */
  readonly lastBlockAt: number | undefined;
  /** Recent p99 commit latency; undefined while too few commits have been seen. */
  readonly recentP99: number | undefined;
}

/**
 * Whether a transaction whose commit status has not come yet should be sent for
 * ordering again, and why; undefined to keep waiting.
 *
 * Fabric's gateway service does not re-send on its own: its Submit tries the orderers
 * in random order and returns once one accepted the transaction (fabric
 * internal/pkg/gateway api.go, since fabric#2951), and CommitStatus only waits for the
 * transaction to appear on the peer's ledger; fabric-gateway's client leaves a lost
 * status to the application. An accepted transaction is lost only when the orderer
 * holding it dies before it is cut into a block, and then the ordering service stops
 * cutting blocks until Raft elects a new leader: so a quiet channel is the first sign
 * (`stalled`), and a wait far beyond recent commit latencies the backstop (`overdue`)
 * for a loss the other traffic hides. A commit that is merely slow, because peers are
 * busy validating, shows neither: blocks keep coming, and recent latencies are as slow.
 */
export function resubmitReason(wait: CommitWait, limits: ResubmitLimits): ResubmitReason | undefined {
  const waited = wait.now - wait.sentAt;
  if (wait.lastBlockAt !== undefined && wait.now - Math.max(wait.sentAt, wait.lastBlockAt) >= limits.stallMs) {
    return 'stalled';
  }
  const patience = Math.min(
    limits.overdueCeilingMs,
    Math.max(limits.overdueFloorMs, limits.overdueFactor * (wait.recentP99 ?? 0)),
  );
  return waited >= patience ? 'overdue' : undefined;
}
