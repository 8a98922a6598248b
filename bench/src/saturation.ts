import { setTimeout as delay } from 'node:timers/promises';
import { percentile } from './bench-network.js';

/** Thrown by {@link CallTimer.call} once a level's time is up, so a worker stops between calls. */
class LevelOver extends Error {}

/** Times one call of a workload; `commits` is how many ledger transactions the call commits. */
export interface CallTimer {
  /**
   * Times one call that commits `commits` transactions when it answers. `step` names the
   * call's place in a unit of several calls, so that a level can tell whether its window
   * held them in their steady proportions (see {@link LevelFigures.steady}).
   */
  call<T>(commits: number, run: () => Promise<T>, step?: string): Promise<T>;
}

/** What one in-flight level of a closed loop achieved. */
export interface LevelFigures {
  readonly inFlight: number;
  /** Calls answered within the measured window. */
  readonly calls: number;
  /** Calls that failed within the measured window (every failure of the level is in `failures`). */
  readonly callsFailed: number;
  /** Transactions committed by calls answered within the measured window. */
  readonly commits: number;
  /** The measured window, in seconds. */
  readonly seconds: number;
  /** From the level's start until the window opened, in seconds. */
  readonly warmupSeconds: number;
  /** Committed transactions per second, or calls per second for a workload that commits nothing. */
  readonly throughput: number;
  /** Per call answered within the window, in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /**
   * Failed calls of the whole level, warm-up and drain included, by kind (the ledger's
   * validation code, the HTTP status and error code, or the error's name).
   */
  readonly failures: ReadonlyMap<string, number>;
  /** Calls answered within the window by step, for a workload whose calls name theirs. */
  readonly steps: ReadonlyMap<string, number>;
  /**
   * Whether the window held the unit's steps in their steady proportions: each step's
   * calls at least {@link steadyStepShare} of the most frequent one's (true for a
   * workload without steps). A unit's steps differ in cost (a draft carries private data,
   * a read commits nothing), and all workers start their first unit at once; where one
   * call takes seconds the workers still move through their units in step when the
   * window opens, so the window holds mostly some steps, and its throughput is theirs,
   * not the workload's.
   */
  readonly steady: boolean;
}

/** The least share of the most frequent step's calls every step must have in a steady window. */
export const steadyStepShare = 0.5;

/**
 * A workload's one unit, run by a worker again and again; `worker` and `round` make its
 * ids unique. A failed call ends the unit; the worker counts it and starts the next one.
 */
export type Workload = (timer: CallTimer, worker: number, round: number) => Promise<void>;

/** The kind a failure is counted under: validation codes and error codes rather than whole messages. */
export function failureKind(error: unknown): string {
  // fetch says only "fetch failed"; what failed (a reset, a connect timeout) is its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const causeText = cause === undefined ? '' : ` (${typeof code === 'string' ? code : cause.name}: ${cause.message})`;
  const text = error instanceof Error ? `${error.name}: ${error.message}${causeText}` : String(error);
  const validation = /\b(MVCC_READ_CONFLICT|PHANTOM_READ_CONFLICT|ENDORSEMENT_POLICY_FAILURE|[A-Z_]+_CONFLICT)\b/.exec(
    text,
  );
  if (validation?.[1] !== undefined) return validation[1];
  // A chaincode refusal by its code: its message names the record, one kind per record otherwise.
  const refusal = /^(\w*Error): ([A-Z][A-Z_]+):/.exec(text);
  if (refusal?.[1] !== undefined && refusal[2] !== undefined) return `${refusal[1]} ${refusal[2]}`;
  const http = /answered (\d{3})\b.*?"code":"([A-Z_]+)"/.exec(text);
  if (http?.[1] !== undefined) return `HTTP ${http[1]} ${http[2] ?? ''}`.trim();
  const status = /answered (\d{3})/.exec(text);
  if (status?.[1] !== undefined) return `HTTP ${status[1]}`;
  return text.slice(0, 120);
}

/**
 * Called as a level's measured window opens and as it closes, e.g. to read each process's
 * CPU time over the window only. The level does not return before both have settled.
 */
export interface WindowHooks {
  opened(): void | Promise<void>;
  closed(): void | Promise<void>;
}

/**
 * The longest a level waits for every worker's first answer before it opens its window
 * anyway, in seconds: a call that takes longer than this is stuck, not queued.
 */
export const longestWarmupSeconds = 120;

/** How a level starts its workers. */
export interface LevelOptions {
  /**
   * Seconds over which the workers' first calls are spread evenly (worker i waits
   * i / inFlight of it), so that workers running units of several calls are at different
   * steps when the window opens; about one unit's duration at the level. 0 by default.
   */
  readonly rampSeconds?: number;
}

