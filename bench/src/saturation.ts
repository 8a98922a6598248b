import { percentile } from './bench-network.js';

/** Thrown by {@link CallTimer.call} once a level's time is up, so a worker stops between calls. */
class LevelOver extends Error {}

/** Times one call of a workload; `commits` is how many ledger transactions the call commits. */
export interface CallTimer {
  call<T>(commits: number, run: () => Promise<T>): Promise<T>;
}

/** What one in-flight level of a closed loop achieved. */
export interface LevelFigures {
  readonly inFlight: number;
  readonly calls: number;
  readonly commits: number;
  readonly seconds: number;
  /** Committed transactions per second, or calls per second for a workload that commits nothing. */
  readonly throughput: number;
  /** Per call, in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Failed calls by kind (the ledger's validation code, the HTTP status and error code, or the error's name). */
  readonly failures: ReadonlyMap<string, number>;
}

/**
 * A workload's one unit, run by a worker again and again; `worker` and `round` make its
 * ids unique. A failed call ends the unit; the worker counts it and starts the next one.
 */
export type Workload = (timer: CallTimer, worker: number, round: number) => Promise<void>;

/** The kind a failure is counted under: validation codes and error codes rather than whole messages. */
export function failureKind(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const validation = /\b(MVCC_READ_CONFLICT|PHANTOM_READ_CONFLICT|ENDORSEMENT_POLICY_FAILURE|[A-Z_]+_CONFLICT)\b/.exec(
    text,
  );
  if (validation?.[1] !== undefined) return validation[1];
  const http = /answered (\d{3})\b.*?"code":"([A-Z_]+)"/.exec(text);
  if (http?.[1] !== undefined) return `HTTP ${http[1]} ${http[2] ?? ''}`.trim();
  const status = /answered (\d{3})/.exec(text);
  if (status?.[1] !== undefined) return `HTTP ${status[1]}`;
  return text.slice(0, 120);
}

/**
 * Runs `workload` with `inFlight` workers for `seconds`: a closed loop, each worker
 * starting its next call when the previous one answers, so `inFlight` calls are always
 * outstanding. After the time is up no worker starts a call; the level ends when the
 * calls still outstanding have answered, and its time includes them.
 */
export async function runLevel(workload: Workload, inFlight: number, seconds: number): Promise<LevelFigures> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let commits = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const timer: CallTimer = {
    async call(committing, run) {
      if (performance.now() >= deadline) throw new LevelOver();
      const callStarted = performance.now();
      try {
        const value = await run();
        latencies.push(performance.now() - callStarted);
        commits += committing;
        return value;
      } catch (error) {
        const kind = failureKind(error);
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        throw new LevelOver();
      }
    },
  };
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      for (let round = 0; performance.now() < deadline; round += 1) {
        try {
          await workload(timer, worker, round);
        } catch (error) {
          if (!(error instanceof LevelOver)) {
            const kind = failureKind(error);
            failures.set(kind, (failures.get(kind) ?? 0) + 1);
          }
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    inFlight,
    calls: latencies.length,
    commits,
    seconds: elapsed,
    throughput: (commits > 0 ? commits : latencies.length) / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failures,
  };
}

/** A layer's levels and where its throughput stopped rising. */
export interface LayerFigures {
  readonly name: string;
  readonly unit: string;
  readonly levels: readonly LevelFigures[];
  /** The level with the highest throughput. */
  readonly knee: LevelFigures;
}

/**
 * Watches something else for the length of one level, e.g. CPU time per process: called
 * as the level starts, it returns what to call with the level's figures as it ends,
 * which answers a line to report (or undefined for none).
 */
export type LevelProbe = () => Promise<(figures: LevelFigures) => Promise<string | undefined> | string | undefined>;

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
): Promise<LayerFigures> {
  const measured: LevelFigures[] = [];
  let best: LevelFigures | undefined;
  let flat = 0;
  for (const inFlight of levels) {
    const finish = await probe?.();
    const figures = await runLevel(workload, inFlight, seconds);
    measured.push(figures);
    report(`${name.padEnd(26)} ${formatLevel(figures, unit)}`);
    const probed = await finish?.(figures);
    if (probed !== undefined) report(`${''.padEnd(26)} ${probed}`);
    if (best === undefined || figures.throughput > best.throughput * 1.05) {
      flat = 0;
    } else {
      flat += 1;
    }
    if (best === undefined || figures.throughput > best.throughput) best = figures;
    if (flat >= flatLevelsToStop) break;
  }
  if (best === undefined) throw new Error('a layer needs at least one level');
  return { name, unit, levels: measured, knee: best };
}

/** Every level of a layer in one line, e.g. `8: 40.1, 16: 80.3, 32: 79.9 tx/s`. */
export function formatCurve(layer: LayerFigures): string {
  return `${layer.levels.map((level) => `${level.inFlight}: ${level.throughput.toFixed(1)}`).join(', ')} ${layer.unit}`;
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
    `${figures.calls} calls, ${failureCount(figures)} failed${failures === '' ? '' : ` (${failures})`}`
  );
}
