import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { WindowHooks } from './saturation.js';

/** One process whose CPU time a benchmark charges to the work it measures. */
export interface WatchedProcess {
  /** Short name in reports, e.g. `peer0.ClientOrg`, `api`, `load generator`. */
  readonly name: string;
  readonly pid: number;
}

/**
 * Linux reports a process's CPU time in clock ticks of 1/100 s (`getconf CLK_TCK` is 100
 * on every Linux architecture Node supports), so a level of several seconds is measured
 * to well under one per cent.
 */
const ticksPerSecond = 100;

/**
 * User plus system CPU time of every thread of `pid`, in milliseconds, from
 * `/proc/<pid>/stat` (fields 14 and 15, see proc(5)); undefined when the process is gone.
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    return ((user + system) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * The processes a local network started (peers, orderers, chaincode servers, CAs), from
 * the registry `npm start` and the benchmarks keep in `<home>/run/processes.json`.
 */
export function networkProcesses(home: string): WatchedProcess[] {
  const file = path.join(home, 'run', 'processes.json');
  if (!existsSync(file)) return [];
  const records = JSON.parse(readFileSync(file, 'utf8')) as { name: string; pid: number }[];
  return records.map((record) => ({ name: record.name, pid: record.pid }));
}

/** CPU milliseconds each watched process spent between {@link startCpuWatch} and the call. */
export type CpuSpent = ReadonlyMap<string, number>;

/**
 * Starts counting the CPU time of `processes`; the returned function gives each one's
 * milliseconds since then (a process that exited meanwhile is left out).
 */
export function startCpuWatch(processes: readonly WatchedProcess[]): () => CpuSpent {
  const before = new Map(processes.map((watched) => [watched, processCpuMs(watched.pid)]));
  return () => {
    const spent = new Map<string, number>();
    for (const [watched, start] of before) {
      const end = processCpuMs(watched.pid);
      if (start !== undefined && end !== undefined) {
        spent.set(watched.name, (spent.get(watched.name) ?? 0) + end - start);
      }
    }
    return spent;
  };
}

/**
 * CPU per unit of work, e.g. `peer0.ClientOrg 4.1, api 2.3, … total 19.5 ms CPU per tx`:
 * processes by name, the busiest first, those under 0.05 ms left out.
 */
export function formatCpuPerUnit(spent: CpuSpent, units: number, unit: string): string {
  if (units === 0) return `no ${unit} to charge CPU time to`;
  let total = 0;
  const parts = [...spent]
    .map(([name, ms]) => {
      total += ms;
      return [name, ms / units] as const;
    })
    .filter(([, perUnit]) => perUnit >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, perUnit]) => `${name} ${perUnit.toFixed(2)}`);
  return `${parts.join(', ')}; total ${(total / units).toFixed(2)} ms CPU per ${unit}`;
}

/**
 * Counts the CPU time of `processes` (listed as the window opens) over a level's measured
 * window only: pass `window` to `runLevel`; `spent()` is empty until the window has closed.
 */
export function windowCpuWatch(processes: () => readonly WatchedProcess[]): {
  readonly window: WindowHooks;
  spent(): CpuSpent;
} {
  let stop: (() => CpuSpent) | undefined;
  let spent: CpuSpent = new Map();
  return {
    window: {
      opened() {
        stop = startCpuWatch(processes());
      },
      closed() {
        spent = stop?.() ?? new Map();
      },
    },
    spent: () => spent,
  };
}
