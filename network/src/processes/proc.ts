import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * The kernel's start time of a process (clock ticks since boot), or undefined when no
 * such process exists. Stored with every PID so that a PID reused by an unrelated
 * process is never mistaken for ours.
 */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether a process is stopped by a signal (SIGSTOP, SIGTSTP) or a tracer: it is alive and
 * holds its ports, but answers nothing until it is continued (state `T` or `t` in
 * /proc/<pid>/stat, proc(5)).
 */
export function processSuspended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'T' || state === 't';
  } catch {
    return false;
  }
}

/**
 * The PIDs of a process's children, from each of its threads' `children` list (proc(5));
 * empty when it has none or is gone.
 */
export function childPids(pid: number): number[] {
  const children = new Set<number>();
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const thread of threads) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim().split(' ')) {
        if (child !== '') children.add(Number(child));
      }
    } catch {
      // The thread ended while it was being read.
    }
  }
  return [...children].sort((left, right) => left - right);
}

/** One variable of a process's environment as it started (/proc/<pid>/environ), if readable and set. */
export function processEnvironmentValue(pid: number, name: string): string | undefined {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\u0000')
      .find((candidate) => candidate.startsWith(`${name}=`));
    return entry?.slice(name.length + 1);
  } catch {
    return undefined;
  }
}

export function processCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Resident set size in kibibytes, or 0 when the process is gone. */
export function processRssKib(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** The PID listening on a TCP port of this host, found through /proc, if any. */
export function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1];
      const state = columns[3];
      const inode = columns[9];
      if (local === undefined || inode === undefined || state !== '0A') continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode !== undefined && inodes.has(inode)) return Number(entry);
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  return undefined;
}
