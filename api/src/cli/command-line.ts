import { parseArgs, type ParseArgsConfig } from 'node:util';

/** `-h` or `--help` on the command line: the caller prints `usage` on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super(usage);
    this.name = 'HelpRequested';
  }
}

/** The command line does not fit the command: the caller prints the reason and `usage` on stderr. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses a command line with Node's `util.parseArgs` (strict), answering `-h`/`--help`
 * before the command's own options are checked, as POSIX-style tools do; arguments after
 * `--` are positionals, never options.
 *
 * @param usage the one-line usage the errors and the help print.
 * @param config `util.parseArgs` options; `args` defaults to `process.argv.slice(2)`.
 * @throws HelpRequested when the command line asks for help;
 *   UsageError when an option is unknown, lacks its value or a positional is not allowed.
 */
export function parseCommandLine<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  const optionsEnd = args.indexOf('--');
  const ownArgs = optionsEnd === -1 ? args : args.slice(0, optionsEnd);
  if (ownArgs.includes('--help') || ownArgs.includes('-h')) throw new HelpRequested(usage);
  try {
    // The arguments are the ones checked for --help above; parseArgs' result type does not
    // change with `args`, which its typing cannot see through a spread.
    return parseArgs({ ...config, args }) as ReturnType<typeof parseArgs<T>>;
  } catch (error) {
    // Known by its code, not its class: an error of another realm (a VM context) is not
    // an instance of this realm's TypeError.
    const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as {
      code?: unknown;
      message?: unknown;
    };
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(String(message), usage);
    throw error;
  }
}
