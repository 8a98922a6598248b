import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('loading the certificate authority client', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-ca-load-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([['help'], ['--help'], ['--version'], ['start', '--help']].map((words) => [words.join(' '), words] as const))(
    'leaves the command line "%s" to the command that loads it, and still applies its CA timeout',
    (_name, commandLine) => {
      const module = new URL('./certificate-authority.js', import.meta.url).href;
      const script = path.join(dir, 'command.mjs');
      writeFileSync(
        script,
        `await import(${JSON.stringify(module)});
         const { createRequire } = await import('node:module');
         const common = createRequire(${JSON.stringify(module)})('fabric-common');
         console.log(JSON.stringify({ argv: process.argv.slice(2), timeout: common.Utils.getConfigSetting('connection-timeout') }));`,
      );
      const run = spawnSync(process.execPath, [script, ...commandLine], { encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      // yargs inside fabric-common answered these itself ("Options: --help …") and ended the process.
      expect(run.stdout).not.toContain('Options:');
      expect(JSON.parse(run.stdout)).toEqual({ argv: commandLine, timeout: 30_000 });
    },
  );
});
