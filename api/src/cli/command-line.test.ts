import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HelpRequested, parseCommandLine, UsageError } from './command-line.js';

const usage = 'usage: tool <command> [--json]';
const options = { json: { type: 'boolean' } } as const;

describe('parseCommandLine', () => {
  it.each([['--help'], ['-h'], ['check', '--help'], ['--unknown', '-h']])('answers %s with the usage', (...args) => {
    expect(() => parseCommandLine(usage, { args, options, allowPositionals: true })).toThrow(HelpRequested);
  });

  it('reads --help after -- as a positional, not a request for help', () => {
    expect(parseCommandLine(usage, { args: ['--', '--help'], options, allowPositionals: true }).positionals).toEqual([
      '--help',
    ]);
  });

  it('refuses an unknown option or a stray positional with the reason and the usage', () => {
    for (const args of [['--jsn'], ['one']]) {
      let refusal: unknown;
      try {
        parseCommandLine(usage, { args, options });
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(UsageError);
      expect((refusal as UsageError).usage).toBe(usage);
      expect((refusal as UsageError).message).toMatch(args[0] === '--jsn' ? /--jsn/ : /positional/);
    }
  });
});

describe('every API command-line tool', () => {
  const tools = ['audit-index', 'export-proof', 'read-log', 'settlement-reconcile', 'verify-proof', 'verify-statement'];

  it.each(tools)(
    '%s prints its usage on stdout and exits 0 for --help, and exits 2 naming an unknown option',
    (tool) => {
      const script = fileURLToPath(new URL(`./${tool}.js`, import.meta.url));
      // No configuration in the environment: help must not need any.
      const env = { PATH: process.env.PATH ?? '' };
      const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', env, timeout: 60_000 });
      expect(help.stderr).toBe('');
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^usage: /);
      const wrong = spawnSync(process.execPath, [script, '--no-such-option'], {
        encoding: 'utf8',
        env,
        timeout: 60_000,
      });
      // 2 for a wrong command line, as every tool here: 1 means a check found something.
      expect(wrong.status).toBe(2);
      expect(wrong.stderr).toContain("'--no-such-option'");
      expect(wrong.stderr).toContain('usage: ');
    },
  );
});
