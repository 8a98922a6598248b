import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A child process that waits for a stop signal, then takes a while to close, as a
 * command stopping its network or an API flushing its work does.
 */
function closingChild(): { child: ReturnType<typeof spawn>; output: () => string } {
  const helper = new URL('./stop-signals.js', import.meta.url).href;
  const script = `
    const { untilStopSignal } = await import(${JSON.stringify(helper)});
    const stopped = untilStopSignal((repeated) => console.log('again ' + repeated));
    // The child's own work holds its event loop, as a server's sockets do.
    const work = setInterval(() => undefined, 60_000);
    console.log('waiting');
    const signal = await stopped;
    clearInterval(work);
    console.log('closing after ' + signal);
    await new Promise((resolve) => setTimeout(resolve, 400));
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

async function untilPrinted(output: () => string, line: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!output().includes(line)) {
    if (Date.now() > deadline) throw new Error(`the child never printed "${line}"; it printed: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('untilStopSignal', () => {
  it('does not keep a process alive that has nothing else to do', async () => {
    const helper = new URL('./stop-signals.js', import.meta.url).href;
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(helper)}); void m.untilStopSignal();`],
      { stdio: 'ignore' },
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('lets a command finish closing when Ctrl-C arrives twice (terminal and npm) and a SIGTERM follows', async () => {
    const { child, output } = closingChild();
    await untilPrinted(output, 'waiting');
    child.kill('SIGINT');
    await untilPrinted(output, 'closing after SIGINT');
    child.kill('SIGINT');
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect([code, signal]).toEqual([0, null]);
    const lines = output().trim().split('\n');
    expect([...lines.slice(0, 2), lines.at(-1)]).toEqual(['waiting', 'closing after SIGINT', 'closed']);
    // Signals sent together may be handled in either order.
    expect(lines.slice(2, -1).sort()).toEqual(['again SIGINT', 'again SIGTERM']);
  });
});
