import { HelpRequested, UsageError } from './command-line.js';

/**
 * Runs a command-line tool's `main` and sets the process's exit code from what it
 * returns (0 done, 1 the check found something). A request for help prints the usage on
 * stdout and exits 0; a malformed command line prints the reason and the usage on stderr
 * and exits 2, as does any other failure (its message after `prefix`).
 *
 * A failure exits at once rather than when the event loop drains: a call still waiting on
 * a peer that stopped answering (a gRPC stream, a retry timer) would otherwise keep the
 * process alive after its error was printed, and a scheduled job would hang. stdout and
 * stderr are synchronous for files and pipes on POSIX, so nothing printed is lost.
 */
export function runToExitCode(main: () => Promise<number>, prefix = ''): void {
  endWhenOutputCloses();
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof HelpRequested) {
        process.stdout.write(`${error.usage}\n`);
        process.exitCode = 0;
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${prefix}${message}\n${error instanceof UsageError ? `${error.usage}\n` : ''}`);
      process.exit(2);
    },
  );
}

/**
 * Ends the process quietly, exit code 0, once the reader of its standard output has gone
 * (`… | head`): Node reports the closed pipe as an unhandled `EPIPE` error with a stack
 * trace where command-line tools stop without a word.
 */
export function endWhenOutputCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}
