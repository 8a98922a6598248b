import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const exitCodeModule = fileURLToPath(new URL('./exit-code.js', import.meta.url));

/** Runs `runToExitCode` in a process of its own, with a timer that would keep it alive for a minute. */
function runTool(main: string) {
  const script = [
    `import { runToExitCode } from ${JSON.stringify(exitCodeModule)};`,
    'const lingering = setTimeout(() => undefined, 60_000);',
    `runToExitCode(${main}, 'tool: ');`,
  ].join('\n');
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

describe('runToExitCode', () => {
  it('exits 2 with the error on stderr at once, even while a call still holds the event loop', () => {
    const run = runTool(`() => Promise.reject(new Error('evaluation failed: 4 DEADLINE_EXCEEDED'))`);
    expect(run.error).toBeUndefined();
    expect([run.status, run.signal]).toEqual([2, null]);
    expect(run.stderr).toBe('tool: evaluation failed: 4 DEADLINE_EXCEEDED\n');
  });

  it('leaves a finished tool to exit with the code its main returned once its work is done', () => {
    const run = runTool(
      `async () => { clearTimeout(lingering); process.stdout.write('No difference.\\n'); return 1; }`,
    );
    expect([run.status, run.stdout]).toEqual([1, 'No difference.\n']);
  });
});