/**
 * Runs `workload` with `inFlight` workers: a closed loop, each worker starting its next
 * call when the previous one answers, so `inFlight` calls are always outstanding.
 *
 * Only the steady state is measured. All workers start at once, so until each has had
 * its first answer fewer than `inFlight` calls are queued at the far end and every
 * worker is at the same step of its unit; that warm-up is not counted. The window opens
 * once every worker has had an answer (or after {@link longestWarmupSeconds}) and lasts
 * `seconds`; throughput and latency are those of the calls answered within it. After it
 * closes no worker starts a call, and the calls still outstanding are waited for: their
 * failures are counted, their answers are not (with the queue draining, fewer calls are in
 * flight than the level names). With calls of several seconds at high levels, counting
 * ramp and drain made a level report less than its steady throughput.
 */
export async function runLevel(
  workload: Workload,
  inFlight: number,
  seconds: number,
  hooks?: WindowHooks,
  options: LevelOptions = {},
): Promise<LevelFigures> {
  const rampSeconds = options.rampSeconds ?? 0;
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const countFailure = (error: unknown) => {
    const kind = failureKind(error);
    failures.set(kind, (failures.get(kind) ?? 0) + 1);
  };
  let commits = 0;
  let callsFailed = 0;
  // Every step named during the level, and how many of its calls answered within the window.
  const stepCalls = new Map<string, number>();
  const started = performance.now();
  let windowStart: number | undefined;
  let windowEnd = Number.POSITIVE_INFINITY;
  let closed = false;
  // The window's hooks run in order, and the level waits for both.
  let hooksSettled = Promise.resolve();
  let closeTimer: NodeJS.Timeout | undefined;
  const close = () => {
    closed = true;
    if (hooks !== undefined) hooksSettled = hooksSettled.then(() => hooks.closed());
  };
  const open = () => {
    if (windowStart !== undefined) return;
    windowStart = performance.now();
    windowEnd = windowStart + seconds * 1000;
    clearTimeout(warmupLimit);
    if (hooks !== undefined) hooksSettled = hooksSettled.then(() => hooks.opened());
    closeTimer = setTimeout(close, seconds * 1000);
  };
  const warmupLimit = setTimeout(open, (rampSeconds + longestWarmupSeconds) * 1000);
  let workersAnswered = 0;
  const inWindow = (at: number) => windowStart !== undefined && at >= windowStart && at < windowEnd;

  const worker = async (index: number) => {
    let answered = false;
    const firstAnswer = () => {
      if (answered) return;
      answered = true;
      workersAnswered += 1;
      if (workersAnswered === inFlight) open();
    };
    const timer: CallTimer = {
      async call(committing, run, step) {
        if (closed) throw new LevelOver();
        if (step !== undefined && !stepCalls.has(step)) stepCalls.set(step, 0);
        const callStarted = performance.now();
        try {
          const value = await run();
          const answeredAt = performance.now();
          if (inWindow(answeredAt)) {
            latencies.push(answeredAt - callStarted);
            commits += committing;
            if (step !== undefined) stepCalls.set(step, (stepCalls.get(step) ?? 0) + 1);
          }
          return value;
        } catch (error) {
          countFailure(error);
          if (inWindow(performance.now())) callsFailed += 1;
          throw new LevelOver();
        } finally {
          firstAnswer();
        }
      },
    };
    if (rampSeconds > 0) await delay((index / inFlight) * rampSeconds * 1000);
    for (let round = 0; !closed; round += 1) {
      try {
        await workload(timer, index, round);
      } catch (error) {
        if (!(error instanceof LevelOver)) countFailure(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, (_, index) => worker(index)));
  } finally {
    clearTimeout(warmupLimit);
    clearTimeout(closeTimer);
  }
  await hooksSettled;
  const windowSeconds = windowStart === undefined ? 0 : seconds;
  const answered = commits > 0 ? commits : latencies.length;
  return {
    inFlight,
    calls: latencies.length,
    callsFailed,
    commits,
    seconds: windowSeconds,
    warmupSeconds: ((windowStart ?? performance.now()) - started) / 1000,
    throughput: windowSeconds > 0 ? answered / windowSeconds : 0,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failures,
    steps: stepCalls,
    steady: steadyMix(stepCalls),
  };
}

function steadyMix(steps: ReadonlyMap<string, number>): boolean {
  if (steps.size < 2) return true;
  const counts = [...steps.values()];
  return Math.min(...counts) >= steadyStepShare * Math.max(...counts);
}

/** A layer's levels and where its throughput stopped rising. */
export interface LayerFigures {
  readonly name: string;
  readonly unit: string;
  readonly levels: readonly LevelFigures[];
  /** The steady level with the highest throughput (the highest of all when none is steady). */
  readonly knee: LevelFigures;
}

/**
 * Watches something else during one level, e.g. CPU time per process over its measured
 * window: called as the level starts, it returns the window's hooks and what to call with
 * the level's figures once it has drained, which answers a line to report (or undefined
 * for none).
 */
export type LevelProbe = () => Promise<{
  readonly window?: WindowHooks;
  finish(figures: LevelFigures): Promise<string | undefined> | string | undefined;
}>;

/**
 * Levels in a row that must fail to beat the best throughput so far by 5% before the
 * search stops. Two stopped at a plateau that a busy shared machine makes of a curve
 * still rising (measured: L2 58.5 tx/s at 64 in flight, 44.7 at 128, 84.7 at 256); one
 * level more catches such a rise.
 */
export const flatLevelsToStop = 3;

/**
 * Raises the number of calls in flight level by level until throughput stops rising:
 * {@link flatLevelsToStop} levels in a row that do not beat the best so far by 5%, or the
 * last level.
 *
 * @throws Error when `levels` is empty.
 */
export async function findKnee(
  name: string,
  unit: string,
  workload: Workload,
  levels: readonly number[],
  seconds: number,
  report: (line: string) => void,
  probe?: LevelProbe,
  options: { readonly unitCalls?: number } = {},
): Promise<LayerFigures> {
  const measured: LevelFigures[] = [];
  let best: LevelFigures | undefined;
  let flat = 0;
  for (const inFlight of levels) {
    const watch = await probe?.();
    // A window shorter than a unit holds each worker's calls of a few steps only, so its mix
    // is only as steady as the workers' phases: it lasts a unit at least.
    const unitSeconds = rampFor(inFlight, options.unitCalls, measured.at(-1));
    const figures = await runLevel(workload, inFlight, Math.max(seconds, unitSeconds), watch?.window, {
      rampSeconds: unitSeconds,
    });
    measured.push(figures);
    report(`${name.padEnd(26)} ${formatLevel(figures, unit)}`);
    const probed = await watch?.finish(figures);
    if (probed !== undefined) report(`${''.padEnd(26)} ${probed}`);
    // A level whose window was not steady raises nothing: its throughput is some steps'.
    if (figures.steady && (best === undefined || figures.throughput > best.throughput * 1.05)) {
      flat = 0;
    } else {
      flat += 1;
    }
    if (figures.steady && (best === undefined || figures.throughput > best.throughput)) best = figures;
    if (flat >= flatLevelsToStop) break;
  }
  best ??= measured.reduce<LevelFigures | undefined>(
    (highest, level) => (highest === undefined || level.throughput > highest.throughput ? level : highest),
    undefined,
  );
  if (best === undefined) throw new Error('a layer needs at least one level');
  return { name, unit, levels: measured, knee: best };
}

/** The longest a level spreads its workers' starts over, in seconds. */
export const longestRampSeconds = 180;

/**
 * How long one unit of `unitCalls` calls takes with `inFlight` workers, by Little's law
 * from the calls per second the level before answered: a level spreads its workers'
 * starts over that (at most {@link longestRampSeconds}). None for single-call workloads
 * or the first level.
 */
export function rampFor(inFlight: number, unitCalls: number | undefined, previous: LevelFigures | undefined): number {
  if (unitCalls === undefined || unitCalls < 2 || previous === undefined || previous.seconds === 0) return 0;
  const callsPerSecond = previous.calls / previous.seconds;
  if (callsPerSecond <= 0) return 0;
  return Math.min(longestRampSeconds, (inFlight * unitCalls) / callsPerSecond);
}

/** Every level of a layer in one line, e.g. `8: 40.1, 16: 80.3, 32: 79.9 tx/s`; `*` marks a window that was not steady. */
export function formatCurve(layer: LayerFigures): string {
  return `${layer.levels.map((level) => `${level.inFlight}: ${level.throughput.toFixed(1)}${level.steady ? '' : '*'}`).join(', ')} ${layer.unit}`;
}

/** Failures of every level of a layer, by kind, e.g. `3× MVCC_READ_CONFLICT (at 256)`. */
export function formatFailures(layer: LayerFigures): string {
  const parts = layer.levels.flatMap((level) =>
    [...level.failures].map(([kind, count]) => `${count}× ${kind} (at ${level.inFlight})`),
  );
  return parts.length === 0 ? '0' : parts.join('; ');
}

export function failureCount(figures: LevelFigures): number {
  let total = 0;
  for (const count of figures.failures.values()) total += count;
  return total;
}

export function formatLevel(figures: LevelFigures, unit: string): string {
  const failures = [...figures.failures].map(([kind, count]) => `${count}× ${kind}`).join('; ');
  return (
    `${String(figures.inFlight).padStart(4)} in flight: ${figures.throughput.toFixed(1).padStart(7)} ${unit}, ` +
    `p50 ${figures.p50.toFixed(0).padStart(5)} ms, p99 ${figures.p99.toFixed(0).padStart(5)} ms, ` +
    `${figures.calls} calls in ${figures.seconds.toFixed(0)} s after ${figures.warmupSeconds.toFixed(1)} s warm-up, ` +
    `${failureCount(figures)} failed${failures === '' ? '' : ` (${failures})`}` +
    (figures.steady ? '' : `; not steady (calls by step ${formatSteps(figures.steps)}): not a knee`)
  );
}

function formatSteps(steps: ReadonlyMap<string, number>): string {
  return [...steps].map(([step, count]) => `${step} ${count}`).join(', ');
}
