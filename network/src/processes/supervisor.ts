import { isAlive, type ProcessKind, type ProcessRecord, type ProcessRegistry } from './registry.js';

/** Starts a stopped process again; resolves with its new PID once it serves. */
export type Restart = (record: ProcessRecord) => Promise<number | undefined>;

/** How long a restart waits, in ms, and when a process counts as having stayed up. */
export interface RestartBackoff {
  /** Wait before the first restart after a process stops. Default 1,000 ms. */
  readonly initialMs: number;
  /** Each restart of a process that did not stay up doubles the wait, up to this. Default 60,000 ms. */
  readonly maxMs: number;
  /** Up this long after a restart, a process's next stop waits `initialMs` again. Default 60,000 ms. */
  readonly stableMs: number;
}

export interface SupervisorOptions {
  readonly registry: ProcessRegistry;
  /** How to start a process of this record again, or undefined to only report that it stopped. */
  readonly restartOf: (record: ProcessRecord) => Restart | undefined;
  readonly report: (line: string) => void;
  /**
   * Held while a process is started again, so that a command stopping or changing the
   * network (which holds it too) never runs beside a restart; `acquire` throws while
   * another process holds it, and that restart waits for the next check.
   */
  readonly lock?: { acquire(purpose: string): void; release(): void };
  /** Called at each check that finds the registry empty: another command stopped everything. */
  readonly onNothingRecorded?: () => void;
  /**
   * How often the registry is checked, in ms; a check also follows each restart at once.
   * Default 1,000, so that a restart "in 1 s" happens then rather than at a later check.
   */
  readonly intervalMs?: number;
  readonly backoff?: Partial<RestartBackoff>;
}

/** Processes a network depends on start first: a peer needs its orderers, the API its peers. */
const startOrder: readonly ProcessKind[] = ['ca', 'orderer', 'peer', 'chaincode', 'settlement', 'api'];

interface Attempts {
  /** The wait before the next restart of this process, in ms. */
  delayMs: number;
  /** When the process was found stopped, or its last restart failed (ms since the epoch). */
  stoppedAt: number;
  /** When it was last started again (ms since the epoch). */
  restartedAt?: number;
}

/**
 * Keeps a network's recorded processes running, as `restart: unless-stopped` keeps a
 * Compose deployment's containers: a process that ends by itself (killed, crashed, out
 * of memory) is started again with its usual settings; one stopped on purpose
 * (`network:down`, `registry.stop`) has left the registry and stays stopped. A process
 * that dies again within `stableMs` of its restart waits twice as long before the next
 * one (1 s, 2 s, 4 s … 60 s), so a node that cannot start does not spin. Restarts run
 * one at a time, orderers before peers before the chaincode server and the API.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #backoff: RestartBackoff;
  readonly #attempts = new Map<string, Attempts>();
  readonly #reported = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #restarting: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#backoff = { initialMs: 1000, maxMs: 60_000, stableMs: 60_000, ...options.backoff };
  }

  /** Starts watching; checks at once and then every `intervalMs`. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.check();
    }, this.#options.intervalMs ?? 1000);
    this.check();
  }

  /** Stops watching and waits for a restart under way to finish. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#restarting;
  }

  /** One look at the registry: restarts the first stopped process whose wait is over. */
  check(): void {
    if (this.#restarting !== undefined) return;
    const now = Date.now();
    const stopped: ProcessRecord[] = [];
    const recorded = this.#options.registry.list();
    if (recorded.length === 0) this.#options.onNothingRecorded?.();
    for (const record of recorded) {
      if (record.stopping === true) continue;
      if (isAlive(record)) {
        this.#reported.delete(record.name);
        const attempts = this.#attempts.get(record.name);
        // Started by something else, or up long enough that its next stop starts the waits afresh.
        if (
          attempts !== undefined &&
          (attempts.restartedAt === undefined || now - attempts.restartedAt >= this.#backoff.stableMs)
        ) {
          this.#attempts.delete(record.name);
        }
        continue;
      }
      stopped.push(record);
    }
    // A record removed on purpose leaves no attempts behind.
    for (const name of this.#attempts.keys()) {
      if (!recorded.some((record) => record.name === name)) this.#attempts.delete(name);
    }
    stopped.sort((a, b) => startOrder.indexOf(a.kind) - startOrder.indexOf(b.kind));
    for (const record of stopped) {
      const restart = this.#options.restartOf(record);
      if (restart === undefined) {
        if (!this.#reported.has(record.name)) {
          this.#reported.add(record.name);
          this.#options.report(`warning: ${record.name} (PID ${record.pid}) has stopped; see ${record.log}`);
        }
        continue;
      }
      const attempts = this.#attemptsFor(record, now);
      if (now - attempts.stoppedAt < attempts.delayMs) continue;
      this.#restarting = this.#restart(record, restart, attempts).finally(() => {
        this.#restarting = undefined;
        // Another node may have been waiting behind this one: look again now, not at the next tick.
        if (this.#timer !== undefined)
          setImmediate(() => {
            this.check();
          });
      });
      return;
    }
  }

  #attemptsFor(record: ProcessRecord, now: number): Attempts {
    let attempts = this.#attempts.get(record.name);
    if (attempts === undefined) {
      attempts = { delayMs: this.#backoff.initialMs, stoppedAt: now };
      this.#attempts.set(record.name, attempts);
      this.#options.report(
        `warning: ${record.name} (PID ${record.pid}) has stopped; starting it again in ${formatMs(attempts.delayMs)} (see ${record.log})`,
      );
    } else if (attempts.restartedAt !== undefined) {
      // Stopped again soon after its restart (one that stayed up has no attempts left).
      attempts.delayMs = Math.min(attempts.delayMs * 2, this.#backoff.maxMs);
      attempts.stoppedAt = now;
      attempts.restartedAt = undefined;
      this.#options.report(
        `warning: ${record.name} (PID ${record.pid}) has stopped again; starting it again in ${formatMs(attempts.delayMs)} (see ${record.log})`,
      );
    }
    return attempts;
  }

  async #restart(record: ProcessRecord, restart: Restart, attempts: Attempts): Promise<void> {
    const lock = this.#options.lock;
    try {
      lock?.acquire(`restarting ${record.name}`);
    } catch {
      // Another command works on the network (e.g. stopping it); look again at the next check.
      return;
    }
    try {
      // What that command did before the lock was taken: stopped it on purpose, or started it.
      const current = this.#options.registry.find(record.name);
      if (current === undefined || current.stopping === true || isAlive(current)) return;
      const pid = await restart(current);
      attempts.restartedAt = Date.now();
      this.#options.report(`${record.name} started again${pid === undefined ? '' : ` as PID ${String(pid)}`}`);
    } catch (error) {
      attempts.delayMs = Math.min(attempts.delayMs * 2, this.#backoff.maxMs);
      attempts.stoppedAt = Date.now();
      this.#options.report(
        `warning: ${record.name} did not start again (${error instanceof Error ? error.message : String(error)}); ` +
          `trying again in ${formatMs(attempts.delayMs)}`,
      );
    } finally {
      lock?.release();
    }
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${String(ms)} ms` : `${String(Math.round(ms / 1000))} s`;
}
