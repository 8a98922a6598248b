/**
 * Runs a command-line tool's `main` and sets the process's exit code from what it
 * returns (0 done, 1 the check found something); when it throws, prints the message on
 * stderr after `prefix` (and `usage` for a malformed command line) and exits 2.
 */
export function runToExitCode(main: () => Promise<number>, prefix = '', usage?: string): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const malformed =
        error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${prefix}${message}\n${malformed && usage !== undefined ? `${usage}\n` : ''}`);
      process.exitCode = 2;
    },
  );
}
