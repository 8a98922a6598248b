import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const exitCodeModule = fileURLToPath(new URL('./exit-code.js', import.meta.url));
const printSchema = fileURLToPath(new URL('./print-schema.js', import.meta.url));

/** Runs a tool whose reader stops after the first chunk of output (`… | head -1`): its exit status and stderr. */
async function readFirstChunkOnly(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = once(child, 'exit');
  await once(child.stdout, 'data');
  child.stdout.destroy();
  const [status] = (await exited) as [number | null];
  return { status, stderr };
}

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

  it('ends quietly, exit 0, when the reader of its output goes away (… | head)', async () => {
    const script = [
      `import { runToExitCode } from ${JSON.stringify(exitCodeModule)};`,
      `runToExitCode(async () => { for (;;) { process.stdout.write('x'.repeat(65536)); await new Promise((r) => setImmediate(r)); } }, 'tool: ');`,
    ].join('\n');
    expect(await readFirstChunkOnly(['--input-type=module', '-e', script])).toEqual({ status: 0, stderr: '' });
    // The schema printer is a tool of its own, without runToExitCode.
    expect(await readFirstChunkOnly([printSchema])).toEqual({ status: 0, stderr: '' });
  }, 30_000);
});
