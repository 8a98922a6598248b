import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processStartTicks } from './proc.js';
import { sleep } from './wait.js';

/** `settlement`: the payment provider the settlement service talks to (the local sandbox provider). */
export type ProcessKind = 'ca' | 'orderer' | 'peer' | 'chaincode' | 'api' | 'settlement';

/** A process this network started, identified by PID and kernel start time. */
export interface ProcessRecord {
  readonly name: string;
  readonly kind: ProcessKind;
  readonly pid: number;
  readonly startTicks: string;
  readonly ports: readonly number[];
  readonly log: string;
  readonly command: string;
  readonly startedAt: string;
  /** Free-form facts the status command shows, e.g. the chaincode package id. */
  readonly details?: Readonly<Record<string, string>>;
  /** Set when a command began stopping the process on purpose: it is not to be started again. */
  readonly stopping?: true;
}

export interface StartRequest {
  readonly name: string;
  readonly kind: ProcessKind;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly ports: readonly number[];
  /** The address the ports are bound on; 127.0.0.1 when absent. */
  readonly address?: string;
  readonly details?: Readonly<Record<string, string>>;
}

/**
 * The list of running network processes, kept in `<home>/run/processes.json`, so that
 * `down`, `status` and a later `up` find them again by PID.
 */
export class ProcessRegistry {
  readonly #file: string;
  readonly #logDir: string;

  constructor(runDir: string, logDir: string) {
    this.#file = path.join(runDir, 'processes.json');
    this.#logDir = logDir;
  }

  list(): ProcessRecord[] {
    if (!existsSync(this.#file)) return [];
    return JSON.parse(readFileSync(this.#file, 'utf8')) as ProcessRecord[];
  }

  find(name: string): ProcessRecord | undefined {
    return this.list().find((record) => record.name === name);
  }

  /** Records whose process is still the one we started. */
  running(): ProcessRecord[] {
    return this.list().filter(isAlive);
  }

  logFile(name: string): string {
    return path.join(this.#logDir, `${name}.log`);
  }

  /**
   * Starts a process in its own process group, detached from the terminal, with its
   * output appended to its log file, and records it.
   *
   * @throws Error when a live process of that name is already recorded.
   */
  start(request: StartRequest): ProcessRecord {
    const existing = this.find(request.name);
    if (existing !== undefined && isAlive(existing)) {
      throw new Error(`${request.name} is already running as PID ${existing.pid}`);
    }
    mkdirSync(this.#logDir, { recursive: true });
    mkdirSync(request.cwd, { recursive: true });
    const log = this.logFile(request.name);
    const logFd = openSync(log, 'a');
    try {
      const child = spawn(request.command, request.args, {
        cwd: request.cwd,
        env: request.env,
        detached: true,
        stdio: ['ignore', logFd, logFd],
      });
      if (child.pid === undefined) throw new Error(`could not start ${request.name}: ${request.command}`);
      child.unref();
      const startTicks = processStartTicks(child.pid);
      if (startTicks === undefined) {
        throw new Error(`${request.name} exited at once; see ${log}`);
      }
      const record: ProcessRecord = {
        name: request.name,
        kind: request.kind,
        pid: child.pid,
        startTicks,
        ports: request.ports,
        log,
        command: [request.command, ...request.args].join(' '),
        startedAt: new Date().toISOString(),
        ...(request.details === undefined ? {} : { details: request.details }),
      };
      this.#save([...this.list().filter((entry) => entry.name !== request.name), record]);
      return record;
    } finally {
      closeSync(logFd);
    }
  }

  /**
   * Stops one recorded process: SIGTERM to its process group, then SIGKILL after
   * `graceMs`. Only a process whose PID and start time both match is signalled. The
   * record is marked `stopping` first and removed once the process has ended.
   */
  async stop(name: string, graceMs = 15_000): Promise<void> {
    const record = this.find(name);
    if (record === undefined) return;
    // Marked before it is signalled, so a supervisor never takes its end for a crash.
    this.#save(this.list().map((entry) => (entry.name === name ? { ...entry, stopping: true as const } : entry)));
    await stopRecorded(record, graceMs);
    this.#save(this.list().filter((entry) => entry.name !== name));
  }

  /** Forgets records whose processes have ended, e.g. after a crash. */
  prune(): void {
    this.#save(this.list().filter(isAlive));
  }

  #save(records: ProcessRecord[]): void {
    mkdirSync(path.dirname(this.#file), { recursive: true });
    const temporary = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(records, null, 2)}\n`);
    renameSync(temporary, this.#file);
  }
}

export function isAlive(record: ProcessRecord): boolean {
  return processStartTicks(record.pid) === record.startTicks;
}

async function stopRecorded(record: ProcessRecord, graceMs: number): Promise<void> {
  if (!isAlive(record)) return;
  signalGroup(record, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(record)) return;
    await sleep(100);
  }
  signalGroup(record, 'SIGKILL');
  while (isAlive(record)) await sleep(50);
}

function signalGroup(record: ProcessRecord, signal: NodeJS.Signals): void {
  try {
    // Each process was started as the leader of its own group; the negative PID
    // reaches anything it spawned as well.
    process.kill(-record.pid, signal);
  } catch {
    try {
      process.kill(record.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * A lock that keeps two `up`/`down` commands from working on one network at once.
 * A lock left by a process that has died is taken over.
 */
export class NetworkLock {
  readonly #file: string;

  constructor(runDir: string) {
    this.#file = path.join(runDir, 'lock');
  }

  /** @throws Error naming the PID that holds the lock. */
  acquire(purpose: string): void {
    mkdirSync(path.dirname(this.#file), { recursive: true });
    const holder = this.holder();
    if (holder !== undefined) {
      throw new Error(
        `another command (PID ${holder.pid}: ${holder.purpose}) is working on this network; wait for it or stop it`,
      );
    }
    rmSync(this.#file, { force: true });
    const ticks = processStartTicks(process.pid) ?? '';
    writeFileSync(this.#file, JSON.stringify({ pid: process.pid, ticks, purpose }), { flag: 'wx' });
  }

  /**
   * Takes the lock as {@link acquire} does, waiting up to `waitMs` for another process to
   * release it (e.g. `npm start` starting a crashed node again).
   *
   * @throws Error naming the PID that still holds the lock after `waitMs`.
   */
  async acquireWithin(purpose: string, waitMs: number, pollMs = 250): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (this.holder() !== undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    this.acquire(purpose);
  }

  holder(): { pid: number; purpose: string } | undefined {
    if (!existsSync(this.#file)) return undefined;
    try {
      const lock = JSON.parse(readFileSync(this.#file, 'utf8')) as { pid: number; ticks: string; purpose: string };
      if (lock.pid === process.pid) return undefined;
      return processStartTicks(lock.pid) === lock.ticks ? { pid: lock.pid, purpose: lock.purpose } : undefined;
    } catch {
      return undefined;
    }
  }

  release(): void {
    try {
      const lock = JSON.parse(readFileSync(this.#file, 'utf8')) as { pid: number };
      if (lock.pid === process.pid) rmSync(this.#file, { force: true });
    } catch {
      // No lock to release.
    }
  }
}
