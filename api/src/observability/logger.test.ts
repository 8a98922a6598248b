import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const loggerModule = fileURLToPath(new URL('./logger.js', import.meta.url));

/** What a process writes on stdout and stderr when it logs one line through createLogger(level, to). */
function logOnce(to: string) {
  const script = [
    `import { createLogger } from ${JSON.stringify(loggerModule)};`,
    `createLogger('info'${to === '' ? '' : `, '${to}'`}).info('read log anchored');`,
  ].join('\n');
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

describe('createLogger', () => {
  it('writes a server’s lines to stdout and a command-line tool’s to stderr, leaving its stdout to its answer', () => {
    const server = logOnce('');
    expect(server.stdout).toMatch(/"msg":"read log anchored"/);
    expect(server.stderr).toBe('');
    const tool = logOnce('stderr');
    expect(tool.stdout).toBe('');
    expect(tool.stderr).toMatch(/"msg":"read log anchored"/);
  });
});
