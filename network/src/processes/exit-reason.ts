import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** How much of a log's end is read for the reason a process stopped. */
const tailBytes = 64 * 1024;

/** Pino's level numbers from `error` up. */
const errorLevel = 50;

/** The message of a JSON log line at level error or fatal (pino's shape), or undefined. */
function jsonFailure(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    if (typeof entry.level !== 'number' || entry.level < errorLevel) return undefined;
    if (typeof entry.err?.message === 'string') return entry.err.message;
    return typeof entry.msg === 'string' ? entry.msg : undefined;
  } catch {
    return undefined;
  }
}

/** The first line of an uncaught error as Node prints it (`Error: …`, `TypeError [CODE]: …`). */
const uncaughtError = /^(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z0-9_]+\])?: (.+)$/;

/**
 * Why a process stopped, as its own log says in its last words: the last uncaught error
 * Node printed, or the last error-level line of a JSON (pino) log; undefined when the
 * log names none or cannot be read.
 *
 * @param logFile the process's combined standard output and error.
 */
export function exitReasonIn(logFile: string): string | undefined {
  let text: string;
  try {
    const size = statSync(logFile).size;
    const start = Math.max(0, size - tailBytes);
    const buffer = Buffer.alloc(size - start);
    const descriptor = openSync(logFile, 'r');
    try {
      readSync(descriptor, buffer, 0, buffer.length, start);
    } finally {
      closeSync(descriptor);
    }
    text = buffer.toString('utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').map((line) => line.trimEnd());
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const line = lines[index] ?? '';
    const reason = jsonFailure(line) ?? uncaughtError.exec(line)?.[1];
    if (reason !== undefined) return reason;
  }
  return undefined;
}
